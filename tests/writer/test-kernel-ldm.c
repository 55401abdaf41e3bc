/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-kernel-ldm (slow): the Linux kernel's own LDM parser (block/partitions/ldm.c, booted
 * under qemu by /work/shared/tools/kernel-ldm) accepts an MBR pack made by the writer and
 * makes exactly our extents its partitions, in order of start on each disk. */

#include "create.h"
#include "test-util.h"
#include "writer.h"

static void test_kernel(void) {
        g_autofree char *dir = test_tmpdir(), *out = NULL;
        g_autofree char *tool = g_build_filename(test_shared_dir(), "tools", "kernel-ldm", NULL);
        LdmCreateDisk disks[3];
        LdmCreateVolume vols[] = {
                { .type = LDM_VOLUME_MIRROR, .size = 3u << 20, .disks = { 0, 1 }, .n_disks = 2 },
                { .type = LDM_VOLUME_RAID5, .size = 4u << 20, .disks = { 0, 1, 2 }, .n_disks = 3 },
                { .type = LDM_VOLUME_SPAN, .size = 3u << 20, .disks = { 2, 0 }, .n_disks = 2 },
                { .type = LDM_VOLUME_SIMPLE, .size = 1u << 20, .disks = { 1 }, .n_disks = 1 },
        };
        _cleanup_(ldm_new_pack_freep) LdmNewPack *p = NULL;
        g_autoptr(GString) images = g_string_new(NULL);
        g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func(g_free);
        g_auto(GStrv) lines = NULL;
        LdmIo *ios[3];
        LdmDiag err = {};

        /* kernel-ldm installs qemu itself on first use; only the tool must be there. */
        g_assert_true(g_file_test(tool, G_FILE_TEST_IS_EXECUTABLE));
        for (size_t i = 0; i < 3; i++) {
                g_autofree char *path = g_strdup_printf("%s/kdisk%zu.img", dir, i + 1);
                g_assert_cmpint(test_run(NULL, "truncate -s 48M '%s'", path), ==, 0);
                g_assert_cmpint(ldm_io_open(path, LDM_IO_WRITE, &ios[i]), ==, 0);
                disks[i] = (LdmCreateDisk) { 48u << 20, LDM_LABEL_MBR };
                g_string_append_printf(images, " '%s'", path);
        }
        g_assert_cmpint(ldm_create_pack(&(LdmCreateRequest) { .group_name = "Kernel-Dg0",
                        .disks = disks, .n_disks = 3, .volumes = vols, .n_volumes = 4 }, &p, &err), ==, 0);
        g_assert_cmpint(ldm_writer_write_new(p, ios, 3, &err), ==, 0);
        for (size_t i = 0; i < 3; i++)
                ldm_io_close(ios[i]);

        /* Our extents, per disk in order of start (we place them in increasing order). */
        for (size_t d = 0; d < 3; d++) {
                unsigned n = 0;
                for (uint64_t cursor = 0;;) {
                        const LdmNewExtent *best = NULL;
                        for (size_t v = 0; v < p->n_volumes; v++)
                                for (size_t e = 0; e < p->volumes[v].n_extents; e++) {
                                        const LdmNewExtent *x = &p->volumes[v].extents[e];
                                        if (x->disk == d && x->start >= cursor && (!best || x->start < best->start))
                                                best = x;
                                }
                        if (!best)
                                break;
                        g_ptr_array_add(want, g_strdup_printf("part %s/kdisk%zu.img %u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " ldm",
                                                              dir, d + 1, ++n, p->disks[d].privhead.pub_start + best->start,
                                                              best->size));
                        cursor = best->start + 1;
                }
        }

        g_assert_cmpint(test_run(&out, "'%s' %s", tool, images->str), ==, 0);
        g_test_message("kernel-ldm:\n%s", out);
        lines = g_strsplit(out, "\n", -1);
        for (char **l = lines; *l; l++)
                if (g_str_has_prefix(*l, "part "))
                        g_ptr_array_add(got, g_strdup(*l));
        g_assert_cmpuint(got->len, ==, want->len);
        for (guint i = 0; i < want->len; i++)
                g_assert_cmpstr(got->pdata[i], ==, want->pdata[i]);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/writer/kernel-ldm", test_kernel);
        return g_test_run();
}
