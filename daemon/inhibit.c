/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* inhibit.c: the logind inhibitor of a job (see inhibit.h). */

#include <fcntl.h>
#include <unistd.h>

#include "inhibit.h"
#include "log.h"

static int inhibitor_on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Inhibitor *i = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int fd, r;

        i->slot = sd_bus_slot_unref(i->slot);
        if (e) {
                log_debug("No shutdown inhibitor (%s), carrying on without one.", e->message);
                return 0;
        }
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return log_debug_errno(r, "Bad reply to Inhibit(), carrying on without an inhibitor: %m"), 0;
        /* The message owns fd: keep a copy of our own. */
        i->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (i->fd < 0)
                i->fd = -EBADF;
        log_debug("Holding a shutdown inhibitor.");
        return 0;
}

void inhibitor_take(Inhibitor *i, sd_bus *bus, const char *why) {
        int r;

        inhibitor_release(i);
        r = sd_bus_call_method_async(bus, &i->slot, "org.freedesktop.login1", "/org/freedesktop/login1",
                                     "org.freedesktop.login1.Manager", "Inhibit", inhibitor_on_reply, i,
                                     "ssss", "shutdown:sleep", "ldmd", why, "block");
        if (r < 0)
                log_debug_errno(r, "Failed to ask logind for an inhibitor, carrying on without one: %m");
}

void inhibitor_release(Inhibitor *i) {
        i->slot = sd_bus_slot_unref(i->slot);
        if (i->fd >= 0)
                close(i->fd);
        i->fd = -EBADF;
}
