/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ldmctl-model.c: reading the daemon's objects into plain structs. Each interface has a
 * table of the properties ldmctl uses; unknown properties and unexpected types are skipped,
 * so a newer daemon with more properties never breaks an older ldmctl. */

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ldmctl-model.h"
#include "ldmctl-util.h"

typedef int (*PropParser)(sd_bus_message *m, void *base, size_t offset);

typedef struct PropMap {
        const char *name;
        const char *signature;
        PropParser parse;
        size_t offset;
} PropMap;

static int parse_string(sd_bus_message *m, void *base, size_t offset) {
        char **field = (char **) ((uint8_t *) base + offset);
        const char *s;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_read_basic(m, type, &s);
        if (r < 0)
                return r;
        char *copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

static int parse_u32(sd_bus_message *m, void *base, size_t offset) {
        return sd_bus_message_read_basic(m, 'u', (uint8_t *) base + offset);
}

static int parse_u64(sd_bus_message *m, void *base, size_t offset) {
        return sd_bus_message_read_basic(m, 't', (uint8_t *) base + offset);
}

static int parse_bool(sd_bus_message *m, void *base, size_t offset) {
        int b, r;

        r = sd_bus_message_read_basic(m, 'b', &b);
        if (r < 0)
                return r;
        *(bool *) ((uint8_t *) base + offset) = b;
        return 0;
}

static int parse_paths(sd_bus_message *m, void *base, size_t offset) {
        char ***field = (char ***) ((uint8_t *) base + offset);
        _cleanup_(strv_freep) char **l = NULL;
        size_t n = 0;
        const char *p;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "o");
        if (r < 0)
                return r;
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        while ((r = sd_bus_message_read_basic(m, 'o', &p)) > 0) {
                char **nl = realloc(l, (n + 2) * sizeof(char *));
                if (!nl)
                        return -ENOMEM;
                l = nl;
                l[n] = strdup(p);
                if (!l[n])
                        return -ENOMEM;
                l[++n] = NULL;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        strv_free(*field);
        *field = TAKE_PTR(l);
        return 0;
}

static void plexes_free(LdmctlPlex *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < p[i].n_members; j++)
                        free(p[i].members[j].disk);
                free(p[i].members);
        }
        free(p);
}

static int parse_members(sd_bus_message *m, LdmctlPlex *plex) {
        const char *disk;
        uint64_t off, len;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(ott)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(ott)", &disk, &off, &len)) > 0) {
                LdmctlMember *nm = realloc(plex->members, (plex->n_members + 1) * sizeof(*nm));
                if (!nm)
                        return -ENOMEM;
                plex->members = nm;
                nm[plex->n_members] = (LdmctlMember) { .disk = strdup(disk), .offset = off, .length = len };
                if (!nm[plex->n_members++].disk)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* Plexes a(uuua(ott)): index, health, transition state, members (disk, offset, length). */
static int parse_plexes(sd_bus_message *m, void *base, size_t offset) {
        LdmctlVolume *v = base;
        LdmctlPlex *plexes = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(uuua(ott))");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', "uuua(ott)")) > 0) {
                LdmctlPlex *np = realloc(plexes, (n + 1) * sizeof(*np));
                if (!np) {
                        r = -ENOMEM;
                        break;
                }
                plexes = np;
                plexes[n] = (LdmctlPlex) {};
                n++;
                r = sd_bus_message_read(m, "uuu", &plexes[n - 1].index, &plexes[n - 1].health,
                                        &plexes[n - 1].transition);
                if (r >= 0)
                        r = parse_members(m, &plexes[n - 1]);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                plexes_free(plexes, n);
                return r;
        }
        plexes_free(v->plexes, v->n_plexes);
        v->plexes = plexes;
        v->n_plexes = n;
        return 0;
}

#define S(N, F, T) { N, "s", parse_string, offsetof(T, F) }
#define O(N, F, T) { N, "o", parse_string, offsetof(T, F) }
#define U(N, F, T) { N, "u", parse_u32, offsetof(T, F) }
#define TT(N, F, T) { N, "t", parse_u64, offsetof(T, F) }
#define B(N, F, T) { N, "b", parse_bool, offsetof(T, F) }
#define AO(N, F, T) { N, "ao", parse_paths, offsetof(T, F) }

