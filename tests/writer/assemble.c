/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* assemble.c: see assemble.h. Sector numbers are 512-byte units as ldmtool prints them.
 * test_assemble_volume() uses nothing of ldm/; only the writing side does. */

#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assemble.h"
#include "scan.h"
#include "volume-io.h"

#include <glib.h> /* after macro.h: GLib's MIN/MAX replace ours without a warning */

#define SECTOR 512u

/* One member as ldmtool places it: device and absolute first sector. */
typedef struct Member {
        char *path;
        uint64_t lba;
        uint64_t sectors;
} Member;

/* The words of the first line starting with "<kind> <name> ", or NULL. */
static char **find_line(char **lines, const char *kind, const char *name) {
        g_autofree char *prefix = g_strdup_printf("%s %s ", kind, name);

        for (char **l = lines; *l; l++)
                if (g_str_has_prefix(*l, prefix))
                        return g_strsplit(*l, " ", -1);
        return NULL;
}

static uint64_t number(const char *s) {
        char *end;
        uint64_t v;

        g_assert_nonnull(s);
        v = g_ascii_strtoull(s, &end, 10);
        g_assert_true(end != s && *end == '\0');
        return v;
}

/* "partition NAME START SECTORS DISK" + "disk NAME GUID PATH DATA-START …" → member. */
static Member member_of(char **lines, const char *part) {
        g_auto(GStrv) p = find_line(lines, "partition", part), d = NULL;

        if (!p)
                g_error("ldmtool reports no partition %s", part);
        g_assert_cmpuint(g_strv_length(p), ==, 5);
        d = find_line(lines, "disk", p[4]);
        if (!d)
                g_error("ldmtool reports no disk %s (partition %s)", p[4], part);
        g_assert_cmpuint(g_strv_length(d), ==, 8);
        return (Member) { g_strdup(d[3]), number(d[4]) + number(p[2]), number(p[3]) };
}

