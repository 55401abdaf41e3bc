/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* manager-bus.c: org.ldmd1.Manager at /org/ldmd1 — the entry point: lookups by name and
 * GUID, Rescan(), and the lists of packs, disks and jobs. Also registers the other classes
 * and the ObjectManager. */

#include "authorize.h"
#include "errors.h"
#include "guid.h"
#include "job.h"
#include "log.h"
#include "manager.h"
#include "strv.h"

#define AMBIGUOUS_MAX 8 /* GUIDs listed in an Ambiguous error */

static int method_rescan(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = authorize(m, msg, LDMD_ACTION_MANAGE, "the manager", NULL, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = manager_add_rescan_waiter(m, msg);
        if (r < 0)
                return sd_bus_error_setf(error, LDMD_ERROR_BUSY,
                                         "Too many Rescan() calls are waiting already.");
        log_info("Rescan requested by %s.", strna(sd_bus_message_get_sender(msg)));
        /* Everything is probed again: images, and block devices udev lists now. */
        (void) manager_udev_enumerate(m);
        for (size_t i = 0; i < m->n_sources; i++) {
                m->sources[i].verdict = VERDICT_UNKNOWN;
                m->sources[i].stamp = ++m->stamp;
        }
        r = manager_scan_now(m);
        if (r < 0) {
                manager_remove_rescan_waiter(m, msg);
                return r;
        }
        return 1; /* answered by manager_answer_rescan_waiters() */
}

/* How much of a caller's string an error message repeats: a 10 MB argument must not make a
 * 10 MB error. Never cuts inside a UTF-8 sequence (D-Bus strings must stay valid UTF-8). */
#define QUOTE_MAX 64
static int quoted_len(const char *s) {
        size_t n = strlen(s);

        if (n <= QUOTE_MAX)
                return (int) n;
        n = QUOTE_MAX;
        while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
                n--;
        return (int) n;
}

static int method_get_pack_by_name(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        PackObj *found[AMBIGUOUS_MAX];
        const char *name;
        size_t n;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        n = model_find_packs_by_name(m->model, name, found, ELEMENTSOF(found));
        if (n == 0)
                return sd_bus_error_setf(error, LDMD_ERROR_NOT_FOUND, "No pack is named \"%.*s\"%s.",
                                         quoted_len(name), name, strlen(name) > QUOTE_MAX ? "…" : "");
        if (n > 1) {
                char ids[AMBIGUOUS_MAX * (GUID_STRING_MAX + 2) + 8] = "";
                for (size_t i = 0; i < MIN(n, ELEMENTSOF(found)); i++) {
                        if (i > 0)
                                strcat(ids, ", ");
                        strcat(ids, found[i]->id);
                }
                if (n > ELEMENTSOF(found))
                        strcat(ids, ", …");
                return sd_bus_error_setf(error, LDMD_ERROR_AMBIGUOUS,
                                         "%zu packs are named \"%s\": %s; use GetPackById().",
                                         n, name, ids);
        }
        return sd_bus_reply_method_return(msg, "o", found[0]->path);
}

static int method_get_pack_by_id(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *id;
        LdmGuid g;
        PackObj *p;
        int r;

        r = sd_bus_message_read(msg, "s", &id);
        if (r < 0)
                return r;
        if (strlen(id) != GUID_STRING_MAX - 1 || guid_from_string(id, &g) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "\"%.*s\"%s is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).",
                                         quoted_len(id), id, strlen(id) > QUOTE_MAX ? "…" : "");
        p = model_find_pack_by_id(m->model, id);
        if (!p)
                return sd_bus_error_setf(error, LDMD_ERROR_NOT_FOUND, "No pack has the GUID %s.", id);
        return sd_bus_reply_method_return(msg, "o", p->path);
}

static int method_list_jobs(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = manager_job_paths(userdata, &l);
        if (r >= 0)
                r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = bus_append_object_paths(reply, l);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int bus_append_object_paths(sd_bus_message *m, char *const *paths) {
        int r = sd_bus_message_open_container(m, 'a', "o");

        for (size_t i = 0; r >= 0 && paths && paths[i]; i++)
                r = sd_bus_message_append_basic(m, 'o', paths[i]);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int property_get_packs(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = NULL;
        int r = model_pack_paths(m->model, &l);

        return r < 0 ? r : bus_append_object_paths(reply, l);
}

static int property_get_disks(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = NULL;
        int r = model_disk_paths(m->model, &l);

        return r < 0 ? r : bus_append_object_paths(reply, l);
}

static int property_get_jobs(sd_bus *bus, const char *path, const char *interface,
                             const char *property, sd_bus_message *reply, void *userdata,
                             sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        int r = manager_job_paths(userdata, &l);

        return r < 0 ? r : bus_append_object_paths(reply, l);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_get_auto_recover(sd_bus *bus, const char *path, const char *interface,
                                     const char *property, sd_bus_message *reply, void *userdata,
                                     sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "b", (int) m->config.auto_recover);
}

/* Every method is callable by anyone as far as sd-bus is concerned (UNPRIVILEGED): the bus
 * policy admits callers and authorize() decides mutations. */
const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AutoRecover", "b", property_get_auto_recover, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Packs", "ao", property_get_packs, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Disks", "ao", property_get_disks, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Jobs", "ao", property_get_jobs, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Rescan", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                                method_rescan, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetPackByName", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", pack),
                                method_get_pack_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetPackById", SD_BUS_ARGS("s", guid), SD_BUS_RESULT("o", pack),
                                method_get_pack_by_id, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListJobs", SD_BUS_NO_ARGS, SD_BUS_RESULT("ao", jobs),
                                method_list_jobs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("JobNew", SD_BUS_ARGS("o", job, "o", object), 0),
        SD_BUS_SIGNAL_WITH_ARGS("JobRemoved", SD_BUS_ARGS("o", job, "u", hresult), 0),
        SD_BUS_VTABLE_END,
};

int manager_bus_register(Manager *m) {
        int r;

        r = sd_bus_add_object_vtable(m->bus, NULL, LDMD_MANAGER_PATH, LDMD_MANAGER_INTERFACE,
                                     manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Manager object: %m");
        r = sd_bus_add_object_manager(m->bus, NULL, LDMD_MANAGER_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to register the object manager: %m");
        r = pack_object_register(m);
        if (r >= 0)
                r = disk_object_register(m);
        if (r >= 0)
                r = volume_object_register(m);
        if (r >= 0)
                r = job_object_register(m);
        if (r < 0)
                return log_error_errno(r, "Failed to register pack, disk, volume and job objects: %m");
        return 0;
}
