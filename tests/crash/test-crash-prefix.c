/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-crash-prefix.c: "crash at any point is safe" (recover.md), checked at every point.
 * A Recover on a broken pack runs once with every write recorded through the I/O hook
 * (device, offset, bytes) together with the state directory as it stood before each write.
 * Then, for every prefix length k, the broken images are put back, only the first k writes
 * are applied (a power cut right after write k), and as a second variant the first k-1
 * plus the k-th torn at a sector boundary (only its first half, or in the long form also
 * only its second half, landed). A new Recover, with an empty state directory or with the
 * checkpoints the first one had made by then, must end S_OK with a healthy pack whose
 * volumes hold the data they held before the damage, and the independent judge must agree.
 *
 * /crash/quick/... run in CI (unit suite): every cut point of every variant on small packs,
 * the judge on a sample. /crash/full/... (slow suite) add the real packs' bigger cases and
 * run the judge at every cut point. */

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "crash-util.h"
#include "ldm-damage.h"
#include "test-util.h"
#include "vds.h"
#include "volume-map.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

/* CPU seconds of this process (all threads) and its finished children, in µs: what the
 * suite costs on a shared machine, unlike wall time. */
static gint64 cpu_now(void) {
        struct rusage self, kids;

        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &kids);
        return (gint64) (self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) * 1000000 +
               self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec + kids.ru_stime.tv_usec;
}

/* ---- recording ---- */

typedef struct Write {
        unsigned disk;
        uint64_t off;
        size_t len;
        uint8_t *data;
        guint snap;               /* state directory before this write */
} Write;

typedef struct Recorder {
        CrashWork *w;
        const char *state;
        GArray *writes;           /* Write */
        GPtrArray *snaps;         /* GBytes: serialised state directories, deduplicated */
} Recorder;

/* The state directory as one blob: for each file in name order, name NUL, u32 size, bytes. */
static GBytes *state_serialize(const char *dir) {
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        GByteArray *b = g_byte_array_new();
        const char *name;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d)))
                g_ptr_array_add(names, g_strdup(name));
        g_ptr_array_sort(names, (GCompareFunc) g_strcmp0);
        for (guint i = 0; i < names->len; i++) {
                g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL), *data = NULL;
                gsize len = 0;
                uint32_t l;

                g_assert_true(g_file_get_contents(path, &data, &len, NULL));
                l = (uint32_t) len;
                g_byte_array_append(b, names->pdata[i], (guint) strlen(names->pdata[i]) + 1);
                g_byte_array_append(b, (const guint8 *) &l, sizeof(l));
                g_byte_array_append(b, (const guint8 *) data, (guint) len);
        }
        return g_byte_array_free_to_bytes(b);
}

static void state_restore(const char *dir, GBytes *blob) {
        gsize size;
        const uint8_t *p = g_bytes_get_data(blob, &size), *end = p + size;

        crash_empty_dir(dir);
        while (p < end) {
                const char *name = (const char *) p;
                g_autofree char *path = g_build_filename(dir, name, NULL);
                uint32_t l;

                p += strlen(name) + 1;
                memcpy(&l, p, sizeof(l));
                p += sizeof(l);
                g_assert_true(g_file_set_contents(path, (const char *) p, l, NULL));
                p += l;
        }
}

static guint recorder_snapshot(Recorder *r) {
        GBytes *b = state_serialize(r->state);

        if (r->snaps->len > 0 && g_bytes_equal(b, r->snaps->pdata[r->snaps->len - 1])) {
                g_bytes_unref(b);
                return r->snaps->len - 1;
        }
        g_ptr_array_add(r->snaps, b);
        return r->snaps->len - 1;
}

