/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Volume mapping, volume I/O and health on hand-built models: the §9 arithmetic (RAID-5
 * parity rotation for n = 3, 4, 5), data written through the volume writer landing at the
 * absolute disk offsets an independent formula predicts, degraded reads and writes, column
 * rebuild, and the §10.2 health rules. Disks are sparse files in a temporary directory. */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "health.h"
#include "record.h"
#include "test-util.h"
#include "volume-io.h"
#include "volume-map.h"
#include "xor.h"

#define SECT 512u
#define DISK_BYTES (4u * 1024u * 1024u)
#define PUB_START 63u
/* The last MiB of each disk plays the private region: the public region ends before it. */
#define PUB_END (DISK_BYTES / SECT - 2048u)

/* ---- pure arithmetic ---------------------------------------------------------------- */

static void test_raid5_rotation(void) {
        const uint64_t S = 65536;

        for (uint32_t n = 3; n <= 5; n++) {
                /* Left-symmetric: parity walks from the last column down, data starts in the
                 * column after parity and wraps. */
                for (uint64_t r = 0; r < 3 * n; r++) {
                        uint32_t p = ldm_raid5_parity_column(r, n);

                        g_assert_cmpuint(p, ==, (n - 1) - (r % n));
                        for (uint32_t k = 0; k + 1 < n; k++) {
                                uint64_t d = r * (n - 1) + k;
                                LdmStripePos pos;

                                ldm_raid5_locate(d * S + 123, S, n, &pos);
                                g_assert_cmpuint(pos.row, ==, r);
                                g_assert_cmpuint(pos.parity_column, ==, p);
                                g_assert_cmpuint(pos.column, ==, (p + 1 + k) % n);
                                g_assert_cmpuint(pos.column, ==, d % n);   /* §9: c = d mod n */
                                g_assert_cmpuint(pos.column_offset, ==, r * S + 123);
                                g_assert_cmpuint(pos.chunk_left, ==, S - 123);
                                g_assert_cmpuint(ldm_raid5_chunk_offset(r, pos.column, S, n), ==, d * S);
                        }
                        g_assert_cmpuint(ldm_raid5_chunk_offset(r, p, S, n), ==, UINT64_MAX);
                }
        }

        /* n = 3 spelled out (md raid5_ls): row 0 D0 D1 P, row 1 D3 P D2, row 2 P D4 D5. */
        static const struct { uint64_t d; uint32_t c, p; } t3[] = {
                { 0, 0, 2 }, { 1, 1, 2 }, { 2, 2, 1 }, { 3, 0, 1 }, { 4, 1, 0 }, { 5, 2, 0 }, { 6, 0, 2 },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(t3); i++) {
                LdmStripePos pos;

                ldm_raid5_locate(t3[i].d * S, S, 3, &pos);
                g_assert_cmpuint(pos.column, ==, t3[i].c);
                g_assert_cmpuint(pos.parity_column, ==, t3[i].p);
        }
}

static void test_stripe_locate(void) {
        LdmStripePos pos;

        ldm_stripe_locate(0, 4096, 2, &pos);
        g_assert_cmpuint(pos.column, ==, 0);
        g_assert_cmpuint(pos.column_offset, ==, 0);
        ldm_stripe_locate(4096 + 10, 4096, 2, &pos);
        g_assert_cmpuint(pos.column, ==, 1);
        g_assert_cmpuint(pos.column_offset, ==, 10);
        g_assert_cmpuint(pos.chunk_left, ==, 4086);
        ldm_stripe_locate(5 * 4096 + 1, 4096, 3, &pos);
        g_assert_cmpuint(pos.column, ==, 2);
        g_assert_cmpuint(pos.row, ==, 1);
        g_assert_cmpuint(pos.column_offset, ==, 4096 + 1);
        g_assert_cmpuint(pos.parity_column, ==, LDM_NO_COLUMN);
}

static void test_xor_with(const XorImpl *impl) {
        uint8_t a[1000], b[1000], c[1000], d[1000];

        for (size_t i = 0; i < sizeof(a); i++) {
                a[i] = (uint8_t) (i * 7);
                b[i] = (uint8_t) (i * 13 + 1);
                c[i] = (uint8_t) (i ^ 0x5a);
        }
        /* Every length and misalignment through the vector, tail and byte loops. */
        for (size_t off = 0; off < 5; off++)
                for (size_t len = 0; len + off <= 997; len += 37) {
                        const void *srcs[] = { a + off, b + off, c + off };

                        memset(d, 0xee, sizeof(d));
                        impl->blocks(d + off, srcs, 3, len);
                        for (size_t i = 0; i < len; i++)
                                g_assert_cmpuint(d[off + i], ==, a[off + i] ^ b[off + i] ^ c[off + i]);
                        g_assert_cmpuint(d[off + len], ==, 0xee);
                        impl->into(d + off, c + off, len);
                        for (size_t i = 0; i < len; i++)
                                g_assert_cmpuint(d[off + i], ==, a[off + i] ^ b[off + i]);
                }
}