static const PropMap pack_map[] = {
        S("Id", id, LdmctlPack), S("Name", name, LdmctlPack), U("Status", status, LdmctlPack),
        U("Flags", flags, LdmctlPack), U("Health", health, LdmctlPack),
        AO("Disks", disks, LdmctlPack), AO("Volumes", volumes, LdmctlPack),
        TT("CommittedSequence", committed_sequence, LdmctlPack),
        O("ActiveJob", active_job, LdmctlPack),
        {}
};

static const PropMap disk_map[] = {
        S("Id", id, LdmctlDisk), S("Name", name, LdmctlDisk), O("Pack", pack, LdmctlDisk),
        S("Device", device, LdmctlDisk), U("Status", status, LdmctlDisk),
        U("Health", health, LdmctlDisk), TT("Size", size, LdmctlDisk),
        TT("DatabaseSequence", database_sequence, LdmctlDisk),
        B("DatabaseStale", database_stale, LdmctlDisk),
        {}
};

static const PropMap volume_map[] = {
        S("Id", id, LdmctlVolume), S("Name", name, LdmctlVolume), O("Pack", pack, LdmctlVolume),
        U("Type", type, LdmctlVolume), U("Status", status, LdmctlVolume),
        U("Health", health, LdmctlVolume), TT("Size", size, LdmctlVolume),
        { "Plexes", "a(uuua(ott))", parse_plexes, 0 },
        {}
};

static const PropMap job_map[] = {
        S("Operation", operation, LdmctlJob), O("Object", object, LdmctlJob),
        S("State", state, LdmctlJob), U("Percent", percent, LdmctlJob),
        TT("BytesDone", bytes_done, LdmctlJob), TT("BytesTotal", bytes_total, LdmctlJob),
        TT("Rate", rate, LdmctlJob), TT("StartTime", start_time, LdmctlJob),
        TT("ExpectedEndTime", expected_end_time, LdmctlJob),
        U("StartedByUID", started_by_uid, LdmctlJob), B("Cancelable", cancelable, LdmctlJob),
        U("HResult", hresult, LdmctlJob), S("Message", message, LdmctlJob),
        {}
};

/* Reads an a{sv} into base through map; properties not in the map are skipped. */
static int map_properties(sd_bus_message *m, const PropMap *map, void *base) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const PropMap *p = NULL;
                const char *name, *contents;
                char type;

                r = sd_bus_message_read_basic(m, 's', &name);
                if (r < 0)
                        return r;
                for (const PropMap *i = map; i->name; i++)
                        if (strcmp(i->name, name) == 0)
                                p = i;
                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r < 0)
                        return r;
                if (p && strcmp(contents, p->signature) == 0) {
                        r = sd_bus_message_enter_container(m, 'v', contents);
                        if (r >= 0)
                                r = p->parse(m, base, p->offset);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static void pack_done(LdmctlPack *p) {
        free(p->path); free(p->id); free(p->name); free(p->active_job);
        strv_free(p->disks);
        strv_free(p->volumes);
}

static void disk_done(LdmctlDisk *d) {
        free(d->path); free(d->id); free(d->name); free(d->pack); free(d->device);
}

static void volume_done(LdmctlVolume *v) {
        free(v->path); free(v->id); free(v->name); free(v->pack);
        plexes_free(v->plexes, v->n_plexes);
}

void ldmctl_job_done(LdmctlJob *j) {
        free(j->path); free(j->operation); free(j->object); free(j->state); free(j->message);
        *j = (LdmctlJob) {};
}

LdmctlModel *ldmctl_model_free(LdmctlModel *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_packs; i++)
                pack_done(&m->packs[i]);
        for (size_t i = 0; i < m->n_disks; i++)
                disk_done(&m->disks[i]);
        for (size_t i = 0; i < m->n_volumes; i++)
                volume_done(&m->volumes[i]);
        for (size_t i = 0; i < m->n_jobs; i++)
                ldmctl_job_done(&m->jobs[i]);
        free(m->packs); free(m->disks); free(m->volumes); free(m->jobs);
        free(m);
        return NULL;
}

