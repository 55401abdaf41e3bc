/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* volume-object.c: org.ldmd1.Volume at /org/ldmd1/volume/<guid>, with its plexes as
 * a(uuua(ott)): index, VDS_HEALTH, VDS_TRANSITION_STATE, members (disk, byte offset, bytes). */

#include "manager.h"
#include "strv.h"

static int volume_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                              void **found, sd_bus_error *error) {
        Manager *m = userdata;
        VolumeObj *v = model_find_volume(m->model, path);

        if (!v)
                return 0;
        *found = v;
        return 1;
}

static int volume_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                  sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = strv_new_empty();

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; m->model && i < m->model->n_volumes; i++)
                if (strv_extend(&l, m->model->volumes[i].path) < 0)
                        return -ENOMEM;
        *nodes = TAKE_PTR(l);
        return 0;
}

static int property_get_plexes(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply, void *userdata,
                               sd_bus_error *error) {
        const VolumeObj *v = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(uuua(ott))");
        for (size_t i = 0; r >= 0 && i < v->n_plexes; i++) {
                const PlexView *p = &v->plexes[i];

                r = sd_bus_message_open_container(reply, 'r', "uuua(ott)");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "uuu", p->index, p->health, p->transition);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "(ott)");
                for (size_t j = 0; r >= 0 && j < p->n_members; j++)
                        r = sd_bus_message_append(reply, "(ott)", p->members[j].disk,
                                                  p->members[j].offset, p->members[j].length);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

const sd_bus_vtable volume_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", NULL, offsetof(VolumeObj, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(VolumeObj, name), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Pack", "o", NULL, offsetof(VolumeObj, pack), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Type", "u", NULL, offsetof(VolumeObj, type), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Status", "u", NULL, offsetof(VolumeObj, status), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Health", "u", NULL, offsetof(VolumeObj, health), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Size", "t", NULL, offsetof(VolumeObj, size), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Plexes", "a(uuua(ott))", property_get_plexes, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
};

int volume_object_register(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, LDMD_VOLUME_PREFIX, LDMD_VOLUME_INTERFACE,
                                       volume_vtable, volume_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, LDMD_VOLUME_PREFIX, volume_node_enumerator, m);
}