/* Each source at an offset of its own, 1 to 8 sources, in place too, and lengths on either
 * side of every step the loops take (32, 64, 128 and 256 bytes): what xor_blocks() writes
 * is exactly the XOR, and not one byte outside dst. */
static void test_xor_sources_with(const XorImpl *impl) {
        enum { MAXN = 8, SZ = 1200, GUARD = 64 };
        static const size_t lens[] = { 0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 129, 191, 255,
                                       256, 257, 383, 511, 512, 513, 1000 };
        static uint8_t src[MAXN][SZ], buf[SZ + 2 * GUARD];

        for (size_t k = 0; k < MAXN; k++)
                for (size_t i = 0; i < SZ; i++)
                        src[k][i] = (uint8_t) (i * (2 * k + 3) + k + (i >> 8));
        for (size_t n = 1; n <= MAXN; n++)
                for (size_t l = 0; l < ELEMENTSOF(lens); l++)
                        for (size_t off = 0; off < 3; off++) {
                                const size_t len = lens[l], doff = GUARD + (off * 17 + n) % 64;
                                const void *srcs[MAXN];
                                uint8_t *d = buf + doff;

                                for (size_t k = 0; k < n; k++)
                                        srcs[k] = src[k] + (k * 5 + off * 3) % 70;
                                memset(buf, 0xee, sizeof(buf));
                                impl->blocks(d, srcs, n, len);
                                for (size_t i = 0; i < len; i++) {
                                        uint8_t x = 0;

                                        for (size_t k = 0; k < n; k++)
                                                x ^= ((const uint8_t *) srcs[k])[i];
                                        g_assert_cmpuint(d[i], ==, x);
                                }
                                for (size_t i = 0; i < doff; i++)
                                        g_assert_cmpuint(buf[i], ==, 0xee);
                                for (size_t i = doff + len; i < sizeof(buf); i++)
                                        g_assert_cmpuint(buf[i], ==, 0xee);

                                /* In place, as the repair engine: dst is the first source. */
                                if (n >= 2) {
                                        memcpy(d, srcs[0], len);
                                        srcs[0] = d;
                                        impl->blocks(d, srcs, n, len);
                                        srcs[0] = src[0] + off * 3 % 70;
                                        impl->into(d, srcs[0], len);
                                        for (size_t i = 0; i < len; i++) {
                                                uint8_t x = 0;

                                                for (size_t k = 1; k < n; k++)
                                                        x ^= ((const uint8_t *) srcs[k])[i];
                                                g_assert_cmpuint(d[i], ==, x);
                                        }
                                        g_assert_cmpuint(buf[doff + len], ==, 0xee);
                                        g_assert_cmpuint(buf[doff - 1], ==, 0xee);
                                }
                        }
}

/* Blocks large enough for the non-temporal stores (ldm/xor.c XOR_STREAM_MIN, 4 MiB): the
 * same bytes, in place too, with a destination on a cache line, on 16 bytes only (the
 * AVX-512 path XORs the bytes up to the line boundary first), and unaligned, and a tail
 * after the 128-byte steps. */
static void test_xor_large_with(const XorImpl *impl) {
        static const size_t offs[] = { 0, 16, 48, 1 };
        const size_t len = (8u << 20) + 77;
        g_autofree uint8_t *a = g_malloc(len + 64), *b = g_malloc(len + 64), *buf = g_malloc(len + 128);
        uint8_t *d = buf + (-(uintptr_t) buf & 63); /* on a cache line */

        for (size_t i = 0; i < len + 64; i++) {
                a[i] = (uint8_t) (i * 7 + (i >> 12));
                b[i] = (uint8_t) (i * 13 + 1 + (i >> 16));
        }
        for (size_t o = 0; o < ELEMENTSOF(offs); o++) {
                const size_t off = offs[o];
                const void *srcs[] = { a + off, b + off };

                memset(d, 0xee, len + 64);
                impl->blocks(d + off, srcs, 2, len);
                for (size_t i = 0; i < len; i++)
                        if (d[off + i] != (a[off + i] ^ b[off + i]))
                                g_error("byte %zu of %zu at offset %zu", i, len, off);
                g_assert_cmpuint(d[off + len], ==, 0xee);
                if (off > 0)
                        g_assert_cmpuint(d[off - 1], ==, 0xee);
        }
        /* In place, as the repair engine: the destination is the first source. */
        {
                const void *srcs[] = { d, b };

                memcpy(d, a, len);
                impl->blocks(d, srcs, 2, len);
                for (size_t i = 0; i < len; i++)
                        if (d[i] != (a[i] ^ b[i]))
                                g_error("in place: byte %zu of %zu", i, len);
        }
}

/* Each test on every path this CPU can run (xor_implementations()). */
#define XOR_ON_EVERY_PATH(test)                                                         \
        static void test(void) {                                                        \
                const XorImpl *impls;                                                   \
                size_t n = xor_implementations(&impls);                                 \
                                                                                        \
                g_assert_cmpuint(n, >=, 1);                                             \
                for (size_t i = 0; i < n; i++) {                                        \
                        g_test_message("%s", impls[i].name);                            \
                        test##_with(&impls[i]);                                         \
                }                                                                       \
        }