static int record_hook(void *userdata, LdmIo *io, LdmIoOp op, uint64_t offset, const void *buf,
                       size_t len) {
        Recorder *r = userdata;
        Write wr;
        int disk;

        if (op != LDM_IO_OP_WRITE)
                return 0; /* reads run on the copy engine's reader thread: touch nothing */
        disk = crash_work_disk(r->w, ldm_io_path(io));
        if (disk < 0)
                g_error("the engine wrote to %s, which is not a disk of the pack", ldm_io_path(io));
        wr = (Write) {
                .disk = (unsigned) disk, .off = offset, .len = len,
                .data = g_memdup2(buf, len), .snap = recorder_snapshot(r),
        };
        g_array_append_val(r->writes, wr);
        crash_work_mark(r->w, wr.disk, offset, len);
        return 0;
}

static void recorder_clear(Recorder *r) {
        for (guint i = 0; i < r->writes->len; i++)
                g_free(g_array_index(r->writes, Write, i).data);
        g_array_unref(r->writes);
        g_ptr_array_unref(r->snaps);
}

/* ---- the cases: how each pack is broken ---- */

typedef struct Case {
        const char *name;
        void (*make)(CrashPack *p);
        size_t buffer_size;
        uint64_t checkpoint_interval;
} Case;

/* The index of the column of (volume, plex) whose first extent lies on paths[disk]. */
static unsigned column_on(CrashPack *p, const char *volume, unsigned plex, size_t disk) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmVolume *v = crash_find_volume(crash_scan(p->paths, p->n, &p->guid, &scan), volume);

        for (size_t c = 0; c < v->plexes[plex]->n_columns; c++)
                if (strcmp(v->plexes[plex]->columns[c].extents[0]->disk->device->path, p->paths[disk]) == 0)
                        return (unsigned) c;
        g_error("%s plex %u has no column on %s", volume, plex, p->paths[disk]);
}

static unsigned plex_on(CrashPack *p, const char *volume, size_t disk) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmVolume *v = crash_find_volume(crash_scan(p->paths, p->n, &p->guid, &scan), volume);

        for (size_t k = 0; k < v->n_plexes; k++)
                if (strcmp(v->plexes[k]->columns[0].extents[0]->disk->device->path, p->paths[disk]) == 0)
                        return (unsigned) k;
        g_error("%s has no plex on %s", volume, p->paths[disk]);
}

static void garbage(CrashPack *p, const char *volume, unsigned plex, unsigned column, uint64_t at, uint64_t len) {
        crash_garbage_column(p->paths, p->n, &p->guid, volume, plex, column, at, len);
}

/* Database sync with a disk one transaction behind: disk 2 missed a transaction and the
 * writes of that time (its mirror plex and RAID-5 column hold garbage in places); disk 3's
 * PRIVHEAD at rel 1856 and disk 4's second TOCBLOCK are corrupt. */
static void make_mbr_rollback(CrashPack *p) {
        crash_pack_create(p, "mmmm");
        crash_pack_reference(p);
        crash_roll_back(p->paths, p->n, 1);
        garbage(p, "Mirror", plex_on(p, "Mirror", 1), 0, 1 * MIB, 2 * MIB);
        garbage(p, "Parity", 0, column_on(p, "Parity", 0, 1), 2 * MIB, 1 * MIB);
        g_assert_cmpint(ldm_damage_corrupt(p->paths[2], LDM_DAMAGE_PRIVHEAD_1856), ==, 0);
        g_assert_cmpint(ldm_damage_corrupt(p->paths[3], LDM_DAMAGE_TOC_SECONDARY), ==, 0);
}

/* Parity regeneration (the RAID-5 plex marked for resync, parity chunks of some rows
 * overwritten), a transaction cut after its KLOG entry (rolls back), and disk 1's VMDB
 * destroyed (the disk sits in INVALID; its mirror plex is rebuilt after it rejoins). */
