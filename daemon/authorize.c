/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* authorize.c: caller authorisation (see authorize.h) through polkit, asynchronously
 * (daemon/polkit.c). The uid comes from the bus (the dbus-daemon's view of the peer), never
 * from the message body nor from /proc. */

#include "authorize.h"
#include "log.h"
#include "manager.h"

int authorize_unless_owner(Manager *m, sd_bus_message *message, const char *action, const char *what,
                           const char *const *details, uid_t owner, uid_t *ret_uid, sd_bus_error *error) {
        int r = polkit_verify_async(message, action, what, details, owner, &m->polkit, ret_uid, error);

        if (r < 0)
                log_debug("%s may not %s on %s: %s", strna(sd_bus_message_get_sender(message)), action,
                          what, error && error->message ? error->message : "denied");
        return r;
}

int authorize(Manager *m, sd_bus_message *message, const char *action, const char *what,
              const char *const *details, uid_t *ret_uid, sd_bus_error *error) {
        return authorize_unless_owner(m, message, action, what, details, (uid_t) -1, ret_uid, error);
}