XOR_ON_EVERY_PATH(test_xor)
XOR_ON_EVERY_PATH(test_xor_sources)
XOR_ON_EVERY_PATH(test_xor_large)

/* ---- a hand-built pack ---------------------------------------------------------------- */

typedef struct Model {
        char *dir;
        LdmPack pack;
        LdmDevice devs[6];
        LdmDisk disks[6];
        LdmExtent extents[8];
        LdmExtent *ext_ptrs[8];
        LdmColumn columns[8];
        LdmPlex plexes[2];
        LdmPlex *plex_ptrs[2];
        LdmVolume volume;
} Model;

static void model_disks(Model *m, size_t n) {
        m->dir = test_tmpdir();
        m->pack.committed_seq = 10;
        m->pack.disks = m->disks;
        m->pack.n_disks = n;
        for (size_t i = 0; i < n; i++) {
                char *path = g_strdup_printf("%s/disk%zu.img", m->dir, i);
                int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);

                g_assert_cmpint(fd, >=, 0);
                g_assert_cmpint(ftruncate(fd, DISK_BYTES), ==, 0);
                close(fd);
                m->devs[i].path = path;
                m->devs[i].privhead.pub_start = PUB_START + i;  /* different per disk */
                m->devs[i].privhead.pub_size = PUB_END - (PUB_START + i);
                m->devs[i].effective_committed = 10;
                m->disks[i] = (LdmDisk) { .pack = &m->pack, .id = (uint32_t) (100 + i), .device = &m->devs[i] };
        }
}

/* RAID-5 (or stripe) plex of n columns, one extent each on disk i, `rows` rows of `stripe`
 * sectors; extent start differs per disk to catch mixed-up offsets. */
static void model_striped(Model *m, uint8_t layout, uint32_t n, uint64_t stripe, uint64_t rows) {
        LdmPlex *plex = &m->plexes[0];

        model_disks(m, n);
        *plex = (LdmPlex) { .id = 50, .layout = layout, .stripe_size = stripe, .columns = m->columns,
                            .n_columns = n, .volume = &m->volume };
        for (uint32_t c = 0; c < n; c++) {
                m->extents[c] = (LdmExtent) { .id = 60 + c, .disk = &m->disks[c], .plex = plex,
                                              .start = 100 + 7 * c, .size = stripe * rows, .column = c };
                m->ext_ptrs[c] = &m->extents[c];
                m->columns[c] = (LdmColumn) { .extents = &m->ext_ptrs[c], .n_extents = 1, .size = stripe * rows };
        }
        m->plex_ptrs[0] = plex;
        m->volume = (LdmVolume) {
                .pack = &m->pack, .id = 40, .plexes = m->plex_ptrs, .n_plexes = 1,
                .type = layout == LDM_LAYOUT_RAID5 ? LDM_VOLUME_RAID5 : LDM_VOLUME_STRIPE,
                .size = stripe * rows * (layout == LDM_LAYOUT_RAID5 ? n - 1 : n),
        };
        m->pack.volumes = &m->volume;
        m->pack.n_volumes = 1;
}

static void model_free(Model *m) {
        for (size_t i = 0; i < G_N_ELEMENTS(m->devs); i++)
                g_free(m->devs[i].path);
        g_free(m->dir);
}

static void fill_random(uint8_t *b, size_t len, uint32_t seed) {
        GRand *r = g_rand_new_with_seed(seed);
        for (size_t i = 0; i < len; i++)
                b[i] = (uint8_t) g_rand_int(r);
        g_rand_free(r);
}

static void read_disk(const Model *m, size_t disk, uint64_t off, void *buf, size_t len) {
        int fd = open(m->devs[disk].path, O_RDONLY | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pread(fd, buf, len, (off_t) off), ==, (ssize_t) len);
        close(fd);
}

/* Independent formula (md left-symmetric) for where volume byte b of a RAID-5 lives. */
static uint64_t raid5_expected_disk_offset(const Model *m, uint64_t b, uint32_t n, uint64_t S,
                                           size_t *ret_disk) {
        uint64_t chunk = b / S, row = chunk / (n - 1);
        uint32_t parity = (uint32_t) ((n - 1) - row % n);
        uint32_t col = (uint32_t) ((parity + 1 + chunk % (n - 1)) % n);

        *ret_disk = col;
        return (m->devs[col].privhead.pub_start + m->extents[col].start) * SECT + row * S + b % S;
}