static void make_gpt_inflight(CrashPack *p) {
        static const uint64_t rows[] = { 0, 1, 7, 33, 63 };

        crash_pack_create(p, "gggg");
        crash_pack_reference(p);
        g_assert_cmpint(ldm_damage_stale_plex(p->paths, p->n, "Parity", 0, false), ==, 0);
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                garbage(p, "Parity", 0, ldm_raid5_parity_column(rows[i], 3), rows[i] * 64 * KIB, 64 * KIB);
        g_assert_cmpint(ldm_damage_in_flight(p->paths, p->n, LDM_TXN_STEP_LOG), ==, 0);
        g_assert_cmpint(ldm_damage_corrupt(p->paths[0], LDM_DAMAGE_VMDB), ==, 0);
}

/* MBR and GPT disks: a stale mirror plex and a stale RAID-5 column, both overwritten whole,
 * a transaction cut after its commit point (rolls forward), LBA 6 broken on an MBR disk and
 * the first TOCBLOCK on a GPT disk. */
static void make_mixed_stale(CrashPack *p) {
        crash_pack_create(p, "mgmg");
        crash_pack_reference(p);
        g_assert_cmpint(ldm_damage_stale_plex(p->paths, p->n, "Mirror", 0, true), ==, 0);
        g_assert_cmpint(ldm_damage_stale_column(p->paths, p->n, "Parity", 2, true), ==, 0);
        g_assert_cmpint(ldm_damage_in_flight(p->paths, p->n, LDM_TXN_STEP_COMMIT), ==, 0);
        g_assert_cmpint(ldm_damage_corrupt(p->paths[0], LDM_DAMAGE_PRIVHEAD_LBA6), ==, 0);
        g_assert_cmpint(ldm_damage_corrupt(p->paths[1], LDM_DAMAGE_TOC_PRIMARY), ==, 0);
}

/* Mostly metadata, every kind of header damage at once: disk 1 (GPT) one transaction
 * behind (its mirror plex is marked and resynced), corrupt PRIVHEAD and TOCBLOCK copies on
 * the others, a transaction in flight on the up-to-date disks. */
static void make_headers_only(CrashPack *p) {
        crash_pack_create(p, "gmgm");
        crash_pack_reference(p);
        crash_roll_back(p->paths, p->n, 0); /* disk 1: a mirror plex, marked and resynced */
        g_assert_cmpint(ldm_damage_corrupt(p->paths[1], LDM_DAMAGE_PRIVHEAD_LBA6), ==, 0);
        g_assert_cmpint(ldm_damage_corrupt(p->paths[1], LDM_DAMAGE_PRIVHEAD_2047), ==, 0);
        g_assert_cmpint(ldm_damage_corrupt(p->paths[2], LDM_DAMAGE_PRIVHEAD_1856), ==, 0);
        g_assert_cmpint(ldm_damage_corrupt(p->paths[2], LDM_DAMAGE_TOC_PRIMARY), ==, 0);
        g_assert_cmpint(ldm_damage_corrupt(p->paths[3], LDM_DAMAGE_TOC_SECONDARY), ==, 0);
        /* The up-to-date disks then stop a transaction at its VMDB "change" step. */
        g_assert_cmpint(ldm_damage_in_flight(p->paths + 1, p->n - 1, LDM_TXN_STEP_CHANGE), ==, 0);
}

static size_t disk_named(const CrashPack *p, const char *suffix) {
        for (size_t i = 0; i < p->n; i++)
                if (g_str_has_suffix(p->paths[i], suffix))
                        return i;
        g_error("no disk %s", suffix);
}

/* The real 2008 R2 pack (MBR and GPT disks): Disk6 (mirrored-2) missed a transaction and
 * writes to its plex; the RAID-5 column on raid5-2 is marked stale and overwritten. */
