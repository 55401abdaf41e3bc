/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-kernel-ldm (slow): the Linux kernel's own LDM parser (block/partitions/ldm.c, booted
 * under qemu by ../shared/tools/kernel-ldm) accepts every MBR pack mkldm makes and makes
 * exactly the extents our reader computes its partitions: on every disk "ldm" (the database
 * accepted), and the partitions our extents, ordered by start on the disk, same start and
 * size. The packs: for 1…8 disks, one volume of every layout that fits (layouts.h), and two
 * hand-written ones (several volumes of each kind, mirrors sharing disks). kernel-ldm takes
 * at most 24 images per call (~10 s each), so the packs are batched: two calls in all. */

#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "layouts.h"
#include "scan.h"
#include "test-util.h"

#include <glib.h> /* after macro.h: GLib's MIN/MAX replace ours without a warning */

#define IMAGES_PER_CALL 24u

typedef struct Pack {
        char *images;   /* shell words */
        unsigned n;
} Pack;

static const char *const extra_packs[][2] = {
        { "5", "simple:1M@5 span:3M@1,2,3 stripe:4M@2,3,4,5 mirror:2M@1,5 raid5:6M@1,2,3,4" },
        { "3", "mirror:3M@3,2 mirror:1M@1,3 simple:1M@2" },
};

/* mkldm makes the pack in dir/<tag>/; returns its images as shell words. */
static char *make_pack(const char *dir, const char *tag, unsigned n, char **specs) {
        g_autofree char *mkldm = g_build_filename(g_getenv("LDM_BUILD_ROOT"), "tools", "mkldm", NULL);
        g_autofree char *sub = g_build_filename(dir, tag, NULL);
        GString *images = g_string_new(NULL);
        g_autoptr(GString) vols = g_string_new(NULL);

        g_assert_cmpint(mkdir(sub, 0700), ==, 0);
        for (unsigned i = 0; i < n; i++)
                g_string_append_printf(images, " '%s/disk%u.img'", sub, i + 1);
        for (char **s = specs; *s; s++)
                g_string_append_printf(vols, " --volume '%s'", *s);
        g_assert_cmpint(test_run(NULL, "'%s' --create 96M --name K%s-Dg0 %s %s >/dev/null", mkldm,
                                 tag, vols->str, images->str), ==, 0);
        return g_string_free(images, FALSE);
}

static int cmp_start(gconstpointer a, gconstpointer b) {
        const LdmExtent *x = *(LdmExtent *const *) a, *y = *(LdmExtent *const *) b;
        return x->start < y->start ? -1 : x->start > y->start;
}

/* What kernel-ldm must print for the pack: per disk, in the order given, its extents in
 * order of start as partitions 1, 2, … with absolute start sectors. */
static void expect_pack(const char *images, GPtrArray *want) {
        g_auto(GStrv) argv = NULL;
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        const LdmPack *p;

        g_assert_true(g_shell_parse_argv(images, NULL, &argv, NULL));
        g_assert_cmpint(ldm_scan_paths(argv, g_strv_length(argv), &scan), ==, 0);
        g_assert_cmpuint(scan->n_packs, ==, 1);
        p = scan->packs[0];
        for (char **path = argv; *path; path++) {
                g_autoptr(GPtrArray) ext = g_ptr_array_new();
                const LdmDisk *disk = NULL;

                for (size_t d = 0; d < p->n_disks; d++)
                        if (p->disks[d].device && g_str_equal(p->disks[d].device->path, *path))
                                disk = &p->disks[d];
                g_assert_nonnull(disk);
                for (size_t e = 0; e < p->n_extents; e++)
                        if (p->extents[e].disk == disk)
                                g_ptr_array_add(ext, &p->extents[e]);
                g_assert_cmpuint(ext->len, >, 0);   /* else the kernel would print nothing */
                g_assert_cmpuint(ext->len, <, 10);  /* kernel-ldm lists vda1, vda10, vda2 … */
                g_ptr_array_sort(ext, cmp_start);
                for (guint k = 0; k < ext->len; k++) {
                        const LdmExtent *x = ext->pdata[k];
                        g_ptr_array_add(want, g_strdup_printf(
                                "part %s %u %" PRIu64 " %" PRIu64 " ldm", *path, k + 1,
                                disk->device->privhead.pub_start + x->start, x->size));
                }
        }
}

