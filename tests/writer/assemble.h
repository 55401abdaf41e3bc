/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* assemble.h: a volume put together from what Debian's ldmtool reports and nothing else:
 * the lines `pack-lines.sh ldmtool` prints (disk data start and device, partition start and
 * size, volume type, size, chunk size and member order) and the address mapping of
 * ldm-format.md §9, implemented here a second time, apart from ldm/volume-io.c. Devices are
 * read with plain pread(). It judges whether data our volume writer put on the disks is
 * where another reader looks for it. */

#include <stddef.h>

/* Bytes of volume `name` as ldmtool's numbers place them (g_free()); fails the test when the
 * lines are inconsistent (a volume size that does not follow from its members, a member of
 * unknown partition or disk), when the two plexes of a mirror differ, or when a RAID-5 row
 * does not XOR to zero. *ret_size receives the volume size in bytes. */
void *test_assemble_volume(const char *ldmtool_lines, const char *name, size_t *ret_size);

/* Writes known bytes over every volume of the single pack on the devices named in a shell
 * word list, through our volume writer (ldm_volume_write: the whole volume, then an
 * overwrite at an odd byte offset, a partial RAID-5 row), then checks that
 * test_assemble_volume() finds exactly those bytes for each volume. seed varies the data. */
void test_write_and_assemble(const char *images, const char *ldmtool_lines, unsigned seed);