static void read_at(const Member *m, uint64_t sector_in_member, void *buf, size_t len) {
        int fd = open(m->path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpuint(sector_in_member * SECTOR + len, <=, m->sectors * SECTOR);
        n = pread(fd, buf, len, (off_t) ((m->lba + sector_in_member) * SECTOR));
        g_assert_cmpint(n, ==, (ssize_t) len);
        close(fd);
}

/* Every member the same size, a whole number of chunks: the column size in sectors. */
static uint64_t column_sectors(const Member *m, size_t n, uint64_t chunk) {
        g_assert_cmpuint(chunk, >, 0);
        for (size_t i = 1; i < n; i++)
                g_assert_cmpuint(m[i].sectors, ==, m[0].sectors);
        g_assert_cmpuint(m[0].sectors % chunk, ==, 0);
        return m[0].sectors;
}

/* Striped: chunk d lives in column d mod n at row d / n. */
static void striped(const Member *m, size_t n, uint64_t chunk, uint64_t size, uint8_t *out) {
        uint64_t col = column_sectors(m, n, chunk);

        g_assert_cmpuint(size, ==, col * n);
        for (uint64_t d = 0; d < size / chunk; d++)
                read_at(&m[d % n], (d / n) * chunk, out + d * chunk * SECTOR, chunk * SECTOR);
}

/* RAID-5 left-symmetric: in row r the parity is on column (n-1) - (r mod n) and the data
 * chunks follow it, wrapping round. Every row must XOR to zero. */
static void raid5(const Member *m, size_t n, uint64_t chunk, uint64_t size, uint8_t *out) {
        uint64_t col = column_sectors(m, n, chunk), rows = col / chunk;
        size_t len = chunk * SECTOR;
        g_autofree uint8_t *parity = g_malloc(len);

        g_assert_cmpuint(n, >=, 3);
        g_assert_cmpuint(size, ==, col * (n - 1));
        for (uint64_t r = 0; r < rows; r++) {
                size_t p = (n - 1) - (size_t) (r % n);
                read_at(&m[p], r * chunk, parity, len);
                for (size_t k = 0; k < n - 1; k++) {
                        uint8_t *data = out + (r * (n - 1) + k) * len;
                        read_at(&m[(p + 1 + k) % n], r * chunk, data, len);
                        for (size_t i = 0; i < len; i++)
                                parity[i] ^= data[i];
                }
                for (size_t i = 0; i < len; i++)
                        if (parity[i] != 0)
                                g_error("RAID-5 row %" PRIu64 " does not XOR to zero at byte %zu "
                                        "of the chunk", r, i);
        }
}

/* Concatenated in ldmtool's order (simple, spanned). */
static void concat(const Member *m, size_t n, uint64_t size, uint8_t *out) {
        uint64_t at = 0;

        for (size_t i = 0; i < n; i++) {
                read_at(&m[i], 0, out + at * SECTOR, m[i].sectors * SECTOR);
                at += m[i].sectors;
        }
        g_assert_cmpuint(at, ==, size);
}

/* Every plex holds the whole volume (libldm handles single-partition plexes only). */
static void mirrored(const Member *m, size_t n, uint64_t size, uint8_t *out) {
        g_autofree uint8_t *other = g_malloc(size * SECTOR);

        g_assert_cmpuint(n, >=, 2);
        for (size_t i = 0; i < n; i++) {
                g_assert_cmpuint(m[i].sectors, ==, size);
                read_at(&m[i], 0, i ? other : out, size * SECTOR);
                if (i && memcmp(out, other, size * SECTOR) != 0)
                        g_error("mirror plexes %zu and 0 differ", i);
        }
}

void *test_assemble_volume(const char *ldmtool_lines, const char *name, size_t *ret_size) {
        g_auto(GStrv) lines = g_strsplit(ldmtool_lines, "\n", -1);
        g_auto(GStrv) v = find_line(lines, "volume", name), parts = NULL;
        g_autofree Member *m = NULL;
        uint64_t size, chunk;
        size_t n;
        uint8_t *out;

        /* "volume NAME GUID TYPE SECTORS CHUNK PART,PART,..." */
        if (!v)
                g_error("ldmtool reports no volume %s", name);
        g_assert_cmpuint(g_strv_length(v), ==, 7);
        size = number(v[4]);
        chunk = number(v[5]);
        parts = g_strsplit(v[6], ",", -1);
        n = g_strv_length(parts);
        g_assert_cmpuint(n, >, 0);
        m = g_new0(Member, n);
        for (size_t i = 0; i < n; i++)
                m[i] = member_of(lines, parts[i]);

        out = g_malloc(size * SECTOR);
        if (g_str_equal(v[3], "simple") || g_str_equal(v[3], "spanned"))
                concat(m, n, size, out);
        else if (g_str_equal(v[3], "striped"))
                striped(m, n, chunk, size, out);
        else if (g_str_equal(v[3], "RAID5"))
                raid5(m, n, chunk, size, out);
        else if (g_str_equal(v[3], "mirrored"))
                mirrored(m, n, size, out);
        else
                g_error("volume %s: unknown type %s", name, v[3]);
        for (size_t i = 0; i < n; i++)
                g_free(m[i].path);
        *ret_size = size * SECTOR;
        return out;
}

static void fill_random(GRand *rand, uint8_t *buf, size_t len) {
        for (size_t i = 0; i + 4 <= len; i += 4) {
                uint32_t x = g_rand_int(rand);
                memcpy(buf + i, &x, 4);
        }
        for (size_t i = len & ~(size_t) 3; i < len; i++)
                buf[i] = (uint8_t) g_rand_int(rand);
}

/* Our writer puts `want` on the volume: all of it, then a patch at an odd offset. */
static void write_volume(LdmVolume *vol, uint8_t *want, size_t size, GRand *rand) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *vio = NULL;
        size_t off = size / 3 + 777, len = MIN(size / 2, (size_t) 300000) + 13;

        g_assert_cmpint(ldm_volume_io_open(vol, LDM_IO_WRITE, &vio), ==, 0);
        g_assert_cmpuint(ldm_volume_io_size(vio), ==, size);
        fill_random(rand, want, size);
        g_assert_cmpint(ldm_volume_write(vio, 0, want, size), ==, 0);
        fill_random(rand, want + off, len);
        g_assert_cmpint(ldm_volume_write(vio, off, want + off, len), ==, 0);
        g_assert_cmpint(ldm_volume_flush(vio), ==, 0);
}

void test_write_and_assemble(const char *images, const char *ldmtool_lines, unsigned seed) {
        g_auto(GStrv) argv = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *p;

        g_assert_true(g_shell_parse_argv(images, NULL, &argv, &error));
        g_assert_cmpint(ldm_scan_paths(argv, g_strv_length(argv), &scan), ==, 0);
        g_assert_cmpuint(scan->n_packs, ==, 1);
        p = scan->packs[0];
        for (size_t i = 0; i < p->n_volumes; i++) {
                LdmVolume *vol = &p->volumes[i];
                size_t size = vol->size * SECTOR, got_size;
                g_autofree uint8_t *want = g_malloc(size), *got = NULL;

                write_volume(vol, want, size, rand);
                got = test_assemble_volume(ldmtool_lines, vol->name, &got_size);
                g_assert_cmpuint(got_size, ==, size);
                if (memcmp(got, want, size) != 0) {
                        size_t at = 0;
                        while (got[at] == want[at])
                                at++;
                        g_error("volume %s: byte %zu as ldmtool's offsets place it differs from "
                                "what our writer wrote", vol->name, at);
                }
        }
}
