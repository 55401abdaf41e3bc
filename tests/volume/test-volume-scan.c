/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The volume reader on packs found by the real scanner (ldm_scan_paths()): every volume of
 * both Windows packs assembles to its EXPECTED.md sha256 with all images; scanning without
 * one RAID-5 image (or without one mirror image) leaves that disk MISSING, the volume
 * FAILED_REDUNDANCY and the sha256 unchanged; with all images everything is healthy. */

#include <string.h>

#include "health.h"
#include "scan.h"
#include "test-util.h"
#include "volume-io.h"

static const char *const images[] = {
        "ldm-2003r2-mirrored-1.img", "ldm-2003r2-mirrored-2.img", "ldm-2003r2-raid5-1.img",
        "ldm-2003r2-raid5-2.img", "ldm-2003r2-raid5-3.img", "ldm-2003r2-simple-1.img",
        "ldm-2003r2-spanned-1.img", "ldm-2003r2-spanned-2.img", "ldm-2003r2-striped-1.img",
        "ldm-2003r2-striped-2.img", "ldm-2008r2-mirrored-1.img", "ldm-2008r2-mirrored-2.img",
        "ldm-2008r2-raid5-1.img", "ldm-2008r2-raid5-2.img", "ldm-2008r2-raid5-3.img",
        "ldm-2008r2-spanned-1.img", "ldm-2008r2-spanned-2.img", "ldm-2008r2-striped-1.img",
        "ldm-2008r2-striped-2.img",
};

static const struct {
        const char *pack, *volume, *sha256;
} gold[] = {
        { "Red-nzv8x6obywgDg0", "Volume1", "6b5398dca1f9671f6e483ceb2491a76a74aa33dc2e3f30147efe2720ffe7bb3a" },
        { "Red-nzv8x6obywgDg0", "Volume2", "125be910bcd26819400f505323d777d2a7d06d7017237adf61848bafd5c55278" },
        { "Red-nzv8x6obywgDg0", "Stripe1", "4d09261ddb47c1ad0625326032b6a1e86f9a24192cecab10c59dc7c4ee673ddb" },
        { "Red-nzv8x6obywgDg0", "Volume3", "b0aec653c2eb833d937b58bbf1d52fad836465faa771225e7d5be8f8e542763b" },
        { "Red-nzv8x6obywgDg0", "Raid1",   "4f9ff1f8e6e7684c6e2f7856ae38c76212f4090eded9c3af8b652be55c718f97" },
        { "Red-nzv8x6obywgDg0", "Volume4", "0610313ce7e5c74dc12685195570231838db1bc72c26f07bef246338ef0e4263" },
        { "WIN-ERRDJSBDAVF-Dg0", "Volume1", "8d6b04d858aefa751855f925ab71de5a8203564691fa70b8bc8b250b83629f43" },
        { "WIN-ERRDJSBDAVF-Dg0", "Volume2", "8d106036e1d035e227834cbc1008ce0922fbeeb51048b5e172c39591a921d30d" },
        { "WIN-ERRDJSBDAVF-Dg0", "Volume3", "cd3a7a1c5e851b411390a0d7385e256fc987757e6e8ca4f490d1672d75ddfb2f" },
        { "WIN-ERRDJSBDAVF-Dg0", "Volume4", "0095f2221f15a769887b4dff28e32cb1df79a4406cb36ee54528c2320a5a2dd8" },
        { "WIN-ERRDJSBDAVF-Dg0", "Volume5", "1a757c59a8c9e67916d6564295b4e2db8db6badfa889d06302b46f77bd3730c0" },
};

/* Scans every image except `skip` (NULL: all). */
static LdmScan *scan_without(const char *skip) {
        char *paths[G_N_ELEMENTS(images)];
        size_t n = 0;
        LdmScan *s = NULL;

        for (size_t i = 0; i < G_N_ELEMENTS(images); i++)
                if (!skip || strcmp(images[i], skip) != 0)
                        paths[n++] = test_real_image(images[i]);
        g_assert_cmpint(ldm_scan_paths(paths, n, &s), ==, 0);
        for (size_t i = 0; i < n; i++)
                g_free(paths[i]);
        g_assert_nonnull(s);
        return s;
}

static LdmPack *find_pack(const LdmScan *s, const char *name) {
        for (size_t i = 0; i < s->n_packs; i++)
                if (strcmp(s->packs[i]->name, name) == 0)
                        return s->packs[i];
        g_assert_not_reached();
}

static LdmVolume *find_volume(LdmPack *p, const char *name) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (p->volumes[i].name && strcmp(p->volumes[i].name, name) == 0)
                        return &p->volumes[i];
        g_assert_not_reached();
}

