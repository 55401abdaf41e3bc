/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-mkldm: every layout (simple, span, stripe, mirror, RAID-5) on MBR, GPT and mixed packs
 * of 1–8 image files, made by mkldm (or the create/writer API for mixed packs), must be
 * (1) exactly what was asked for according to our own reader, (2) healthy for
 * `ldmcheck --strict --data`, (3) reported by Debian's ldmtool with the same disk group,
 * disks, volumes, extents, offsets and sizes, field by field, (4) the same for ldmcheck's own
 * model, and (5) data written through our volume writer is where ldmtool's numbers place it
 * (assemble.h). */

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "assemble.h"
#include "create.h"
#include "pack-lines.h"
#include "test-util.h"
#include "writer.h"

typedef struct Case {
        const char *name;
        unsigned n_disks;
        const char *volumes; /* mkldm --volume arguments, space separated */
        bool gpt_too;        /* also as GPT in the unit suite (all of them in `slow`) */
} Case;

static const Case cases[] = {
        { "simple-1",   1, "simple:8M", true },
        { "simple-8",   8, "simple:4M@8 simple:4M@1 simple:2M:Boot@4" },
        { "span-3",     3, "span:9M", true },
        { "span-2-rev", 2, "span:4M:Rev@2,1" },
        { "stripe-2",   2, "stripe:8M" },
        { "stripe-8",   8, "stripe:16M", true },
        { "mirror-2",   2, "mirror:10M", true },
        { "mirror-3",   3, "mirror:3M@3,2 mirror:1M@1,3" },
        { "raid5-3",    3, "raid5:8M" },
        { "raid5-8",    8, "raid5:14M", true },
        { "all-5",      5, "simple:1M@5 span:3M@1,2,3 stripe:4M@2,3,4,5 mirror:2M@1,5 raid5:6M@1,2,3,4" },
};

static char *tool(const char *rel) {
        return g_build_filename(g_getenv("LDM_BUILD_ROOT"), rel, NULL);
}

/* ldmtool reports the same pack, field by field; data our volume writer puts on every
 * volume is where ldmtool's numbers say it is; then ldmcheck --strict --data (mirror plexes
 * equal, RAID-5 parity right) finds nothing (which fails on any finding) and returns its
 * own view of the volumes. */
static char *assert_judges(const char *expected_lines, const char *images) {
        g_autofree char *tl = test_pack_lines_run("ldmtool", images);

        g_assert_cmpstr(tl, ==, expected_lines);
        test_write_and_assemble(images, tl, g_str_hash(g_test_get_path()));
        return test_pack_lines_run("ldmcheck", images);
}

static void run_case(gconstpointer data) {
        const Case *c = data;
        bool gpt = strstr(g_test_get_path(), "/gpt/") != NULL;
        g_autofree char *dir = test_tmpdir(), *mkldm = tool("tools/mkldm");
        g_autofree char *json = g_build_filename(dir, "mkldm.json", NULL);
        g_autoptr(GString) images = g_string_new(NULL), vols = g_string_new(NULL);
        g_auto(GStrv) specs = g_strsplit(c->volumes, " ", -1);
        g_autofree char *ml = NULL, *cl = NULL, *ml2 = NULL, *rl = NULL, *qjson = NULL;

        if (!test_require_program("ldmtool") || !test_require_program("jq"))
                return;

        for (unsigned i = 0; i < c->n_disks; i++)
                g_string_append_printf(images, " '%s/disk%u.img'", dir, i + 1);
        for (char **s = specs; *s; s++)
                g_string_append_printf(vols, " --volume '%s'", *s);

        g_assert_cmpint(test_run(NULL, "'%s' %s --create %s --json %s %s > '%s'", mkldm,
                                 gpt ? "--gpt" : "", gpt ? "96M" : "64M", vols->str, images->str,
                                 json), ==, 0);

        qjson = g_shell_quote(json);
        ml = test_pack_lines_run("mkldm", qjson);
        /* Our own reader sees what mkldm says it made. */
        rl = test_pack_lines_scan(images->str);
        g_assert_cmpstr(rl, ==, ml);
        cl = assert_judges(ml, images->str);
        ml2 = test_pack_lines_run("mkldm-check", qjson);
        g_assert_cmpstr(cl, ==, ml2);
}

