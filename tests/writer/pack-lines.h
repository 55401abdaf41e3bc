/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* pack-lines.h: one sorted text line per disk, volume and extent of a pack, in the format of
 * pack-lines.sh's "mkldm"/"ldmtool" modes, so that our reader, our writer's plan, mkldm's
 * JSON and ldmtool can be compared as plain strings. */

#include "create.h"

/* Lines of the pack as planned; disk i is "<dir>/disk<i+1>.img". */
char *test_pack_lines_new(const LdmNewPack *p, const char *dir);
/* Lines of the single pack ldm_scan_paths() finds on the images named in a shell word list
 * ("'/a/disk1.img' '/a/disk2.img'"); fails the test when there is not exactly one pack. */
char *test_pack_lines_scan(const char *images);