static void raid5_roundtrip(uint32_t n) {
        const uint64_t stripe = 8, rows = 24, S = stripe * SECT;
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *v = NULL;
        Model m = {};
        size_t size, disk;
        g_autofree uint8_t *data = NULL, *back = NULL, *col = NULL;
        bool ok;

        model_striped(&m, LDM_LAYOUT_RAID5, n, stripe, rows);
        g_assert_cmpint(ldm_plex_check(&m.plexes[0]), ==, 0);
        g_assert_cmpint(ldm_volume_io_open(&m.volume, LDM_IO_WRITE, &v), ==, 0);
        size = ldm_volume_io_size(v);
        g_assert_cmpuint(size, ==, (n - 1) * rows * S);
        data = g_malloc(size);
        back = g_malloc(size);
        col = g_malloc(rows * S);

        /* Full-row writes, then partial writes crossing chunk and row boundaries. */
        fill_random(data, size, n);
        g_assert_cmpint(ldm_volume_write(v, 0, data, size), ==, 0);
        fill_random(data + S / 2, 3 * S + 17, n + 100);
        g_assert_cmpint(ldm_volume_write(v, S / 2, data + S / 2, 3 * S + 17), ==, 0);
        fill_random(data + size - 1000, 1000, n + 200);
        g_assert_cmpint(ldm_volume_write(v, size - 1000, data + size - 1000, 1000), ==, 0);
        g_assert_cmpint(ldm_volume_flush(v), ==, 0);

        g_assert_cmpint(ldm_volume_read(v, 0, back, size), ==, 0);
        g_assert(memcmp(back, data, size) == 0);
        for (uint64_t r = 0; r < rows; r++) {
                g_assert_cmpint(ldm_volume_verify_row(v, 0, r, &ok), ==, 0);
                g_assert_true(ok);
        }

        /* Bytes at the absolute offsets of the independent formula. */
        for (uint64_t b = 0; b < size; b += 4093) {
                uint8_t byte;
                uint64_t off = raid5_expected_disk_offset(&m, b, n, S, &disk);

                read_disk(&m, disk, off, &byte, 1);
                g_assert_cmpuint(byte, ==, data[b]);
        }

        /* Any one column left out: reads reconstruct the same bytes. */
        for (uint32_t c = 0; c < n; c++) {
                g_assert_cmpint(ldm_volume_io_exclude(v, 0, c, true), ==, 0);
                memset(back, 0, size);
                g_assert_cmpint(ldm_volume_read(v, 0, back, size), ==, 0);
                g_assert(memcmp(back, data, size) == 0);

                /* Degraded write (data and parity of the missing column kept consistent). */
                fill_random(data + S * c + 5, 2 * S, 300 + c);
                g_assert_cmpint(ldm_volume_write(v, S * c + 5, data + S * c + 5, 2 * S), ==, 0);
                g_assert_cmpint(ldm_volume_read(v, 0, back, size), ==, 0);
                g_assert(memcmp(back, data, size) == 0);

                /* Two columns out: RAID-5 cannot serve the data any more. */
                g_assert_cmpint(ldm_volume_io_exclude(v, 0, (c + 1) % n, true), ==, 0);
                g_assert_cmpint(ldm_volume_read(v, 0, back, size), ==, -ENODEV);
                g_assert_cmpint(ldm_volume_io_exclude(v, 0, (c + 1) % n, false), ==, 0);

                /* Rebuild the left-out column and put it back: parity consistent again. */
                g_assert_cmpint(ldm_volume_rebuild_column(v, 0, c, 0, col, rows * S), ==, 0);
                g_assert_cmpint(ldm_volume_io_exclude(v, 0, c, false), ==, 0);
                g_assert_cmpint(ldm_volume_write_column(v, 0, c, 0, col, rows * S), ==, 0);
                for (uint64_t r = 0; r < rows; r++) {
                        g_assert_cmpint(ldm_volume_verify_row(v, 0, r, &ok), ==, 0);
                        g_assert_true(ok);
                }
                g_assert_cmpint(ldm_volume_read(v, 0, back, size), ==, 0);
                g_assert(memcmp(back, data, size) == 0);
        }

        /* A corrupted parity byte is found by verify. */
        {
                uint8_t x = 0xff;
                g_assert_cmpint(ldm_volume_read_column(v, 0, 2, 5, &x, 1), ==, 0);
                x ^= 1;
                g_assert_cmpint(ldm_volume_write_column(v, 0, 2, 5, &x, 1), ==, 0);
                g_assert_cmpint(ldm_volume_verify_row(v, 0, 0, &ok), ==, 0);
                g_assert_false(ok);
        }

        g_assert_cmpint(ldm_volume_read(v, size - 1, back, 2), ==, -ENXIO);
        model_free(&m);
}

static void test_raid5_io_3(void) { raid5_roundtrip(3); }
static void test_raid5_io_4(void) { raid5_roundtrip(4); }
static void test_raid5_io_5(void) { raid5_roundtrip(5); }

static void test_stripe_io(void) {
        const uint64_t stripe = 16, rows = 10, S = stripe * SECT;
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *v = NULL;
        Model m = {};
        size_t size;
        g_autofree uint8_t *data = NULL, *back = NULL;

        model_striped(&m, LDM_LAYOUT_STRIPE, 2, stripe, rows);
        g_assert_cmpint(ldm_volume_io_open(&m.volume, LDM_IO_WRITE, &v), ==, 0);
        size = ldm_volume_io_size(v);
        data = g_malloc(size);
        back = g_malloc(size);
        fill_random(data, size, 7);
        g_assert_cmpint(ldm_volume_write(v, 0, data, size), ==, 0);
        for (uint64_t b = 0; b < size; b += 999) {
                uint64_t d = b / S;
                uint32_t c = (uint32_t) (d % 2);
                uint8_t byte;

                read_disk(&m, c, (m.devs[c].privhead.pub_start + m.extents[c].start) * SECT +
                                 (d / 2) * S + b % S, &byte, 1);
                g_assert_cmpuint(byte, ==, data[b]);
        }
        g_assert_cmpint(ldm_volume_read(v, 0, back, size), ==, 0);
        g_assert(memcmp(back, data, size) == 0);
        /* No redundancy: a missing column fails the read of its chunks only. */
        g_assert_cmpint(ldm_volume_io_exclude(v, 0, 1, true), ==, 0);
        g_assert_cmpint(ldm_volume_read(v, 0, back, S), ==, 0);
        g_assert_cmpint(ldm_volume_read(v, 0, back, S + 1), ==, -ENODEV);
        model_free(&m);
}