static void make_real_2008(CrashPack *p) {
        size_t m2, r2;

        crash_pack_real(p, "2008");
        crash_pack_reference(p);
        m2 = disk_named(p, "mirrored-2.img");
        r2 = disk_named(p, "raid5-2.img");
        g_assert_cmpint(ldm_damage_stale_column(p->paths, p->n, "Volume4", column_on(p, "Volume4", 0, r2), false), ==, 0);
        garbage(p, "Volume4", 0, column_on(p, "Volume4", 0, r2), 5 * MIB, 2 * MIB);
        crash_roll_back(p->paths, p->n, m2);
        garbage(p, "Volume3", plex_on(p, "Volume3", m2), 0, 8 * MIB, 1 * MIB);
}

/* The real 2003 R2 pack (ten MBR disks, two-fragment records, four TOCBLOCKs): Disk1 one
 * transaction behind, the mirror's plex on mirrored-2 stale and overwritten, the RAID-5
 * column on raid5-1 stale and overwritten in part, PRIVHEAD copies broken on two disks. */
static void make_real_2003(CrashPack *p) {
        size_t s1, m2, r1;

        crash_pack_real(p, "2003");
        crash_pack_reference(p);
        s1 = disk_named(p, "simple-1.img");
        m2 = disk_named(p, "mirrored-2.img");
        r1 = disk_named(p, "raid5-1.img");
        g_assert_cmpint(ldm_damage_stale_plex(p->paths, p->n, "Volume3", plex_on(p, "Volume3", m2), true), ==, 0);
        g_assert_cmpint(ldm_damage_stale_column(p->paths, p->n, "Raid1", column_on(p, "Raid1", 0, r1), false), ==, 0);
        garbage(p, "Raid1", 0, column_on(p, "Raid1", 0, r1), 20 * MIB, 4 * MIB);
        crash_roll_back(p->paths, p->n, s1);
        g_assert_cmpint(ldm_damage_corrupt(p->paths[disk_named(p, "striped-1.img")], LDM_DAMAGE_PRIVHEAD_LBA6), ==, 0);
        g_assert_cmpint(ldm_damage_corrupt(p->paths[disk_named(p, "spanned-2.img")], LDM_DAMAGE_TOC_PRIMARY), ==, 0);
}

/* ---- replay ---- */

typedef enum Variant {
        VARIANT_PREFIX,           /* writes [0, k) */
        VARIANT_TORN_HEAD,        /* [0, k-1) and the first half of write k-1's sectors */
        VARIANT_TORN_TAIL,        /* [0, k-1) and the second half (long form) */
        _VARIANT_MAX,
} Variant;

static const char *const variant_names[_VARIANT_MAX] = { "prefix", "torn-head", "torn-tail" };

typedef struct Run {
        const Case *c;
        CrashPack *p;
        CrashWork *w;
        Recorder *rec;
        char *state;
        bool full;
        unsigned runs, judged, failures;
        GString *failed;
        gint64 t_setup, t_recover, t_check; /* µs spent in each part of the cut runs */
} Run;

/* The image state after a cut; false when this cut is not distinct from another one. */
static bool apply_cut(Run *r, Variant v, guint k) {
        GArray *ws = r->rec->writes;
        guint whole = v == VARIANT_PREFIX ? k : k - 1;

        if (v != VARIANT_PREFIX) {
                const Write *t = &g_array_index(ws, Write, k - 1);
                if (t->len < 2 * 512)
                        return false; /* a single sector is written whole or not at all */
        }
        for (guint i = 0; i < whole; i++) {
                const Write *wr = &g_array_index(ws, Write, i);
                crash_work_write(r->w, wr->disk, wr->off, wr->data, wr->len);
        }
        if (v != VARIANT_PREFIX) {
                const Write *t = &g_array_index(ws, Write, k - 1);
                size_t half = t->len / 512 / 2 * 512;

                if (v == VARIANT_TORN_HEAD)
                        crash_work_write(r->w, t->disk, t->off, t->data, half);
                else
                        crash_work_write(r->w, t->disk, t->off + half, t->data + half, t->len - half);
        }
        return true;
}

