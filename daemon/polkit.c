/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* polkit.c: asynchronous polkit checks (see polkit.h), systemd's bus_verify_polkit_async()
 * pattern: one PolkitQuery per method call being authorised, keyed by the call's message;
 * polkitd's answer re-queues the call (sd_bus_enqueue_for_read), and the handler's second
 * run collects the decision. */

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "macro.h"
#include "polkit.h"

#define POLKIT_MAX_PENDING 128
#define POLKIT_TIMEOUT_USEC (25ULL * 1000000ULL)
/* An authentication dialog waits for a human. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (300ULL * 1000000ULL)

typedef struct PolkitQuery PolkitQuery;
struct PolkitQuery {
        PolkitRegistry *registry;
        PolkitQuery *next;
        sd_bus_message *request;  /* the call being authorised */
        sd_bus_message *reply;    /* polkitd's answer, once it came */
        sd_bus_slot *slot;
        char *action;
        uint64_t answered_usec;   /* CLOCK_MONOTONIC, 0 while pending */
};

struct PolkitRegistry {
        PolkitQuery *queries;
        size_t n_queries;
};

static PolkitQuery *query_free(PolkitQuery *q) {
        if (!q)
                return NULL;
        if (q->registry) {
                for (PolkitQuery **p = &q->registry->queries; *p; p = &(*p)->next)
                        if (*p == q) {
                                *p = q->next;
                                q->registry->n_queries--;
                                break;
                        }
        }
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        sd_bus_message_unref(q->reply);
        free(q->action);
        free(q);
        return NULL;
}

PolkitRegistry *polkit_registry_free(PolkitRegistry *r) {
        if (!r)
                return NULL;
        while (r->queries)
                query_free(r->queries);
        free(r);
        return NULL;
}

int polkit_sender_uid(sd_bus_message *call, uid_t *ret) {
        sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        /* Augmented credentials come from /proc and can be raced: never decide on them. */
        if (sd_bus_creds_get_augmented_mask(creds) & SD_BUS_CREDS_EUID) {
                sd_bus_creds_unref(creds);
                return -EPERM;
        }
        r = sd_bus_creds_get_euid(creds, &uid);
        sd_bus_creds_unref(creds);
        if (r < 0)
                return r;
        *ret = uid;
        return 0;
}

int polkit_message_uid(sd_bus_message *call, uid_t *ret) {
        sd_bus_creds *creds = sd_bus_message_get_creds(call);
        uid_t uid;
        int r;

        /* Messages from a bus daemon carry none; a direct peer's carry its SO_PEERCRED. */
        if (!creds || !(sd_bus_creds_get_mask(creds) & SD_BUS_CREDS_EUID))
                return -ENODATA;
        if (sd_bus_creds_get_augmented_mask(creds) & SD_BUS_CREDS_EUID)
                return -EPERM;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return r;
        *ret = uid;
        return 0;
}

