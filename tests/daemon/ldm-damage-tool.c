/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ldm-damage-tool: breaks (and inspects) copies of LDM packs for the daemon's bus tests, the
 * way a crash, a missed write or a disk that was away would. Test-only; it writes the image
 * files given, through the library's own transaction writer and I/O layer.
 *
 *   ldm-damage-tool list IMAGE...                       extents and volumes of the pack
 *   ldm-damage-tool stale EXTENT IMAGE...               mark a partition stale (RECOVER flag)
 *                                                       in a transaction on every image
 *   ldm-damage-tool scribble EXTENT OFF LEN IMAGE...    overwrite LEN bytes at OFF inside it
 *   ldm-damage-tool rollback SKIP IMAGE...              a harmless transaction on every image
 *                                                       but those whose path ends in SKIP
 *   ldm-damage-tool fill VOLUME SEED IMAGE...           write a pattern over the whole volume
 *   ldm-damage-tool sha256 VOLUME IMAGE...              sha256 of the volume as read
 *
 * Each image set must hold exactly one pack. Exits 0 on success, 1 with a message on
 * failure. */

#include <glib.h>
#include <inttypes.h>
#include <stdio.h>

#include "io.h"
#include "scan.h"
#include "volume-io.h"
#include "writer.h"

#define CHUNK (1024 * 1024)

static _Noreturn void die(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        fputs("ldm-damage-tool: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

static LdmPack *load(char **paths, size_t n, LdmScan **ret_scan) {
        int r = ldm_scan_paths(paths, n, ret_scan);

        if (r < 0)
                die("scan failed: %s", strerror(-r));
        if ((*ret_scan)->n_packs != 1)
                die("expected one pack, found %zu", (*ret_scan)->n_packs);
        return (*ret_scan)->packs[0];
}

static LdmExtent *find_extent(LdmPack *p, const char *name) {
        for (size_t i = 0; i < p->n_extents; i++)
                if (strcmp(p->extents[i].name, name) == 0)
                        return &p->extents[i];
        die("no extent %s", name);
}

static LdmVolume *find_volume(LdmPack *p, const char *name) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (strcmp(p->volumes[i].name, name) == 0)
                        return &p->volumes[i];
        die("no volume %s", name);
}

static void cmd_list(LdmPack *p) {
        printf("pack %s %s\n", p->name, GUID_TO_STRING(&p->guid));
        for (size_t i = 0; i < p->n_volumes; i++)
                printf("volume %s %s %" PRIu64 "\n", p->volumes[i].name,
                       ldm_volume_type_to_string(p->volumes[i].type), p->volumes[i].size * 512);
        for (size_t i = 0; i < p->n_extents; i++) {
                const LdmExtent *e = &p->extents[i];
                printf("extent %s %s %s %" PRIu64 "\n", e->name, e->plex ? e->plex->name : "-",
                       e->disk->device ? e->disk->device->path : "(missing)", e->size * 512);
        }
}

/* One transaction, edited by `extent` (set its RECOVER flag) or not (touch the first
 * volume), on every present image whose path does not end in skip. */
static void transact(LdmPack *p, const char *extent, const char *skip) {
        _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
        LdmIo *ios[64];
        LdmDevice *devs[64];
        LdmRecord *rec;
        LdmDiag diag = {};
        size_t n = 0;
        int r;

        r = ldm_txn_begin(p->db, &t);
        if (r < 0)
                die("transaction: %s", strerror(-r));
        if (extent) {
                rec = ldm_txn_edit(t, find_extent(p, extent)->id);
                if (!rec)
                        die("cannot edit %s", extent);
                rec->partition.flags |= LDM_PARTITION_FLAG_RECOVER;
        } else {
                if (p->n_volumes == 0)
                        die("no volume to touch");
                rec = ldm_txn_edit(t, p->volumes[0].id);
                if (!rec)
                        die("cannot edit %s", p->volumes[0].name);
        }
        rec->dirty = true;
        for (size_t i = 0; i < p->n_devices && n < G_N_ELEMENTS(ios); i++) {
                if (skip && g_str_has_suffix(p->devices[i]->path, skip))
                        continue;
                r = ldm_io_open(p->devices[i]->path, LDM_IO_WRITE, &ios[n]);
                if (r < 0)
                        die("open %s: %s", p->devices[i]->path, strerror(-r));
                devs[n++] = p->devices[i];
        }
        r = ldm_txn_commit(t, ios, devs, n, &diag);
        for (size_t i = 0; i < n; i++)
                ldm_io_close(ios[i]);
        if (r < 0)
                die("commit: %s (%s)", strerror(-r), diag.message);
}

static void cmd_scribble(LdmPack *p, const char *extent, uint64_t at, uint64_t len) {
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        LdmExtent *e = find_extent(p, extent);
        g_autofree uint8_t *buf = NULL;
        int r;

        if (!e->disk->device)
                die("%s is on a missing disk", extent);
        if (at + len > e->size * 512 || len > (1u << 30))
                die("%s is %" PRIu64 " bytes long", extent, e->size * 512);
        buf = g_malloc(len);
        for (uint64_t i = 0; i < len; i++)
                buf[i] = (uint8_t) (0xA5 ^ i ^ (i >> 9));
        r = ldm_io_open(e->disk->device->path, LDM_IO_WRITE, &io);
        if (r >= 0)
                r = ldm_io_pwrite(io, buf, len, ldm_extent_disk_offset(e) + at);
        if (r >= 0)
                r = ldm_io_flush(io);
        if (r < 0)
                die("scribble %s: %s", extent, strerror(-r));
}

/* A pattern that differs in every 8 bytes and every volume seed. */
static void pattern(uint8_t *buf, size_t len, uint64_t off, uint64_t seed) {
        for (size_t i = 0; i + 8 <= len; i += 8) {
                uint64_t x = (off + i) * 0x9E3779B97F4A7C15ull ^ seed;
                x ^= x >> 29;
                memcpy(buf + i, &x, 8);
        }
}

static void cmd_fill(LdmPack *p, const char *volume, uint64_t seed) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *vio = NULL;
        g_autofree uint8_t *buf = g_malloc(CHUNK);
        uint64_t size;
        int r;

        r = ldm_volume_io_open(find_volume(p, volume), LDM_IO_WRITE, &vio);
        if (r < 0)
                die("open %s: %s", volume, strerror(-r));
        size = ldm_volume_io_size(vio);
        for (uint64_t off = 0; off < size; off += CHUNK) {
                size_t len = (size_t) MIN((uint64_t) CHUNK, size - off);
                pattern(buf, len, off, seed);
                r = ldm_volume_write(vio, off, buf, len);
                if (r < 0)
                        die("write %s at %" PRIu64 ": %s", volume, off, strerror(-r));
        }
        r = ldm_volume_flush(vio);
        if (r < 0)
                die("flush %s: %s", volume, strerror(-r));
}

