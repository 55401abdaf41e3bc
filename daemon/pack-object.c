/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* pack-object.c: org.ldmd1.Pack at /org/ldmd1/pack/<guid> (and /org/ldmd1/pack/invalid): a
 * fallback vtable whose find function looks the path up in the published Model, and a node
 * enumerator listing the packs. (Recover()/Verify() arrive with the jobs.) */

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

const char *manager_pack_active_job(Manager *m, const PackObj *p) {
        return "/";
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
