/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* repair-bench: the data phase of Recover, timed. Runs repair_run() (the same engine and the
 * same defaults as ldmd's worker: 4 MiB chunks, a flush + checkpoint every 2 s or 256 MiB, checkpoints
 * in a state directory) on a pack whose mirror plexes / RAID-5 columns are marked stale, and
 * reports every data target's bytes, seconds and rate, from the progress callback: a target
 * starts at its first progress call and ends when the next one starts or the commit step
 * begins, so its final flush is included. Before the job it prints, for each target, the
 * byte ranges that `dd` should copy to move the same number of bytes between the same
 * devices (mirror: healthy plex → stale plex; RAID-5: a healthy column → the stale column),
 * so that bench/run-repair.sh can time the baseline.
 *
 *   repair-bench [--plan-only] [--verify] [--buffer-kib N] [--checkpoint-mib N]
 *                [--state-dir DIR] DISK...
 *
 * The disks must hold exactly one pack. Output lines (for the script):
 *   dd TARGET SRC SRC_OFFSET DST DST_OFFSET LENGTH     (bytes; one or more per target)
 *   read VOLUME DEVICE OFFSET LENGTH    (what a Verify scrub of VOLUME reads, every extent)
 *   target TARGET BYTES SECONDS BYTES_PER_SECOND DETAIL       (DETAIL: the engine's words)
 *   job SECONDS HRESULT MESSAGE
 *   verify SECONDS MIRROR_MISMATCHES PARITY_MISMATCHES  (--verify: a scrub after the job)
 * TARGET is "mirror:VOLUME" or "column:VOLUME" (the script's names, not the engine's). Exit
 * 1 when the job did not end in S_OK or the scrub found a mismatch. Not a test. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "repair.h"
#include "scan.h"
#include "vds.h"
#include "volume-map.h"

#define MAX_TARGETS 64

static bool arg_plan_only, arg_verify;
static size_t arg_buffer;
static uint64_t arg_checkpoint;
static const char *arg_state_dir;

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* ---- the baseline's byte ranges ---- */

/* Prints dd lines copying len bytes from column `from` to column `to` (column offsets
 * 0..len), split wherever either side changes extent. */
static int print_dd(const char *target, const LdmColumn *from, const LdmColumn *to, uint64_t len) {
        for (uint64_t off = 0; off < len;) {
                const LdmExtent *es, *ed;
                uint64_t is, id, ns, nd, n;
                int r;

                r = ldm_column_map(from, off, len - off, &es, &is, &ns);
                if (r < 0)
                        return r;
                r = ldm_column_map(to, off, len - off, &ed, &id, &nd);
                if (r < 0)
                        return r;
                if (!es->disk->device || !ed->disk->device)
                        return -ENXIO;
                n = MIN(ns, nd);
                printf("dd %s %s %" PRIu64 " %s %" PRIu64 " %" PRIu64 "\n", target,
                       es->disk->device->path, ldm_extent_byte_offset(es, is),
                       ed->disk->device->path, ldm_extent_byte_offset(ed, id), n);
                off += n;
        }
        return 0;
}

/* Prints read lines for the len bytes at the start of column col, split at its extents. */
static int print_reads(const char *volume, const LdmColumn *col, uint64_t len) {
        for (uint64_t off = 0; off < len;) {
                const LdmExtent *e;
                uint64_t in, n;
                int r;

                r = ldm_column_map(col, off, len - off, &e, &in, &n);
                if (r < 0)
                        return r;
                if (!e->disk->device)
                        return -ENXIO;
                printf("read %s %s %" PRIu64 " %" PRIu64 "\n", volume, e->disk->device->path,
                       ldm_extent_byte_offset(e, in), n);
                off += n;
        }
        return 0;
}

/* What a Verify scrub reads: every plex of a mirror, every column of a RAID-5, whole. */
static int plan_verify(const LdmPack *pack) {
        for (size_t i = 0; i < pack->n_volumes; i++) {
                const LdmVolume *v = &pack->volumes[i];
                int r = 0;

                if (v->type == LDM_VOLUME_MIRROR)
                        for (size_t k = 0; k < v->n_plexes && r >= 0; k++)
                                r = print_reads(v->name, &v->plexes[k]->columns[0], v->size * LDM_SECTOR);
                else if (v->type == LDM_VOLUME_RAID5 && v->n_plexes == 1)
                        for (size_t c = 0; c < v->plexes[0]->n_columns && r >= 0; c++)
                                r = print_reads(v->name, &v->plexes[0]->columns[c],
                                                ldm_plex_column_bytes(v->plexes[0], (uint32_t) c));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int plan(const LdmPack *pack) {
        unsigned n = 0;
        int r;

        r = plan_verify(pack);
        if (r < 0)
                return r;
        for (size_t i = 0; i < pack->n_volumes; i++) {
                const LdmVolume *v = &pack->volumes[i];
                char name[96];

                if (v->type == LDM_VOLUME_MIRROR) {
                        const LdmPlex *src = NULL;

                        for (size_t k = 0; k < v->n_plexes; k++)
                                if (!v->plexes[k]->stale && !src)
                                        src = v->plexes[k];
                        for (size_t k = 0; k < v->n_plexes && src; k++) {
                                if (!v->plexes[k]->stale)
                                        continue;
                                snprintf(name, sizeof(name), "mirror:%s", v->name);
                                r = print_dd(name, &src->columns[0], &v->plexes[k]->columns[0],
                                             v->size * LDM_SECTOR);
                                if (r < 0)
                                        return r;
                                n++;
                        }
                } else if (v->type == LDM_VOLUME_RAID5 && v->n_plexes == 1) {
                        const LdmPlex *p = v->plexes[0];

                        for (size_t c = 0; c < p->n_columns; c++) {
                                if (!p->columns[c].stale)
                                        continue;
                                snprintf(name, sizeof(name), "column:%s", v->name);
                                /* the next column over is as good a source as any */
                                r = print_dd(name, &p->columns[(c + 1) % p->n_columns], &p->columns[c],
                                             ldm_plex_column_bytes(p, (uint32_t) c));
                                if (r < 0)
                                        return r;
                                n++;
                        }
                }
        }
        if (n == 0) {
                fprintf(stderr, "pack %s: nothing is stale, nothing to time\n", pack->name);
                return -ENOENT;
        }
        return 0;
}

/* ---- timing through the progress callback ---- */

typedef struct Timing {
        char detail[128];
        double start, end;
        uint64_t bytes_start, bytes_end;
} Timing;

typedef struct Clock {
        Timing t[MAX_TARGETS];
        unsigned n;
        bool in_data;
        uint64_t last_done;
} Clock;

static void close_target(Clock *k, double at) {
        if (k->n > 0 && k->t[k->n - 1].end == 0) {
                k->t[k->n - 1].end = at;
                k->t[k->n - 1].bytes_end = k->last_done;
        }
}

static void on_progress(RepairStep step, const char *detail, uint64_t done, uint64_t total,
                        void *userdata) {
        Clock *k = userdata;
        double at = now();

        if (step == REPAIR_STEP_DATA && detail &&
            (k->n == 0 || strcmp(k->t[k->n - 1].detail, detail) != 0) && k->n < MAX_TARGETS) {
                close_target(k, at);
                k->t[k->n] = (Timing) { .start = at, .bytes_start = done };
                snprintf(k->t[k->n].detail, sizeof(k->t[k->n].detail), "%s", detail);
                k->n++;
                k->in_data = true;
        } else if (step != REPAIR_STEP_DATA && k->in_data) {
                close_target(k, at);
                k->in_data = false;
        }
        k->last_done = done;
}

static int run(char **disks, size_t n, const LdmGuid *guid, RepairOperation op, Clock *clock,
               RepairResult *res, double *ret_seconds) {
        RepairRequest req = {
                .pack_guid = *guid,
                .paths = disks,
                .n_paths = n,
                .operation = op,
                .state_dir = arg_state_dir,
                .progress = clock ? on_progress : NULL,
                .userdata = clock,
                .buffer_size = arg_buffer,
                .checkpoint_interval = arg_checkpoint,
        };
        double t0 = now();
        int r;

        r = repair_run(&req, res);
        *ret_seconds = now() - t0;
        return r;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "plan-only", no_argument, NULL, 'p' },
                { "verify", no_argument, NULL, 'v' },
                { "buffer-kib", required_argument, NULL, 'b' },
                { "checkpoint-mib", required_argument, NULL, 'c' },
                { "state-dir", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        static Clock clock;
        RepairResult res;
        LdmGuid guid;
        double secs;
        int c, r;

        while ((c = getopt_long(argc, argv, "pvb:c:s:h", options, NULL)) >= 0)
                switch (c) {
                case 'p':
                        arg_plan_only = true;
                        break;
                case 'v':
                        arg_verify = true;
                        break;
                case 'b':
                        arg_buffer = (size_t) strtoul(optarg, NULL, 10) * 1024;
                        break;
                case 'c':
                        arg_checkpoint = strtoull(optarg, NULL, 10) << 20;
                        break;
                case 's':
                        arg_state_dir = optarg;
                        break;
                case 'h':
                        printf("Usage: %s [--plan-only] [--verify] [--buffer-kib N] [--checkpoint-mib N] [--state-dir DIR] DISK...\n",
                               argv[0]);
                        return 0;
                default:
                        return 2;
                }
        if (optind >= argc) {
                fprintf(stderr, "no disks given\n");
                return 2;
        }

        r = ldm_scan_paths(argv + optind, (size_t) (argc - optind), &scan);
        if (r < 0) {
                fprintf(stderr, "scan: %s\n", strerror(-r));
                return 1;
        }
        if (scan->n_packs != 1) {
                fprintf(stderr, "the disks hold %zu packs, want exactly one\n", scan->n_packs);
                return 1;
        }
        guid = scan->packs[0]->guid;
        r = plan(scan->packs[0]);
        if (r < 0) {
                if (r != -ENOENT)
                        fprintf(stderr, "plan: %s\n", strerror(-r));
                return 1;
        }
        fflush(stdout);
        if (arg_plan_only)
                return 0;
        scan = ldm_scan_free(scan); /* the job probes again, as the daemon's worker does */

        /* As ldmd's worker does: checkpoints need the directory. */
        if (arg_state_dir && mkdir(arg_state_dir, 0700) < 0 && errno != EEXIST) {
                fprintf(stderr, "mkdir %s: %m\n", arg_state_dir);
                return 1;
        }
        r = run(argv + optind, (size_t) (argc - optind), &guid, REPAIR_RECOVER, &clock, &res, &secs);
        if (r < 0) {
                fprintf(stderr, "repair_run: %s\n", strerror(-r));
                return 1;
        }
        for (unsigned i = 0; i < clock.n; i++) {
                const Timing *t = &clock.t[i];
                uint64_t bytes = t->bytes_end - t->bytes_start;
                double s = t->end - t->start;

                if (t->end == 0)
                        continue; /* the job failed inside this target: no time to report */

                /* The engine's detail is "VOLUME plex PLEX" or "VOLUME column N". */
                const char *sp = strchr(t->detail, ' ');
                int vlen = sp ? (int) (sp - t->detail) : (int) strlen(t->detail);
                const char *kind = sp && strncmp(sp, " plex ", 6) == 0 ? "mirror" :
                                   sp && strncmp(sp, " column ", 8) == 0 ? "column" : "other";

                printf("target %s:%.*s %" PRIu64 " %.6f %.0f %s\n", kind, vlen, t->detail, bytes, s,
                       s > 0 ? (double) bytes / s : 0, t->detail);
        }
        printf("job %.6f 0x%08" PRIx32 " %s\n", secs, res.hresult, res.message);
        fflush(stdout);
        if (res.hresult != VDS_S_OK)
                return 1;

        if (arg_verify) {
                r = run(argv + optind, (size_t) (argc - optind), &guid, REPAIR_VERIFY, NULL, &res, &secs);
                if (r < 0) {
                        fprintf(stderr, "repair_run (verify): %s\n", strerror(-r));
                        return 1;
                }
                printf("verify %.6f %" PRIu64 " %" PRIu64 " 0x%08" PRIx32 " %s\n", secs, res.mirror_mismatches,
                       res.parity_mismatches, res.hresult, res.message);
                if (res.hresult != VDS_S_OK || res.mirror_mismatches || res.parity_mismatches)
                        return 1;
        }
        return 0;
}
