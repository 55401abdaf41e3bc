/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* model.c: builds the published view (see model.h) from an LdmScan. Knows object paths and
 * VDS numbers; byte positions come from the library (ldm_extent_disk_offset). */

#include <stdio.h>
#include <strings.h>
#include <systemd/sd-bus.h>

#include "log.h"
#include "model.h"
#include "strv.h"
#include "utf8.h"

static void plex_view_done(PlexView *p) {
        for (size_t i = 0; i < p->n_members; i++)
                free(p->members[i].disk);
        free(p->members);
}

static void pack_obj_done(PackObj *p) {
        free(p->path);
        free(p->id);
        free(p->name);
        strv_free(p->disks);
        strv_free(p->volumes);
}

static void disk_obj_done(DiskObj *d) {
        free(d->path);
        free(d->id);
        free(d->name);
        free(d->pack);
        free(d->device);
}

static void volume_obj_done(VolumeObj *v) {
        free(v->path);
        free(v->id);
        free(v->name);
        free(v->pack);
        for (size_t i = 0; i < v->n_plexes; i++)
                plex_view_done(&v->plexes[i]);
        free(v->plexes);
}

Model *model_free(Model *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_packs; i++)
                pack_obj_done(&m->packs[i]);
        for (size_t i = 0; i < m->n_disks; i++)
                disk_obj_done(&m->disks[i]);
        for (size_t i = 0; i < m->n_volumes; i++)
                volume_obj_done(&m->volumes[i]);
        free(m->packs);
        free(m->disks);
        free(m->volumes);
        ldm_scan_free(m->scan);
        free(m);
        return NULL;
}

uint32_t volume_type_to_vds(LdmVolumeType t) {
        switch (t) {
        case LDM_VOLUME_SIMPLE: return VDS_VT_SIMPLE;
        case LDM_VOLUME_SPAN:   return VDS_VT_SPAN;
        case LDM_VOLUME_STRIPE: return VDS_VT_STRIPE;
        case LDM_VOLUME_MIRROR: return VDS_VT_MIRROR;
        case LDM_VOLUME_RAID5:  return VDS_VT_PARITY;
        default:                return VDS_VT_UNKNOWN;
        }
}

static int guid_path(const char *prefix, const LdmGuid *g, char **ret) {
        return sd_bus_path_encode(prefix, GUID_TO_STRING(g), ret);
}

static char *strdup_or_empty(const char *s) {
        return strdup(s ?: "");
}

/* A name read from disk, fit for the bus and the log (utf8.h): the library keeps the raw
 * bytes (its writer puts them back as they were), the daemon publishes only this copy. */
static char *name_escape(const char *s) {
        return utf8_escape(s ?: "");
}

static uint64_t sectors_to_bytes(uint64_t sectors) {
        uint64_t b;
        return mul_u64_overflow(sectors, LDM_SECTOR, &b) ? UINT64_MAX : b;
}

static bool model_has_disk(const Model *m, const char *path) {
        for (size_t i = 0; i < m->n_disks; i++)
                if (strcmp(m->disks[i].path, path) == 0)
                        return true;
        return false;
}

static bool model_has_volume(const Model *m, const char *path) {
        for (size_t i = 0; i < m->n_volumes; i++)
                if (strcmp(m->volumes[i].path, path) == 0)
                        return true;
        return false;
}

/* A disk with a device that could not join its pack is shown in the INVALID pack (VDS). */
static bool device_is_invalid(const LdmScan *s, const LdmDevice *dev) {
        for (size_t i = 0; dev && i < s->n_invalid; i++)
                if (s->invalid[i] == dev)
                        return true;
        return false;
}

/* The path of a device's disk object when it belongs to no pack: its PRIVHEAD disk GUID, or
 * (no valid PRIVHEAD at all) its device path escaped. */
