/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-mkldm-root: mkldm on real block devices (loop devices over sparse images): the pack
 * is healthy for ldmcheck --strict --data read from the devices, and a device held open
 * exclusively by someone else is refused even with --force. */

#include <fcntl.h>
#include <unistd.h>

#include "test-util.h"

static char *loop_attach(const char *img) {
        g_autofree char *out = NULL;
        g_assert_cmpint(test_run(&out, "losetup -f --show '%s'", img), ==, 0);
        return g_strdup(g_strstrip(out));
}

static void test_loop(void) {
        g_autofree char *dir = NULL, *mkldm = NULL, *chk = NULL, *l1 = NULL, *l2 = NULL;
        int fd;

        if (!test_require_root())
                return;
        dir = test_tmpdir();
        mkldm = g_build_filename(g_getenv("LDM_BUILD_ROOT"), "tools", "mkldm", NULL);
        chk = g_build_filename(test_shared_dir(), "tools", "ldmcheck", NULL);
        g_assert_cmpint(test_run(NULL, "truncate -s 64M '%s/a.img' '%s/b.img'", dir, dir), ==, 0);
        {
                g_autofree char *a = g_strdup_printf("%s/a.img", dir), *b = g_strdup_printf("%s/b.img", dir);
                l1 = loop_attach(a);
                l2 = loop_attach(b);
        }
        g_assert_cmpint(test_run(NULL, "'%s' --volume mirror:8M --volume stripe:8M:S '%s' '%s' >&2",
                                 mkldm, l1, l2), ==, 0);
        g_assert_cmpint(test_run(NULL, "'%s' --strict --data '%s' '%s' >&2", chk, l1, l2), ==, 0);

        /* Held exclusively (as a mounted file system would hold it): refused, even forced. */
        fd = open(l2, O_RDONLY | O_EXCL | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(test_run(NULL, "'%s' --force --volume simple:1M '%s' 2>&1 | grep -q 'in use'",
                                 mkldm, l2), ==, 0);
        g_assert_cmpint(test_run(NULL, "'%s' --force --volume simple:1M '%s' 2>/dev/null", mkldm, l2), ==, 1);
        close(fd);

        test_run(NULL, "losetup -d '%s' '%s'", l1, l2);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/mkldm/loop", test_loop);
        return g_test_run();
}
