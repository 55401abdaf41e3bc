/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The volume reader/writer on the real Windows images, with the pack model built by hand
 * from the numbers of EXPECTED.md (so this does not depend on the parser): every volume of
 * both packs assembles to its gold sha256; so does every RAID-5 volume with any one column's
 * disk missing and every mirror with either plex's disk missing; health says MISSING /
 * FAILED_REDUNDANCY then; writes through the writer land at the expected absolute offsets
 * of copies of the images and keep parity consistent. */

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "health.h"
#include "record.h"
#include "test-util.h"
#include "volume-io.h"
#include "volume-map.h"

#define SECT 512u
#define MBR_PUB 63u
#define GPT_PUB 65570u

typedef struct Member {
        const char *image;
        uint64_t pub_start, start, size, voloff;
        uint32_t plex, column;
} Member;

typedef struct Spec {
        const char *name;
        LdmVolumeType type;
        uint8_t layout;
        uint64_t stripe, size;
        const char *sha256;
        Member m[3];
        size_t n;
} Spec;

static const Spec specs[] = {
        { "2003 Volume1", LDM_VOLUME_SIMPLE, LDM_LAYOUT_CONCAT, 0, 96256,
          "6b5398dca1f9671f6e483ceb2491a76a74aa33dc2e3f30147efe2720ffe7bb3a",
          { { "ldm-2003r2-simple-1.img", MBR_PUB, 0, 96256, 0, 0, 0 } }, 1 },
        { "2003 Volume2", LDM_VOLUME_SPAN, LDM_LAYOUT_CONCAT, 0, 192512,
          "125be910bcd26819400f505323d777d2a7d06d7017237adf61848bafd5c55278",
          { { "ldm-2003r2-spanned-2.img", MBR_PUB, 0, 96256, 0, 0, 0 },
            { "ldm-2003r2-spanned-1.img", MBR_PUB, 0, 96256, 96256, 0, 0 } }, 2 },
        { "2003 Stripe1", LDM_VOLUME_STRIPE, LDM_LAYOUT_STRIPE, 128, 122880,
          "4d09261ddb47c1ad0625326032b6a1e86f9a24192cecab10c59dc7c4ee673ddb",
          { { "ldm-2003r2-striped-1.img", MBR_PUB, 0, 61440, 0, 0, 0 },
            { "ldm-2003r2-striped-2.img", MBR_PUB, 0, 61440, 0, 0, 1 } }, 2 },
        { "2003 Volume3", LDM_VOLUME_MIRROR, LDM_LAYOUT_CONCAT, 0, 96256,
          "b0aec653c2eb833d937b58bbf1d52fad836465faa771225e7d5be8f8e542763b",
          { { "ldm-2003r2-mirrored-1.img", MBR_PUB, 0, 96256, 0, 0, 0 },
            { "ldm-2003r2-mirrored-2.img", MBR_PUB, 0, 96256, 0, 1, 0 } }, 2 },
        { "2003 Raid1", LDM_VOLUME_RAID5, LDM_LAYOUT_RAID5, 128, 192512,
          "4f9ff1f8e6e7684c6e2f7856ae38c76212f4090eded9c3af8b652be55c718f97",
          { { "ldm-2003r2-raid5-3.img", MBR_PUB, 0, 96256, 0, 0, 0 },
            { "ldm-2003r2-raid5-2.img", MBR_PUB, 0, 96256, 0, 0, 1 },
            { "ldm-2003r2-raid5-1.img", MBR_PUB, 0, 96256, 0, 0, 2 } }, 3 },
        { "2003 Volume4", LDM_VOLUME_SPAN, LDM_LAYOUT_CONCAT, 0, 69632,
          "0610313ce7e5c74dc12685195570231838db1bc72c26f07bef246338ef0e4263",
          { { "ldm-2003r2-striped-1.img", MBR_PUB, 61440, 34816, 0, 0, 0 },
            { "ldm-2003r2-striped-2.img", MBR_PUB, 61440, 34816, 34816, 0, 0 } }, 2 },
        { "2008 Volume1", LDM_VOLUME_SPAN, LDM_LAYOUT_CONCAT, 0, 129024,
          "8d6b04d858aefa751855f925ab71de5a8203564691fa70b8bc8b250b83629f43",
          { { "ldm-2008r2-spanned-1.img", MBR_PUB, 65, 96256, 0, 0, 0 },
            { "ldm-2008r2-spanned-2.img", GPT_PUB, 94, 32768, 96256, 0, 0 } }, 2 },
        { "2008 Volume2", LDM_VOLUME_STRIPE, LDM_LAYOUT_STRIPE, 128, 65536,
          "8d106036e1d035e227834cbc1008ce0922fbeeb51048b5e172c39591a921d30d",
          { { "ldm-2008r2-striped-1.img", MBR_PUB, 65, 32768, 0, 0, 0 },
            { "ldm-2008r2-striped-2.img", GPT_PUB, 94, 32768, 0, 0, 1 } }, 2 },
        { "2008 Volume3", LDM_VOLUME_MIRROR, LDM_LAYOUT_CONCAT, 0, 32768,
          "cd3a7a1c5e851b411390a0d7385e256fc987757e6e8ca4f490d1672d75ddfb2f",
          { { "ldm-2008r2-mirrored-1.img", MBR_PUB, 65, 32768, 0, 0, 0 },
            { "ldm-2008r2-mirrored-2.img", GPT_PUB, 94, 32768, 0, 1, 0 } }, 2 },
        { "2008 Volume4", LDM_VOLUME_RAID5, LDM_LAYOUT_RAID5, 128, 65536,
          "0095f2221f15a769887b4dff28e32cb1df79a4406cb36ee54528c2320a5a2dd8",
          { { "ldm-2008r2-raid5-1.img", MBR_PUB, 65, 32768, 0, 0, 0 },
            { "ldm-2008r2-raid5-2.img", GPT_PUB, 94, 32768, 0, 0, 1 },
            { "ldm-2008r2-raid5-3.img", GPT_PUB, 94, 32768, 0, 0, 2 } }, 3 },
        { "2008 Volume5", LDM_VOLUME_SPAN, LDM_LAYOUT_CONCAT, 0, 190464,
          "1a757c59a8c9e67916d6564295b4e2db8db6badfa889d06302b46f77bd3730c0",
          { { "ldm-2008r2-raid5-1.img", MBR_PUB, 32833, 63488, 0, 0, 0 },
            { "ldm-2008r2-striped-1.img", MBR_PUB, 32833, 63488, 63488, 0, 0 },
            { "ldm-2008r2-mirrored-1.img", MBR_PUB, 32833, 63488, 126976, 0, 0 } }, 3 },
};

