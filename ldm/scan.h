/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* scan.h: turns a set of probed LDM devices into packs, grouped by disk-group GUID (names can
 * collide), choosing each pack's authoritative database (§10.2 rule 3), building the model,
 * and computing health. Devices that cannot be joined to a pack (database unreadable, corrupt,
 * or inconsistent with the rest of the group) go to the INVALID list, as VDS does. */

#include "device.h"
#include "pack.h"

typedef struct LdmScan {
        LdmDevice **devices;       /* every device given, owned here */
        size_t n_devices;
        LdmPack **packs;
        size_t n_packs;
        LdmDevice **invalid;       /* borrowed from devices */
        size_t n_invalid;
        LdmDiagList diags;
} LdmScan;

/* Takes ownership of devices[] (the array itself too). */
int ldm_scan_build(LdmDevice **devices, size_t n_devices, LdmScan **ret);
/* Probes every path (non-LDM paths are skipped quietly; one that cannot be probed gets a
 * diagnosis in diags) and builds. */
int ldm_scan_paths(char *const *paths, size_t n_paths, LdmScan **ret);
LdmScan *ldm_scan_free(LdmScan *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(LdmScan *, ldm_scan_free);

LdmPack *ldm_scan_find_pack(const LdmScan *s, const LdmGuid *guid);
