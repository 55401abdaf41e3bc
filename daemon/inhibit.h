/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* inhibit.h: a logind "shutdown:sleep" block inhibitor held while a repair job writes, so
 * that a shutdown or suspend waits for it (org.freedesktop.login1.Manager.Inhibit). Taken
 * asynchronously: the loop never waits for logind, and where logind is absent (containers,
 * test buses) the job carries on without one. */

#include <systemd/sd-bus.h>

typedef struct Inhibitor {
        sd_bus_slot *slot;         /* the pending Inhibit() call */
        int fd;                    /* the inhibitor, -EBADF when none */
} Inhibitor;

#define INHIBITOR_NULL ((Inhibitor) { .fd = -EBADF })

/* Asks logind for an inhibitor with the reason `why`. Failures are logged at debug level
 * only: an absent logind is normal. */
void inhibitor_take(Inhibitor *i, sd_bus *bus, const char *why);
/* Drops the inhibitor (or the pending request). */
void inhibitor_release(Inhibitor *i);
