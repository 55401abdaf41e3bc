/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* mutate-pack.c: hostile packs and labels. Disks of one pack whose database copies disagree
 * (contents, committed IDs, group identity, one copy unreadable), MBR and GPT labels with
 * broken fields behind valid CRCs, random "havoc" over all metadata with the checksums
 * repaired, and a bound on the memory all of it takes. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mutate-util.h"
#include "pack.h"
#include "unaligned.h"

static uint32_t rnd(MCtx *c, uint32_t n) {
        return n ? (uint32_t) g_rand_int_range(c->rand, 0, (gint32) n) : 0;
}

typedef struct PackSet {
        const char *names[10];
} PackSet;

static const PackSet sets[] = {
        { { "ldm-2003r2-mirrored-1.img", "ldm-2003r2-mirrored-2.img" } },
        { { "ldm-2008r2-raid5-1.img", "ldm-2008r2-raid5-2.img", "ldm-2008r2-raid5-3.img" } },
        { { "ldm-2003r2-striped-1.img", "ldm-2003r2-striped-2.img", "ldm-2003r2-raid5-1.img",
            "ldm-2003r2-raid5-2.img", "ldm-2003r2-raid5-3.img" } },
        { { "ldm-2008r2-mirrored-1.img", "ldm-2008r2-mirrored-2.img", "ldm-2008r2-spanned-1.img",
            "ldm-2008r2-spanned-2.img", "ldm-2008r2-striped-1.img", "ldm-2008r2-striped-2.img" } },
};

static size_t set_images(MCtx *c, const PackSet *ps, MImage **ret) {
        size_t n = 0;
        for (; n < ELEMENTSOF(ps->names) && ps->names[n]; n++)
                ret[n] = m_image(c, ps->names[n]);
        return n;
}

static const LdmDisk *disk_of(const MResult *r, const MImage *img) {
        for (size_t i = 0; i < r->scan->n_packs; i++) {
                const LdmDisk *d = ldm_pack_find_disk_by_guid(r->scan->packs[i], &img->dev->privhead.disk_guid);
                if (d)
                        return d;
        }
        return NULL;
}

/* One used slot's payload byte of a Volume record (its hint letter): a harmless change. */
static uint64_t hint_byte(const MImage *img) {
        const LdmRecord *v = m_record_by_type(img, LDM_RECORD_VOLUME, 0);
        g_assert_nonnull(v);
        g_assert_cmpuint(v->n_fragments, ==, 1);
        return m_slot(img, v->slots[0]) + 16 + v->raw_size - 2;
}

