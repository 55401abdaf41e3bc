/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-mutations: the reader survives hostile input. Thousands of deterministic mutations of
 * the 19 real Windows images (truncations, bit flips in every structure, huge counts and
 * sizes, dangling and looping references, duplicate IDs, fragments out of order, duplicated or
 * missing, copies of a pack that disagree) go through ldm_scan_paths(), ldm_validate_strict()
 * and the volume mapper. The harness (mutate-util.c) checks for every one of them: no failure,
 * a diagnosis with structure, message and an in-device offset for everything rejected, < 1 s;
 * each category below also asserts the specific diagnosis it provokes. */

#include <inttypes.h>
#include <string.h>

#include "mutate-util.h"
#include "test-util.h"
#include "unaligned.h"

static uint32_t rnd(MCtx *c, uint32_t n) {
        return n ? (uint32_t) g_rand_int_range(c->rand, 0, (gint32) n) : 0;
}

/* The pristine images scan clean: the two packs, nothing invalid. */
static void test_pristine(void) {
        MCtx *c = m_ctx();
        MImage *all[M_MAX_IMAGES];

        for (size_t i = 0; i < c->n_img; i++)
                all[i] = &c->img[i];
        m_begin(c, "none (all 19 pristine images)");
        MResult *r = m_probe(c, all, c->n_img);
        g_assert_cmpuint(r->scan->n_packs, ==, 2);
        g_assert_cmpuint(r->scan->n_invalid, ==, 0);
        m_result_free(r);
        c->n_mutations--; /* not a mutation */
        c->max_usec = c->total_usec = 0;
}

/* ---- truncation ---- */

static void test_truncate(void) {
        static const uint64_t rel[] = { 0, 1, 2, 3, 16, 17, 18, 19, 100, 744, 1000, 1496, 1497, 1498,
                                        1499, 1500, 1721, 1722, 1855, 1856, 1857, 2044, 2045,
                                        2046, 2047 };
        static const uint64_t within[] = { 0, 1, 256, 511 };
        static const uint64_t small[] = { 0, 1, 511, 512, 513, 1024, 3071, 3072, 3584, 17408, 17920 };
        MCtx *c = m_ctx();
        unsigned n0 = c->n_mutations;

        for (size_t i = 0; i < c->n_img; i++) {
                MImage *img = &c->img[i];

                for (size_t k = 0; k < ELEMENTSOF(rel); k++)
                        for (size_t w = 0; w < ELEMENTSOF(within); w++) {
                                uint64_t cut = m_rel(img, rel[k]) + within[w];

                                m_begin(c, "%s truncated at rel %" PRIu64 " + %" PRIu64 " bytes",
                                        img->name, rel[k], within[w]);
                                m_truncate(c, img, cut);
                                MResult *r = m_probe1(c, img);
                                LdmDevice *d = m_device(r, img);

                                /* A private region cut short loses the database: at least the
                                 * config region or the VMDB is gone, and that is diagnosed. */
                                if (rel[k] < 1498 && d) {
                                        if (d->db)
                                                m_fail(c, r, "database parsed from a cut config region");
                                        if (rel[k] >= 17 && d->privhead_state[d->privhead_used] == 0 &&
                                            !m_find(r, "TOCBLOCK", img, m_rel(img, 0), m_rel(img, 2047), "leaves the device") &&
                                            !m_find(r, "VMDB", img, 0, 0, NULL))
                                                m_fail(c, r, "no diagnosis names the cut config region");
                                }
                                m_result_free(r);
                        }
                for (size_t k = 0; k < ELEMENTSOF(small); k++) {
                        m_begin(c, "%s truncated to %" PRIu64 " bytes", img->name, small[k]);
                        m_truncate(c, img, small[k]);
                        MResult *r = m_probe1(c, img);
                        if (small[k] < 4096 && m_device(r, img) && m_device(r, img)->db)
                                m_fail(c, r, "a database from a %" PRIu64 "-byte disk", small[k]);
                        m_result_free(r);
                }
                /* A GPT disk cut in its public region or backup GPT still has its private
                 * region; a random cut anywhere must not matter either. */
                for (size_t k = 0; k < 6; k++) {
                        uint64_t cut = k < 3 ? img->size - 33 * 512 + (k - 1) * 300 : rnd(c, (uint32_t) img->size);
                        m_begin(c, "%s truncated to %" PRIu64 " bytes", img->name, cut);
                        m_truncate(c, img, cut);
                        m_result_free(m_probe1(c, img));
                }
        }
        g_test_message("truncate: %u mutations", c->n_mutations - n0);
        m_report(c, "truncate");
}

