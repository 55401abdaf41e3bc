/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-structures: every fixed-size LDM structure and every VBLK record of the 19 real
 * Windows images parses, and encodes back to exactly the bytes it came from; hostile inputs
 * are rejected with -EBADMSG and a diag naming the structure and the offset. */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "klog.h"
#include "privhead.h"
#include "record.h"
#include "test-util.h"
#include "tocblock.h"
#include "unaligned.h"
#include "vmdb.h"

static const char *const images[] = {
        "ldm-2003r2-mirrored-1.img", "ldm-2003r2-mirrored-2.img", "ldm-2003r2-raid5-1.img",
        "ldm-2003r2-raid5-2.img",    "ldm-2003r2-raid5-3.img",    "ldm-2003r2-simple-1.img",
        "ldm-2003r2-spanned-1.img",  "ldm-2003r2-spanned-2.img",  "ldm-2003r2-striped-1.img",
        "ldm-2003r2-striped-2.img",  "ldm-2008r2-mirrored-1.img", "ldm-2008r2-mirrored-2.img",
        "ldm-2008r2-raid5-1.img",    "ldm-2008r2-raid5-2.img",    "ldm-2008r2-raid5-3.img",
        "ldm-2008r2-spanned-1.img",  "ldm-2008r2-spanned-2.img",  "ldm-2008r2-striped-1.img",
        "ldm-2008r2-striped-2.img",
};

static void read_at(int fd, void *buf, size_t len, uint64_t off) {
        g_assert_cmpint(pread(fd, buf, len, (off_t) off), ==, (ssize_t) len);
}

/* Private region start: from the LBA-6 copy on MBR disks, else the GPT metadata partition
 * (34 on every GPT sample; the label parser has its own test). */
static uint64_t priv_start_of(int fd, bool *ret_mbr) {
        uint8_t s[512];
        LdmPrivhead ph;

        read_at(fd, s, 512, 6 * 512);
        *ret_mbr = memcmp(s, "PRIVHEAD", 8) == 0;
        if (!*ret_mbr)
                return 34;
        g_assert_cmpint(ldm_privhead_parse(s, "lba6", 6 * 512, &ph, NULL), ==, 0);
        return ph.priv_start;
}

static void check_privhead(int fd, uint64_t off, LdmPrivhead *ret) {
        uint8_t s[512], out[512];
        LdmDiag err = {};

        read_at(fd, s, 512, off);
        g_assert_cmpint(ldm_privhead_parse(s, "img", off, ret, &err), ==, 0);
        ldm_privhead_encode(ret, out);
        g_assert_cmpmem(out, 512, s, 512);
}

static unsigned check_records(int fd, uint64_t config_off, const LdmVmdb *v) {
        size_t n = v->n_slots;
        g_autofree uint8_t *cfg = g_malloc((size_t) n * 128);
        unsigned checked = 0;

        read_at(fd, cfg, n * 128, config_off);
        for (size_t k = v->header_size / 128; k < n; k++) {
                const uint8_t *slot = cfg + k * 128;
                uint32_t group = unaligned_read_be32(slot + 8);
                uint16_t count = unaligned_read_be16(slot + 14);
                uint8_t buf[LDM_RECORD_MAX_SIZE] = {}, out[LDM_RECORD_MAX_SIZE];
                LdmRecord r;
                LdmDiag err = {};
                size_t got = 0;

                g_assert_cmpmem(slot, 4, "VBLK", 4);
                if (count == 0 || unaligned_read_be16(slot + 12) != 0)
                        continue;
                g_assert_cmpuint(count, <=, 4);
                /* Gather fragments 0…count−1 of this group from anywhere in the region. */
                for (uint16_t idx = 0; idx < count; idx++)
                        for (size_t j = v->header_size / 128; j < n; j++) {
                                const uint8_t *o = cfg + j * 128;
                                if (unaligned_read_be32(o + 8) == group &&
                                    unaligned_read_be16(o + 12) == idx &&
                                    unaligned_read_be16(o + 14) == count) {
                                        memcpy(buf + idx * 112, o + 16, 112);
                                        got++;
                                        break;
                                }
                        }
                g_assert_cmpuint(got, ==, count);
                if (ldm_record_parse(buf, count * 112u, "img", config_off + k * 128, &r, &err) < 0)
                        g_error("slot %zu: %s", k, err.message);
                int sz = ldm_record_encode(&r, out);
                g_assert_cmpint(sz, ==, (int) r.raw_size);
                g_assert_cmpmem(out, sz, buf, sz);
                /* What follows the record in its last fragment is zero padding. */
                for (size_t i = sz; i < count * 112u; i++)
                        g_assert_cmpuint(buf[i], ==, 0);
                checked++;
        }
        return checked;
}

