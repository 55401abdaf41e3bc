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

/* The caller's effective UID (from the bus, not augmented credentials). On a bus this is a
 * synchronous call to the bus daemon: the loop waits for it. */
int polkit_sender_uid(sd_bus_message *call, uid_t *ret);

/* The caller's effective UID as the message itself carries it (direct connections), never
 * augmented from /proc: -ENODATA when it carries none (every message from a bus daemon). */
int polkit_message_uid(sd_bus_message *call, uid_t *ret);

/* Asks the bus daemon for the UID of `call`'s sender (GetConnectionUnixUser) without waiting;
 * `callback` gets the answer, to be read with polkit_sender_uid_reply(). -ENXIO when the call
 * has no sender to ask about. */
int polkit_sender_uid_async(sd_bus_message *call, sd_bus_message_handler_t callback, void *userdata,
                            sd_bus_slot **ret_slot);
/* -ESRCH: the sender has left the bus. */
int polkit_sender_uid_reply(sd_bus_message *reply, uid_t *ret);

/* Drops every pending query (their calls get no reply: the daemon is going away). */
PolkitRegistry *polkit_registry_free(PolkitRegistry *r);
