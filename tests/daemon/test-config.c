/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-config: ldmd.conf parsing — defaults, every key, booleans and ranges, unknown keys
 * (warned, ignored), bad values (error naming file:line), missing files. */

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* The daemon's headers first: GLib redefines MIN/MAX after them without complaint. */
#include "conf.h"
#include "log.h"

#include <glib.h>
#include <glib/gstdio.h>

#include "test-util.h"

static char *write_conf(const char *text) {
        g_autofree char *dir = test_tmpdir();
        char *path = g_build_filename(dir, "ldmd.conf", NULL);
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
        return path;
}

/* Runs config_load with stderr captured into *ret_log. */
static int load_capture(Config *c, const char *path, bool must_exist, char **ret_log) {
        g_autofree char *dir = test_tmpdir();
        g_autofree char *log = g_build_filename(dir, "stderr", NULL);
        int saved = dup(STDERR_FILENO), fd, r;

        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        g_assert_cmpint(fd, >=, 0);
        dup2(fd, STDERR_FILENO);
        close(fd);
        r = config_load(c, path, must_exist);
        dup2(saved, STDERR_FILENO);
        close(saved);
        g_assert_true(g_file_get_contents(log, ret_log, NULL, NULL));
        return r;
}

static void test_defaults(void) {
        Config c;

        config_init(&c);
        g_assert_false(c.auto_recover);
        g_assert_cmpuint(c.worker_threads, ==, 0);
        g_assert_cmpuint(c.finished_job_lifetime_usec, ==, 300 * G_USEC_PER_SEC);
        g_assert_cmpuint(c.max_finished_jobs, ==, 64);
        g_assert_cmpuint(c.repair_rate_limit, ==, 0);
}

static void test_all_keys(void) {
        g_autofree char *path = write_conf("# comment\n; another\n\n[Daemon]\n"
                                           "  AutoRecover = yes \nWorkerThreads=8\n"
                                           "FinishedJobLifetimeSec=10\nMaxFinishedJobs=4096\n"
                                           "RepairRateLimitMiB=32\n");
        g_autofree char *log = NULL;
        Config c;

        config_init(&c);
        g_assert_cmpint(load_capture(&c, path, true, &log), ==, 0);
        g_assert_true(c.auto_recover);
        g_assert_cmpuint(c.worker_threads, ==, 8);
        g_assert_cmpuint(c.finished_job_lifetime_usec, ==, 10 * G_USEC_PER_SEC);
        g_assert_cmpuint(c.max_finished_jobs, ==, 4096);
        g_assert_cmpuint(c.repair_rate_limit, ==, 32u << 20);
        g_assert_cmpstr(log, ==, "");
}

static void test_unknown_keys_warn(void) {
        g_autofree char *path = write_conf("[Daemon]\nFutureKey=1\n[Other]\nAutoRecover=yes\n");
        g_autofree char *log = NULL, *want1 = NULL, *want2 = NULL;
        Config c;

        config_init(&c);
        g_assert_cmpint(load_capture(&c, path, true, &log), ==, 0);
        g_assert_false(c.auto_recover); /* outside [Daemon]: ignored */
        want1 = g_strdup_printf("%s:2: unknown key FutureKey=", path);
        want2 = g_strdup_printf("%s:3: unknown section [Other]", path);
        g_assert_nonnull(strstr(log, want1));
        g_assert_nonnull(strstr(log, want2));
}

static void test_bad_values(void) {
        static const char *const bad[] = {
                "[Daemon]\nAutoRecover=maybe\n",
                "[Daemon]\nWorkerThreads=0\n",
                "[Daemon]\nWorkerThreads=65\n",
                "[Daemon]\nWorkerThreads=-1\n",
                "[Daemon]\nWorkerThreads=\n",
                "[Daemon]\nMaxFinishedJobs=99999999999999999999999\n",
                "[Daemon]\nFinishedJobLifetimeSec=5s\n",
                "[Daemon]\nRepairRateLimitMiB=1G\n",
                "[Daemon]\nRepairRateLimitMiB=9999999999\n",
                "[Daemon]\nno equals sign\n",
                "[Daemon\n",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *path = write_conf(bad[i]);
                g_autofree char *log = NULL, *want = NULL;
                Config c;

                config_init(&c);
                g_assert_cmpint(load_capture(&c, path, true, &log), ==, -EINVAL);
                want = g_strdup_printf("%s:%d:", path, i == G_N_ELEMENTS(bad) - 1 ? 1 : 2);
                g_assert_nonnull(strstr(log, want));
        }
}

static void test_missing_file(void) {
        g_autofree char *dir = test_tmpdir();
        g_autofree char *path = g_build_filename(dir, "nope.conf", NULL);
        g_autofree char *log = NULL;
        Config c;

        config_init(&c);
        g_assert_cmpint(load_capture(&c, path, false, &log), ==, 0);
        g_free(g_steal_pointer(&log));
        g_assert_cmpint(load_capture(&c, path, true, &log), ==, -ENOENT);
        g_assert_nonnull(strstr(log, path));
}

static void test_parsers(void) {
        uint64_t u;
        bool b;

        g_assert_cmpint(config_parse_bool("ON", &b), ==, 0);
        g_assert_true(b);
        g_assert_cmpint(config_parse_bool("0", &b), ==, 0);
        g_assert_false(b);
        g_assert_cmpint(config_parse_bool("", &b), ==, -EINVAL);
        g_assert_cmpint(config_parse_uint("18446744073709551615", 0, UINT64_MAX, &u), ==, 0);
        g_assert_cmpuint(u, ==, UINT64_MAX);
        g_assert_cmpint(config_parse_uint("18446744073709551616", 0, UINT64_MAX, &u), ==, -ERANGE);
        g_assert_cmpint(config_parse_uint("+1", 0, 10, &u), ==, -EINVAL);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/daemon/config/defaults", test_defaults);
        g_test_add_func("/daemon/config/all-keys", test_all_keys);
        g_test_add_func("/daemon/config/unknown-keys-warn", test_unknown_keys_warn);
        g_test_add_func("/daemon/config/bad-values", test_bad_values);
        g_test_add_func("/daemon/config/missing-file", test_missing_file);
        g_test_add_func("/daemon/config/parsers", test_parsers);
        return g_test_run();
}