static char *volume_sha256(LdmVolume *vol) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *v = NULL;
        GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
        const size_t B = 1024 * 1024;
        g_autofree uint8_t *buf = g_malloc(B);
        char *hex;

        g_assert_cmpint(ldm_volume_io_open(vol, 0, &v), ==, 0);
        g_assert_cmpuint(ldm_volume_io_size(v), ==, vol->size * 512);
        for (uint64_t off = 0; off < ldm_volume_io_size(v); off += B) {
                size_t l = (size_t) MIN((uint64_t) B, ldm_volume_io_size(v) - off);

                g_assert_cmpint(ldm_volume_read(v, off, buf, l), ==, 0);
                g_checksum_update(ck, buf, l);
        }
        hex = g_strdup(g_checksum_get_string(ck));
        g_checksum_free(ck);
        return hex;
}

static const char *gold_of(const char *pack, const char *volume) {
        for (size_t i = 0; i < G_N_ELEMENTS(gold); i++)
                if (strcmp(gold[i].pack, pack) == 0 && strcmp(gold[i].volume, volume) == 0)
                        return gold[i].sha256;
        g_assert_not_reached();
}

static void test_all_images(void) {
        _cleanup_(ldm_scan_freep) LdmScan *s = scan_without(NULL);

        for (size_t i = 0; i < G_N_ELEMENTS(gold); i++) {
                LdmPack *p = find_pack(s, gold[i].pack);
                LdmVolume *v = find_volume(p, gold[i].volume);
                g_autofree char *sha = volume_sha256(v);

                g_assert_cmpstr(sha, ==, gold[i].sha256);
                g_assert_cmpint(v->status, ==, VDS_VS_ONLINE);
                g_assert_cmpint(v->health, ==, VDS_H_HEALTHY);
        }
        for (size_t i = 0; i < s->n_packs; i++) {
                LdmPack *p = s->packs[i];

                g_assert_cmpint(p->status, ==, VDS_PS_ONLINE);
                g_assert_cmpuint(p->flags, ==, 0);
                g_assert_cmpint(p->health, ==, VDS_H_HEALTHY);
                for (size_t d = 0; d < p->n_disks; d++) {
                        g_assert_cmpint(p->disks[d].status, ==, VDS_DS_ONLINE);
                        g_assert_false(p->disks[d].db_stale);
                        g_assert_false(p->disks[d].db_damaged);
                }
        }
}

static void check_degraded(const char *skip, const char *pack, const char *volume, const char *disk) {
        _cleanup_(ldm_scan_freep) LdmScan *s = scan_without(skip);
        LdmPack *p = find_pack(s, pack);
        LdmVolume *v = find_volume(p, volume);
        g_autofree char *sha = NULL;
        bool found = false;

        for (size_t d = 0; d < p->n_disks; d++)
                if (strcmp(p->disks[d].name, disk) == 0) {
                        g_assert_cmpint(p->disks[d].status, ==, VDS_DS_MISSING);
                        found = true;
                } else
                        g_assert_cmpint(p->disks[d].status, ==, VDS_DS_ONLINE);
        g_assert_true(found);
        g_assert_cmpint(v->status, ==, VDS_VS_ONLINE);
        g_assert_cmpint(v->health, ==, VDS_H_FAILED_REDUNDANCY);
        g_assert_cmpint(p->status, ==, VDS_PS_ONLINE);
        g_assert_cmpuint(p->flags & VDS_PKF_ONLINE_ERROR, ==, VDS_PKF_ONLINE_ERROR);
        g_assert_cmpuint(p->flags & VDS_PKF_NOQUORUM, ==, 0);
        sha = volume_sha256(v);
        g_assert_cmpstr(sha, ==, gold_of(pack, volume));
}

static void test_raid5_missing(void) {
        check_degraded("ldm-2003r2-raid5-1.img", "Red-nzv8x6obywgDg0", "Raid1", "Disk8");
        check_degraded("ldm-2003r2-raid5-2.img", "Red-nzv8x6obywgDg0", "Raid1", "Disk9");
        check_degraded("ldm-2003r2-raid5-3.img", "Red-nzv8x6obywgDg0", "Raid1", "Disk10");
        check_degraded("ldm-2008r2-raid5-2.img", "WIN-ERRDJSBDAVF-Dg0", "Volume4", "Disk8");
        check_degraded("ldm-2008r2-raid5-3.img", "WIN-ERRDJSBDAVF-Dg0", "Volume4", "Disk9");
}

static void test_mirror_missing(void) {
        check_degraded("ldm-2003r2-mirrored-1.img", "Red-nzv8x6obywgDg0", "Volume3", "Disk6");
        check_degraded("ldm-2003r2-mirrored-2.img", "Red-nzv8x6obywgDg0", "Volume3", "Disk7");
        check_degraded("ldm-2008r2-mirrored-1.img", "WIN-ERRDJSBDAVF-Dg0", "Volume3", "Disk5");
        check_degraded("ldm-2008r2-mirrored-2.img", "WIN-ERRDJSBDAVF-Dg0", "Volume3", "Disk6");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/volume/scan/all-images", test_all_images);
        g_test_add_func("/volume/scan/raid5-missing", test_raid5_missing);
        g_test_add_func("/volume/scan/mirror-missing", test_mirror_missing);
        return g_test_run();
}