static void test_disagree(void) {
        MCtx *c = m_ctx();
        unsigned n0 = c->n_mutations;

        for (size_t si = 0; si < ELEMENTSOF(sets); si++) {
                MImage *imgs[10];
                size_t n = set_images(c, &sets[si], imgs);

                for (size_t k = 0; k < n; k++) {
                        MImage *img = imgs[k];
                        uint64_t vo = m_config(img);
                        uint64_t committed = m_db(img)->vmdb.committed_seq;
                        MResult *r;

                        m_begin(c, "set %zu: %s's config differs, same committed ID", si, img->name);
                        m_write_u8(c, img, hint_byte(img), 'Z');
                        r = m_probe(c, imgs, n);
                        m_expect(c, r, "VMDB", NULL, 0, 0, "config region differs");
                        g_assert_cmpuint(r->scan->n_packs, ==, 1);
                        m_result_free(r);

                        m_begin(c, "set %zu: %s committed a transaction the others missed", si, img->name);
                        m_write_be64(c, img, vo + 0x75, committed + 1);
                        m_write_be64(c, img, vo + 0x7D, committed + 1);
                        r = m_probe(c, imgs, n);
                        for (size_t o = 0; o < n; o++) {
                                const LdmDisk *d = disk_of(r, imgs[o]);
                                if (!d || d->db_stale != (o != k) || (o != k && d->health != VDS_H_STALE))
                                        m_fail(c, r, "%s: stale %d, expected %d", imgs[o]->name, d ? d->db_stale : -1, o != k);
                        }
                        m_result_free(r);

                        m_begin(c, "set %zu: %s missed the last transaction", si, img->name);
                        m_write_be64(c, img, vo + 0x75, committed - 1);
                        m_write_be64(c, img, vo + 0x7D, committed - 1);
                        r = m_probe(c, imgs, n);
                        if (!disk_of(r, img) || !disk_of(r, img)->db_stale)
                                m_fail(c, r, "%s not stale", img->name);
                        m_result_free(r);

                        m_begin(c, "set %zu: %s's VMDB unreadable", si, img->name);
                        m_write_u8(c, img, vo, 'X');
                        r = m_probe(c, imgs, n);
                        m_expect(c, r, "VMDB", img, vo, vo + 1, "magic");
                        if (!disk_of(r, img) || disk_of(r, img)->status != VDS_DS_FAILED)
                                m_fail(c, r, "%s with an unreadable database is not FAILED", img->name);
                        m_result_free(r);

                        m_begin(c, "set %zu: %s's PRIVHEADs name another disk group", si, img->name);
                        for (LdmPrivheadCopy p = 0; p < _LDM_PRIVHEAD_COPY_MAX; p++)
                                if (img->dev->privhead_state[p] == 0) {
                                        m_write_u8(c, img, m_privhead_copy(img, p) + 0xB0, 'f');
                                        m_fix_checksum(c, img, m_privhead_copy(img, p));
                                }
                        r = m_probe(c, imgs, n);
                        g_assert_cmpuint(r->scan->n_packs, ==, 2);
                        m_expect(c, r, "VMDB", img, vo + 0x16, vo + 0x17, "differs from the PRIVHEAD");
                        m_result_free(r);

                        m_begin(c, "set %zu: every copy forgets %s's Disk record GUID", si, img->name);
                        for (size_t o = 0; o < n; o++) {
                                const LdmDatabase *db = m_db(imgs[o]);
                                for (size_t j = 0; j < db->n_records; j++)
                                        if (db->records[j].type == LDM_RECORD_DISK &&
                                            guid_equal(&db->records[j].disk.guid, &img->dev->privhead.disk_guid)) {
                                                LdmRecord e = db->records[j];
                                                e.disk.guid.bytes[3] ^= 1;
                                                e.dirty = true;
                                                g_assert_true(m_write_record(c, imgs[o], &e));
                                        }
                        }
                        r = m_probe(c, imgs, n);
                        m_expect(c, r, "PRIVHEAD", img, 0, 0, "not among the Disk records");
                        m_result_free(r);
                }
                /* Copies damaged in different places at once. */
                for (unsigned it = 0; it < 60; it++) {
                        m_begin(c, "set %zu: random damage %u in every copy", si, it);
                        for (size_t k = 0; k < n; k++) {
                                const LdmDatabase *db = m_db(imgs[k]);
                                const LdmRecord *rec = &db->records[rnd(c, (uint32_t) db->n_records)];
                                uint64_t at = m_slot(imgs[k], rec->slots[0]) + rnd(c, 128);
                                m_flip_bit(c, imgs[k], at, rnd(c, 8));
                                if (rnd(c, 4) == 0)
                                        m_write_be64(c, imgs[k], m_config(imgs[k]) + 0x75, db->vmdb.committed_seq + rnd(c, 3) - 1);
                        }
                        m_result_free(m_probe(c, imgs, n));
                }
        }
        m_report(c, "disagree");
        g_test_message("disagree: %u mutations", c->n_mutations - n0);
}

/* ---- labels ---- */

static void label_mbr(MCtx *c, MImage *img) {
        MResult *r;

        m_begin(c, "%s: MBR entry 0 type 0x07", img->name);
        m_write_u8(c, img, 0x1BE + 4, 0x07);
        r = m_probe1(c, img);
        if (m_device(r, img))
                m_fail(c, r, "a disk without a 0x42 entry probed as LDM");
        m_result_free(r);

        m_begin(c, "%s: 0x42 entry moved to slot 3", img->name);
        m_write_u8(c, img, 0x1BE + 4, 0x07);
        m_write_u8(c, img, 0x1BE + 48 + 4, 0x42);
        r = m_probe1(c, img);
        m_expect(c, r, "rule L1", img, 0x1C2, 0x1C3, NULL);
        m_result_free(r);

        m_begin(c, "%s: no 0x55AA", img->name);
        m_write_u8(c, img, 510, 0);
        r = m_probe1(c, img);
        if (m_device(r, img))
                m_fail(c, r, "a disk without a boot signature probed as LDM");
        m_result_free(r);

        m_begin(c, "%s: entry 0 type 0xEE, no GPT (and no 0x42)", img->name);
        m_write_u8(c, img, 0x1BE + 4, 0xEE);
        r = m_probe1(c, img);
        m_expect(c, r, "GPT", img, 512, 513, "bad too");
        m_result_free(r);
}

