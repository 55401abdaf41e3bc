/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* pack-object.c: org.ldmd1.Pack at /org/ldmd1/pack/<guid> (and /org/ldmd1/pack/invalid): a
 * fallback vtable whose find function looks the path up in the published Model, and a node
 * enumerator listing the packs. Recover() and Verify() start a Job and return its path at
 * once (importd's pattern): polkit first, then the cheap checks with domain errors. */

#include "authorize.h"
#include "errors.h"
#include "job.h"
#include "log.h"
#include "manager.h"
#include "strv.h"

static int pack_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                            void **found, sd_bus_error *error) {
        Manager *m = userdata;
        PackObj *p = model_find_pack(m->model, path);

        if (!p)
                return 0;
        *found = p;
        return 1;
}

static int pack_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                sd_bus_error *error) {
        Manager *m = userdata;
        return model_pack_paths(m->model, nodes);
}

static int property_get_paths(sd_bus *bus, const char *path, const char *interface,
                             const char *property, sd_bus_message *reply, void *userdata,
                             sd_bus_error *error) {
        char ***l = userdata;
        return bus_append_object_paths(reply, *l);
}

static int property_get_active_job(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error) {
        const PackObj *p = userdata;
        return sd_bus_message_append(reply, "o", manager_pack_active_job(p->model->userdata, p));
}

static int pack_start_job(sd_bus_message *msg, PackObj *p, JobOperation op, sd_bus_error *error) {
        Manager *m = p->model->userdata;
        const char *details[] = { "pack", p->name, "pack_id", p->id, NULL };
        Job *j;
        uid_t uid;
        int r;

        r = authorize(m, msg, LDMD_ACTION_RECOVER, p->name, details, &uid, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: the bus or polkit is asked, the call comes back */

        if (!p->pack)
                return sd_bus_error_setf(error, LDMD_ERROR_NOT_SUPPORTED,
                                         "%s() is not supported on pack %s: its disks could not be joined to a pack; "
                                         "call it on the pack they belong to.",
                                         op == JOB_VERIFY ? "Verify" : "Recover", p->name);
        r = job_start(m, p, op, uid, msg, &j);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, LDMD_ERROR_BUSY, "Pack %s is busy: job %s is working on it.",
                                         p->name, manager_pack_active_job(m, p));
        if (r == -E2BIG || r == -EAGAIN)
                return sd_bus_error_setf(error, LDMD_ERROR_BUSY,
                                         "Cannot start a job on pack %s: too many jobs or disks.", p->name);
        if (r < 0)
                return log_error_errno(r, "Failed to start a job on pack %s: %m", p->name);
        return sd_bus_reply_method_return(msg, "o", j->path);
}

static int method_recover(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return pack_start_job(msg, userdata, JOB_RECOVER, error);
}

static int method_verify(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return pack_start_job(msg, userdata, JOB_VERIFY, error);
}

const sd_bus_vtable pack_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", NULL, offsetof(PackObj, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(PackObj, name), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Status", "u", NULL, offsetof(PackObj, status), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Flags", "u", NULL, offsetof(PackObj, flags), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Health", "u", NULL, offsetof(PackObj, health), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Disks", "ao", property_get_paths, offsetof(PackObj, disks), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Volumes", "ao", property_get_paths, offsetof(PackObj, volumes), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CommittedSequence", "t", NULL, offsetof(PackObj, committed_seq), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ActiveJob", "o", property_get_active_job, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Recover", SD_BUS_NO_ARGS, SD_BUS_RESULT("o", job),
                                method_recover, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Verify", SD_BUS_NO_ARGS, SD_BUS_RESULT("o", job),
                                method_verify, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int pack_object_register(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, LDMD_PACK_PREFIX, LDMD_PACK_INTERFACE,
                                       pack_vtable, pack_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, LDMD_PACK_PREFIX, pack_node_enumerator, m);
}