static void test_real_structures(void) {
        const char *dir = test_real_images();
        unsigned total_records = 0;

        for (size_t i = 0; i < G_N_ELEMENTS(images); i++) {
                g_autofree char *path = g_build_filename(dir, images[i], NULL);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                LdmPrivhead ph;
                LdmVmdb v;
                uint8_t s[512], out[512];
                unsigned n_toc = 0;
                bool mbr;

                g_assert_cmpint(fd, >=, 0);
                uint64_t priv = priv_start_of(fd, &mbr);
                if (mbr)
                        check_privhead(fd, 6 * 512, &ph);
                check_privhead(fd, (priv + 1856) * 512, &ph);
                check_privhead(fd, (priv + 2047) * 512, &ph);
                g_assert_cmpuint(ph.priv_start, ==, priv);

                static const uint64_t toc_rel[] = { 1, 2, 2045, 2046 };
                for (size_t t = 0; t < G_N_ELEMENTS(toc_rel); t++) {
                        LdmTocblock toc;
                        uint64_t off = (priv + toc_rel[t]) * 512;

                        read_at(fd, s, 512, off);
                        if (s[0] == 0)
                                continue;
                        g_assert_cmpint(ldm_tocblock_parse(s, "img", off, &toc, NULL), ==, 0);
                        ldm_tocblock_encode(&toc, out);
                        g_assert_cmpmem(out, 512, s, 512);
                        g_assert_cmpuint(toc.regions[0].start, ==, 17);
                        g_assert_cmpuint(toc.regions[0].size, ==, 1481);
                        g_assert_cmpuint(toc.regions[1].start, ==, 1498);
                        g_assert_cmpuint(toc.regions[1].size, ==, 224);
                        n_toc++;
                }
                g_assert_cmpuint(n_toc, ==, mbr && strstr(images[i], "2003") ? 4 : 2);

                read_at(fd, s, 512, (priv + 17) * 512);
                g_assert_cmpint(ldm_vmdb_parse(s, "img", (priv + 17) * 512, &v, NULL), ==, 0);
                ldm_vmdb_encode(&v, out);
                g_assert_cmpmem(out, 512, s, 512);
                g_assert_cmpuint(v.status, ==, LDM_VMDB_CLEAN);
                g_assert_cmpuint(v.committed_seq, ==, strstr(images[i], "2003") ? 1133 : 39);
                g_assert_cmpuint(v.pending_seq, ==, v.committed_seq);

                for (unsigned p = 0; p < 2; p++) {
                        LdmKlogPage kp;
                        uint64_t off = (priv + 1498 + p) * 512;

                        read_at(fd, s, 512, off);
                        g_assert_cmpint(ldm_klog_parse(s, "img", off, &kp, NULL), ==, 0);
                        ldm_klog_encode(&kp, out);
                        g_assert_cmpmem(out, 512, s, 512);
                        g_assert_cmpuint(kp.index, ==, p);
                        g_assert_cmpuint(kp.n_entries, ==, p == 0 ? (strstr(images[i], "2003") ? 3 : 2) : 0);
                }

                unsigned n = check_records(fd, (priv + 17) * 512, &v);
                g_assert_cmpuint(n, ==, strstr(images[i], "2003") ? 36 : 33);
                total_records += n;
                close(fd);
        }
        g_assert_cmpuint(total_records, ==, 10 * 36 + 9 * 33);
}

