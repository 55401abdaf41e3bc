/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-writer: the partition-table encoder, the new-pack builder's plan and errors, the
 * byte-identical rewrite of the real Windows images, and the refusal of 4Kn disks. */

#include <fcntl.h>
#include <unistd.h>

#include "crc32.h"
#include "create.h"
#include "device.h"
#include "label-write.h"
#include "test-util.h"
#include "unaligned.h"
#include "writer.h"

static char *make_image(const char *dir, const char *name, uint64_t size) {
        char *p = g_build_filename(dir, name, NULL);
        g_assert_cmpint(test_run(NULL, "rm -f '%s' && truncate -s %" G_GUINT64_FORMAT " '%s'", p,
                                 size, p), ==, 0);
        return p;
}

static void test_mbr(void) {
        _cleanup_(ldm_label_done) LdmLabel l = {};
        uint8_t chs[3];

        g_assert_cmpint(ldm_label_new_mbr(102400, 0, &l), ==, -EINVAL);
        g_assert_cmpint(ldm_label_new_mbr(3000, 1, &l), ==, -ENOSPC);
        g_assert_cmpint(ldm_label_new_mbr(UINT64_C(1) << 33, 1, &l), ==, -EFBIG);
        g_assert_cmpint(ldm_label_new_mbr(102400, 0x12345678, &l), ==, 0);
        g_assert_cmphex(unaligned_read_le32(l.mbr + 0x1B8), ==, 0x12345678);
        /* 00 | 01 01 00 | 42 | CHS(100351) = 6/62/56 | 63 | 100289 */
        static const uint8_t e0[16] = { 0x00, 0x01, 0x01, 0x00, 0x42, 0x3e, 0x38, 0x06,
                                        0x3f, 0, 0, 0, 0xc1, 0x87, 0x01, 0x00 };
        g_assert_cmpmem(l.mbr + 0x1BE, 16, e0, 16);
        for (size_t i = 0x1CE; i < 0x1FE; i++)
                g_assert_cmpint(l.mbr[i], ==, 0);
        g_assert_cmpint(l.mbr[510], ==, 0x55);
        g_assert_cmpint(l.mbr[511], ==, 0xAA);
        /* Past cylinder 1023 Windows writes fe ff ff. */
        ldm_mbr_chs(UINT64_C(1) << 30, chs);
        g_assert_cmpmem(chs, 3, ((uint8_t[]) { 0xfe, 0xff, 0xff }), 3);
        /* W08's stale end value fe 3f 05 is what this computes for the end of cylinder 5. */
        ldm_mbr_chs(6 * 16065 - 1, chs);
        g_assert_cmpmem(chs, 3, ((uint8_t[]) { 0xfe, 0x3f, 0x05 }), 3);
}

/* Our GPT, written and read back with the project's label reader and checked by CRC. */
static void test_gpt_new(void) {
        g_autofree char *dir = test_tmpdir();
        g_autofree char *img = make_image(dir, "gpt.img", 100u << 20);
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        uint64_t n = (100u << 20) / 512;
        LdmGuid g[4];
        _cleanup_(ldm_label_done) LdmLabel l = {}, back = {};
        uint8_t hdr[512], entries[32 * 512];
        LdmDiag err = {};

        for (int i = 0; i < 4; i++)
                g_assert_cmpint(guid_random(&g[i]), ==, 0);
        g_assert_cmpint(ldm_label_new_gpt(n, ldm_gpt_default_msr_sectors(n), g, &l), ==, 0);
        g_assert_cmpuint(l.data_first, ==, 65570);
        g_assert_cmpuint(l.data_last, ==, n - 34);
        g_assert_cmpint(ldm_io_open(img, LDM_IO_WRITE, &io), ==, 0);
        g_assert_cmpint(ldm_label_write(io, &l, NULL), ==, 0);

        g_assert_cmpint(ldm_label_read(io, &back, &err), ==, 1);
        g_assert_cmpint(back.type, ==, LDM_LABEL_GPT);
        g_assert_cmpuint(back.meta_first, ==, 34);
        g_assert_cmpuint(back.meta_last, ==, 2081);
        g_assert_cmpuint(back.data_first, ==, 65570);
        g_assert_cmpuint(back.data_last, ==, n - 34);

        /* Backup header: mirrors the primary, CRCs valid. */
        g_assert_cmpint(ldm_io_pread(io, hdr, 512, (n - 1) * 512), ==, 0);
        g_assert_cmpint(ldm_io_pread(io, entries, sizeof(entries), (n - 33) * 512), ==, 0);
        g_assert_cmpmem(hdr, 8, "EFI PART", 8);
        g_assert_cmpuint(unaligned_read_le64(hdr + 24), ==, n - 1);
        g_assert_cmpuint(unaligned_read_le64(hdr + 32), ==, 1);
        g_assert_cmpuint(unaligned_read_le64(hdr + 72), ==, n - 33);
        g_assert_cmphex(unaligned_read_le32(hdr + 88), ==, crc32_ieee(entries, sizeof(entries)));
        uint32_t crc = unaligned_read_le32(hdr + 16);
        memset(hdr + 16, 0, 4);
        g_assert_cmphex(crc, ==, crc32_ieee(hdr, 92));
        /* Names in UTF-16LE as Windows writes them. */
        g_assert_cmpmem(entries + 56, 6, "L\0D\0M\0", 6);
        g_assert_cmpmem(entries + 128 + 56, 10, "M\0i\0c\0r\0o\0", 10);
}

