/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* errors.c: org.ldmd1.Error.* ↔ errno (see errors.h). */

#include <errno.h>
#include <systemd/sd-bus.h>

#include "errors.h"

static const sd_bus_error_map ldmd_error_map[] = {
        SD_BUS_ERROR_MAP(LDMD_ERROR_NOT_AUTHORIZED,  EACCES),
        SD_BUS_ERROR_MAP(LDMD_ERROR_BUSY,            EBUSY),
        SD_BUS_ERROR_MAP(LDMD_ERROR_NOT_FOUND,       ENOENT),
        SD_BUS_ERROR_MAP(LDMD_ERROR_AMBIGUOUS,       ENOTUNIQ),
        SD_BUS_ERROR_MAP(LDMD_ERROR_NOT_SUPPORTED,   EOPNOTSUPP),
        SD_BUS_ERROR_MAP(LDMD_ERROR_INVALID_ARGS,    EINVAL),
        SD_BUS_ERROR_MAP(LDMD_ERROR_CANCEL_TOO_LATE, EALREADY),
        SD_BUS_ERROR_MAP(LDMD_ERROR_MISSING_DISK,    ENODEV),
        SD_BUS_ERROR_MAP(LDMD_ERROR_INCONSISTENT,    EBADMSG),
        SD_BUS_ERROR_MAP(LDMD_ERROR_IO_ERROR,        EIO),
        SD_BUS_ERROR_MAP_END,
};

int ldmd_errors_register(void) {
        int r = sd_bus_error_add_map(ldmd_error_map);
        return r < 0 ? r : 0;
}
