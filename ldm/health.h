/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* health.h: VDS-style states of a pack and everything in it, derived from what is on disk
 * (ldm-format.md §10.2). Pure computation on the model; no I/O. */

#include "pack.h"

/* Fills every status/health/stale field of the pack, its disks, volumes, plexes and columns.
 * Called by ldm_scan_build() after the model is built; callable again after changes. */
void ldm_health_compute(LdmPack *pack);
