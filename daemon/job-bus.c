/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* job-bus.c: org.ldmd1.Job at /org/ldmd1/job/_<n> (IVdsAsync, [MS-VDS] §3.4.5.2.2): Cancel,
 * Wait (a deferred reply), QueryStatus and the properties, through one fallback vtable whose
 * find function looks the path up in the Manager's job list. */

#include "authorize.h"
#include "errors.h"
#include "job.h"
#include "log.h"
#include "manager.h"
#include "vds.h"

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
        uid_t uid;
        int r;

        if (j->state == JOB_DONE)
                return sd_bus_error_setf(error, LDMD_ERROR_CANCEL_TOO_LATE,
                                         "Job %s (%s of pack %s) has already finished.", j->path,
                                         job_operation_to_string(j->operation), j->pack_name);
        /* The starter may always cancel its own job; anyone else needs cancel-other. */
        r = polkit_sender_uid(msg, &uid);
        if (r < 0 || uid != j->uid) {
                const char *details[] = { "job", j->path, "pack", j->pack_name, NULL };
                r = authorize(j->manager, msg, LDMD_ACTION_CANCEL_OTHER, j->path, details, error);
                if (r <= 0)
                        return r < 0 ? r : 1;
                /* The job may have ended while polkit was asked. */
                if (j->state == JOB_DONE)
                        return sd_bus_error_setf(error, LDMD_ERROR_CANCEL_TOO_LATE,
                                                 "Job %s has already finished.", j->path);
        }
        log_info("%s cancelled by %s.", j->path, strna(sd_bus_message_get_sender(msg)));
        job_cancel(j);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_wait(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Job *j = userdata;
        int r;

        if (j->state != JOB_DONE) {
                r = job_add_waiter(j, msg);
                if (r == -E2BIG)
                        return sd_bus_error_setf(error, LDMD_ERROR_BUSY,
                                                 "Already %u Wait() calls are pending on job %s.",
                                                 JOB_WAITERS_MAX, j->path);
                return r < 0 ? r : 1; /* answered when the job ends */
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = job_append_result(j, reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
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
        return sd_bus_message_append(reply, "b", (int) (j->state == JOB_QUEUED || j->state == JOB_RUNNING));
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
