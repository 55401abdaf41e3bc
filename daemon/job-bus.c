/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* job-bus.c: org.ldmd1.Job at /org/ldmd1/job/_<n> (IVdsAsync, [MS-VDS] §3.4.5.2.2): Cancel,
 * Wait (a deferred reply, each waiter tracked on the bus), QueryStatus and the properties,
 * through one fallback vtable whose find function looks the path up in the Manager's job
 * list; the output of Wait(); and the coalesced PropertiesChanged. */

#include <stdarg.h>

#include "authorize.h"
#include "errors.h"
#include "job.h"
#include "log.h"
#include "manager.h"
#include "peer.h"
#include "polkit.h"
#include "vds.h"

/* ---- waiters ---- */

struct JobWaiter {
        Job *job;
        JobWaiterList *list;       /* the job's `lookups` until the uid is known, then `waiters` */
        JobWaiter *next;
        sd_bus_message *call;
        PeerWatch *caller;         /* the waiter is forgotten when its caller leaves the bus */
        sd_bus_slot *uid_slot;     /* GetConnectionUnixUser in flight */
        uid_t uid;                 /* of the caller; (uid_t) -1 when unknown */
};

static void waiter_unlink(JobWaiter *w) {
        if (!w->list)
                return;
        for (JobWaiter **p = &w->list->head; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        w->list->n--;
                        break;
                }
        w->list = NULL;
        w->next = NULL;
}

static void waiter_link(JobWaiter *w, JobWaiterList *list) {
        w->next = list->head;
        list->head = w;
        list->n++;
        w->list = list;
}

/* Unlinks too; the uid lookup still in flight, if any, is cancelled with its slot. */
static JobWaiter *waiter_free(JobWaiter *w) {
        if (!w)
                return NULL;
        waiter_unlink(w);
        sd_bus_slot_unref(w->uid_slot);
        peer_watch_free(w->caller);
        sd_bus_message_unref(w->call);
        free(w);
        return NULL;
}

static void waiter_freep(JobWaiter **w) {
        waiter_free(*w);
}

static void waiter_on_gone(PeerWatch *watch, void *userdata) {
        JobWaiter *w = userdata;

        log_debug("A Wait() caller of %s left the bus; forgetting it.", w->job->path);
        waiter_free(w);
}

/* Anyone may Wait(), so no one may take every slot: callers other than root and the job's
 * starter share JOB_WAITERS_OTHERS_MAX of them, JOB_WAITERS_PER_UID each, which leaves the
 * starter's own `ldmctl recover` room whatever other users do. */
static bool waiter_admitted(const Job *j, uid_t uid) {
        unsigned others = 0, same = 0;

        if (j->waiters.n >= JOB_WAITERS_MAX)
                return false;
        if (uid == 0 || uid == j->uid)
                return true;
        for (const JobWaiter *w = j->waiters.head; w; w = w->next) {
                if (w->uid == 0 || w->uid == j->uid)
                        continue;
                others++;
                same += w->uid == uid;
        }
        return others < JOB_WAITERS_OTHERS_MAX && same < JOB_WAITERS_PER_UID;
}

static int waiter_busy_error(const Job *j, sd_bus_error *error) {
        return sd_bus_error_setf(error, LDMD_ERROR_BUSY,
                                 "Too many Wait() calls are pending on job %s (%u in all, of which this user may have %u).",
                                 j->path, j->waiters.n + j->lookups.n, JOB_WAITERS_PER_UID);
}

/* Moves `w` among the admitted waiters, or -E2BIG when the caps leave `uid` no room. */
static int waiter_admit(JobWaiter *w, uid_t uid) {
        Job *j = w->job;

        if (!waiter_admitted(j, uid))
                return -E2BIG;
        waiter_unlink(w);
        w->uid = uid;
        waiter_link(w, &j->waiters);
        return 0;
}

/* The bus daemon's answer about a waiter's caller: admit it, or refuse it as job_add_waiter()
 * would have. The job cannot have ended meanwhile: job_answer_waiters() answers, and frees,
 * the waiters still being looked up too. */
