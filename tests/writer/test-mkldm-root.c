/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-mkldm-root: new packs on real block devices (loop devices over sparse images).
 *
 * /mkldm/loop/{mbr,gpt,mixed}/N: for N = 1…8 disks, a pack with one volume of every layout
 * that fits (layouts.h), made by mkldm (MBR, GPT) or by the create API with MBR and GPT disks
 * alternating (mixed; mkldm makes one label per pack). Debian's ldmtool, reading the loop
 * devices, must report the same disk group, disks, volumes, partitions, offsets and sizes as
 * our reader, field by field (and as mkldm's --json or the create plan); data written through
 * our volume writer must read back through ldmtool's offsets (assemble.h); and ldmcheck
 * --strict --data, reading the devices, must find nothing.
 *
 * /mkldm/loop/in-use: a device held open exclusively by someone else is refused even with
 * --force.
 *
 * Every loop device is set to auto-clear and held open by the test, so that it goes away
 * when the test ends, also when an assertion aborts it. */

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "assemble.h"
#include "create.h"
#include "layouts.h"
#include "pack-lines.h"
#include "test-util.h"
#include "writer.h"

#define DISK_SIZE (96u << 20)

typedef enum Label { LABEL_MBR, LABEL_GPT, LABEL_MIXED, _LABEL_MAX } Label;
static const char *const label_names[_LABEL_MAX] = { "mbr", "gpt", "mixed" };

typedef struct Case {
        Label label;
        unsigned n;
} Case;

/* A loop device over a new sparse image, auto-clearing, held open by *ret_fd. */
static char *loop_attach(const char *img, int *ret_fd) {
        g_autofree char *out = NULL;
        struct loop_info64 info;
        int fd;

        g_assert_cmpint(test_run(NULL, "truncate -s %u '%s'", DISK_SIZE, img), ==, 0);
        g_assert_cmpint(test_run(&out, "losetup -f --show '%s'", img), ==, 0);
        g_strstrip(out);
        fd = open(out, O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ioctl(fd, LOOP_GET_STATUS64, &info), ==, 0);
        info.lo_flags |= LO_FLAGS_AUTOCLEAR;
        g_assert_cmpint(ioctl(fd, LOOP_SET_STATUS64, &info), ==, 0);
        *ret_fd = fd;
        return TAKE_PTR(out);
}

static char *tool(const char *rel) {
        return g_build_filename(g_getenv("LDM_BUILD_ROOT"), rel, NULL);
}

/* mkldm's pack; its --json document in pack lines. */
static char *make_mkldm(const char *dir, bool gpt, unsigned n, const char *devices) {
        g_autofree char *mkldm = tool("tools/mkldm"), *json = g_build_filename(dir, "mkldm.json", NULL);
        g_autofree char *qjson = g_shell_quote(json);
        g_auto(GStrv) specs = test_layout_specs(n);
        g_autoptr(GString) vols = g_string_new(NULL);

        for (char **s = specs; *s; s++)
                g_string_append_printf(vols, " --volume '%s'", *s);
        g_assert_cmpint(test_run(NULL, "'%s' %s --name Loop-Dg0 --json %s %s > %s", mkldm,
                                 gpt ? "--gpt" : "", vols->str, devices, qjson), ==, 0);
        return test_pack_lines_run("mkldm", qjson);
}

/* The create API's pack with MBR and GPT disks alternating; its plan in pack lines. */
static char *make_mixed(unsigned n, char **paths) {
        LdmCreateDisk disks[TEST_LAYOUT_MAX_DISKS];
        LdmCreateVolume vols[TEST_LAYOUT_MAX_VOLUMES];
        _cleanup_(ldm_new_pack_freep) LdmNewPack *pack = NULL;
        LdmIo *ios[TEST_LAYOUT_MAX_DISKS];
        size_t n_vols = test_layout_request(n, vols);
        LdmDiag err = {};

        for (unsigned i = 0; i < n; i++) {
                disks[i] = (LdmCreateDisk) { DISK_SIZE, i % 2 ? LDM_LABEL_GPT : LDM_LABEL_MBR };
                g_assert_cmpint(ldm_io_open(paths[i], LDM_IO_WRITE, &ios[i]), ==, 0);
        }
        g_assert_cmpint(ldm_create_pack(&(LdmCreateRequest) {
                                .group_name = "Mixed-Dg0", .disks = disks, .n_disks = n,
                                .volumes = vols, .n_volumes = n_vols }, &pack, &err), ==, 0);
        g_assert_cmpint(ldm_writer_write_new(pack, ios, n, &err), ==, 0);
        for (unsigned i = 0; i < n; i++)
                ldm_io_close(ios[i]);
        return test_pack_lines_new_paths(pack, (const char *const *) paths);
}

static void test_matrix(gconstpointer data) {
        const Case *c = data;
        g_autofree char *dir = NULL, *made = NULL, *ours = NULL, *theirs = NULL;
        g_autoptr(GString) devices = g_string_new(NULL);
        char *paths[TEST_LAYOUT_MAX_DISKS + 1] = {};
        int fds[TEST_LAYOUT_MAX_DISKS];

        if (!test_require_root() || !test_require_program("ldmtool") || !test_require_program("jq"))
                return;
        dir = test_tmpdir();
        for (unsigned i = 0; i < c->n; i++) {
                g_autofree char *img = g_strdup_printf("%s/disk%u.img", dir, i + 1);
                paths[i] = loop_attach(img, &fds[i]);
                g_string_append_printf(devices, " '%s'", paths[i]);
        }

        made = c->label == LABEL_MIXED ? make_mixed(c->n, paths)
                                       : make_mkldm(dir, c->label == LABEL_GPT, c->n, devices->str);
        ours = test_pack_lines_scan(devices->str);
        g_assert_cmpstr(ours, ==, made);
        theirs = test_pack_lines_run("ldmtool", devices->str);
        g_assert_cmpstr(theirs, ==, ours);

        test_write_and_assemble(devices->str, theirs, c->label * 10 + c->n);
        g_free(test_pack_lines_run("ldmcheck", devices->str));

        for (unsigned i = 0; i < c->n; i++) {
                close(fds[i]);  /* auto-clear: the loop device goes */
                g_free(paths[i]);
        }
}

static void test_in_use(void) {
        g_autofree char *dir = NULL, *mkldm = NULL, *a = NULL, *b = NULL, *l1 = NULL, *l2 = NULL;
        int h1, h2, fd;

        if (!test_require_root())
                return;
        dir = test_tmpdir();
        mkldm = tool("tools/mkldm");
        a = g_strdup_printf("%s/a.img", dir);
        b = g_strdup_printf("%s/b.img", dir);
        l1 = loop_attach(a, &h1);
        l2 = loop_attach(b, &h2);
        g_assert_cmpint(test_run(NULL, "'%s' --volume mirror:8M --volume stripe:8M:S '%s' '%s' >&2",
                                 mkldm, l1, l2), ==, 0);

        /* Held exclusively (as a mounted file system would hold it): refused, even forced. */
        fd = open(l2, O_RDONLY | O_EXCL | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(test_run(NULL, "'%s' --force --volume simple:1M '%s' 2>&1 | grep -q 'in use'",
                                 mkldm, l2), ==, 0);
        g_assert_cmpint(test_run(NULL, "'%s' --force --volume simple:1M '%s' 2>/dev/null", mkldm, l2), ==, 1);
        close(fd);
        /* Released: accepted. */
        g_assert_cmpint(test_run(NULL, "'%s' --force --volume simple:1M '%s' >&2", mkldm, l2), ==, 0);
        close(h1);
        close(h2);
}

int main(int argc, char **argv) {
        static Case cases[_LABEL_MAX * TEST_LAYOUT_MAX_DISKS];
        size_t k = 0;

        g_test_init(&argc, &argv, NULL);
        for (Label l = 0; l < _LABEL_MAX; l++)
                for (unsigned n = l == LABEL_MIXED ? 2 : 1; n <= TEST_LAYOUT_MAX_DISKS; n++) {
                        g_autofree char *name = g_strdup_printf("/mkldm/loop/%s/%u", label_names[l], n);
                        cases[k] = (Case) { l, n };
                        g_test_add_data_func(name, &cases[k++], test_matrix);
                }
        g_test_add_func("/mkldm/loop/in-use", test_in_use);
        return g_test_run();
}
