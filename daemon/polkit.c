/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* polkit.c: asynchronous polkit checks (see polkit.h), systemd's bus_verify_polkit_async()
 * pattern: one PolkitQuery per method call being authorised, keyed by the call's message.
 * A query first asks the bus daemon who the caller is (GetConnectionUnixUser), then, unless
 * that settles it, polkitd; the verdict re-queues the call (sd_bus_enqueue_for_read), and the
 * handler's second run collects it, with the caller's uid. Nothing here waits. */

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "macro.h"
#include "peer.h"
#include "polkit.h"

/* Queries asking polkitd (the limit a flood of unprivileged calls meets first), and queries
 * in all, those still asking the bus daemon who the caller is included: memory stays bounded,
 * and root's calls, which never reach polkitd, still find room while polkitd hangs. */
#define POLKIT_MAX_PENDING 128
#define POLKIT_MAX_QUERIES 256
#define POLKIT_TIMEOUT_USEC (25ULL * 1000000ULL)
/* An authentication dialog waits for a human. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (300ULL * 1000000ULL)

typedef enum QueryState {
        QUERY_LOOKUP,   /* the bus daemon is asked for the caller's uid */
        QUERY_POLKIT,   /* polkitd is asked */
        QUERY_DECIDED,  /* the call is dispatched again to collect the verdict */
} QueryState;

typedef enum QueryVerdict {
        VERDICT_ALLOWED,      /* root, the daemon's user or the query's allowed uid */
        VERDICT_POLKIT,       /* polkitd's answer is in `reply` */
        VERDICT_UNIDENTIFIED, /* the bus daemon could not say who the caller is */
        VERDICT_BUSY,         /* too many queries ask polkitd already */
        VERDICT_FAILED,       /* polkitd could not be asked: `error` */
} QueryVerdict;

typedef struct PolkitQuery PolkitQuery;
struct PolkitQuery {
        PolkitRegistry *registry;
        PolkitQuery *next;
        sd_bus_message *request;  /* the call being authorised */
        sd_bus_message *check;    /* CheckAuthorization, built at once: `details` are not kept */
        sd_bus_message *reply;    /* polkitd's answer, once it came */
        sd_bus_slot *slot;        /* the uid lookup, then CheckAuthorization, in flight */
        PeerWatch *caller;        /* the query is dropped when the caller leaves the bus */
        char *action;
        QueryState state;
        QueryVerdict verdict;
        int error;                /* VERDICT_FAILED: negative errno */
        bool asks_polkit;         /* counted in the registry's n_checks */
        uid_t uid;                /* the caller's, from the bus daemon */
        uid_t allowed_uid;        /* allowed without polkit (a job's starter), or (uid_t) -1 */
        uint64_t answered_usec;   /* CLOCK_MONOTONIC when decided, 0 before */
};

struct PolkitRegistry {
        PolkitQuery *queries;
        size_t n_queries;
        size_t n_checks;          /* queries that asked polkitd, until collected */
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
                if (q->asks_polkit)
                        q->registry->n_checks--;
        }
        /* Unref'ing the slot cancels a question in flight: its callback never runs. */
        sd_bus_slot_unref(q->slot);
        peer_watch_free(q->caller);
        sd_bus_message_unref(q->request);
        sd_bus_message_unref(q->check);
        sd_bus_message_unref(q->reply);
        free(q->action);
        free(q);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(PolkitQuery *, query_free);