static const struct {
        const char *what;
        uint8_t at, width;
        uint64_t value;
        uint8_t diag;           /* expected GPT diagnosis at header + diag */
        bool entries;           /* entries CRC recomputed too */
} gpt_fields[] = {
        { "header size 91", 12, 4, 91, 12, false },
        { "header size 513", 12, 4, 513, 12, false },
        { "header size 0xFFFFFFFF", 12, 4, 0xFFFFFFFF, 12, false },
        { "my LBA 5", 24, 8, 5, 24, false },
        { "0 entries", 80, 4, 0, 80, false },
        { "1025 entries", 80, 4, 1025, 80, false },
        { "0xFFFFFFFF entries", 80, 4, 0xFFFFFFFF, 80, false },
        { "entry size 0", 84, 4, 0, 80, false },
        { "entry size 127", 84, 4, 127, 80, false },
        { "entry size 1032", 84, 4, 1032, 80, false },
        { "entry size 0xFFFFFFF8", 84, 4, 0xFFFFFFF8, 80, false },
        { "entry array LBA UINT64_MAX", 72, 8, UINT64_MAX, 72, false },
        { "entry array at the last LBA", 72, 8, 102399, 72, false },
        { "entries CRC wrong", 88, 4, 0, 0, false },
};

static void label_gpt(MCtx *c, MImage *img) {
        uint64_t arr = 2 * 512, last = img->size / 512 - 1;
        MResult *r;

        for (size_t f = 0; f < ELEMENTSOF(gpt_fields); f++) {
                m_begin(c, "%s: primary GPT %s, CRC fixed", img->name, gpt_fields[f].what);
                {
                        uint8_t v[8]; /* little-endian: the low bytes are the 4-byte field */
                        unaligned_write_le64(v, gpt_fields[f].value);
                        m_write(c, img, 512 + gpt_fields[f].at, v, gpt_fields[f].width);
                }
                m_fix_gpt(c, img, 1, gpt_fields[f].entries);
                r = m_probe1(c, img);
                /* The backup takes over; the primary's fault is reported. */
                if (gpt_fields[f].diag)
                        m_expect(c, r, "GPT", img, 512 + gpt_fields[f].diag, 512 + gpt_fields[f].diag + 1, NULL);
                else
                        m_expect(c, r, "GPT", img, 0, 0, "CRC");
                if (!m_device(r, img) || !m_device(r, img)->db)
                        m_fail(c, r, "the backup GPT did not take over");
                m_result_free(r);

                m_begin(c, "%s: both GPT headers %s, CRC fixed", img->name, gpt_fields[f].what);
                for (int b = 0; b < 2; b++) {
                        uint64_t h = b ? last * 512 : 512;
                        uint8_t v[8];
                        unaligned_write_le64(v, gpt_fields[f].value);
                        m_write(c, img, h + gpt_fields[f].at, v, gpt_fields[f].width);
                        m_fix_gpt(c, img, b ? last : 1, false);
                }
                r = m_probe1(c, img);
                if (m_device(r, img))
                        m_fail(c, r, "a disk with two bad GPT headers probed");
                /* Named at the primary's fault, the backup's said too. */
                if (gpt_fields[f].diag)
                        m_expect(c, r, "GPT", img, 512 + gpt_fields[f].diag, 512 + gpt_fields[f].diag + 1, "bad too");
                else
                        m_expect(c, r, "GPT", img, 0, 0, "bad too");
                m_result_free(r);
        }

        static const struct { const char *what; uint8_t at; uint64_t value; } entry_fields[] = {
                { "metadata partition ends beyond the disk", 40, UINT64_MAX },
                { "metadata partition last < first", 40, 1 },
                { "metadata partition starts one sector later", 32, 35 },
                { "metadata partition one sector long", 40, 34 },
        };
        for (size_t f = 0; f < ELEMENTSOF(entry_fields); f++) {
                uint8_t v[8];
                m_begin(c, "%s: GPT entry 0: %s, CRCs fixed", img->name, entry_fields[f].what);
                unaligned_write_le64(v, entry_fields[f].value);
                m_write(c, img, arr + entry_fields[f].at, v, 8);
                m_fix_gpt(c, img, 1, true);
                r = m_probe1(c, img);
                if (f < 2)
                        m_expect(c, r, "GPT", img, arr + 32, arr + 33, "outside the disk");
                m_result_free(r);
        }
        m_begin(c, "%s: GPT entry 0 is not LDM metadata, CRCs fixed", img->name);
        m_write(c, img, arr, (uint8_t[16]) { 1 }, 16);
        m_fix_gpt(c, img, 1, true);
        r = m_probe1(c, img);
        if (m_device(r, img))
                m_fail(c, r, "a GPT disk without an LDM metadata partition probed as LDM");
        m_result_free(r);

        for (unsigned k = 0; k < 24; k++) {
                uint32_t at = k < 12 ? 512 + 8 + rnd(c, 84) : (uint32_t) arr + rnd(c, 3 * 128);
                m_begin(c, "%s: GPT bit flip at 0x%x, CRCs fixed", img->name, at);
                m_flip_bit(c, img, at, rnd(c, 8));
                m_fix_gpt(c, img, 1, true);
                m_result_free(m_probe1(c, img));
        }
}