/* W03 RAID-5 volume: volume flags 0x13 and the optional ID2 field (record flag 0x20). */
static void test_raid1_volume(void) {
        static const uint8_t rec[] = {
                0x00, 0x00, 0x22, 0x51, 0x00, 0x00, 0x00, 0x56, 0x02, 0x04, 0x51, 0x05, 'R', 'a',
                'i', 'd', '1', 0x05, 'r', 'a', 'i', 'd', '5', 0x00, 'A', 'C', 'T', 'I', 'V', 'E',
                0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x01, 0x09, 0x00, 0x00, 0x00, 0x13, 0x01, 0x01,
                0, 0, 0, 0, 0, 0, 0x04, 0x60, 0, 0, 0, 0, 0, 0, 0x04, 0x5e, 0x03, 0x02, 0xf0, 0x00,
                0, 0, 0, 0, 0x07, 0xf8, 0x52, 0x8b, 0x30, 0xcb, 0xe8, 0x4c, 0xe0, 0x91, 0x88, 0xe6,
                0x0e, 0x39, 0xaf, 0xcc, 0x72, 0x02, 0x04, 0x52, 0x02, 'I', ':',
        };
        uint8_t buf[112] = {}, out[LDM_RECORD_MAX_SIZE];
        LdmRecord r;

        memcpy(buf, rec, sizeof(rec));
        g_assert_cmpint(ldm_record_parse(buf, sizeof(buf), "t", 0, &r, NULL), ==, 0);
        g_assert_cmpuint(r.type, ==, LDM_RECORD_VOLUME);
        g_assert_cmpuint(r.id, ==, 1105);
        g_assert_cmpstr(r.name, ==, "Raid1");
        g_assert_cmpstr(r.volume.type_name, ==, "raid5");
        g_assert_cmpuint(r.volume.volume_flags, ==, 0x13);
        g_assert_cmpuint(r.volume.id2, ==, 1106);
        g_assert_cmpuint(r.volume.size, ==, 192512);
        g_assert_cmpstr(r.volume.hint, ==, "I:");
        g_assert_cmpint(ldm_record_encode(&r, out), ==, (int) sizeof(rec));
        g_assert_cmpmem(out, sizeof(rec), rec, sizeof(rec));
}

/* Every record type and revision encodes and parses back to the same fields, incl. rev-4
 * Disk/Disk Group records (no public sample) and 8-byte padded sizes. */
static void test_record_roundtrip_fields(void) {
        LdmRecord recs[5] = {};
        uint8_t out[LDM_RECORD_MAX_SIZE];

        recs[0] = (LdmRecord) { .type = LDM_RECORD_DISK, .revision = 4, .id = 70000, .name = "Disk3" };
        recs[0].disk.guid.bytes[0] = 0xab;
        recs[0].disk.diskset_guid.bytes[15] = 1;
        recs[0].disk.commit_id = 99;
        recs[1] = (LdmRecord) { .type = LDM_RECORD_DISK_GROUP, .revision = 4, .record_flags = 0x08, .id = 1, .name = "H-Dg0" };
        recs[1].disk_group.n_config_copies = 0xFFFFFFFF;
        recs[2] = (LdmRecord) { .type = LDM_RECORD_PARTITION, .revision = 3, .record_flags = 0x08 | 0x20 | 0x40 | 0x02, .id = 5, .name = "Disk1-01" };
        recs[2].partition.size = 0x123456789aULL;
        recs[2].partition.column_index = 2;
        recs[2].partition.unknown_txn = 7;
        recs[2].partition.hidden_count = 3;
        recs[3] = (LdmRecord) { .type = LDM_RECORD_COMPONENT, .revision = 3, .record_flags = 0x10, .id = 6, .name = "V-01" };
        strcpy(recs[3].component.state, "ACTIVE");
        recs[3].component.stripe_size = 128;
        recs[3].component.n_columns = 3;
        recs[4] = (LdmRecord) { .type = LDM_RECORD_VOLUME, .revision = 5, .record_flags = 0x02 | 0x08 | 0x80, .id = 7, .name = "Volume1" };
        strcpy(recs[4].volume.type_name, "gen");
        strcpy(recs[4].volume.state, "ACTIVE");
        strcpy(recs[4].volume.hint, "E:");
        recs[4].volume.volume_number = 5;
        recs[4].volume.size = 1ULL << 40;
        recs[4].volume.id1 = 9;
        recs[4].volume.size2 = 4096;

        for (size_t i = 0; i < G_N_ELEMENTS(recs); i++) {
                LdmRecord back;
                int n = ldm_record_encode(&recs[i], out);

                g_assert_cmpint(n, >, 8);
                g_assert_cmpint(ldm_record_parse(out, LDM_RECORD_MAX_SIZE, "t", 0, &back, NULL), ==, 0);
                g_assert_cmpuint(back.raw_size, ==, (size_t) n);
                g_assert_cmpuint(back.id, ==, recs[i].id);
                g_assert_cmpstr(back.name, ==, recs[i].name);
                g_assert_cmpmem(&back.volume, sizeof(back.volume), &recs[i].volume, sizeof(recs[i].volume));
        }
        /* 8-byte padded size: 0x123456789a → length 8 */
        g_assert_cmpint(ldm_record_encode(&recs[2], out), >, 0);
}