/* PRIVHEAD pub_size of a member's image (EXPECTED.md §2.1): the volume writer keeps data
 * inside it. */
static uint64_t member_pub_size(const Member *mb) {
        if (mb->pub_start == GPT_PUB)
                return 36797;
        return g_str_has_prefix(mb->image, "ldm-2003r2-") ? 96327 : 100289;
}

/* One volume's model: one disk per member (no spec puts two members on one image). */
typedef struct Model {
        LdmPack pack;
        LdmDevice devs[3];
        LdmDisk disks[3];
        LdmExtent ext[3];
        LdmExtent *ext_ptrs[3];
        LdmColumn cols[3];
        LdmPlex plexes[2];
        LdmPlex *plex_ptrs[2];
        LdmVolume vol;
} Model;

static void model_build(Model *m, const Spec *s, const char *dir) {
        size_t n_plexes = 1;

        memset(m, 0, sizeof(*m));
        for (size_t i = 0; i < s->n; i++) {
                const Member *mb = &s->m[i];

                m->devs[i].path = g_build_filename(dir, mb->image, NULL);
                m->devs[i].privhead.pub_start = mb->pub_start;
                m->devs[i].privhead.pub_size = member_pub_size(mb);
                m->disks[i] = (LdmDisk) { .pack = &m->pack, .id = (uint32_t) i + 1, .device = &m->devs[i] };
                m->ext[i] = (LdmExtent) { .disk = &m->disks[i], .start = mb->start, .size = mb->size,
                                          .offset_in_column = s->layout == LDM_LAYOUT_CONCAT ? mb->voloff : 0,
                                          .column = mb->column };
                m->ext_ptrs[i] = &m->ext[i];
                n_plexes = MAX(n_plexes, (size_t) mb->plex + 1);
        }

        if (s->type == LDM_VOLUME_MIRROR)
                for (size_t p = 0; p < n_plexes; p++) {
                        m->cols[p] = (LdmColumn) { .extents = &m->ext_ptrs[p], .n_extents = 1, .size = s->m[p].size };
                        m->plexes[p] = (LdmPlex) { .layout = LDM_LAYOUT_CONCAT, .columns = &m->cols[p], .n_columns = 1 };
                }
        else if (s->layout == LDM_LAYOUT_CONCAT) {
                /* Members are listed in volume order, so one column of all of them. */
                m->cols[0] = (LdmColumn) { .extents = m->ext_ptrs, .n_extents = s->n, .size = 0 };
                for (size_t i = 0; i < s->n; i++)
                        m->cols[0].size += s->m[i].size;
                m->plexes[0] = (LdmPlex) { .layout = LDM_LAYOUT_CONCAT, .columns = m->cols, .n_columns = 1 };
        } else {
                for (size_t i = 0; i < s->n; i++)
                        m->cols[s->m[i].column] = (LdmColumn) { .extents = &m->ext_ptrs[i], .n_extents = 1,
                                                                .size = s->m[i].size };
                m->plexes[0] = (LdmPlex) { .layout = s->layout, .stripe_size = s->stripe,
                                           .columns = m->cols, .n_columns = s->n };
        }
        for (size_t p = 0; p < n_plexes; p++) {
                m->plexes[p].volume = &m->vol;
                m->plex_ptrs[p] = &m->plexes[p];
        }
        m->vol = (LdmVolume) { .pack = &m->pack, .type = s->type, .size = s->size,
                               .plexes = m->plex_ptrs, .n_plexes = n_plexes };
        m->pack = (LdmPack) { .disks = m->disks, .n_disks = s->n, .volumes = &m->vol, .n_volumes = 1 };
}

