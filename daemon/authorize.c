/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* authorize.c: caller authorisation (see authorize.h) through polkit, asynchronously
 * (daemon/polkit.c). The uid comes from the bus (the dbus-daemon's view of the peer), never
 * from the message body nor from /proc. */

#include "authorize.h"
#include "log.h"
#include "manager.h"

int authorize(Manager *m, sd_bus_message *message, const char *action, const char *what,
              const char *const *details, sd_bus_error *error) {
        int r = polkit_verify_async(message, action, what, details, &m->polkit, error);

        if (r < 0)
                log_debug("%s may not %s on %s: %s", strna(sd_bus_message_get_sender(message)), action,
                          what, error && error->message ? error->message : "denied");
        return r;
}