static void cmd_sha256(LdmPack *p, const char *volume) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *vio = NULL;
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        g_autofree uint8_t *buf = g_malloc(CHUNK);
        uint64_t size;
        int r;

        r = ldm_volume_io_open(find_volume(p, volume), 0, &vio);
        if (r < 0)
                die("open %s: %s", volume, strerror(-r));
        size = ldm_volume_io_size(vio);
        for (uint64_t off = 0; off < size; off += CHUNK) {
                size_t len = (size_t) MIN((uint64_t) CHUNK, size - off);
                r = ldm_volume_read(vio, off, buf, len);
                if (r < 0)
                        die("read %s at %" PRIu64 ": %s", volume, off, strerror(-r));
                g_checksum_update(sum, buf, len);
        }
        printf("%s\n", g_checksum_get_string(sum));
}

static uint64_t number(const char *s) {
        char *end;
        uint64_t v = g_ascii_strtoull(s, &end, 0);

        if (!*s || *end)
                die("not a number: %s", s);
        return v;
}

int main(int argc, char *argv[]) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        static const struct {
                const char *name;
                int n_args;
        } cmds[] = { { "list", 0 }, { "stale", 1 }, { "scribble", 3 }, { "rollback", 1 },
                     { "fill", 2 }, { "sha256", 1 } };
        int n_args = -1;
        LdmPack *p;

        if (argc < 2)
                die("usage: ldm-damage-tool COMMAND ARGS... IMAGE...");
        for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++)
                if (strcmp(argv[1], cmds[i].name) == 0)
                        n_args = cmds[i].n_args;
        if (n_args < 0)
                die("unknown command %s", argv[1]);
        if (argc < 2 + n_args + 1)
                die("%s needs %d argument(s) and images", argv[1], n_args);

        char **args = argv + 2, **images = argv + 2 + n_args;
        p = load(images, (size_t) (argc - 2 - n_args), &scan);
        if (strcmp(argv[1], "list") == 0)
                cmd_list(p);
        else if (strcmp(argv[1], "stale") == 0)
                transact(p, args[0], NULL);
        else if (strcmp(argv[1], "scribble") == 0)
                cmd_scribble(p, args[0], number(args[1]), number(args[2]));
        else if (strcmp(argv[1], "rollback") == 0)
                transact(p, NULL, args[0]);
        else if (strcmp(argv[1], "fill") == 0)
                cmd_fill(p, args[0], number(args[1]));
        else
                cmd_sha256(p, args[0]);
        return 0;
}