/* Spanned plex of 3 extents on 2 disks, plus a mirror of two such single-extent plexes. */
static void test_span_mirror_io(void) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *v = NULL, *w = NULL;
        Model m = {};
        g_autofree uint8_t *data = NULL, *back = NULL;
        uint64_t sizes[3] = { 40, 24, 64 }, at = 0;
        size_t size;

        model_disks(&m, 2);
        for (size_t i = 0; i < 3; i++) {
                m.extents[i] = (LdmExtent) { .disk = &m.disks[i % 2], .start = 1000 + 200 * i,
                                             .offset_in_column = at, .size = sizes[i] };
                m.ext_ptrs[i] = &m.extents[i];
                at += sizes[i];
        }
        m.columns[0] = (LdmColumn) { .extents = m.ext_ptrs, .n_extents = 3, .size = at };
        m.plexes[0] = (LdmPlex) { .layout = LDM_LAYOUT_CONCAT, .columns = m.columns, .n_columns = 1 };
        m.plex_ptrs[0] = &m.plexes[0];
        m.volume = (LdmVolume) { .type = LDM_VOLUME_SPAN, .plexes = m.plex_ptrs, .n_plexes = 1, .size = at };

        g_assert_cmpint(ldm_volume_io_open(&m.volume, LDM_IO_WRITE, &v), ==, 0);
        size = ldm_volume_io_size(v);
        g_assert_cmpuint(size, ==, at * SECT);
        data = g_malloc(size);
        back = g_malloc(size);
        fill_random(data, size, 11);
        g_assert_cmpint(ldm_volume_write(v, 0, data, size), ==, 0);
        /* Third extent (volume sector 64) on disk 0 at pub_start + 1400. */
        read_disk(&m, 0, (PUB_START + 1400) * SECT, back, 24 * SECT);
        g_assert(memcmp(back, data + 64 * SECT, 24 * SECT) == 0);
        read_disk(&m, 1, (PUB_START + 1 + 1200) * SECT, back, 24 * SECT);
        g_assert(memcmp(back, data + 40 * SECT, 24 * SECT) == 0);
        g_assert_cmpint(ldm_volume_read(v, 0, back, size), ==, 0);
        g_assert(memcmp(back, data, size) == 0);
        v = ldm_volume_io_close(v);

        /* Mirror: plex 0 = extent 0 (disk 0), plex 1 = extent 3 (disk 1), 40 sectors. */
        m.extents[3] = (LdmExtent) { .disk = &m.disks[1], .start = 3000, .size = 40 };
        m.ext_ptrs[3] = &m.extents[3];
        m.columns[0] = (LdmColumn) { .extents = &m.ext_ptrs[0], .n_extents = 1, .size = 40 };
        m.columns[1] = (LdmColumn) { .extents = &m.ext_ptrs[3], .n_extents = 1, .size = 40 };
        m.plexes[1] = (LdmPlex) { .layout = LDM_LAYOUT_CONCAT, .columns = &m.columns[1], .n_columns = 1 };
        m.plex_ptrs[1] = &m.plexes[1];
        m.volume = (LdmVolume) { .type = LDM_VOLUME_MIRROR, .plexes = m.plex_ptrs, .n_plexes = 2, .size = 40 };

        g_assert_cmpint(ldm_volume_io_open(&m.volume, LDM_IO_WRITE, &w), ==, 0);
        fill_random(data, 40 * SECT, 12);
        g_assert_cmpint(ldm_volume_write(w, 0, data, 40 * SECT), ==, 0);
        read_disk(&m, 0, (PUB_START + 1000) * SECT, back, 40 * SECT);
        g_assert(memcmp(back, data, 40 * SECT) == 0);
        read_disk(&m, 1, (PUB_START + 1 + 3000) * SECT, back, 40 * SECT);
        g_assert(memcmp(back, data, 40 * SECT) == 0);

        /* Either plex alone serves the volume. */
        for (size_t p = 0; p < 2; p++) {
                g_assert_cmpint(ldm_volume_io_exclude(w, p, 0, true), ==, 0);
                memset(back, 0, 40 * SECT);
                g_assert_cmpint(ldm_volume_read(w, 0, back, 40 * SECT), ==, 0);
                g_assert(memcmp(back, data, 40 * SECT) == 0);
                g_assert_cmpint(ldm_volume_io_exclude(w, p, 0, false), ==, 0);
        }
        /* A stale plex is not read from; the fresh one is. */
        g_assert_cmpint(ldm_volume_write_plex(w, 0, 0, "XXXX", 4), ==, 0);
        m.columns[0].stale = true;
        g_assert_cmpint(ldm_volume_io_exclude(w, 0, 0, false), ==, 0);   /* refresh state */
        g_assert_cmpint(ldm_volume_read(w, 0, back, 4), ==, 0);
        g_assert(memcmp(back, data, 4) == 0);
        g_assert_cmpint(ldm_volume_read_plex(w, 0, 0, back, 4), ==, 0);
        g_assert(memcmp(back, "XXXX", 4) == 0);
        model_free(&m);
}