PolkitRegistry *polkit_registry_free(PolkitRegistry *r) {
        if (!r)
                return NULL;
        while (r->queries)
                query_free(r->queries);
        free(r);
        return NULL;
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

static int busy(sd_bus_error *error) {
        return sd_bus_error_setf(error, LDMD_ERROR_BUSY,
                                 "Too many authorization checks are pending; try again later.");
}

/* Root, or the daemon's own user (a daemon on a private or user bus, as in the demo and the
 * tests: such a caller could open the disks itself anyway), or the uid the handler allows. */
static bool uid_allowed(uid_t uid, uid_t allowed_uid) {
        return uid == 0 || uid == geteuid() || (allowed_uid != (uid_t) -1 && uid == allowed_uid);
}

/* A decided query whose call was never dispatched again (the handler failed before asking,
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
static int query_decide_polkit(PolkitQuery *q, const char *what, sd_bus_error *error) {
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

static int query_decide(PolkitQuery *q, const char *what, sd_bus_error *error) {
        switch (q->verdict) {
        case VERDICT_ALLOWED:
                return 1;
        case VERDICT_POLKIT:
                return query_decide_polkit(q, what, error);
        case VERDICT_UNIDENTIFIED:
                return deny(error, q->action, what, "cannot identify the caller");
        case VERDICT_BUSY:
                return busy(error);
        case VERDICT_FAILED:
                return sd_bus_error_set_errnof(error, q->error, "Cannot ask polkit about %s: %m", q->action);
        }
        return -EINVAL;
}

/* Records the verdict and runs the original method again: this time polkit_verify_async()
 * finds it. Called from the callbacks of the questions in flight. */
static void query_decided(PolkitQuery *q, QueryVerdict verdict) {
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->state = QUERY_DECIDED;
        q->verdict = verdict;
        q->answered_usec = now_usec();

        r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0) {
                (void) sd_bus_reply_method_errnof(q->request, r, "Cannot dispatch authorised call: %m");
                query_free(q);
        }
}

static int query_on_polkit(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;

        q->reply = sd_bus_message_ref(reply);
        query_decided(q, VERDICT_POLKIT);
        return 0;
}

/* Sends the CheckAuthorization built when the query was made; -EBUSY when too many queries
 * ask polkitd already. */
static int query_ask_polkit(PolkitQuery *q) {
        PolkitRegistry *reg = q->registry;
        bool interactive = sd_bus_message_get_allow_interactive_authorization(q->request) > 0;
        int r;

        if (reg->n_checks >= POLKIT_MAX_PENDING)
                return -EBUSY;
        r = sd_bus_call_async(sd_bus_message_get_bus(q->request), &q->slot, q->check, query_on_polkit, q,
                              interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : POLKIT_TIMEOUT_USEC);
        if (r < 0)
                return r;
        q->check = sd_bus_message_unref(q->check);
        q->state = QUERY_POLKIT;
        q->asks_polkit = true;
        reg->n_checks++;
        return 0;
}

/* The bus daemon's answer about the caller: allowed at once, or polkitd is asked. A failed
 * lookup denies; a caller that has left is forgotten (there is nobody to answer). */
static int query_on_uid(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        uid_t uid;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        r = polkit_sender_uid_reply(reply, &uid);
        if (r == -ESRCH) {
                log_debug("%s left the bus before it was identified; dropping its %s check.",
                          strna(sd_bus_message_get_sender(q->request)), q->action);
                query_free(q);
                return 0;
        }
        if (r < 0) {
                log_debug_errno(r, "Cannot get the uid of %s, denying %s: %m",
                                strna(sd_bus_message_get_sender(q->request)), q->action);
                query_decided(q, VERDICT_UNIDENTIFIED);
                return 0;
        }
        q->uid = uid;
        if (uid_allowed(uid, q->allowed_uid)) {
                query_decided(q, VERDICT_ALLOWED);
                return 0;
        }
        r = query_ask_polkit(q);
        if (r == -EBUSY)
                query_decided(q, VERDICT_BUSY);
        else if (r < 0) {
                q->error = r;
                query_decided(q, VERDICT_FAILED);
        }
        return 0;
}

static int check_message_new(sd_bus_message *call, const char *action, const char *const *details,
                             sd_bus_message **ret) {
        sd_bus_message *m = NULL;
        bool interactive = sd_bus_message_get_allow_interactive_authorization(call) > 0;
        int r;

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
        if (r < 0) {
                sd_bus_message_unref(m);
                return r;
        }
        *ret = m;
        return 0;
}

/* Nobody is left to act for, nor to answer: whatever polkitd says, the call is not run.
 * Decided already, the call comes back, and finds its caller gone when it asks again. */