static int waiter_on_uid(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        JobWaiter *w = userdata;
        Job *j = w->job;
        uid_t uid;
        int r;

        w->uid_slot = sd_bus_slot_unref(w->uid_slot);
        r = polkit_sender_uid_reply(reply, &uid);
        if (r == -ESRCH) {
                /* Gone before its track could see it leave: nobody to answer. */
                log_debug("A Wait() caller of %s left the bus before it was identified; forgetting it.",
                          j->path);
                waiter_free(w);
                return 0;
        }
        if (r < 0) {
                log_debug_errno(r, "Cannot get the uid of a Wait() caller of %s, counting it with other users: %m",
                                j->path);
                uid = (uid_t) -1;
        }
        if (waiter_admit(w, uid) >= 0)
                return 0;
        (void) waiter_busy_error(j, &error);
        r = sd_bus_reply_method_error(w->call, &error);
        if (r < 0)
                log_debug_errno(r, "Failed to refuse a Wait() on %s: %m", j->path);
        waiter_free(w);
        return 0;
}

/* `check`: whether the caller's presence must be checked; not when its uid is asked of the
 * bus daemon next, which fails for a caller already gone (peer.h). */
static int waiter_new(Job *j, sd_bus_message *call, bool check, JobWaiter **ret) {
        _cleanup_(waiter_freep) JobWaiter *w = NULL;
        int r;

        w = calloc(1, sizeof(JobWaiter));
        if (!w)
                return -ENOMEM;
        w->job = j;
        w->uid = (uid_t) -1;
        w->call = sd_bus_message_ref(call);
        r = peer_watch_new(call, check, waiter_on_gone, w, &w->caller);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(w);
        return 0;
}

int job_add_waiter(Job *j, sd_bus_message *call) {
        _cleanup_(waiter_freep) JobWaiter *w = NULL;
        uid_t uid = (uid_t) -1;
        bool known;
        int r;

        /* A uid the message carries needs no question; else the bus daemon is asked without
         * waiting (a synchronous question would stall every client for a round trip). */
        known = polkit_message_uid(call, &uid) >= 0;
        if (known ? !waiter_admitted(j, uid) : j->lookups.n >= JOB_WAIT_LOOKUPS_MAX)
                return -E2BIG;

        r = waiter_new(j, call, known, &w);
        if (r < 0)
                return r;
        if (!known) {
                r = polkit_sender_uid_async(call, waiter_on_uid, w, &w->uid_slot);
                if (r >= 0) {
                        waiter_link(TAKE_PTR(w), &j->lookups);
                        return 0;
                }
                log_debug_errno(r, "Cannot ask for the uid of a Wait() caller of %s, counting it with other users: %m",
                                j->path);
        }
        r = waiter_admit(w, uid);
        if (r < 0)
                return r;
        TAKE_PTR(w);
        return 0;
}

/* Answers a Wait() call with the job's result. When the reply cannot be built the caller
 * still gets an answer, an error, instead of waiting for its timeout. */
static int job_reply_result(Job *j, sd_bus_message *call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = job_append_result(j, reply);
        if (r < 0) {
                log_warning_errno(r, "Failed to build the result of %s for a Wait(), answering with an error: %m",
                                  j->path);
                return sd_bus_reply_method_errorf(call, SD_BUS_ERROR_FAILED,
                                                  "The result of job %s cannot be sent: %s", j->path,
                                                  strerror(-r));
        }
        return sd_bus_send(NULL, reply, NULL);
}

static void waiters_answer(Job *j, JobWaiterList *list) {
        JobWaiter *w;

        while ((w = list->head)) {
                int r = job_reply_result(j, w->call);
                if (r < 0)
                        log_warning_errno(r, "Failed to answer a Wait() on %s: %m", j->path);
                waiter_free(w);
        }
}

void job_answer_waiters(Job *j) {
        waiters_answer(j, &j->waiters);
        /* Their uid no longer matters: every caller gets the result. */
        waiters_answer(j, &j->lookups);
}

/* ---- the output of Wait() ---- */