static int invalid_device_path(const LdmDevice *dev, char **ret_path, char **ret_id) {
        bool have_guid = dev->privhead_state[dev->privhead_used] == 0 &&
                         !guid_is_null(&dev->privhead.disk_guid);
        int r;

        if (have_guid)
                r = guid_path(LDMD_DISK_PREFIX, &dev->privhead.disk_guid, ret_path);
        else
                r = sd_bus_path_encode(LDMD_DISK_PREFIX, dev->path, ret_path);
        if (r < 0)
                return r;
        *ret_id = strdup(have_guid ? GUID_TO_STRING(&dev->privhead.disk_guid) : "");
        return *ret_id ? 0 : -ENOMEM;
}

static int add_pack_disk(Model *m, const LdmScan *s, const LdmDisk *d, const char *pack_path,
                         char ***pack_disks) {
        _cleanup_free_ char *path = NULL;
        const LdmDevice *dev = d->device ?: d->invalid_device;
        int r;

        r = guid_path(LDMD_DISK_PREFIX, &d->guid, &path);
        if (r < 0)
                return r;
        r = strv_extend(pack_disks, path);
        if (r < 0)
                return r;
        if (model_has_disk(m, path)) {
                log_warning("Disk %s of pack %s is known twice, showing the first.", path, pack_path);
                return 0;
        }

        DiskObj *o = &m->disks[m->n_disks];
        *o = (DiskObj) {
                .path = TAKE_PTR(path),
                .id = strdup(GUID_TO_STRING(&d->guid)),
                .name = name_escape(d->name),
                .pack = strdup(device_is_invalid(s, dev) ? LDMD_INVALID_PACK_PATH : pack_path),
                .device = strdup_or_empty(dev ? dev->path : NULL),
                .status = d->status,
                .health = d->health,
                .size = dev ? dev->size : 0,
                .db_seq = dev && dev->db ? dev->effective_committed : 0,
                .db_stale = d->db_stale,
        };
        m->n_disks++;
        if (!o->id || !o->name || !o->pack || !o->device)
                return -ENOMEM;
        return 0;
}

static int plex_view_fill(Model *m, const LdmPlex *p, uint32_t index, PlexView *ret) {
        size_t n = 0;
        int r;

        *ret = (PlexView) { .index = index, .health = p->health, .transition = p->transition };
        for (size_t c = 0; c < p->n_columns; c++)
                n += p->columns[c].n_extents;
        ret->members = calloc(n ?: 1, sizeof(PlexMember));
        if (!ret->members)
                return -ENOMEM;
        for (size_t c = 0; c < p->n_columns; c++)
                for (size_t e = 0; e < p->columns[c].n_extents; e++) {
                        const LdmExtent *x = p->columns[c].extents[e];
                        PlexMember *pm = &ret->members[ret->n_members++];

                        r = guid_path(LDMD_DISK_PREFIX, &x->disk->guid, &pm->disk);
                        if (r < 0)
                                return r;
                        pm->offset = x->disk->device ? ldm_extent_disk_offset(x) : UINT64_MAX;
                        pm->length = sectors_to_bytes(x->size);
                }
        return 0;
}