/* Appends a zeroed element to *array and returns it, NULL on OOM. */
static void *grow(void **array, size_t *n, size_t size) {
        uint8_t *a = realloc(*array, (*n + 1) * size);
        if (!a)
                return NULL;
        *array = a;
        memset(a + *n * size, 0, size);
        return a + (*n)++ * size;
}

static int read_interface(LdmctlModel *model, sd_bus_message *m, const char *path, const char *iface) {
        const PropMap *map;
        void *obj;
        char **obj_path;

        if (strcmp(iface, LDMD_IFACE_PACK) == 0) {
                LdmctlPack *p = grow((void **) &model->packs, &model->n_packs, sizeof(*p));
                obj = p, map = pack_map, obj_path = p ? &p->path : NULL;
        } else if (strcmp(iface, LDMD_IFACE_DISK) == 0) {
                LdmctlDisk *d = grow((void **) &model->disks, &model->n_disks, sizeof(*d));
                obj = d, map = disk_map, obj_path = d ? &d->path : NULL;
        } else if (strcmp(iface, LDMD_IFACE_VOLUME) == 0) {
                LdmctlVolume *v = grow((void **) &model->volumes, &model->n_volumes, sizeof(*v));
                obj = v, map = volume_map, obj_path = v ? &v->path : NULL;
        } else if (strcmp(iface, LDMD_IFACE_JOB) == 0) {
                LdmctlJob *j = grow((void **) &model->jobs, &model->n_jobs, sizeof(*j));
                obj = j, map = job_map, obj_path = j ? &j->path : NULL;
        } else
                return sd_bus_message_skip(m, "a{sv}");
        if (!obj)
                return -ENOMEM;
        *obj_path = strdup(path);
        if (!*obj_path)
                return -ENOMEM;
        return map_properties(m, map, obj);
}

static int cmp_names(const char *a, const char *b) {
        return strverscmp(a ?: "", b ?: "");
}
static int cmp_pack(const void *a, const void *b) {
        return cmp_names(((const LdmctlPack *) a)->name, ((const LdmctlPack *) b)->name);
}
static int cmp_disk(const void *a, const void *b) {
        return cmp_names(((const LdmctlDisk *) a)->name, ((const LdmctlDisk *) b)->name);
}
static int cmp_volume(const void *a, const void *b) {
        return cmp_names(((const LdmctlVolume *) a)->name, ((const LdmctlVolume *) b)->name);
}
static int cmp_job(const void *a, const void *b) {
        return cmp_names(((const LdmctlJob *) a)->path, ((const LdmctlJob *) b)->path);
}

