/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* errors.h: the org.ldmd1.Error.* names (dbus-api.md "Errors") and their errno mapping,
 * registered once with sd_bus_error_add_map() so sd_bus_error_set_errno() and clients that
 * get one of our errors back agree on the number. */

#define LDMD_ERROR_NOT_AUTHORIZED  "org.ldmd1.Error.NotAuthorized"
#define LDMD_ERROR_BUSY            "org.ldmd1.Error.Busy"
#define LDMD_ERROR_NOT_FOUND       "org.ldmd1.Error.NotFound"
#define LDMD_ERROR_AMBIGUOUS       "org.ldmd1.Error.Ambiguous"
#define LDMD_ERROR_NOT_SUPPORTED   "org.ldmd1.Error.NotSupported"
#define LDMD_ERROR_INVALID_ARGS    "org.ldmd1.Error.InvalidArgs"
#define LDMD_ERROR_CANCEL_TOO_LATE "org.ldmd1.Error.CancelTooLate"
#define LDMD_ERROR_MISSING_DISK    "org.ldmd1.Error.MissingDisk"
#define LDMD_ERROR_INCONSISTENT    "org.ldmd1.Error.Inconsistent"
#define LDMD_ERROR_IO_ERROR        "org.ldmd1.Error.IoError"

/* Registers the map; call before the first sd-bus error is created. */
int ldmd_errors_register(void);