static void expect_bad_record(const uint8_t *rec, size_t len, uint64_t min_off, uint64_t max_off) {
        uint8_t buf[112] = {};
        LdmRecord r;
        LdmDiag err = {};

        memcpy(buf, rec, len);
        g_assert_cmpint(ldm_record_parse(buf, sizeof(buf), "hostile", 0x1000, &r, &err), ==, -EBADMSG);
        g_assert_cmpstr(err.structure, ==, "record");
        g_assert_cmpstr(err.disk, ==, "hostile");
        g_assert_cmpuint(err.offset, >=, 0x1000 + min_off);
        g_assert_cmpuint(err.offset, <=, 0x1000 + max_off);
        g_assert_cmpstr(err.message, !=, "");
}

static void test_hostile(void) {
        uint8_t s[512] = {}, out[512];
        LdmPrivhead ph;
        LdmTocblock toc;
        LdmVmdb v;
        LdmKlogPage kp;
        LdmDiag err = {};
        const char *dir = test_real_images();
        g_autofree char *path = g_build_filename(dir, "ldm-2008r2-spanned-1.img", NULL);
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        /* PRIVHEAD: bad magic, bad checksum, bad version, bad GUID text. */
        read_at(fd, s, 512, 6 * 512);
        g_assert_cmpint(ldm_privhead_parse(s, "d", 3072, &ph, &err), ==, 0);
        s[0] = 'X';
        g_assert_cmpint(ldm_privhead_parse(s, "d", 3072, &ph, &err), ==, -EBADMSG);
        g_assert_cmpstr(err.structure, ==, "PRIVHEAD");
        g_assert_cmpuint(err.offset, ==, 3072);
        s[0] = 'P';
        s[0x40] ^= 1;
        g_assert_cmpint(ldm_privhead_parse(s, "d", 3072, &ph, &err), ==, -EBADMSG);
        g_assert_cmpuint(err.offset, ==, 3072 + 8);
        g_assert_nonnull(strstr(err.message, "checksum"));
        s[0x40] ^= 1;
        s[0x30] = 'z';
        unaligned_write_be32(s + 8, ldm_header_checksum(s));
        g_assert_cmpint(ldm_privhead_parse(s, "d", 3072, &ph, &err), ==, -EBADMSG);
        g_assert_cmpuint(err.offset, ==, 3072 + 0x30);
        read_at(fd, s, 512, 6 * 512);
        unaligned_write_be64(s + 0x13B, 5000); /* TOC LBA outside the private region */
        unaligned_write_be32(s + 8, ldm_header_checksum(s));
        g_assert_cmpint(ldm_privhead_parse(s, "d", 3072, &ph, &err), ==, -EBADMSG);
        g_assert_cmpuint(err.offset, ==, 3072 + 0x13B);

        /* TOCBLOCK: region name and size. */
        read_at(fd, s, 512, (100352 + 2) * 512);
        g_assert_cmpint(ldm_tocblock_parse(s, "d", 0, &toc, NULL), ==, 0);
        memcpy(s + 0x24, "konfig", 6);
        unaligned_write_be32(s + 8, ldm_header_checksum(s));
        g_assert_cmpint(ldm_tocblock_parse(s, "d", 0, &toc, &err), ==, -EBADMSG);
        g_assert_cmpstr(err.structure, ==, "TOCBLOCK");
        g_assert_cmpuint(err.offset, ==, 0x24);
        memcpy(s + 0x24, "config", 6);
        unaligned_write_be64(s + 0x36, 4000);
        ldm_tocblock_encode(&toc, out);  /* encode restores a valid block */
        g_assert_cmpint(ldm_tocblock_parse(out, "d", 0, &toc, NULL), ==, 0);
        unaligned_write_be32(s + 8, ldm_header_checksum(s));
        g_assert_cmpint(ldm_tocblock_parse(s, "d", 0, &toc, &err), ==, -EBADMSG);

        /* VMDB: magic, version, VBLK size. */
        read_at(fd, s, 512, (100352 + 17) * 512);
        g_assert_cmpint(ldm_vmdb_parse(s, "d", 0, &v, NULL), ==, 0);
        unaligned_write_be16(s + 0x14, 11);
        g_assert_cmpint(ldm_vmdb_parse(s, "d", 0, &v, &err), ==, -EBADMSG);
        g_assert_cmpstr(err.structure, ==, "VMDB");
        g_assert_cmpuint(err.offset, ==, 0x12);
        unaligned_write_be16(s + 0x14, 10);
        unaligned_write_be32(s + 0x08, 0);
        g_assert_cmpint(ldm_vmdb_parse(s, "d", 0, &v, &err), ==, -EBADMSG);
        g_assert_cmpuint(err.offset, ==, 0x08);

        /* KLOG */
        memset(s, 0, 512);
        g_assert_cmpint(ldm_klog_parse(s, "d", 77, &kp, &err), ==, -EBADMSG);
        g_assert_cmpstr(err.structure, ==, "KLOG");
        close(fd);

        /* Records. A valid partition record first, then broken variants. */
        static const uint8_t part[] = {
                0, 0, 0x48, 0x33, 0, 0, 0, 0x31, 0x01, 0x1b, 0x08, 'D', 'i', 's', 'k', '8', '-',
                '0', '1', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0x5e, 0, 0,
                0, 0, 0, 0, 0, 0, 0x02, 0x80, 0x00, 0x01, 0x19, 0x01, 0x16, 0x01, 0x01, 0x00,
        };
        uint8_t b[sizeof(part)];
        LdmRecord r;
        uint8_t buf[112] = {};

        memcpy(buf, part, sizeof(part));
        g_assert_cmpint(ldm_record_parse(buf, 112, "t", 0, &r, NULL), ==, 0);
        g_assert_cmpuint(r.partition.column_index, ==, 1);
        g_assert_cmpuint(r.partition.size, ==, 32768);

        memcpy(b, part, sizeof(b));
        b[0x2f] = 9;                     /* size var int with 9 bytes */
        expect_bad_record(b, sizeof(b), 0x2f, 0x40);
        memcpy(b, part, sizeof(b));
        b[7] = 0x10;                     /* data length ends inside the fields */
        expect_bad_record(b, sizeof(b), 0, 0x20);
        memcpy(b, part, sizeof(b));
        b[7] = 200;                      /* data length beyond the fragment */
        expect_bad_record(b, sizeof(b), 4, 4);
        memcpy(b, part, sizeof(b));
        b[7] = 0;                        /* zero-length record */
        expect_bad_record(b, sizeof(b), 0, 8);
        memcpy(b, part, sizeof(b));
        b[8] = 0;                        /* object ID of length 0 = 0 */
        expect_bad_record(b, sizeof(b), 0, 16);
        memcpy(b, part, sizeof(b));
        b[10] = 0x60;                    /* name longer than the record */
        expect_bad_record(b, sizeof(b), 0, 0x38);
        memcpy(b, part, sizeof(b));
        b[3] = 0x63;                     /* unknown revision */
        expect_bad_record(b, sizeof(b), 3, 3);
        memcpy(b, part, sizeof(b));
        b[3] = 0x06;                     /* unknown type */
        expect_bad_record(b, sizeof(b), 3, 3);

        /* Component: one trailing byte breaks the exact-length rule. */
        static const uint8_t comp[] = {
                0, 0, 0x10, 0x32, 0, 0, 0, 0x33, 0x01, 0x19, 0x0a, 'V', 'o', 'l', 'u', 'm', 'e', '4',
                '-', '0', '1', 0x06, 'A', 'C', 'T', 'I', 'V', 'E', 0x03, 0, 0, 0, 0, 0x01, 0x03, 0,
                0, 0, 0, 0, 0, 0, 0x21, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x18, 0x00, 0x01, 0x80, 0x01,
                0x03, 0x00,
        };
        expect_bad_record(comp, sizeof(comp), 4, 4);
        uint8_t c2[sizeof(comp)];
        memcpy(c2, comp, sizeof(c2));
        c2[7] = 0x32;
        memcpy(buf, c2, sizeof(c2));
        g_assert_cmpint(ldm_record_parse(buf, 112, "t", 0, &r, NULL), ==, 0);
        g_assert_cmpuint(r.component.n_columns, ==, 3);
        g_assert_cmpuint(r.component.stripe_size, ==, 128);
        g_assert_cmpuint(r.component.parent_volume_id, ==, 0x18);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/structures/real-images", test_real_structures);
        g_test_add_func("/structures/raid1-volume", test_raid1_volume);
        g_test_add_func("/structures/record-fields", test_record_roundtrip_fields);
        g_test_add_func("/structures/hostile", test_hostile);
        return g_test_run();
}