static void model_free(Model *m) {
        for (size_t i = 0; i < G_N_ELEMENTS(m->devs); i++)
                g_free(m->devs[i].path);
}

static char *volume_sha256(LdmVolume *vol) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *v = NULL;
        GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
        const size_t B = 1024 * 1024 + 512;   /* odd multiple: pieces cross chunks */
        g_autofree uint8_t *buf = g_malloc(B);
        char *hex;

        g_assert_cmpint(ldm_volume_io_open(vol, 0, &v), ==, 0);
        for (uint64_t off = 0; off < ldm_volume_io_size(v); off += B) {
                size_t l = (size_t) MIN((uint64_t) B, ldm_volume_io_size(v) - off);

                g_assert_cmpint(ldm_volume_read(v, off, buf, l), ==, 0);
                g_checksum_update(ck, buf, l);
        }
        hex = g_strdup(g_checksum_get_string(ck));
        g_checksum_free(ck);
        return hex;
}

static void test_gold(void) {
        const char *dir = test_real_images();

        for (size_t i = 0; i < G_N_ELEMENTS(specs); i++) {
                Model m;
                g_autofree char *sha = NULL;

                model_build(&m, &specs[i], dir);
                ldm_health_compute(&m.pack);
                g_assert_cmpint(m.vol.health, ==, VDS_H_HEALTHY);
                sha = volume_sha256(&m.vol);
                g_test_message("%s: %s", specs[i].name, sha);
                g_assert_cmpstr(sha, ==, specs[i].sha256);
                model_free(&m);
        }
}

/* Each RAID-5 column's disk, and each mirror plex's disk, missing in turn. */
static void test_degraded(void) {
        const char *dir = test_real_images();

        for (size_t i = 0; i < G_N_ELEMENTS(specs); i++) {
                const Spec *s = &specs[i];

                if (s->type != LDM_VOLUME_RAID5 && s->type != LDM_VOLUME_MIRROR)
                        continue;
                for (size_t k = 0; k < s->n; k++) {
                        Model m;
                        g_autofree char *sha = NULL;

                        model_build(&m, s, dir);
                        m.disks[k].device = NULL;
                        ldm_health_compute(&m.pack);
                        g_assert_cmpint(m.disks[k].status, ==, VDS_DS_MISSING);
                        g_assert_cmpint(m.vol.status, ==, VDS_VS_ONLINE);
                        g_assert_cmpint(m.vol.health, ==, VDS_H_FAILED_REDUNDANCY);
                        sha = volume_sha256(&m.vol);
                        g_assert_cmpstr(sha, ==, s->sha256);
                        model_free(&m);
                }
        }
}