static void test_bad_geometry(void) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *v = NULL;
        Model m = {};

        model_striped(&m, LDM_LAYOUT_RAID5, 3, 8, 4);
        m.columns[1].size = 31;                    /* unequal column */
        m.extents[1].size = 31;
        g_assert_cmpint(ldm_volume_io_open(&m.volume, 0, &v), ==, -EBADMSG);
        m.columns[1].size = m.extents[1].size = 32;
        m.volume.size = 1000;                      /* larger than the plex */
        g_assert_cmpint(ldm_volume_io_open(&m.volume, 0, &v), ==, -EBADMSG);
        m.volume.size = 64;
        m.plexes[0].n_columns = 2;                 /* RAID-5 needs 3 */
        g_assert_cmpint(ldm_volume_io_open(&m.volume, 0, &v), ==, -EBADMSG);
        m.plexes[0].n_columns = 3;
        g_assert_cmpint(ldm_volume_io_open(&m.volume, 0, &v), ==, 0);
        g_assert_cmpint(ldm_volume_write(v, 0, "x", 1), ==, -EBADF);
        model_free(&m);
}

/* A mirror whose second plex ends 8 sectors past its disk's public region, as a hand-built
 * model (pack.c would have left such an extent out): the writer refuses every piece that
 * would leave the region, and the bytes after it stay untouched. */
static void test_outside_public_region(void) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *w = NULL;
        uint64_t pub = PUB_END - (PUB_START + 1), at;
        g_autofree uint8_t *data = g_malloc(40 * SECT), *back = g_malloc(2048 * SECT);
        Model m = {};

        model_disks(&m, 2);
        for (size_t i = 0; i < 2; i++) {
                m.extents[i] = (LdmExtent) { .disk = &m.disks[i], .start = i == 0 ? 1000 : pub - 32, .size = 40 };
                m.ext_ptrs[i] = &m.extents[i];
                m.columns[i] = (LdmColumn) { .extents = &m.ext_ptrs[i], .n_extents = 1, .size = 40 };
                m.plexes[i] = (LdmPlex) { .layout = LDM_LAYOUT_CONCAT, .columns = &m.columns[i], .n_columns = 1 };
                m.plex_ptrs[i] = &m.plexes[i];
        }
        m.volume = (LdmVolume) { .type = LDM_VOLUME_MIRROR, .plexes = m.plex_ptrs, .n_plexes = 2, .size = 40 };

        /* The offset check itself: the last sector inside the region, not one byte more. */
        g_assert_cmpint(ldm_extent_write_offset(&m.extents[1], 31 * SECT, SECT, &at), ==, 0);
        g_assert_cmpuint(at, ==, (PUB_END - 1) * SECT);
        g_assert_cmpint(ldm_extent_write_offset(&m.extents[1], 31 * SECT, SECT + 1, &at), ==, -EINVAL);
        g_assert_cmpint(ldm_extent_write_offset(&m.extents[0], 39 * SECT, SECT + 1, &at), ==, -EINVAL);
        g_assert_cmpint(ldm_extent_write_offset(&m.extents[0], UINT64_MAX, 2, &at), ==, -EINVAL);
        m.extents[0].start = UINT64_MAX / 256;
        g_assert_cmpint(ldm_extent_write_offset(&m.extents[0], 0, 1, &at), ==, -EINVAL);
        m.extents[0].start = 1000;
        m.disks[0].device = NULL;
        g_assert_cmpint(ldm_extent_write_offset(&m.extents[0], 0, 1, &at), ==, -ENODEV);
        m.disks[0].device = &m.devs[0];

        g_assert_cmpint(ldm_volume_io_open(&m.volume, LDM_IO_WRITE, &w), ==, 0);
        fill_random(data, 40 * SECT, 13);
        g_assert_cmpint(ldm_volume_write(w, 0, data, 40 * SECT), ==, -EINVAL);
        g_assert_cmpint(ldm_volume_write_plex(w, 1, 0, data, 40 * SECT), ==, -EINVAL);
        g_assert_cmpint(ldm_volume_write_column(w, 1, 0, 32 * SECT, data, SECT), ==, -EINVAL);
        /* Inside the region the plex is still written. */
        g_assert_cmpint(ldm_volume_write_plex(w, 1, 0, data, 32 * SECT), ==, 0);
        read_disk(&m, 1, (PUB_END - 32) * SECT, back, 32 * SECT);
        g_assert(memcmp(back, data, 32 * SECT) == 0);
        read_disk(&m, 1, PUB_END * SECT, back, 2048 * SECT);
        for (size_t i = 0; i < 2048 * SECT; i++)
                g_assert_cmpuint(back[i], ==, 0);
        model_free(&m);
}

