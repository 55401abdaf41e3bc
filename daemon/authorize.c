/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* authorize.c: caller authorisation (see authorize.h). The uid comes from the bus (the
 * dbus-daemon's view of the peer, SD_BUS_CREDS_AUGMENT), never from the message body. */

#include "authorize.h"
#include "errors.h"
#include "log.h"
#include "manager.h"

int authorize(Manager *m, sd_bus_message *message, const char *action, const char *what,
              const char *const *details, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0) {
                log_warning_errno(r, "Failed to get the credentials of %s: %m",
                                  strna(sd_bus_message_get_sender(message)));
                return sd_bus_error_setf(error, LDMD_ERROR_NOT_AUTHORIZED,
                                         "Cannot identify the caller, refusing %s on %s.", action, what);
        }
        if (uid == 0)
                return 1;

        log_debug("uid %u may not %s on %s.", (unsigned) uid, action, what);
        return sd_bus_error_setf(error, LDMD_ERROR_NOT_AUTHORIZED,
                                 "Not authorized: %s on %s needs root (uid %u asked).",
                                 action, what, (unsigned) uid);
}