static int append_entry(sd_bus_message *m, const char *key, const char *type, ...) {
        va_list ap;
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(m, 's', key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', type);
        if (r >= 0) {
                va_start(ap, type);
                r = sd_bus_message_appendv(m, type, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

int job_append_result(Job *j, sd_bus_message *reply) {
        const RepairResult *res = &j->result;
        bool verify = j->operation == JOB_VERIFY;
        int r;

        r = sd_bus_message_append(reply, "u", job_hresult(j));
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        /* VDS_ASYNC_OUTPUT_TYPE ([MS-VDS] §2.2.1.2.x): RECOVERPACK for IVdsPack::Recover; a
         * scrub has no VDS type. */
        r = append_entry(reply, "type", "u", (uint32_t) (verify ? VDS_ASYNCOUT_UNKNOWN : VDS_ASYNCOUT_RECOVERPACK));
        if (r >= 0)
                r = append_entry(reply, "message", "s", j->message ?: "");
        if (r >= 0 && verify) {
                r = append_entry(reply, "mirror_mismatches", "t", res->mirror_mismatches);
                if (r >= 0)
                        r = append_entry(reply, "parity_mismatches", "t", res->parity_mismatches);
                /* What the scrub could not check (a plex or column on a missing disk). */
                if (r >= 0)
                        r = append_entry(reply, "remaining", "s", j->remaining ?: "");
        } else if (r >= 0) {
                r = append_entry(reply, "bytes_repaired", "t", res->bytes_repaired);
                if (r >= 0)
                        r = append_entry(reply, "bytes_resumed", "t", res->bytes_resumed);
                if (r >= 0)
                        r = append_entry(reply, "volumes_touched", "u", (uint32_t) res->volumes_touched);
                if (r >= 0)
                        r = append_entry(reply, "disks_synced", "u", (uint32_t) res->disks_synced);
                if (r >= 0)
                        r = append_entry(reply, "database_committed", "b", (int) res->database_committed);
                if (r >= 0)
                        r = append_entry(reply, "remaining", "s", j->remaining ?: "");
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* ---- change signals ---- */

static void job_emit(Job *j) {
        const char *names[12];
        size_t n = 0;
        unsigned c = j->pending_changes;

        j->pending_changes = 0;
        j->last_emit_usec = job_now_usec(CLOCK_MONOTONIC);
        if (c & JOB_CHANGE_STATE)
                names[n++] = "State";
        if (c & JOB_CHANGE_PERCENT)
                names[n++] = "Percent";
        if (c & JOB_CHANGE_BYTES_DONE)
                names[n++] = "BytesDone";
        if (c & JOB_CHANGE_BYTES_TOTAL)
                names[n++] = "BytesTotal";
        if (c & JOB_CHANGE_RATE)
                names[n++] = "Rate";
        if (c & JOB_CHANGE_END_TIME)
                names[n++] = "ExpectedEndTime";
        if (c & JOB_CHANGE_CANCELABLE)
                names[n++] = "Cancelable";
        if (c & JOB_CHANGE_HRESULT)
                names[n++] = "HResult";
        if (c & JOB_CHANGE_MESSAGE)
                names[n++] = "Message";
        names[n] = NULL;
        if (n > 0)
                (void) sd_bus_emit_properties_changed_strv(j->manager->bus, j->path, LDMD_JOB_INTERFACE,
                                                           (char **) names);
}

static int job_on_emit_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        job_emit(userdata);
        return 0;
}

void job_changed(Job *j, unsigned changes, bool now) {
        uint64_t t = job_now_usec(CLOCK_MONOTONIC), due = j->last_emit_usec + JOB_EMIT_INTERVAL_USEC;
        int r;

        j->pending_changes |= changes;
        if (now || t >= due) {
                if (j->emit_source)
                        (void) sd_event_source_set_enabled(j->emit_source, SD_EVENT_OFF);
                job_emit(j);
                return;
        }
        if (!j->emit_source) {
                r = sd_event_add_time(j->manager->event, &j->emit_source, CLOCK_MONOTONIC, due, 0,
                                      job_on_emit_timer, j);
                if (r < 0) {
                        job_emit(j);
                        return;
                }
                (void) sd_event_source_set_description(j->emit_source, "job-emit");
                return;
        }
        int enabled = SD_EVENT_OFF;
        (void) sd_event_source_get_enabled(j->emit_source, &enabled);
        if (enabled != SD_EVENT_OFF)
                return; /* already due */
        (void) sd_event_source_set_time(j->emit_source, due);
        (void) sd_event_source_set_enabled(j->emit_source, SD_EVENT_ONESHOT);
}

void job_free_waiters(Job *j) {
        while (j->waiters.head)
                waiter_free(j->waiters.head);
        while (j->lookups.head)
                waiter_free(j->lookups.head);
}

static int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                           void **found, sd_bus_error *error) {
        Job *j = manager_find_job(userdata, path);

        if (!j)
                return 0;
        *found = j;
        return 1;
}

static int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                               sd_bus_error *error) {
        return manager_job_paths(userdata, nodes);
}

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        const char *details[] = { "job", j->path, "pack", j->pack_name, NULL };
        int r;

        /* Refreshing: the work is over and its result stands ([MS-VDS] IVdsAsync::Cancel).
         * A call back from its check whose job ended meanwhile leaves the verdict unread. */
        if (j->state == JOB_DONE || j->refreshing) {
                polkit_forget(j->manager->polkit, msg);
                return sd_bus_error_setf(error, LDMD_ERROR_CANCEL_TOO_LATE,
                                         "Job %s (%s of pack %s) has already finished.", j->path,
                                         job_operation_to_string(j->operation), j->pack_name);
        }
        /* The starter may always cancel its own job; anyone else needs cancel-other. */
        r = authorize_unless_owner(j->manager, msg, LDMD_ACTION_CANCEL_OTHER, j->path, details, j->uid,
                                   NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: the bus or polkit is asked, the call comes back */
        /* The job may have ended while the bus or polkit was asked. */
        if (j->state == JOB_DONE || j->refreshing)
                return sd_bus_error_setf(error, LDMD_ERROR_CANCEL_TOO_LATE,
                                         "Job %s has already finished.", j->path);
        log_info("%s cancelled by %s.", j->path, strna(sd_bus_message_get_sender(msg)));
        job_cancel(j);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_wait(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        int r;

        if (j->state != JOB_DONE) {
                r = job_add_waiter(j, msg);
                if (r == -E2BIG)
                        return waiter_busy_error(j, error);
                return r < 0 ? r : 1; /* answered when the job ends */
        }
        return job_reply_result(j, msg);
}

static int method_query_status(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        return sd_bus_reply_method_return(msg, "uu", job_hresult(j), job_percent(j));
}

static int property_get_operation(sd_bus *bus, const char *path, const char *interface,
                                  const char *property, sd_bus_message *reply, void *userdata,
                                  sd_bus_error *error) {
        Job *j = userdata;
        return sd_bus_message_append(reply, "s", job_operation_to_string(j->operation));
}

static int property_get_state(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error) {
        Job *j = userdata;
        return sd_bus_message_append(reply, "s", job_state_to_string(j->state));
}

static int property_get_percent(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error) {
        return sd_bus_message_append(reply, "u", job_percent(userdata));
}

static int property_get_hresult(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error) {
        return sd_bus_message_append(reply, "u", job_hresult(userdata));
}

static int property_get_cancelable(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error) {
        Job *j = userdata;
        /* Not while refreshing: the work is over, its result stands. */
        return sd_bus_message_append(reply, "b", (int) ((j->state == JOB_QUEUED || j->state == JOB_RUNNING) &&
                                                        !j->refreshing));
}

static int property_get_message(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error) {
        Job *j = userdata;
        return sd_bus_message_append(reply, "s", j->message ?: "");
}

static int property_get_uid(sd_bus *bus, const char *path, const char *interface,
                            const char *property, sd_bus_message *reply, void *userdata,
                            sd_bus_error *error) {
        Job *j = userdata;
        return sd_bus_message_append(reply, "u", (uint32_t) j->uid);
}

/* Reads need no authorisation (dbus-api.md): everything is UNPRIVILEGED for sd-bus, and
 * Cancel decides itself. */
const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Operation", "s", property_get_operation, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Object", "o", NULL, offsetof(Job, object), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Percent", "u", property_get_percent, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BytesDone", "t", NULL, offsetof(Job, bytes_done), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BytesTotal", "t", NULL, offsetof(Job, bytes_total), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Rate", "t", NULL, offsetof(Job, rate), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StartTime", "t", NULL, offsetof(Job, start_time), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExpectedEndTime", "t", NULL, offsetof(Job, expected_end_time), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StartedByUID", "u", property_get_uid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Cancelable", "b", property_get_cancelable, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HResult", "u", property_get_hresult, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Message", "s", property_get_message, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                                method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Wait", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", hresult, "a{sv}", output),
                                method_wait, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("QueryStatus", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", hresult, "u", percent),
                                method_query_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Completed", SD_BUS_ARGS("u", hresult, "s", message), 0),
        SD_BUS_VTABLE_END,
};

int job_object_register(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, LDMD_JOB_PREFIX, LDMD_JOB_INTERFACE, job_vtable,
                                       job_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, LDMD_JOB_PREFIX, job_node_enumerator, m);
}