static void query_on_caller_gone(PeerWatch *w, void *userdata) {
        PolkitQuery *q = userdata;

        log_debug("%s left the bus while its %s check was pending; dropping the check.",
                  strna(sd_bus_message_get_sender(q->request)), q->action);
        query_free(q);
}

/* Makes a query for `call` and links it into the registry; nothing is asked yet. */
static int query_new(PolkitRegistry *reg, sd_bus_message *call, const char *action,
                     const char *const *details, uid_t allowed_uid, PolkitQuery **ret) {
        _cleanup_(query_freep) PolkitQuery *q = NULL;
        int r;

        if (reg->n_queries >= POLKIT_MAX_QUERIES)
                return -EBUSY;
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (PolkitQuery) {
                .request = sd_bus_message_ref(call),
                .uid = (uid_t) -1,
                .allowed_uid = allowed_uid,
        };
        q->action = strdup(action);
        if (!q->action)
                return -ENOMEM;
        r = check_message_new(call, action, details, &q->check);
        if (r < 0)
                return r;

        q->registry = reg;
        q->next = reg->queries;
        reg->queries = q;
        reg->n_queries++;
        *ret = TAKE_PTR(q);
        return 0;
}

/* Starts the first question of a query: who the caller is (unless the message said, `uid`),
 * or, for a caller known to need it, polkitd's answer. */
static int query_start(PolkitRegistry *reg, sd_bus_message *call, const char *action,
                       const char *const *details, uid_t allowed_uid, uid_t uid) {
        PolkitQuery *q;
        int r;

        r = query_new(reg, call, action, details, allowed_uid, &q);
        if (r < 0)
                return r;
        q->uid = uid;
        if (uid != (uid_t) -1)
                r = query_ask_polkit(q);
        else {
                /* Subscribed before the uid is asked: a caller gone before the subscription
                 * took effect makes that question fail (NameHasNoOwner), no check needed. */
                r = peer_watch_new(call, false, query_on_caller_gone, q, &q->caller);
                if (r >= 0)
                        r = polkit_sender_uid_async(call, query_on_uid, q, &q->slot);
        }
        if (r < 0)
                query_free(q);
        return r;
}

/* The re-dispatched call collects its verdict; the query is done with. */
static int query_collect(PolkitQuery *q, const char *what, uid_t *ret_uid, sd_bus_error *error) {
        int r;

        if (q->state != QUERY_DECIDED)
                return 0; /* still waiting; should not be dispatched twice */
        r = query_decide(q, what, error);
        if (r > 0 && ret_uid)
                *ret_uid = q->uid;
        query_free(q);
        return r;
}

void polkit_forget(PolkitRegistry *registry, sd_bus_message *call) {
        PolkitQuery *q = registry_find(registry, call);

        /* One still asking is left alone: its answer re-dispatches the call. */
        if (q && q->state == QUERY_DECIDED)
                query_free(q);
}

int polkit_verify_async(sd_bus_message *call, const char *action, const char *what,
                        const char *const *details, uid_t allowed_uid, PolkitRegistry **registry,
                        uid_t *ret_uid, sd_bus_error *error) {
        PolkitQuery *q;
        uid_t uid = (uid_t) -1;
        int r;

        q = registry_find(*registry, call);
        if (q)
                return query_collect(q, what, ret_uid, error);

        /* A direct peer's message carries its uid (never augmented from /proc): no question.
         * Else the bus daemon is asked without waiting: a synchronous question would stall
         * every client for a round trip, and anyone may call. */
        if (polkit_message_uid(call, &uid) >= 0 && uid_allowed(uid, allowed_uid)) {
                if (ret_uid)
                        *ret_uid = uid;
                return 1;
        }

        registry_sweep(*registry);
        if (!*registry) {
                *registry = calloc(1, sizeof(**registry));
                if (!*registry)
                        return -ENOMEM;
        }
        r = query_start(*registry, call, action, details, allowed_uid, uid);
        if (r == -EBUSY)
                return busy(error);
        if (r == -ENXIO) /* no sender to ask about */
                return deny(error, action, what, "cannot identify the caller");
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot ask polkit about %s: %m", action);
        return 0;
}
