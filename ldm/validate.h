/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* validate.h: the strict validator: checks every probed device of a scan against the rules
 * the public LDM readers apply (ldm-format.md §14: K = Linux kernel, L = libldm/ldmtool,
 * F = FreeBSD), so a writer can prove its output is accepted everywhere. */

#include "diag.h"
#include "scan.h"

/* Appends one LDM_DIAG_ERROR per violation to *out, with structure "rule <id>" (e.g.
 * "rule K7"), the device path and the absolute offset where it applies. K rules are applied
 * to MBR disks only (the kernel never parses LDM on GPT). Returns the number of violations
 * found (0 = every reader accepts every disk), or a negative errno. */
/* -ENODATA when a device was probed light (LDM_PROBE_NO_RAW): the slot rules need the raw
 * region, the copy rules every copy. */
int ldm_validate_strict(const LdmScan *s, LdmDiagList *out);