int polkit_sender_uid_async(sd_bus_message *call, sd_bus_message_handler_t callback, void *userdata,
                            sd_bus_slot **ret_slot) {
        const char *sender = sd_bus_message_get_sender(call);

        if (!sender)
                return -ENXIO;
        /* The bus daemon's own record of the peer (SO_PEERCRED at connect), as
         * sd_bus_query_sender_creds() would get it, but without blocking the loop. */
        return sd_bus_call_method_async(sd_bus_message_get_bus(call), ret_slot, "org.freedesktop.DBus",
                                        "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                        "GetConnectionUnixUser", callback, userdata, "s", sender);
}

int polkit_sender_uid_reply(sd_bus_message *reply, uid_t *ret) {
        uint32_t uid;
        int r;

        if (sd_bus_message_is_method_error(reply, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                return -ESRCH;
        if (sd_bus_message_is_method_error(reply, NULL))
                return -sd_bus_message_get_errno(reply) ?: -EIO;
        r = sd_bus_message_read(reply, "u", &uid);
        if (r < 0)
                return r;
        if (uid == (uint32_t) -1)
                return -EINVAL;
        *ret = (uid_t) uid;
        return 0;
}

static PolkitQuery *registry_find(PolkitRegistry *reg, sd_bus_message *call) {
        for (PolkitQuery *q = reg ? reg->queries : NULL; q; q = q->next)
                if (q->request == call)
                        return q;
        return NULL;
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int deny(sd_bus_error *error, const char *action, const char *what, const char *why) {
        return sd_bus_error_setf(error, LDMD_ERROR_NOT_AUTHORIZED, "Not authorized to perform %s on %s%s%s.",
                                 action, what ?: "this object", why ? ": " : "", why ?: "");
}

/* An answered query whose call was never dispatched again (the handler failed before asking,
 * e.g. its object vanished) would stay for ever: drop such leftovers. */
static void registry_sweep(PolkitRegistry *reg) {
        uint64_t now = now_usec();
        PolkitQuery *q = reg ? reg->queries : NULL;

        while (q) {
                PolkitQuery *next = q->next;
                if (q->answered_usec > 0 && now - q->answered_usec > POLKIT_TIMEOUT_USEC)
                        query_free(q);
                q = next;
        }
}

/* Turns polkitd's answer into the decision for the re-dispatched call. */
static int query_decide(PolkitQuery *q, const char *what, sd_bus_error *error) {
        const sd_bus_error *e;
        int authorized, challenge, r;

        e = sd_bus_message_get_error(q->reply);
        if (e) {
                /* No polkitd (or it failed): only root may act, and root was let in already. */
                if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                           SD_BUS_ERROR_ACCESS_DENIED))
                        return deny(error, q->action, what, "polkit is not available, only root may");
                return sd_bus_error_setf(error, LDMD_ERROR_NOT_AUTHORIZED,
                                         "Authorization check for %s on %s failed: %s", q->action,
                                         what ?: "this object", e->message);
        }

        r = sd_bus_message_enter_container(q->reply, 'r', "bba{ss}");
        if (r < 0)
                return r;
        r = sd_bus_message_read(q->reply, "bb", &authorized, &challenge);
        if (r < 0)
                return r;
        if (authorized)
                return 1;
        /* A challenge means an agent could have asked the user: say so when the caller did
         * not allow that; when it did, the user was asked and said no. */
        if (challenge && !sd_bus_message_get_allow_interactive_authorization(q->request))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                         "Interactive authentication required for %s on %s.", q->action,
                                         what ?: "this object");
        return deny(error, q->action, what, NULL);
}

static int query_answered(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->reply = sd_bus_message_ref(reply);
        q->answered_usec = now_usec();

        /* Run the original method again; this time polkit_verify_async() finds the answer. */
        r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0) {
                (void) sd_bus_reply_method_errnof(q->request, r, "Cannot dispatch authorised call: %m");
                query_free(q);
        }
        return 1;
}

static int query_start(sd_bus_message *call, const char *action, const char *const *details,
                       PolkitRegistry *reg) {
        sd_bus_message *m = NULL;
        PolkitQuery *q = NULL;
        bool interactive;
        int r;

        if (reg->n_queries >= POLKIT_MAX_PENDING)
                return -EBUSY;

        interactive = sd_bus_message_get_allow_interactive_authorization(call) > 0;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->action = strdup(action);
        if (!q->action) {
                free(q);
                return -ENOMEM;
        }

        r = sd_bus_message_new_method_call(sd_bus_message_get_bus(call), &m,
                                           "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority",
                                           "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sa{sv})s", "system-bus-name", 1, "name", "s",
                                          sd_bus_message_get_sender(call), action);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{ss}");
        for (size_t i = 0; r >= 0 && details && details[i] && details[i + 1]; i += 2)
                r = sd_bus_message_append(m, "{ss}", details[i], details[i + 1]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "us", (uint32_t) (interactive ? 1 : 0), "");
        if (r >= 0)
                r = sd_bus_call_async(sd_bus_message_get_bus(call), &q->slot, m, query_answered, q,
                                      interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : POLKIT_TIMEOUT_USEC);
        sd_bus_message_unref(m);
        if (r < 0) {
                query_free(q);
                return r;
        }

        q->request = sd_bus_message_ref(call);
        q->registry = reg;
        q->next = reg->queries;
        reg->queries = q;
        reg->n_queries++;
        return 0;
}

int polkit_verify_async(sd_bus_message *call, const char *action, const char *what,
                        const char *const *details, PolkitRegistry **registry, sd_bus_error *error) {
        PolkitQuery *q;
        uid_t uid;
        int r;

        r = polkit_sender_uid(call, &uid);
        if (r < 0)
                return deny(error, action, what, "cannot identify the caller");
        /* Root, or the daemon's own user (a daemon on a private or user bus, as in the demo
         * and the tests): such a caller could open the disks itself anyway. */
        if (uid == 0 || uid == geteuid())
                return 1;

        q = registry_find(*registry, call);
        if (q) {
                if (!q->reply)
                        return 0; /* still waiting; should not be dispatched twice */
                r = query_decide(q, what, error);
                query_free(q);
                return r;
        }
        registry_sweep(*registry);

        if (!*registry) {
                *registry = calloc(1, sizeof(**registry));
                if (!*registry)
                        return -ENOMEM;
        }
        r = query_start(call, action, details, *registry);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, LDMD_ERROR_BUSY,
                                         "Too many authorization checks are pending; try again later.");
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot ask polkit about %s: %m", action);
        return 0;
}
