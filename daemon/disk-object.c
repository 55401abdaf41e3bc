/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* disk-object.c: org.ldmd1.Disk at /org/ldmd1/disk/<guid>: every disk a pack's database
 * names (present or MISSING) and every LDM disk in the INVALID pack. */

#include "manager.h"

static int disk_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                            void **found, sd_bus_error *error) {
        Manager *m = userdata;
        DiskObj *d = model_find_disk(m->model, path);

        if (!d)
                return 0;
        *found = d;
        return 1;
}

static int disk_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                sd_bus_error *error) {
        Manager *m = userdata;
        return model_disk_paths(m->model, nodes);
}

const sd_bus_vtable disk_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", NULL, offsetof(DiskObj, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(DiskObj, name), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Pack", "o", NULL, offsetof(DiskObj, pack), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Device", "s", NULL, offsetof(DiskObj, device), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Status", "u", NULL, offsetof(DiskObj, status), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Health", "u", NULL, offsetof(DiskObj, health), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Size", "t", NULL, offsetof(DiskObj, size), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DatabaseSequence", "t", NULL, offsetof(DiskObj, db_seq), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DatabaseStale", "b", NULL, offsetof(DiskObj, db_stale), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
};

int disk_object_register(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, LDMD_DISK_PREFIX, LDMD_DISK_INTERFACE,
                                       disk_vtable, disk_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, LDMD_DISK_PREFIX, disk_node_enumerator, m);
}