/* The state directory at the cut: before write k (prefix) or before write k-1 (torn). */
static GBytes *cut_state(Run *r, Variant v, guint k) {
        GArray *ws = r->rec->writes;
        guint at = v == VARIANT_PREFIX ? k : k - 1;

        if (at >= ws->len)
                return r->rec->snaps->pdata[r->rec->snaps->len - 1];
        return r->rec->snaps->pdata[g_array_index(ws, Write, at).snap];
}

static void check_cut(Run *r, Variant v, guint k, bool resume) {
        RepairResult res;
        g_autofree char *why = NULL;
        gint64 t0 = cpu_now(), t1, t2;
        bool judge, ok;

        crash_work_reset(r->w);
        if (!apply_cut(r, v, k))
                return;
        if (resume) {
                GBytes *s = cut_state(r, v, k);
                if (g_bytes_get_size(s) == 0) {
                        crash_work_reset(r->w);
                        return; /* no checkpoint yet: the same as the fresh run */
                }
                state_restore(r->state, s);
        } else
                crash_empty_dir(r->state);

        t1 = cpu_now();
        crash_recover(r->w->paths, r->p->n, &r->p->guid, r->state, r->c->buffer_size,
                      r->c->checkpoint_interval, crash_track_hook, r->w, &res);
        t2 = cpu_now();
        r->t_setup += t1 - t0;
        r->t_recover += t2 - t1;
        r->runs++;
        if (r->runs % 100 == 0)
                g_test_message("%s: %u runs, at k=%u of %u", r->c->name, r->runs, k, r->rec->writes->len);
        /* The judge (0.5 s of CPU a run) everywhere in the long form; in the short one on
         * the plain prefixes at both ends and at every 8th cut point. */
        judge = r->full || (v == VARIANT_PREFIX && !resume &&
                            (k <= 2 || k + 2 >= r->rec->writes->len || k % 8 == 0));
        if (res.hresult != VDS_S_OK) {
                why = g_strdup_printf("hresult 0x%08x: %s", res.hresult, res.message);
                ok = false;
        } else
                ok = crash_pack_ok(r->p, r->w->paths, r->p->n, judge, &why);
        r->t_check += cpu_now() - t2;
        if (ok) {
                r->judged += judge;
                return;
        }
        r->failures++;
        if (r->failures <= 10) {
                const Write *wr = k > 0 ? &g_array_index(r->rec->writes, Write, k - 1) : NULL;
                g_string_append_printf(r->failed, "\n%s %s%s k=%u (last write: disk %u off %" G_GUINT64_FORMAT " len %zu): %s",
                                       r->c->name, variant_names[v], resume ? "+checkpoints" : "", k,
                                       wr ? wr->disk : 0, wr ? wr->off : 0, wr ? wr->len : 0, why);
        }
}