/* Re-encoding the GPT of a real Windows 2008 R2 disk gives its bytes back. */
static void test_gpt_real(void) {
        g_autofree char *img = test_real_image("ldm-2008r2-raid5-2.img");
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        uint8_t want[33 * 512], got[33 * 512];
        uint64_t n;
        _cleanup_(ldm_label_done) LdmLabel l = {};
        LdmDiag err = {};

        g_assert_cmpint(ldm_io_open(img, 0, &io), ==, 0);
        n = ldm_io_size(io) / 512;
        g_assert_cmpint(ldm_label_read(io, &l, &err), ==, 1);
        g_assert_cmpint(ldm_io_pread(io, want, sizeof(want), 512), ==, 0);
        ldm_gpt_encode_header(&l, n, false, got);
        ldm_gpt_encode_entries(&l, got + 512);
        g_assert_cmpmem(got, sizeof(got), want, sizeof(want));
        g_assert_cmpint(ldm_io_pread(io, want, sizeof(want), (n - 33) * 512), ==, 0);
        ldm_gpt_encode_entries(&l, got);
        ldm_gpt_encode_header(&l, n, true, got + 32 * 512);
        g_assert_cmpmem(got, sizeof(got), want, sizeof(want));
}

static void test_create_plan(void) {
        _cleanup_(ldm_new_pack_freep) LdmNewPack *p = NULL;
        LdmCreateDisk disks[3] = {
                { 64u << 20, LDM_LABEL_MBR }, { 96u << 20, LDM_LABEL_GPT }, { 64u << 20, LDM_LABEL_MBR },
        };
        LdmCreateVolume vols[] = {
                { .type = LDM_VOLUME_RAID5, .size = 5u << 20, .disks = { 0, 1, 2 }, .n_disks = 3 },
                { .type = LDM_VOLUME_MIRROR, .size = 1, .name = "M", .disks = { 2, 0 }, .n_disks = 2 },
        };
        LdmDiag err = {};

        g_assert_cmpint(ldm_create_pack(&(LdmCreateRequest) {
                        .group_name = "G-Dg0", .disks = disks, .n_disks = 3, .volumes = vols,
                        .n_volumes = 2, .timestamp = 1 }, &p, &err), ==, 0);
        /* RAID-5 of 5 MiB on 3 disks: columns of 3 MiB (whole MiB ≥ 2.5), size 6 MiB. */
        g_assert_cmpuint(p->volumes[0].size, ==, 6 * 2048);
        g_assert_cmpuint(p->volumes[0].n_extents, ==, 3);
        /* First extents at 1 MiB absolute: MBR public offset 1985, GPT 67584 − 65570. */
        g_assert_cmpuint(p->volumes[0].extents[0].start, ==, 1985);
        g_assert_cmpuint(p->volumes[0].extents[1].start, ==, 2014);
        g_assert_cmpuint(p->volumes[0].extents[2].column, ==, 2);
        /* The mirror: 1 byte becomes 1 MiB, after the RAID-5 column on each disk. */
        g_assert_cmpuint(p->volumes[1].size, ==, 2048);
        g_assert_cmpuint(p->volumes[1].extents[0].disk, ==, 2);
        g_assert_cmpuint(p->volumes[1].extents[0].start, ==, 1985 + 3 * 2048);
        g_assert_cmpstr(p->volumes[1].extents[1].name, ==, "Disk1-02");
        /* IDs 1…M, T = M + 1: 1 group + 3 disks + (1+1+3) + (1+2+2) = 14 records. */
        g_assert_cmpuint(p->db->n_records, ==, 14);
        g_assert_cmpuint(p->db->vmdb.committed_seq, ==, 15);
        g_assert_cmpuint(p->db->vmdb.committed_counts[LDM_COUNT_PARTITION], ==, 5);
        g_assert_cmpuint(p->disks[0].privhead.pub_size, ==, 131072 - 2048 - 63);
        g_assert_cmpuint(p->disks[1].privhead.priv_start, ==, 34);
}