/* ---- health --------------------------------------------------------------------------- */

static void test_health(void) {
        Model m = {};

        model_striped(&m, LDM_LAYOUT_RAID5, 3, 8, 4);
        ldm_health_compute(&m.pack);
        g_assert_cmpint(m.pack.status, ==, VDS_PS_ONLINE);
        g_assert_cmpuint(m.pack.flags, ==, 0);
        g_assert_cmpint(m.pack.health, ==, VDS_H_HEALTHY);
        g_assert_cmpint(m.volume.status, ==, VDS_VS_ONLINE);
        g_assert_cmpint(m.volume.health, ==, VDS_H_HEALTHY);
        for (size_t i = 0; i < 3; i++)
                g_assert_cmpint(m.disks[i].status, ==, VDS_DS_ONLINE);

        /* One disk missing: RAID-5 keeps its data by XOR. */
        m.disks[1].device = NULL;
        ldm_health_compute(&m.pack);
        g_assert_cmpint(m.disks[1].status, ==, VDS_DS_MISSING);
        g_assert_true(m.columns[1].missing && m.columns[1].stale);
        g_assert_false(m.columns[0].stale);
        g_assert_cmpint(m.volume.status, ==, VDS_VS_ONLINE);
        g_assert_cmpint(m.volume.health, ==, VDS_H_FAILED_REDUNDANCY);
        g_assert_cmpint(m.pack.health, ==, VDS_H_FAILED_REDUNDANCY);
        g_assert_cmpuint(m.pack.flags, ==, VDS_PKF_ONLINE_ERROR);   /* 2 of 3 is a quorum */

        /* A second column stale (its disk's database missed a transaction): failed. */
        m.devs[2].effective_committed = 9;
        ldm_health_compute(&m.pack);
        g_assert_true(m.disks[2].db_stale);
        g_assert_cmpint(m.disks[2].health, ==, VDS_H_STALE);
        g_assert_cmpint(m.volume.status, ==, VDS_VS_FAILED);
        g_assert_cmpint(m.volume.health, ==, VDS_H_FAILED);

        /* Disk back, partition flag "recover" (D's convention) on column 0. */
        m.disks[1].device = &m.devs[1];
        m.devs[2].effective_committed = 10;
        m.extents[0].flags = LDM_PARTITION_FLAG_RECOVER;
        ldm_health_compute(&m.pack);
        g_assert_true(m.columns[0].stale);
        g_assert_false(m.columns[0].missing);
        g_assert_cmpint(m.volume.health, ==, VDS_H_FAILED_REDUNDANCY);
        m.extents[0].flags = 0;

        /* Invalid copy of a PRIVHEAD: disk online but failing, pack corrupted. */
        m.devs[0].privhead_state[LDM_PRIVHEAD_COPY_1856] = -EBADMSG;
        m.devs[0].toc_state[LDM_TOC_SLOT_1] = -ENOENT;   /* absent is fine */
        ldm_health_compute(&m.pack);
        g_assert_true(m.disks[0].db_damaged);
        g_assert_cmpint(m.disks[0].health, ==, VDS_H_FAILING);
        g_assert_cmpuint(m.pack.flags, ==, VDS_PKF_ONLINE_ERROR | VDS_PKF_CORRUPTED);
        g_assert_cmpint(m.volume.health, ==, VDS_H_HEALTHY);
        m.devs[0].privhead_state[LDM_PRIVHEAD_COPY_1856] = 0;

        /* Two of three disks gone: no quorum, the pack stays visible. */
        m.disks[0].device = m.disks[1].device = NULL;
        m.disks[1].invalid_device = &m.devs[1];
        ldm_health_compute(&m.pack);
        g_assert_cmpint(m.disks[1].status, ==, VDS_DS_FAILED);
        g_assert_cmpuint(m.pack.flags & VDS_PKF_NOQUORUM, ==, VDS_PKF_NOQUORUM);
        g_assert_cmpint(m.pack.status, ==, VDS_PS_ONLINE);
        g_assert_cmpint(m.pack.health, ==, VDS_H_FAILED);
        model_free(&m);
}

/* A mirror of two one-extent plexes, one on each of two disks. */
static void model_mirror(Model *m) {
        model_disks(m, 2);
        for (size_t i = 0; i < 2; i++) {
                m->extents[i] = (LdmExtent) { .disk = &m->disks[i], .start = 10, .size = 8 };
                m->ext_ptrs[i] = &m->extents[i];
                m->columns[i] = (LdmColumn) { .extents = &m->ext_ptrs[i], .n_extents = 1, .size = 8 };
                m->plexes[i] = (LdmPlex) { .layout = LDM_LAYOUT_CONCAT, .columns = &m->columns[i], .n_columns = 1 };
                m->plex_ptrs[i] = &m->plexes[i];
        }
        m->volume = (LdmVolume) { .type = LDM_VOLUME_MIRROR, .plexes = m->plex_ptrs, .n_plexes = 2, .size = 8 };
        m->pack.volumes = &m->volume;
        m->pack.n_volumes = 1;
}