int ldmctl_model_load(sd_bus *bus, LdmctlModel **ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(ldmctl_model_freep) LdmctlModel *model = NULL;
        int r;

        r = sd_bus_call_method(bus, LDMD_BUS_NAME, LDMD_MANAGER_PATH,
                               "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                               error, &reply, NULL);
        if (r < 0)
                return r;
        model = calloc(1, sizeof(*model));
        if (!model)
                return -ENOMEM;

        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                const char *path;

                r = sd_bus_message_read_basic(reply, 'o', &path);
                if (r < 0)
                        return r;
                r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
                if (r < 0)
                        return r;
                while ((r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
                        const char *iface;

                        r = sd_bus_message_read_basic(reply, 's', &iface);
                        if (r >= 0)
                                r = read_interface(model, reply, path, iface);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                        if (r < 0)
                                return r;
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;

        /* qsort_safe() must not see a NULL array, even with zero elements (UBSan). */
        if (model->n_packs > 0)
                qsort_safe(model->packs, model->n_packs, sizeof(*model->packs), cmp_pack);
        if (model->n_disks > 0)
                qsort_safe(model->disks, model->n_disks, sizeof(*model->disks), cmp_disk);
        if (model->n_volumes > 0)
                qsort_safe(model->volumes, model->n_volumes, sizeof(*model->volumes), cmp_volume);
        if (model->n_jobs > 0)
                qsort_safe(model->jobs, model->n_jobs, sizeof(*model->jobs), cmp_job);
        *ret = TAKE_PTR(model);
        return 0;
}

#define FIND(array, n, p)                                               \
        do {                                                            \
                for (size_t i_ = 0; p && i_ < (n); i_++)                \
                        if (strcmp((array)[i_].path, p) == 0)           \
                                return &(array)[i_];                    \
                return NULL;                                            \
        } while (0)

const LdmctlPack *ldmctl_model_pack(const LdmctlModel *m, const char *path) {
        FIND(m->packs, m->n_packs, path);
}
const LdmctlDisk *ldmctl_model_disk(const LdmctlModel *m, const char *path) {
        FIND(m->disks, m->n_disks, path);
}
const LdmctlVolume *ldmctl_model_volume(const LdmctlModel *m, const char *path) {
        FIND(m->volumes, m->n_volumes, path);
}
const LdmctlJob *ldmctl_model_job(const LdmctlModel *m, const char *path) {
        FIND(m->jobs, m->n_jobs, path);
}

const char *ldmctl_model_pack_label(const LdmctlModel *m, const char *path) {
        const LdmctlPack *p = m ? ldmctl_model_pack(m, path) : NULL;
        return p && p->name ? p->name : strna(path);
}

/* For calls on org.freedesktop.DBus.Properties: sd-bus services answer UnknownObject for a
 * path that does not exist, GDBus ones UnknownMethod. */
static bool error_is_missing_object(const sd_bus_error *e) {
        return sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownObject") ||
               sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownMethod") ||
               sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownInterface") ||
               sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownProperty");
}

int ldmctl_resolve_pack(sd_bus *bus, const char *pack, char **ret_path, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char guid[37];
        const char *path;
        int r;

        if (pack[0] == '/') {
                _cleanup_free_ char *name = NULL;

                if (!sd_bus_object_path_is_valid(pack) ||
                    strncmp(pack, LDMD_PACK_PREFIX, strlen(LDMD_PACK_PREFIX)) != 0)
                        return -EINVAL;
                r = sd_bus_get_property_string(bus, LDMD_BUS_NAME, pack, LDMD_IFACE_PACK, "Name",
                                               error, &name);
                if (r < 0 && error_is_missing_object(error)) {
                        sd_bus_error_free(error);
                        return sd_bus_error_setf(error, "org.ldmd1.Error.NotFound",
                                                 "No pack at object path %s", pack);
                }
                if (r < 0)
                        return r;
                path = pack;
        } else {
                bool by_id = guid_from_arg(pack, guid);

                r = sd_bus_call_method(bus, LDMD_BUS_NAME, LDMD_MANAGER_PATH, LDMD_IFACE_MANAGER,
                                       by_id ? "GetPackById" : "GetPackByName", error, &reply,
                                       "s", by_id ? guid : pack);
                if (r < 0)
                        return r;
                r = sd_bus_message_read_basic(reply, 'o', &path);
                if (r < 0)
                        return r;
        }
        char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        *ret_path = p;
        return 0;
}

int ldmctl_job_apply(LdmctlJob *j, sd_bus_message *m) {
        return map_properties(m, job_map, j);
}

int ldmctl_job_load(sd_bus *bus, const char *path, LdmctlJob *ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        LdmctlJob j = {};
        int r;

        r = sd_bus_call_method(bus, LDMD_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                               "GetAll", error, &reply, "s", LDMD_IFACE_JOB);
        if (r < 0 && error_is_missing_object(error)) {
                sd_bus_error_free(error);
                return sd_bus_error_setf(error, "org.ldmd1.Error.NotFound", "No job at %s", path);
        }
        if (r < 0)
                return r;
        j.path = strdup(path);
        if (!j.path)
                return -ENOMEM;
        r = map_properties(reply, job_map, &j);
        if (r < 0) {
                ldmctl_job_done(&j);
                return r;
        }
        *ret = j;
        return 0;
}
