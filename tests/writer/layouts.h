/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* layouts.h: the layout matrix the judge tests walk. For a pack of n disks (1…8) it holds one
 * volume of every layout that fits on n disks (simple; spanned over all n; striped over all
 * n; a mirror; RAID-5 over all n), with member orders unlike the disk order, so that the
 * judges must report member order, not guess it. The same volumes as mkldm --volume specs
 * (MBR and GPT packs) and as a create request (mixed packs, which mkldm cannot make). */

#include <stddef.h>

#include "create.h"

#define TEST_LAYOUT_MAX_DISKS 8u
#define TEST_LAYOUT_MAX_VOLUMES 5u

/* mkldm --volume specs for a pack of n disks ("span:8M@4,3,2,1", …); g_strfreev(). */
char **test_layout_specs(unsigned n);
/* The same volumes as a create request; vols has room for TEST_LAYOUT_MAX_VOLUMES. Returns
 * how many were filled. */
size_t test_layout_request(unsigned n, LdmCreateVolume *vols);