static void test_health_mirror(void) {
        Model m = {};

        model_mirror(&m);

        ldm_health_compute(&m.pack);
        g_assert_cmpint(m.volume.health, ==, VDS_H_HEALTHY);
        g_assert_cmpint(m.plexes[0].transition, ==, VDS_TS_STABLE);

        m.plexes[1].flags = LDM_COMPONENT_FLAG_RECOVER;
        ldm_health_compute(&m.pack);
        g_assert_true(m.plexes[1].stale);
        g_assert_cmpint(m.plexes[1].health, ==, VDS_H_STALE);
        g_assert_cmpint(m.volume.health, ==, VDS_H_FAILED_REDUNDANCY);
        m.plexes[1].flags = 0;

        m.disks[0].device = NULL;
        ldm_health_compute(&m.pack);
        g_assert_cmpint(m.plexes[0].health, ==, VDS_H_FAILED);
        g_assert_cmpint(m.volume.status, ==, VDS_VS_ONLINE);
        g_assert_cmpint(m.volume.health, ==, VDS_H_FAILED_REDUNDANCY);
        /* 1 of 2 disks: no quorum (n/2 + 1 = 2), but ldmd keeps the pack online. */
        g_assert_cmpuint(m.pack.flags, ==, VDS_PKF_NOQUORUM | VDS_PKF_ONLINE_ERROR);

        m.disks[1].device = NULL;
        ldm_health_compute(&m.pack);
        g_assert_cmpint(m.volume.status, ==, VDS_VS_FAILED);
        g_assert_cmpint(m.pack.status, ==, VDS_PS_OFFLINE);
        model_free(&m);
}

/* A plex that lost an extent record in pack.c (outside its disk's public region, or
 * overlapping another extent): its volume is Failed and cannot be opened, whatever the plex
 * left looks like. */
static void test_health_rejected_extent(void) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *w = NULL;
        Model m = {};

        model_mirror(&m);

        m.plexes[1].extent_rejected = true;
        ldm_health_compute(&m.pack);
        g_assert_cmpint(m.plexes[0].health, ==, VDS_H_HEALTHY);
        g_assert_cmpint(m.plexes[1].health, ==, VDS_H_FAILED);
        g_assert_cmpint(m.volume.status, ==, VDS_VS_FAILED);
        g_assert_cmpint(m.volume.health, ==, VDS_H_FAILED);
        g_assert_cmpint(m.pack.health, ==, VDS_H_FAILED);
        g_assert_cmpint(ldm_plex_check(&m.plexes[0]), ==, 0);
        g_assert_cmpint(ldm_plex_check(&m.plexes[1]), ==, -EBADMSG);
        g_assert_cmpint(ldm_volume_io_open(&m.volume, 0, &w), ==, -EBADMSG);
        model_free(&m);
}

static void test_vds_strings(void) {
        g_assert_cmpstr(vds_health_to_string(VDS_H_FAILED_REDUNDANCY), ==, "failed-redundancy");
        g_assert_cmpstr(vds_disk_status_to_string(VDS_DS_MISSING), ==, "missing");
        g_assert_null(vds_pack_status_to_string(2));
        g_assert_cmpstr(vds_hresult_to_string(0x80042454u), ==, "VDS_E_MISSING_DISK");
        g_assert_cmpstr(vds_hresult_to_string(VDS_E_OPERATION_PENDING), ==, "VDS_E_OPERATION_PENDING");
        g_assert_null(vds_hresult_to_string(0x12345678u));
        g_assert_cmpuint(VDS_VT_PARITY, ==, 14);
        g_assert_cmpuint(VDS_ASYNCOUT_RECOVERPACK, ==, 8);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/volume/map/raid5-rotation", test_raid5_rotation);
        g_test_add_func("/volume/map/stripe", test_stripe_locate);
        g_test_add_func("/volume/xor", test_xor);
        g_test_add_func("/volume/xor-sources", test_xor_sources);
        g_test_add_func("/volume/xor-large", test_xor_large);
        g_test_add_func("/volume/io/raid5-n3", test_raid5_io_3);
        g_test_add_func("/volume/io/raid5-n4", test_raid5_io_4);
        g_test_add_func("/volume/io/raid5-n5", test_raid5_io_5);
        g_test_add_func("/volume/io/stripe", test_stripe_io);
        g_test_add_func("/volume/io/span-mirror", test_span_mirror_io);
        g_test_add_func("/volume/io/bad-geometry", test_bad_geometry);
        g_test_add_func("/volume/io/outside-public-region", test_outside_public_region);
        g_test_add_func("/volume/health/raid5", test_health);
        g_test_add_func("/volume/health/mirror", test_health_mirror);
        g_test_add_func("/volume/health/rejected-extent", test_health_rejected_extent);
        g_test_add_func("/volume/vds/strings", test_vds_strings);
        return g_test_run();
}
