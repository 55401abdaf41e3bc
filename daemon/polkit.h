/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* polkit.h: asynchronous polkit authorisation of D-Bus method calls. A method handler asks
 * polkit_verify_async(); the first time it asks the bus daemon who the caller is and, unless
 * that settles it, polkitd, and returns 0 (the handler returns without replying); when the
 * verdict is known, the original call is queued again and the handler runs a second time,
 * now getting the decision and the caller's uid. Root (and the daemon's own user) is always
 * allowed; without polkitd on the bus nobody else is. The loop never waits for either. */

#include <stdbool.h>
#include <systemd/sd-bus.h>

typedef struct PolkitRegistry PolkitRegistry;

/* Returns 1 when the caller is authorised, with *ret_uid (may be NULL) set to its uid as the
 * bus daemon (or a direct peer's message) gives it, never /proc; 0 when a query was started
 * (return 1 from the handler without replying; it is called again later), or a negative
 * errno with *error set (org.ldmd1.Error.NotAuthorized, also when the caller cannot be
 * identified; InteractiveAuthorizationRequired when polkit wants an authentication the
 * caller did not allow; Busy when too many queries are pending); `what` names the object
 * in error messages. details: NULL or a NULL-terminated key/value list shown by
 * authentication agents. allowed_uid: a uid allowed without polkit besides root (a job's
 * starter), or (uid_t) -1. */
int polkit_verify_async(sd_bus_message *call, const char *action, const char *what,
                        const char *const *details, uid_t allowed_uid, PolkitRegistry **registry,
                        uid_t *ret_uid, sd_bus_error *error);

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

/* Drops the decided query of `call`, for a handler that answers a call come back from its
 * check without collecting the verdict (Cancel of a job that ended meanwhile): else it would
 * count against the limits until the sweep, 25 s later. NULL-safe. */
void polkit_forget(PolkitRegistry *registry, sd_bus_message *call);

/* Drops every pending query (their calls get no reply: the daemon is going away). */
PolkitRegistry *polkit_registry_free(PolkitRegistry *r);