static void test_label(void) {
        MCtx *c = m_ctx();
        unsigned n0 = c->n_mutations;

        for (size_t i = 0; i < c->n_img; i++) {
                MImage *img = &c->img[i];

                if (m_is_gpt(img))
                        label_gpt(c, img);
                else
                        label_mbr(c, img);
                for (unsigned k = 0; k < 16; k++) {
                        uint32_t at = 0x1B0 + rnd(c, 0x50);
                        m_begin(c, "%s: sector 0 bit flip at 0x%x", img->name, at);
                        m_flip_bit(c, img, at, rnd(c, 8));
                        m_result_free(m_probe1(c, img));
                }
        }
        m_report(c, "label");
        g_test_message("label: %u mutations", c->n_mutations - n0);
}

/* ---- havoc: random bytes anywhere in the metadata, checksums repaired ---- */

static uint64_t random_structure(MCtx *c, MImage *img, size_t *ret_len) {
        const LdmDatabase *db = m_db(img);

        switch (rnd(c, 7)) {
        case 0:  *ret_len = 512; return m_privhead_copy(img, rnd(c, 2));
        case 1:  *ret_len = 512; return m_toc_copy(img, rnd(c, _LDM_TOC_SLOT_MAX));
        case 2:  *ret_len = 512; return m_config(img);
        case 3:  *ret_len = 512; return m_rel(img, 1498 + rnd(c, 2));       /* KLOG */
        case 4:  *ret_len = 128; return m_slot(img, 4 + rnd(c, 60));
        case 5:  *ret_len = 128; return m_slot(img, db->records[rnd(c, (uint32_t) db->n_records)].slots[0]);
        default: *ret_len = 128; return m_slot(img, 4 + rnd(c, db->vmdb.n_slots - 4));
        }
}

static void fix_all(MCtx *c, MImage *img) {
        for (LdmPrivheadCopy p = 0; p < _LDM_PRIVHEAD_COPY_MAX; p++)
                if (img->dev->privhead_state[p] == 0)
                        m_fix_checksum(c, img, m_privhead_copy(img, p));
        for (LdmTocSlot t = 0; t < _LDM_TOC_SLOT_MAX; t++)
                if (img->dev->toc_state[t] == 0)
                        m_fix_checksum(c, img, m_toc_copy(img, t));
}

static void havoc(MCtx *c, unsigned count) {
        for (unsigned it = 0; it < count; it++) {
                MImage *img = &c->img[rnd(c, (uint32_t) c->n_img)];
                unsigned n_patches = 1 + rnd(c, 8);

                m_begin(c, "%s: havoc %u (%u patches)", img->name, it, n_patches);
                for (unsigned p = 0; p < n_patches; p++) {
                        size_t len, n = 1 + rnd(c, 16);
                        uint64_t base = random_structure(c, img, &len);
                        uint8_t bytes[16];
                        for (size_t b = 0; b < n; b++)
                                bytes[b] = rnd(c, 3) == 0 ? 0xFF : (uint8_t) rnd(c, 256);
                        n = MIN(n, len);
                        m_write(c, img, base + rnd(c, (uint32_t) (len - n + 1)), bytes, n);
                }
                if (rnd(c, 2))
                        fix_all(c, img);
                m_result_free(m_probe1(c, img));
        }
}

static long rss_kib(void) {
        long pages = 0, rss = 0;
        FILE *f = fopen("/proc/self/statm", "re");
        g_assert_nonnull(f);
        g_assert_cmpint(fscanf(f, "%ld %ld", &pages, &rss), ==, 2);
        fclose(f);
        return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_havoc(void) {
        MCtx *c = m_ctx();
        unsigned n0 = c->n_mutations;
        long before, after;

        havoc(c, 1000);
        /* Memory stays bounded: another round of the same kind of input does not make the
         * resident set grow (a leak or an allocation driven by hostile counts would). */
        before = rss_kib();
        havoc(c, 1000);
        after = rss_kib();
        g_test_message("havoc: RSS %ld KiB before the second round, %ld KiB after", before, after);
#if defined(__SANITIZE_ADDRESS__)
        /* ASan's quarantine grows by design; LeakSanitizer checks leaks at exit instead. */
#else
        g_assert_cmpint(after - before, <, 16 * 1024);
        g_assert_cmpint(after, <, 512 * 1024);
#endif
        m_report(c, "havoc");
        g_test_message("havoc: %u mutations", c->n_mutations - n0);
}

void m_register_pack(void) {
        g_test_add_func("/mutate/disagree", test_disagree);
        g_test_add_func("/mutate/label", test_label);
        g_test_add_func("/mutate/havoc", test_havoc);
}