/* ---- PRIVHEAD ---- */

typedef struct FieldMutation {
        const char *what;
        uint16_t offset;       /* in the structure */
        uint8_t width;         /* 1, 2, 4, 8 bytes big-endian; 0: bytes of `text` */
        uint64_t value;
        const char *text;
        int16_t diag;          /* expected diagnosis at structure + diag; -1: none asserted */
} FieldMutation;

static void apply_field(MCtx *c, MImage *img, uint64_t base, const FieldMutation *f, uint64_t value) {
        switch (f->width) {
        case 0: m_write(c, img, base + f->offset, f->text, strlen(f->text)); break;
        case 1: m_write_u8(c, img, base + f->offset, (uint8_t) value); break;
        case 2: m_write_be16(c, img, base + f->offset, (uint16_t) value); break;
        case 4: m_write_be32(c, img, base + f->offset, (uint32_t) value); break;
        default: m_write_be64(c, img, base + f->offset, value); break;
        }
}

#define DISK_SECTORS UINT64_C(0xFFFFFFFFFFFF0001) /* stands for "the disk's sector count + 5" */

static const FieldMutation privhead_fields[] = {
        { "version major 3", 0x0C, 2, 3, NULL, 0x0C },
        { "version minor 13", 0x0E, 2, 13, NULL, 0x0C },
        { "disk GUID not hex", 0x30, 0, 0, "x", 0x30 },
        { "disk GUID unterminated", 0x30 + 36, 0, 0, "abc", 0x30 },
        { "group GUID not hex", 0xB0, 0, 0, "g", 0xB0 },
        { "bytes per sector 0", 0x10F, 4, 0, NULL, 0x10F },
        { "bytes per sector 0xFFFFFFFF", 0x10F, 4, 0xFFFFFFFF, NULL, 0x10F },
        { "pub_start UINT64_MAX", 0x11B, 8, UINT64_MAX, NULL, 0x11B },
        { "pub_start beyond the disk", 0x11B, 8, DISK_SECTORS, NULL, -1 },
        { "pub_size 0", 0x123, 8, 0, NULL, 0x11B },
        { "pub_size UINT64_MAX", 0x123, 8, UINT64_MAX, NULL, 0x11B },
        { "priv_start UINT64_MAX", 0x12B, 8, UINT64_MAX, NULL, 0 },
        { "priv_start beyond the disk", 0x12B, 8, DISK_SECTORS, NULL, -1 },
        { "priv_start 0", 0x12B, 8, 0, NULL, -1 },
        { "priv_size 0", 0x133, 8, 0, NULL, 0 },
        { "priv_size UINT64_MAX", 0x133, 8, UINT64_MAX, NULL, 0 },
        { "priv_size 1", 0x133, 8, 1, NULL, 0x13B },
        { "TOC LBA 1 = 2048", 0x13B, 8, 2048, NULL, 0x13B },
        { "TOC LBA 2 UINT64_MAX", 0x143, 8, UINT64_MAX, NULL, 0x143 },
        { "TOC LBAs unused sector 3", 0x13B, 8, 3, NULL, -1 },
        { "config size UINT64_MAX", 0x153, 8, UINT64_MAX, NULL, 0x153 },
        { "log size 2048", 0x15B, 8, 2048, NULL, 0x153 },
        { "config size 0", 0x153, 8, 0, NULL, -1 },
        { "n_configs 0xFFFFFFFF", 0x14B, 4, 0xFFFFFFFF, NULL, -1 },
        { "n_logs 0", 0x14F, 4, 0, NULL, -1 },
        { "group name all 0xFF", 0xF0, 0, 0, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", -1 },
};

static uint64_t field_value(const MImage *img, const FieldMutation *f) {
        return f->value == DISK_SECTORS ? img->size / 512 + 5 : f->value;
}

static void privhead_copies(const MImage *img, LdmPrivheadCopy *ret, size_t *n) {
        *n = 0;
        for (LdmPrivheadCopy k = 0; k < _LDM_PRIVHEAD_COPY_MAX; k++)
                if (img->dev->privhead_state[k] == 0)
                        ret[(*n)++] = k;
}

static void test_privhead(void) {
        MCtx *c = m_ctx();
        unsigned n0 = c->n_mutations;

        for (size_t i = 0; i < c->n_img; i++) {
                MImage *img = &c->img[i];
                LdmPrivheadCopy copies[_LDM_PRIVHEAD_COPY_MAX];
                size_t n_copies;

                privhead_copies(img, copies, &n_copies);
                g_assert_cmpuint(n_copies, ==, m_is_gpt(img) ? 2 : 3);
                for (size_t k = 0; k < n_copies; k++) {
                        uint64_t off = m_privhead_copy(img, copies[k]);

                        /* Any single bit flip: the magic or the checksum says so. */
                        for (unsigned f = 0; f < 16; f++) {
                                uint32_t at = rnd(c, 512);
                                m_begin(c, "%s PRIVHEAD copy %d: bit flip at +0x%x", img->name, copies[k], at);
                                m_flip_bit(c, img, off + at, rnd(c, 8));
                                MResult *r = m_probe1(c, img);
                                m_expect(c, r, "PRIVHEAD", img, off, off + 12, NULL);
                                m_result_free(r);
                        }
                        /* Bit flips behind a valid checksum reach the field checks. */
                        for (unsigned f = 0; f < 16; f++) {
                                uint32_t at = 12 + rnd(c, 500);
                                m_begin(c, "%s PRIVHEAD copy %d: bit flip at +0x%x, checksum fixed", img->name, copies[k], at);
                                m_flip_bit(c, img, off + at, rnd(c, 8));
                                m_fix_checksum(c, img, off);
                                m_result_free(m_probe1(c, img));
                        }
                        for (size_t f = 0; f < ELEMENTSOF(privhead_fields); f++) {
                                const FieldMutation *fm = &privhead_fields[f];
                                m_begin(c, "%s PRIVHEAD copy %d: %s, checksum fixed", img->name, copies[k], fm->what);
                                apply_field(c, img, off, fm, field_value(img, fm));
                                m_fix_checksum(c, img, off);
                                MResult *r = m_probe1(c, img);
                                if (fm->diag >= 0)
                                        m_expect(c, r, "PRIVHEAD", img, off + fm->diag, off + fm->diag + 1, NULL);
                                m_result_free(r);
                        }
                }
                /* The same field broken in every copy: nothing to fall back to. */
                for (size_t f = 0; f < ELEMENTSOF(privhead_fields); f++) {
                        const FieldMutation *fm = &privhead_fields[f];
                        m_begin(c, "%s every PRIVHEAD copy: %s, checksums fixed", img->name, fm->what);
                        for (size_t k = 0; k < n_copies; k++) {
                                uint64_t off = m_privhead_copy(img, copies[k]);
                                apply_field(c, img, off, fm, field_value(img, fm));
                                m_fix_checksum(c, img, off);
                        }
                        MResult *r = m_probe1(c, img);
                        LdmDevice *d = m_device(r, img);
                        if (fm->diag >= 0 && d && d->db)
                                m_fail(c, r, "a database although every PRIVHEAD copy is invalid");
                        m_result_free(r);
                }
        }
        m_report(c, "privhead");
        g_test_message("privhead: %u mutations", c->n_mutations - n0);
}

/* ---- TOCBLOCK ---- */

static const FieldMutation toc_fields[] = {
        { "config name \"xonfig\"", 0x24, 0, 0, "x", 0x24 },
        { "log name \"log\" without terminator", 0x46 + 3, 0, 0, "gg", 0x46 },
        { "config start UINT64_MAX", 0x2E, 8, UINT64_MAX, NULL, 0x2E },
        { "config size 0", 0x36, 8, 0, NULL, 0x2E },
        { "config size 0xFFFFFFFF", 0x36, 8, 0xFFFFFFFF, NULL, 0x2E },
        { "config start 2047", 0x2E, 8, 2047, NULL, 0x2E },
        { "log start UINT64_MAX - 1", 0x50, 8, UINT64_MAX - 1, NULL, 0x50 },
        { "log size UINT64_MAX", 0x58, 8, UINT64_MAX, NULL, 0x50 },
        { "config size 1480 (≠ PRIVHEAD)", 0x36, 8, 1480, NULL, 0 },
        { "config start 3", 0x2E, 8, 3, NULL, -1 },
        { "config start 18", 0x2E, 8, 18, NULL, -1 },
        { "log start 17 (overlaps config)", 0x50, 8, 17, NULL, -1 },
        { "update sequence UINT64_MAX", 0x0C, 8, UINT64_MAX, NULL, -1 },
        { "flags 0xFFFF", 0x2C, 2, 0xFFFF, NULL, -1 },
};

static void test_tocblock(void) {
        MCtx *c = m_ctx();
        unsigned n0 = c->n_mutations;

        for (size_t i = 0; i < c->n_img; i++) {
                MImage *img = &c->img[i];
                LdmTocSlot valid[_LDM_TOC_SLOT_MAX];
                size_t n_valid = 0;

                for (LdmTocSlot k = 0; k < _LDM_TOC_SLOT_MAX; k++)
                        if (img->dev->toc_state[k] == 0)
                                valid[n_valid++] = k;
                g_assert_cmpuint(n_valid, >=, 2);
                for (size_t k = 0; k < n_valid; k++) {
                        uint64_t off = m_toc_copy(img, valid[k]);

                        for (unsigned f = 0; f < 16; f++) {
                                uint32_t at = rnd(c, 512);
                                m_begin(c, "%s TOCBLOCK slot %d: bit flip at +0x%x", img->name, valid[k], at);
                                m_flip_bit(c, img, off + at, rnd(c, 8));
                                MResult *r = m_probe1(c, img);
                                m_expect(c, r, "TOCBLOCK", img, off, off + 12, NULL);
                                m_result_free(r);
                        }
                        for (unsigned f = 0; f < 16; f++) {
                                uint32_t at = 12 + rnd(c, 0x80);
                                m_begin(c, "%s TOCBLOCK slot %d: bit flip at +0x%x, checksum fixed", img->name, valid[k], at);
                                m_flip_bit(c, img, off + at, rnd(c, 8));
                                m_fix_checksum(c, img, off);
                                m_result_free(m_probe1(c, img));
                        }
                        for (size_t f = 0; f < ELEMENTSOF(toc_fields); f++) {
                                const FieldMutation *fm = &toc_fields[f];
                                m_begin(c, "%s TOCBLOCK slot %d: %s, checksum fixed", img->name, valid[k], fm->what);
                                apply_field(c, img, off, fm, fm->value);
                                m_fix_checksum(c, img, off);
                                MResult *r = m_probe1(c, img);
                                if (fm->diag >= 0)
                                        m_expect(c, r, "TOCBLOCK", img, off + fm->diag, off + fm->diag + 1, NULL);
                                m_result_free(r);
                        }
                }
                for (size_t f = 0; f < ELEMENTSOF(toc_fields); f++) {
                        const FieldMutation *fm = &toc_fields[f];
                        m_begin(c, "%s every TOCBLOCK: %s, checksums fixed", img->name, fm->what);
                        for (size_t k = 0; k < n_valid; k++) {
                                uint64_t off = m_toc_copy(img, valid[k]);
                                apply_field(c, img, off, fm, fm->value);
                                m_fix_checksum(c, img, off);
                        }
                        MResult *r = m_probe1(c, img);
                        LdmDevice *d = m_device(r, img);
                        if (fm->diag >= 0 && d && d->db)
                                m_fail(c, r, "a database although every TOCBLOCK is invalid");
                        /* The config region moved onto zeros or off the VMDB by one sector. */
                        if (fm->offset == 0x2E && (fm->value == 3 || fm->value == 18))
                                m_expect(c, r, "VMDB", img, m_rel(img, fm->value), m_rel(img, fm->value) + 1, "magic");
                        m_result_free(r);
                }
        }
        m_report(c, "tocblock");
        g_test_message("tocblock: %u mutations", c->n_mutations - n0);
}

/* ---- VMDB ---- */

static const FieldMutation vmdb_fields[] = {
        { "n_slots 0xFFFFFFFF", 0x04, 4, 0xFFFFFFFF, NULL, 0x04 },
        { "n_slots 0", 0x04, 4, 0, NULL, 0x04 },
        { "n_slots 3", 0x04, 4, 3, NULL, 0x04 },
        { "n_slots 5925", 0x04, 4, 5925, NULL, 0x04 },
        { "n_slots 4 (no VBLK slots)", 0x04, 4, 4, NULL, -1 },
        { "VBLK size 0", 0x08, 4, 0, NULL, 0x08 },
        { "VBLK size 1", 0x08, 4, 1, NULL, 0x08 },
        { "VBLK size 127", 0x08, 4, 127, NULL, 0x08 },
        { "VBLK size 129", 0x08, 4, 129, NULL, 0x08 },
        { "VBLK size 0xFFFFFFFF", 0x08, 4, 0xFFFFFFFF, NULL, 0x08 },
        { "header size 0", 0x0C, 4, 0, NULL, 0x0C },
        { "header size 511", 0x0C, 4, 511, NULL, 0x0C },
        { "header size 513", 0x0C, 4, 513, NULL, 0x0C },
        { "header size 0xFFFFFF80", 0x0C, 4, 0xFFFFFF80, NULL, 0x04 },
        { "header size 640 (skips slot 4)", 0x0C, 4, 640, NULL, -1 },
        { "status 0", 0x10, 2, 0, NULL, 0x10 },
        { "status 9", 0x10, 2, 9, NULL, 0x10 },
        { "status 0xFFFF", 0x10, 2, 0xFFFF, NULL, 0x10 },
        { "status 3 (commit)", 0x10, 2, 3, NULL, -1 },
        { "status 2 (change)", 0x10, 2, 2, NULL, -1 },
        { "version 4.11", 0x14, 2, 11, NULL, 0x12 },
        { "version 0xFFFF.10", 0x12, 2, 0xFFFF, NULL, 0x12 },
        { "group GUID not hex", 0x35, 0, 0, "z", 0x35 },
        { "volume count 0xFFFFFFFF", 0x85, 4, 0xFFFFFFFF, NULL, 0x85 },
        { "component count 0xFFFFFFFF", 0x89, 4, 0xFFFFFFFF, NULL, 0x89 },
        { "partition count 0", 0x8D, 4, 0, NULL, 0x8D },
        { "disk count 0xFFFFFFFF", 0x91, 4, 0xFFFFFFFF, NULL, 0x91 },
        { "disk-access count 0xFFFFFFFF", 0x95, 4, 0xFFFFFFFF, NULL, -1 },
        { "committed ID UINT64_MAX", 0x75, 8, UINT64_MAX, NULL, -1 },
        { "pending ID UINT64_MAX", 0x7D, 8, UINT64_MAX, NULL, -1 },
        { "group name 0xFF", 0x16, 0, 0, "\xff\xff\xff", -1 },
};

static void test_vmdb(void) {
        MCtx *c = m_ctx();
        unsigned n0 = c->n_mutations;

        for (size_t i = 0; i < c->n_img; i++) {
                MImage *img = &c->img[i];
                uint64_t vo = m_config(img);

                for (size_t f = 0; f < ELEMENTSOF(vmdb_fields); f++) {
                        const FieldMutation *fm = &vmdb_fields[f];
                        m_begin(c, "%s VMDB: %s", img->name, fm->what);
                        apply_field(c, img, vo, fm, fm->value);
                        MResult *r = m_probe1(c, img);
                        if (fm->diag >= 0)
                                m_expect(c, r, "VMDB", img, vo + fm->diag, vo + fm->diag + 1, NULL);
                        m_result_free(r);
                }
                /* In a commit, the pending counts are the ones that must match. */
                for (unsigned k = 0; k < 4; k++) {
                        m_begin(c, "%s VMDB: status commit, pending count %u = 0xFFFFFFFF", img->name, k);
                        m_write_be16(c, img, vo + 0x10, LDM_VMDB_COMMIT);
                        m_write_be32(c, img, vo + 0xA1 + 4 * k, 0xFFFFFFFF);
                        MResult *r = m_probe1(c, img);
                        m_expect(c, r, "VMDB", img, vo + 0xA1 + 4 * k, vo + 0xA1 + 4 * k + 1, "count");
                        m_result_free(r);
                }
                for (unsigned f = 0; f < 40; f++) {
                        uint32_t at = rnd(c, 512);
                        m_begin(c, "%s VMDB: bit flip at +0x%x", img->name, at);
                        m_flip_bit(c, img, vo + at, rnd(c, 8));
                        m_result_free(m_probe1(c, img));
                }
        }
        m_report(c, "vmdb");
        g_test_message("vmdb: %u mutations", c->n_mutations - n0);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/mutate/pristine", test_pristine);
        g_test_add_func("/mutate/truncate", test_truncate);
        g_test_add_func("/mutate/privhead", test_privhead);
        g_test_add_func("/mutate/tocblock", test_tocblock);
        g_test_add_func("/mutate/vmdb", test_vmdb);
        m_register_records();
        m_register_pack();
        int r = g_test_run();
        return m_ctx()->n_failures > 0 ? 1 : r;
}
