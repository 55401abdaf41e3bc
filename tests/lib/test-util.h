/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* test-util.h: what every C test needs: where ../shared is, the real Windows images unpacked
 * into a private temporary directory, scratch directories that vanish at exit, and a way to
 * skip root-only tests outside CI. */

#include <glib.h>
#include <stdbool.h>

/* $LDM_SHARED_DIR (set by meson test) or ../shared beside the source tree. */
const char *test_shared_dir(void);

/* A fresh temporary directory, removed recursively when the process exits. */
char *test_tmpdir(void);

/* Unpacks ../shared/testdata/ldm-real/ldm-data.tar.xz (sparse) into a fresh temporary
 * directory and returns it; the 19 images are "<dir>/ldm-2003r2-simple-1.img" etc. Tests that
 * modify images must copy them first (test_copy_file). */
const char *test_real_images(void);
/* "<real images dir>/<name>" */
char *test_real_image(const char *name);

/* Copies src to dst preserving holes (cp --sparse=always). */
void test_copy_file(const char *src, const char *dst);

/* sha256 hex of a buffer. */
char *test_sha256(const void *buf, size_t len);

/* Runs a shell command, returns its exit status (or -1); stdout captured into *out if non-NULL. */
int test_run(char **out, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* True when running as root; root-only tests call test_require_root() which skips with a
 * message outside CI and fails inside CI (CI=true) so nothing is silently not run there. */
bool test_require_root(void);
/* Skips (outside CI) or fails (CI) when a program is missing. */
bool test_require_program(const char *prog);
