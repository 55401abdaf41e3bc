/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <glib/gstdio.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test-util.h"

static GPtrArray *tmpdirs;

static void remove_tmpdirs(void) {
        for (guint i = 0; tmpdirs && i < tmpdirs->len; i++) {
                g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", (char *) tmpdirs->pdata[i]);
                if (system(cmd) != 0)
                        fprintf(stderr, "warning: could not remove %s\n", (char *) tmpdirs->pdata[i]);
        }
}

const char *test_shared_dir(void) {
        const char *e = g_getenv("LDM_SHARED_DIR");
        return e && *e ? e : "../shared";
}

char *test_tmpdir(void) {
        g_autoptr(GError) error = NULL;
        char *d = g_dir_make_tmp("ldmd-test-XXXXXX", &error);

        g_assert_no_error(error);
        if (!tmpdirs) {
                tmpdirs = g_ptr_array_new_with_free_func(g_free);
                atexit(remove_tmpdirs);
        }
        g_ptr_array_add(tmpdirs, g_strdup(d));
        return d;
}

const char *test_real_images(void) {
        static char *dir;

        if (!dir) {
                dir = test_tmpdir();
                g_assert_cmpint(test_run(NULL, "tar -SJxf '%s/testdata/ldm-real/ldm-data.tar.xz' -C '%s'",
                                         test_shared_dir(), dir), ==, 0);
        }
        return dir;
}

char *test_real_image(const char *name) {
        return g_build_filename(test_real_images(), name, NULL);
}

void test_copy_file(const char *src, const char *dst) {
        g_assert_cmpint(test_run(NULL, "cp --sparse=always '%s' '%s'", src, dst), ==, 0);
}

char *test_sha256(const void *buf, size_t len) {
        return g_compute_checksum_for_data(G_CHECKSUM_SHA256, buf, len);
}

int test_run(char **out, const char *fmt, ...) {
        g_autofree char *cmd = NULL;
        g_autoptr(GError) error = NULL;
        int status = -1;
        va_list ap;

        va_start(ap, fmt);
        cmd = g_strdup_vprintf(fmt, ap);
        va_end(ap);

        char *argv[] = { (char *) "/bin/sh", (char *) "-c", cmd, NULL };
        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, NULL, &status, &error)) {
                g_test_message("cannot run %s: %s", cmd, error->message);
                return -1;
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool in_ci(void) {
        const char *ci = g_getenv("CI");
        return ci && g_str_equal(ci, "true");
}

bool test_require_root(void) {
        if (geteuid() == 0)
                return true;
        if (in_ci())
                g_error("this test needs root, and CI runs as root");
        g_test_skip("needs root (runs in CI)");
        return false;
}

bool test_require_program(const char *prog) {
        g_autofree char *p = g_find_program_in_path(prog);
        if (p)
                return true;
        if (in_ci())
                g_error("%s is missing: .ci/run must install it", prog);
        g_test_skip_printf("%s not installed", prog);
        return false;
}
