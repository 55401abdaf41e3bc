/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* polkit.h: asynchronous polkit authorisation of D-Bus method calls. A method handler asks
 * polkit_verify_async(); the first time it starts a CheckAuthorization call and returns 0
 * (the handler returns without replying); when polkitd answers, the original call is queued
 * again and the handler runs a second time, now getting the decision. Root (and the daemon's own
 * user) is always allowed; without polkitd on the bus nobody else is. */

#include <stdbool.h>
#include <systemd/sd-bus.h>

typedef struct PolkitRegistry PolkitRegistry;

/* Returns 1 when the caller is authorised, 0 when a query was started (return 1 from the
 * handler without replying; it is called again later), or a negative errno with *error set
 * (org.ldmd1.Error.NotAuthorized, or InteractiveAuthorizationRequired when polkit wants an
 * authentication the caller did not allow); `what` names the object in error messages.
 * details: NULL or a NULL-terminated key/value
 * list shown by authentication agents. */
int polkit_verify_async(sd_bus_message *call, const char *action, const char *what,
                        const char *const *details, PolkitRegistry **registry, sd_bus_error *error);

/* The caller's effective UID (from the bus, not augmented credentials). */
int polkit_sender_uid(sd_bus_message *call, uid_t *ret);

/* Drops every pending query (their calls get no reply: the daemon is going away). */
PolkitRegistry *polkit_registry_free(PolkitRegistry *r);