static int add_volume(Model *m, const LdmVolume *v, const char *pack_path, char ***pack_volumes) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = guid_path(LDMD_VOLUME_PREFIX, &v->guid, &path);
        if (r < 0)
                return r;
        r = strv_extend(pack_volumes, path);
        if (r < 0)
                return r;
        if (model_has_volume(m, path)) {
                log_warning("Volume %s of pack %s is known twice, showing the first.", path, pack_path);
                return 0;
        }

        VolumeObj *o = &m->volumes[m->n_volumes++];
        *o = (VolumeObj) {
                .path = TAKE_PTR(path),
                .id = strdup(GUID_TO_STRING(&v->guid)),
                .name = name_escape(v->name),
                .pack = strdup(pack_path),
                .type = volume_type_to_vds(v->type),
                .status = v->status,
                .health = v->health,
                .size = sectors_to_bytes(v->size),
        };
        if (!o->id || !o->name || !o->pack)
                return -ENOMEM;
        o->plexes = calloc(v->n_plexes ?: 1, sizeof(PlexView));
        if (!o->plexes)
                return -ENOMEM;
        for (size_t i = 0; i < v->n_plexes; i++) {
                r = plex_view_fill(m, v->plexes[i], (uint32_t) i, &o->plexes[o->n_plexes++]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_pack(Model *m, const LdmScan *s, LdmPack *p) {
        PackObj *o = &m->packs[m->n_packs++];
        int r;

        *o = (PackObj) {
                .id = strdup(GUID_TO_STRING(&p->guid)),
                .name = name_escape(p->name),
                .status = p->status,
                .flags = p->flags,
                .health = p->health,
                .committed_seq = p->committed_seq,
                .pack = p,
                .model = m,
                .disks = strv_new_empty(),
                .volumes = strv_new_empty(),
        };
        if (!o->id || !o->name || !o->disks || !o->volumes)
                return -ENOMEM;
        r = guid_path(LDMD_PACK_PREFIX, &p->guid, &o->path);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_disks; i++) {
                r = add_pack_disk(m, s, &p->disks[i], o->path, &o->disks);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < p->n_volumes; i++) {
                r = add_volume(m, &p->volumes[i], o->path, &o->volumes);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A device in the INVALID list that no pack's database names (e.g. a lone disk whose
 * database is unreadable) gets its own disk object in the INVALID pack. */
static int add_invalid_device(Model *m, const LdmDevice *dev, char ***invalid_disks) {
        _cleanup_free_ char *path = NULL, *id = NULL;
        int r;

        r = invalid_device_path(dev, &path, &id);
        if (r < 0)
                return r;
        if (strv_contains(*invalid_disks, path))
                return 0;
        r = strv_extend(invalid_disks, path);
        if (r < 0)
                return r;
        if (model_has_disk(m, path))
                return 0; /* a disk of a pack whose copy is the one that failed */

        DiskObj *o = &m->disks[m->n_disks];
        *o = (DiskObj) {
                .path = TAKE_PTR(path),
                .id = TAKE_PTR(id),
                .name = strdup(""),
                .pack = strdup(LDMD_INVALID_PACK_PATH),
                .device = strdup(dev->path),
                .status = VDS_DS_ONLINE,  /* present and readable ... */
                .health = VDS_H_FAILED,   /* ... but its database cannot be used */
                .size = dev->size,
                .db_seq = dev->db ? dev->effective_committed : 0,
        };
        m->n_disks++;
        if (!o->name || !o->pack || !o->device)
                return -ENOMEM;
        return 0;
}

static int add_invalid_pack(Model *m, const LdmScan *s) {
        PackObj *o = &m->packs[m->n_packs++];
        int r;

        *o = (PackObj) {
                .path = strdup(LDMD_INVALID_PACK_PATH),
                .model = m,
                .id = strdup(""),
                .name = strdup(LDMD_INVALID_PACK_NAME),
                .status = VDS_PS_UNKNOWN,
                .health = VDS_H_UNKNOWN,
                .disks = strv_new_empty(),
                .volumes = strv_new_empty(),
        };
        if (!o->path || !o->id || !o->name || !o->disks || !o->volumes)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_invalid; i++) {
                r = add_invalid_device(m, s->invalid[i], &o->disks);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmp_pack(const void *a, const void *b) {
        return strcmp(((const PackObj *) a)->path, ((const PackObj *) b)->path);
}
static int cmp_disk(const void *a, const void *b) {
        return strcmp(((const DiskObj *) a)->path, ((const DiskObj *) b)->path);
}
static int cmp_volume(const void *a, const void *b) {
        return strcmp(((const VolumeObj *) a)->path, ((const VolumeObj *) b)->path);
}

int model_build(LdmScan *scan, Model **ret) {
        _cleanup_(model_freep) Model *m = NULL;
        size_t n_disks = 0, n_volumes = 0;
        int r;

        m = calloc(1, sizeof(Model));
        if (!m) {
                ldm_scan_free(scan);
                return -ENOMEM;
        }
        m->scan = scan;
        if (scan) {
                for (size_t i = 0; i < scan->n_packs; i++) {
                        n_disks += scan->packs[i]->n_disks;
                        n_volumes += scan->packs[i]->n_volumes;
                }
                n_disks += scan->n_invalid;
        }
        m->packs = calloc((scan ? scan->n_packs : 0) + 1, sizeof(PackObj));
        m->disks = calloc(n_disks + 1, sizeof(DiskObj));
        m->volumes = calloc(n_volumes + 1, sizeof(VolumeObj));
        if (!m->packs || !m->disks || !m->volumes)
                return -ENOMEM;

        for (size_t i = 0; scan && i < scan->n_packs; i++) {
                if (model_find_pack_by_id(m, GUID_TO_STRING(&scan->packs[i]->guid)))
                        continue;
                r = add_pack(m, scan, scan->packs[i]);
                if (r < 0)
                        return r;
        }
        if (scan && scan->n_invalid > 0) {
                r = add_invalid_pack(m, scan);
                if (r < 0)
                        return r;
        }

        qsort_safe(m->packs, m->n_packs, sizeof(PackObj), cmp_pack);
        qsort_safe(m->disks, m->n_disks, sizeof(DiskObj), cmp_disk);
        qsort_safe(m->volumes, m->n_volumes, sizeof(VolumeObj), cmp_volume);
        *ret = TAKE_PTR(m);
        return 0;
}

PackObj *model_find_pack(const Model *m, const char *path) {
        PackObj key = { .path = (char *) path };
        return m ? bsearch(&key, m->packs, m->n_packs, sizeof(PackObj), cmp_pack) : NULL;
}

DiskObj *model_find_disk(const Model *m, const char *path) {
        DiskObj key = { .path = (char *) path };
        return m ? bsearch(&key, m->disks, m->n_disks, sizeof(DiskObj), cmp_disk) : NULL;
}

VolumeObj *model_find_volume(const Model *m, const char *path) {
        VolumeObj key = { .path = (char *) path };
        return m ? bsearch(&key, m->volumes, m->n_volumes, sizeof(VolumeObj), cmp_volume) : NULL;
}

size_t model_find_packs_by_name(const Model *m, const char *name, PackObj **ret, size_t max) {
        size_t n = 0;

        for (size_t i = 0; m && i < m->n_packs; i++)
                if (m->packs[i].name && strcmp(m->packs[i].name, name) == 0) {
                        if (n < max)
                                ret[n] = &m->packs[i];
                        n++;
                }
        return n;
}

PackObj *model_find_pack_by_id(const Model *m, const char *guid) {
        for (size_t i = 0; m && i < m->n_packs; i++)
                if (m->packs[i].id && *m->packs[i].id && strcasecmp(m->packs[i].id, guid) == 0)
                        return &m->packs[i];
        return NULL;
}

int model_pack_paths(const Model *m, char ***ret) {
        _cleanup_strv_free_ char **l = strv_new_empty();

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; m && i < m->n_packs; i++)
                if (strv_extend(&l, m->packs[i].path) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

int model_disk_paths(const Model *m, char ***ret) {
        _cleanup_strv_free_ char **l = strv_new_empty();

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; m && i < m->n_disks; i++)
                if (strv_extend(&l, m->disks[i].path) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

bool plex_views_equal(const PlexView *a, size_t na, const PlexView *b, size_t nb) {
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++) {
                if (a[i].index != b[i].index || a[i].health != b[i].health ||
                    a[i].transition != b[i].transition || a[i].n_members != b[i].n_members)
                        return false;
                for (size_t j = 0; j < a[i].n_members; j++) {
                        const PlexMember *x = &a[i].members[j], *y = &b[i].members[j];
                        if (strcmp(x->disk, y->disk) != 0 || x->offset != y->offset ||
                            x->length != y->length)
                                return false;
                }
        }
        return true;
}