/* Mixed MBR/GPT pack through the API (mkldm makes one label type per pack). */
static void test_mixed(void) {
        g_autofree char *dir = test_tmpdir();
        LdmCreateDisk disks[4];
        LdmCreateVolume vols[] = {
                { .type = LDM_VOLUME_SIMPLE, .size = 1 << 20, .disks = { 0 }, .n_disks = 1 },
                { .type = LDM_VOLUME_SPAN, .size = 3 << 20, .disks = { 0, 1, 2 }, .n_disks = 3 },
                { .type = LDM_VOLUME_STRIPE, .size = 6 << 20, .disks = { 1, 2, 3 }, .n_disks = 3 },
                { .type = LDM_VOLUME_MIRROR, .size = 2 << 20, .name = "Mirror", .disks = { 0, 3 }, .n_disks = 2 },
                { .type = LDM_VOLUME_RAID5, .size = 9 << 20, .disks = { 3, 2, 1, 0 }, .n_disks = 4 },
        };
        _cleanup_(ldm_new_pack_freep) LdmNewPack *pack = NULL;
        g_autoptr(GString) images = g_string_new(NULL);
        LdmIo *ios[4];
        g_autofree char *expected = NULL, *rl = NULL;
        LdmDiag err = {};

        if (!test_require_program("ldmtool") || !test_require_program("jq"))
                return;
        for (unsigned i = 0; i < 4; i++) {
                g_autofree char *p = g_strdup_printf("%s/disk%u.img", dir, i + 1);
                g_assert_cmpint(test_run(NULL, "truncate -s 80M '%s'", p), ==, 0);
                disks[i] = (LdmCreateDisk) { .size = 80 << 20,
                                             .label = i % 2 ? LDM_LABEL_GPT : LDM_LABEL_MBR };
                g_assert_cmpint(ldm_io_open(p, LDM_IO_WRITE, &ios[i]), ==, 0);
                g_string_append_printf(images, " '%s'", p);
        }
        g_assert_cmpint(ldm_create_pack(&(LdmCreateRequest) {
                                .group_name = "Mixed-Dg0", .disks = disks, .n_disks = 4,
                                .volumes = vols, .n_volumes = G_N_ELEMENTS(vols) },
                        &pack, &err), ==, 0);
        g_assert_cmpint(ldm_writer_write_new(pack, ios, 4, &err), ==, 0);
        for (unsigned i = 0; i < 4; i++)
                ldm_io_close(ios[i]);

        expected = test_pack_lines_new(pack, dir);
        rl = test_pack_lines_scan(images->str);
        g_assert_cmpstr(rl, ==, expected);
        g_free(assert_judges(expected, images->str));
}

static void test_refusals(void) {
        g_autofree char *dir = test_tmpdir(), *mkldm = tool("tools/mkldm");

        /* A disk that holds data is refused without --force, accepted with it. */
        g_assert_cmpint(test_run(NULL, "'%s' --create 64M --volume simple:1M '%s/a.img' >/dev/null",
                                 mkldm, dir), ==, 0);
        g_assert_cmpint(test_run(NULL, "'%s' --volume simple:1M '%s/a.img' 2>/dev/null", mkldm, dir), ==, 1);
        g_assert_cmpint(test_run(NULL, "'%s' --force --volume simple:1M '%s/a.img' >/dev/null", mkldm, dir), ==, 0);
        /* Usage errors exit 2; a pack that does not fit exits 1 and writes nothing. */
        g_assert_cmpint(test_run(NULL, "'%s' --create 64M --volume bogus:1M '%s/b.img' 2>/dev/null",
                                 mkldm, dir), ==, 2);
        g_assert_cmpint(test_run(NULL, "'%s' --create 64M --volume raid5:1M '%s/c.img' 2>/dev/null",
                                 mkldm, dir), ==, 1);
        g_assert_cmpint(test_run(NULL, "'%s' --create 64M --volume simple:1G '%s/d.img' 2>/dev/null",
                                 mkldm, dir), ==, 1);
        g_assert_cmpint(test_run(NULL, "test -z \"$(tr -d '\\0' < '%s/d.img')\"", dir), ==, 0);
        g_assert_cmpint(test_run(NULL, "'%s' --volume simple:1M '%s/missing.img' 2>/dev/null",
                                 mkldm, dir), ==, 1);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        bool all = g_getenv("LDM_TEST_SLOW") != NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *m = g_strdup_printf("/mkldm/mbr/%s", cases[i].name);
                g_autofree char *g = g_strdup_printf("/mkldm/gpt/%s", cases[i].name);
                g_test_add_data_func(m, &cases[i], run_case);
                if (all || cases[i].gpt_too)
                        g_test_add_data_func(g, &cases[i], run_case);
        }
        g_test_add_func("/mkldm/mixed/all", test_mixed);
        g_test_add_func("/mkldm/refusals", test_refusals);
        return g_test_run();
}
