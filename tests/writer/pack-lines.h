/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* pack-lines.h: one sorted text line per disk, volume and extent of a pack, in the format of
 * pack-lines.sh's "mkldm"/"ldmtool" modes, so that our reader, our writer's plan, mkldm's
 * JSON and ldmtool can be compared as plain strings. */

#include "create.h"

/* Lines of the pack as planned; disk i is "<dir>/disk<i+1>.img". */
char *test_pack_lines_new(const LdmNewPack *p, const char *dir);
/* The same, disk i being paths[i]. */
char *test_pack_lines_new_paths(const LdmNewPack *p, const char *const *paths);
/* Lines of the single pack ldm_scan_paths() finds on the images named in a shell word list
 * ("'/a/disk1.img' '/a/disk2.img'"); fails the test when there is not exactly one pack. */
char *test_pack_lines_scan(const char *images);
/* Runs `pack-lines.sh MODE ARGS` (ARGS already shell-quoted) and returns its lines; fails
 * the test when it fails (for mode "ldmcheck": on any finding). */
char *test_pack_lines_run(const char *mode, const char *args);