static void test_create_errors(void) {
        LdmNewPack *p = NULL;
        LdmCreateDisk disks[2] = { { 64u << 20, LDM_LABEL_MBR }, { 64u << 20, LDM_LABEL_MBR } };
        LdmCreateVolume v = { .type = LDM_VOLUME_RAID5, .size = 1u << 20, .disks = { 0, 1 }, .n_disks = 2 };
        LdmDiag err = {};
        LdmCreateRequest req = { .disks = disks, .n_disks = 2, .volumes = &v, .n_volumes = 1 };

        g_assert_cmpint(ldm_create_pack(&req, &p, &err), ==, -EINVAL);
        g_assert_nonnull(strstr(err.message, "raid5 volume needs 3"));
        v = (LdmCreateVolume) { .type = LDM_VOLUME_STRIPE, .size = 1u << 30, .disks = { 0, 1 }, .n_disks = 2 };
        g_assert_cmpint(ldm_create_pack(&req, &p, &err), ==, -ENOSPC);
        g_assert_nonnull(strstr(err.message, "MiB free"));
        v = (LdmCreateVolume) { .type = LDM_VOLUME_MIRROR, .size = 1, .disks = { 1, 1 }, .n_disks = 2 };
        g_assert_cmpint(ldm_create_pack(&req, &p, &err), ==, -EINVAL);
        v = (LdmCreateVolume) { .type = LDM_VOLUME_SIMPLE, .size = 1, .disks = { 5 }, .n_disks = 1 };
        g_assert_cmpint(ldm_create_pack(&req, &p, &err), ==, -EINVAL);
        disks[1].size = 1u << 20;
        v = (LdmCreateVolume) { .type = LDM_VOLUME_SIMPLE, .size = 1, .disks = { 0 }, .n_disks = 1 };
        g_assert_cmpint(ldm_create_pack(&req, &p, &err), ==, -ENOSPC);
        g_assert_null(p);
}

/* Parse every real Windows disk and write it back: the whole image must be unchanged. */
static void test_rewrite_real(void) {
        g_autofree char *dir = test_tmpdir();
        g_autoptr(GDir) d = g_dir_open(test_real_images(), 0, NULL);
        const char *name;
        unsigned n = 0;

        while ((name = g_dir_read_name(d))) {
                g_autofree char *src = NULL, *dst = NULL;
                _cleanup_(ldm_io_closep) LdmIo *io = NULL;
                _cleanup_(ldm_device_freep) LdmDevice *dev = NULL;
                LdmDiag err = {};

                if (!g_str_has_suffix(name, ".img"))
                        continue;
                src = test_real_image(name);
                dst = g_build_filename(dir, name, NULL);
                test_copy_file(src, dst);
                g_assert_cmpint(ldm_io_open(dst, LDM_IO_WRITE, &io), ==, 0);
                g_assert_cmpint(ldm_device_probe_io(io, &dev), ==, 1);
                g_assert_nonnull(dev->db);
                /* Scribble over the private region first so the rewrite really writes. */
                g_assert_cmpint(test_run(NULL, "dd if=/dev/zero of='%s' bs=512 seek=%" G_GUINT64_FORMAT
                                         " count=2048 conv=notrunc status=none", dst,
                                         dev->privhead.priv_start), ==, 0);
                g_assert_cmpint(ldm_writer_rewrite_device(io, dev, true, &err), ==, 0);
                if (test_run(NULL, "cmp '%s' '%s' >&2", src, dst) != 0)
                        g_error("%s: rewrite is not byte-identical", name);
                n++;
        }
        g_assert_cmpuint(n, ==, 19);
}

static void test_refuse_4k(void) {
        g_autofree char *dir = test_tmpdir(), *out = NULL;
        g_autofree char *img = make_image(dir, "4k.img", 64u << 20);
        _cleanup_(ldm_new_pack_freep) LdmNewPack *p = NULL;
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        LdmCreateDisk disk = { 64u << 20, LDM_LABEL_MBR };
        LdmDiag err = {};
        g_autofree char *loop = NULL;

        if (!test_require_root())
                return;
        g_assert_cmpint(test_run(&out, "losetup --sector-size 4096 -f --show '%s'", img), ==, 0);
        loop = g_strstrip(g_strdup(out));
        g_assert_cmpint(ldm_create_pack(&(LdmCreateRequest) { .disks = &disk, .n_disks = 1 }, &p, &err), ==, 0);
        g_assert_cmpint(ldm_io_open(loop, LDM_IO_WRITE, &io), ==, 0);
        g_assert_cmpint(ldm_writer_write_new(p, &io, 1, &err), ==, -EOPNOTSUPP);
        g_assert_nonnull(strstr(err.message, "512-byte"));
        io = ldm_io_close(io);
        test_run(NULL, "losetup -d '%s'", loop);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/writer/label/mbr", test_mbr);
        g_test_add_func("/writer/label/gpt-new", test_gpt_new);
        g_test_add_func("/writer/label/gpt-real", test_gpt_real);
        g_test_add_func("/writer/create/plan", test_create_plan);
        g_test_add_func("/writer/create/errors", test_create_errors);
        g_test_add_func("/writer/rewrite/real", test_rewrite_real);
        g_test_add_func("/writer/refuse-4k", test_refuse_4k);
        return g_test_run();
}