static void read_file_at(const char *path, uint64_t off, void *buf, size_t len) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pread(fd, buf, len, (off_t) off), ==, (ssize_t) len);
        close(fd);
}

/* Writes on copies of the 2008 RAID-5 images: full rows and a partial, unaligned range. */
static void test_write_raid5(void) {
        const Spec *s = &specs[9];
        const uint64_t S = 128 * SECT, row = 2 * S;
        g_autofree char *dir = test_tmpdir();
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *v = NULL;
        g_autofree uint8_t *data = g_malloc(3 * row), *back = g_malloc(3 * row);
        GRand *rnd = g_rand_new_with_seed(42);
        Model m;
        bool ok;

        for (size_t i = 0; i < s->n; i++) {
                g_autofree char *src = test_real_image(s->m[i].image);
                g_autofree char *dst = g_build_filename(dir, s->m[i].image, NULL);
                test_copy_file(src, dst);
        }
        model_build(&m, s, dir);
        for (size_t i = 0; i < 3 * row; i++)
                data[i] = (uint8_t) g_rand_int(rnd);
        g_rand_free(rnd);

        g_assert_cmpint(ldm_volume_io_open(&m.vol, LDM_IO_WRITE, &v), ==, 0);
        /* Rows 5..7 whole, then 1000 bytes from the middle of a chunk of row 10. */
        g_assert_cmpint(ldm_volume_write(v, 5 * row, data, 3 * row), ==, 0);
        g_assert_cmpint(ldm_volume_write(v, 10 * row + S - 300, data + 7, 1000), ==, 0);
        g_assert_cmpint(ldm_volume_flush(v), ==, 0);

        g_assert_cmpint(ldm_volume_read(v, 5 * row, back, 3 * row), ==, 0);
        g_assert(memcmp(back, data, 3 * row) == 0);
        g_assert_cmpint(ldm_volume_read(v, 10 * row + S - 300, back, 1000), ==, 0);
        g_assert(memcmp(back, data + 7, 1000) == 0);
        for (uint64_t r = 0; r < ldm_plex_n_rows(&m.plexes[0]); r++) {
                g_assert_cmpint(ldm_volume_verify_row(v, 0, r, &ok), ==, 0);
                g_assert_true(ok);
        }

        /* Directly on the files: row 5 has parity in column (3-1) - 5 mod 3 = 0, so its
         * data chunks are in columns 1 (raid5-2, GPT) and 2 (raid5-3, GPT), at row·S of
         * the column = (65570 + 94)·512 + 5·S. Row 10: parity column 1, data columns 2, 0;
         * offset S − 300 in the volume row is chunk 0 → column 2. */
        read_file_at(m.devs[1].path, (GPT_PUB + 94) * SECT + 5 * S, back, S);
        g_assert(memcmp(back, data, S) == 0);
        read_file_at(m.devs[2].path, (GPT_PUB + 94) * SECT + 5 * S, back, S);
        g_assert(memcmp(back, data + S, S) == 0);
        read_file_at(m.devs[2].path, (GPT_PUB + 94) * SECT + 10 * S + S - 300, back, 300);
        g_assert(memcmp(back, data + 7, 300) == 0);
        read_file_at(m.devs[0].path, (MBR_PUB + 65) * SECT + 10 * S, back, 700);
        g_assert(memcmp(back, data + 307, 700) == 0);

        /* The untouched rest still hashes as Windows left it, except the rows we wrote. */
        v = ldm_volume_io_close(v);
        m.disks[1].device = NULL;            /* and degraded reads see the new data too */
        g_assert_cmpint(ldm_volume_io_open(&m.vol, 0, &v), ==, 0);
        g_assert_cmpint(ldm_volume_read(v, 5 * row, back, 3 * row), ==, 0);
        g_assert(memcmp(back, data, 3 * row) == 0);
        model_free(&m);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/volume/real/gold-sha256", test_gold);
        g_test_add_func("/volume/real/degraded", test_degraded);
        g_test_add_func("/volume/real/write-raid5", test_write_raid5);
        return g_test_run();
}
