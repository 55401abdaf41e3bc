/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* authorize.h: the one place that decides whether a bus caller may perform a polkit action
 * (org.ldmd1.recover, org.ldmd1.cancel-other, org.ldmd1.manage): root always, others as
 * polkit says (asynchronously, systemd's bus_verify_polkit_async() shape), nobody but root
 * when polkitd is absent. A method handler calls authorize() first and returns at once
 * unless it got 1. */

#include <systemd/sd-bus.h>

struct Manager;

#define LDMD_ACTION_RECOVER      "org.ldmd1.recover"
#define LDMD_ACTION_CANCEL_OTHER "org.ldmd1.cancel-other"
#define LDMD_ACTION_MANAGE       "org.ldmd1.manage"

/* Returns 1 when the caller of `message` may do `action` (go on), with *ret_uid (may be NULL)
 * set to the caller's uid; 0 when the answer is pending and the method will be dispatched
 * again once it is known (the handler returns 1 then, replying nothing yet); a negative
 * errno with `error` set to org.ldmd1.Error.NotAuthorized naming the action and `what` (the
 * object) when the caller may not. `details` (NULL-terminated key/value pairs, may be NULL)
 * are for polkit's dialog. Even root's calls may come back later: who the caller is, is
 * asked of the bus daemon without waiting. */
int authorize(struct Manager *m, sd_bus_message *message, const char *action, const char *what,
              const char *const *details, uid_t *ret_uid, sd_bus_error *error);
/* The same, with `owner` (a job's starter) allowed without polkit too. */
int authorize_unless_owner(struct Manager *m, sd_bus_message *message, const char *action,
                           const char *what, const char *const *details, uid_t owner, uid_t *ret_uid,
                           sd_bus_error *error);