/* One qemu boot for a batch of packs: its partition lines, in order. */
static GPtrArray *kernel_parts(const char *images) {
        g_autofree char *tool = g_build_filename(test_shared_dir(), "tools", "kernel-ldm", NULL);
        g_autofree char *out = NULL;
        GPtrArray *got = g_ptr_array_new_with_free_func(g_free);
        g_auto(GStrv) lines = NULL;

        g_assert_cmpint(test_run(&out, "'%s' %s", tool, images), ==, 0);
        g_test_message("kernel-ldm:\n%s", out);
        lines = g_strsplit(out, "\n", -1);
        for (char **l = lines; *l; l++)
                if (g_str_has_prefix(*l, "part "))
                        g_ptr_array_add(got, g_strdup(*l));
        return got;
}

static bool same_lines(GPtrArray *got, GPtrArray *want) {
        if (got->len != want->len)
                return false;
        for (guint i = 0; i < got->len; i++)
                if (!g_str_equal(got->pdata[i], want->pdata[i]))
                        return false;
        return true;
}

/* The partition lines the kernel made equal ours, in order. The judge reads them off the
 * guest's serial console, where a line can come glued to an escape code: once (CI, 03:37
 * on 2026-11-27) a disk's "[LDM]" line was missed and its first partition called plain
 * while the next two were ldm. The images do not change between boots and the kernel's
 * parse of them is deterministic, so a second boot tells a console glitch from a verdict;
 * a verdict that holds twice fails. */
static void judge_batch(const char *images, GPtrArray *want) {
        g_autoptr(GPtrArray) got = kernel_parts(images);

        if (!same_lines(got, want)) {
                g_test_message("kernel-ldm disagreed once; booting again to tell a console glitch from a verdict");
                g_ptr_array_unref(got);
                got = kernel_parts(images);
        }
        for (guint i = 0; i < MIN(got->len, want->len); i++)
                g_assert_cmpstr(got->pdata[i], ==, want->pdata[i]);
        g_assert_cmpuint(got->len, ==, want->len);
}

static void test_kernel(void) {
        g_autofree char *dir = test_tmpdir();
        g_autofree char *tool = g_build_filename(test_shared_dir(), "tools", "kernel-ldm", NULL);
        g_autoptr(GPtrArray) packs = g_ptr_array_new();
        g_autoptr(GString) batch = g_string_new(NULL);
        g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
        unsigned in_batch = 0, calls = 0;

        /* kernel-ldm installs qemu itself on first use; only the tool must be there. */
        g_assert_true(g_file_test(tool, G_FILE_TEST_IS_EXECUTABLE));
        for (unsigned n = 1; n <= TEST_LAYOUT_MAX_DISKS; n++) {
                g_auto(GStrv) specs = test_layout_specs(n);
                g_autofree char *tag = g_strdup_printf("%u", n);
                Pack *p = g_new(Pack, 1);
                *p = (Pack) { make_pack(dir, tag, n, specs), n };
                g_ptr_array_add(packs, p);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(extra_packs); i++) {
                g_auto(GStrv) specs = g_strsplit(extra_packs[i][1], " ", -1);
                g_autofree char *tag = g_strdup_printf("x%zu", i + 1);
                unsigned n = (unsigned) atoi(extra_packs[i][0]);
                Pack *p = g_new(Pack, 1);
                *p = (Pack) { make_pack(dir, tag, n, specs), n };
                g_ptr_array_add(packs, p);
        }

        /* As many whole packs per boot as fit (the kernel reads each disk on its own, so
         * several packs can share a boot). */
        for (guint i = 0; i <= packs->len; i++) {
                Pack *p = i < packs->len ? packs->pdata[i] : NULL;
                if (in_batch > 0 && (!p || in_batch + p->n > IMAGES_PER_CALL)) {
                        judge_batch(batch->str, want);
                        calls++;
                        g_string_truncate(batch, 0);
                        g_ptr_array_set_size(want, 0);
                        in_batch = 0;
                }
                if (!p)
                        break;
                g_string_append(batch, p->images);
                expect_pack(p->images, want);
                in_batch += p->n;
                g_free(p->images);
                g_free(p);
        }
        g_assert_cmpuint(calls, ==, 2);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/writer/kernel-ldm", test_kernel);
        return g_test_run();
}