static void run_case(gconstpointer data) {
        const Case *c = data;
        bool full = g_str_has_prefix(g_test_get_path(), "/crash/full/");
        CrashPack p;
        CrashWork w;
        Recorder rec;
        RepairResult res;
        Run r = { .c = c, .p = &p, .w = &w, .rec = &rec, .full = full, .failed = g_string_new(NULL) };
        g_autofree char *why = NULL;
        gint64 t0 = g_get_monotonic_time();
        const char *e = g_getenv("CRASH_STRIDE");
        guint n, stride = e ? (guint) MAX(atoi(e), 1) : 1; /* by hand: every n-th cut point */

        if (!test_require_program("python3"))
                return;
        c->make(&p);
        crash_work_init(&w, &p);
        r.state = g_build_filename(w.dir, "state", NULL);
        crash_empty_dir(r.state);

        /* The recorded run: also the plain success case. */
        rec = (Recorder) {
                .w = &w, .state = r.state,
                .writes = g_array_new(false, false, sizeof(Write)),
                .snaps = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref),
        };
        crash_recover(w.paths, p.n, &p.guid, r.state, c->buffer_size, c->checkpoint_interval,
                      record_hook, &rec, &res);
        g_assert_cmphex(res.hresult, ==, VDS_S_OK);
        g_ptr_array_add(rec.snaps, state_serialize(r.state));
        if (!crash_pack_ok(&p, w.paths, p.n, true, &why))
                g_error("%s: the uninterrupted Recover: %s", c->name, why);
        n = rec.writes->len;
        g_test_message("%s: %u writes (%u state-directory versions), %" G_GUINT64_FORMAT " data bytes, %u disk(s) synced",
                       c->name, n, rec.snaps->len, res.bytes_repaired, res.disks_synced);
        g_assert_cmpuint(n, >, 0);
        if (g_getenv("CRASH_DUMP"))
                for (guint i = 0; i < n; i++) {
                        const Write *wr = &g_array_index(rec.writes, Write, i);
                        g_test_message("write %u: disk %u off %" G_GUINT64_FORMAT " len %zu state %u", i + 1,
                                       wr->disk, wr->off, wr->len, wr->snap);
                }

        for (guint k = 0; k <= n; k += stride)
                for (Variant v = 0; v < _VARIANT_MAX; v++) {
                        if (v != VARIANT_PREFIX && k == 0)
                                continue;
                        if (v == VARIANT_TORN_TAIL && !full)
                                continue;
                        check_cut(&r, v, k, false);
                        /* A torn write resumed from checkpoints: long form only. */
                        if (v == VARIANT_PREFIX || full)
                                check_cut(&r, v, k, true);
                }

        /* The undo log missed nothing: the images are the broken pack again. */
        crash_work_reset(&w);
        crash_work_assert_pristine(&w);

        g_test_message("%s: %u cut points recovered (%u judged by ldmcheck), %u failed, %.1f s (CPU s: setup %.1f, recover %.1f, check %.1f)",
                       c->name, r.runs, r.judged, r.failures, (g_get_monotonic_time() - t0) / 1e6,
                       r.t_setup / 1e6, r.t_recover / 1e6, r.t_check / 1e6);
        if (r.failures > 0)
                g_error("%s: %u of %u cut points did not recover:%s", c->name, r.failures, r.runs, r.failed->str);

        g_string_free(r.failed, true);
        recorder_clear(&rec);
        g_free(r.state);
        crash_work_done(&w);
        crash_pack_done(&p);
}

/* Chunk sizes give a few dozen data writes per target in the short form (every write of the
 * metadata steps is there whatever the chunk), a checkpoint every few chunks. */
static const Case cases_quick[] = {
        { "mbr-rollback", make_mbr_rollback, 256 * KIB, 1 * MIB },
        { "gpt-inflight", make_gpt_inflight, 256 * KIB, 1 * MIB },
        { "mixed-stale", make_mixed_stale, 256 * KIB, 1 * MIB },
        { "real-2008", make_real_2008, 1 * MIB, 4 * MIB },
};

static const Case cases_full[] = {
        { "mbr-rollback", make_mbr_rollback, 64 * KIB, 512 * KIB },
        { "gpt-inflight", make_gpt_inflight, 128 * KIB, 512 * KIB },
        { "mixed-stale", make_mixed_stale, 128 * KIB, 1 * MIB },
        { "headers-only", make_headers_only, 64 * KIB, 1 * MIB },
        { "real-2008", make_real_2008, 256 * KIB, 2 * MIB },
        { "real-2003", make_real_2003, 1 * MIB, 4 * MIB },
};

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        for (size_t i = 0; i < ELEMENTSOF(cases_quick); i++) {
                g_autofree char *path = g_strdup_printf("/crash/quick/%s", cases_quick[i].name);
                g_test_add_data_func(path, &cases_quick[i], run_case);
        }
        for (size_t i = 0; i < ELEMENTSOF(cases_full); i++) {
                g_autofree char *path = g_strdup_printf("/crash/full/%s", cases_full[i].name);
                g_test_add_data_func(path, &cases_full[i], run_case);
        }
        return g_test_run();
}
