/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* pack.c: the model of one disk group, built from its authoritative database (after the
 * §10.2 rule-2 recovery): disks, volumes, plexes, columns and extents, with every reference
 * resolved and every count bounded. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pack.h"

static const char *const volume_type_names[_LDM_VOLUME_TYPE_MAX] = {
        [LDM_VOLUME_SIMPLE] = "simple",
        [LDM_VOLUME_SPAN] = "span",
        [LDM_VOLUME_STRIPE] = "stripe",
        [LDM_VOLUME_MIRROR] = "mirror",
        [LDM_VOLUME_RAID5] = "raid5",
};

const char *ldm_volume_type_to_string(LdmVolumeType t) {
        if (t < 0 || t >= _LDM_VOLUME_TYPE_MAX)
                return NULL;
        return volume_type_names[t];
}

LdmVolumeType ldm_volume_type_from_string(const char *s) {
        for (int i = 0; s && i < _LDM_VOLUME_TYPE_MAX; i++)
                if (strcmp(s, volume_type_names[i]) == 0)
                        return (LdmVolumeType) i;
        return _LDM_VOLUME_TYPE_INVALID;
}

LdmPack *ldm_pack_free(LdmPack *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_plexes; i++) {
                for (size_t c = 0; c < p->plexes[i].n_columns; c++)
                        free(p->plexes[i].columns[c].extents);
                free(p->plexes[i].columns);
        }
        for (size_t i = 0; i < p->n_volumes; i++)
                free(p->volumes[i].plexes);
        free(p->disks);
        free(p->volumes);
        free(p->plexes);
        free(p->extents);
        free(p->devices);
        ldm_diag_list_clear(&p->diags);
        free(p);
        return NULL;
}

LdmDisk *ldm_pack_find_disk(const LdmPack *p, uint32_t id) {
        for (size_t i = 0; p && i < p->n_disks; i++)
                if (p->disks[i].id == id)
                        return &p->disks[i];
        return NULL;
}

LdmDisk *ldm_pack_find_disk_by_guid(const LdmPack *p, const LdmGuid *guid) {
        for (size_t i = 0; p && i < p->n_disks; i++)
                if (guid_equal(&p->disks[i].guid, guid))
                        return &p->disks[i];
        return NULL;
}

LdmVolume *ldm_pack_find_volume_by_guid(const LdmPack *p, const LdmGuid *guid) {
        for (size_t i = 0; p && i < p->n_volumes; i++)
                if (guid_equal(&p->volumes[i].guid, guid))
                        return &p->volumes[i];
        return NULL;
}

size_t ldm_pack_n_present(const LdmPack *p) {
        size_t n = 0;

        for (size_t i = 0; p && i < p->n_disks; i++)
                if (p->disks[i].device)
                        n++;
        return n;
}

uint64_t ldm_extent_disk_offset(const LdmExtent *ext) {
        const LdmDevice *d = ext->disk ? ext->disk->device : NULL;

        if (!d)
                return UINT64_MAX;
        /* PRIVHEAD geometry is in device sectors, extent numbers always in 512-byte units. */
        return d->privhead.pub_start * d->sector_size + ext->start * 512;
}

int ldm_disk_public_bytes(const LdmDisk *disk, uint64_t *ret_start, uint64_t *ret_end) {
        const LdmDevice *d = disk ? disk->device : NULL;
        const LdmPrivhead *ph;
        uint64_t ss, start, size, end, priv_end;

        if (!d)
                return -ENODEV;
        ph = &d->privhead;
        /* §13: PRIVHEAD geometry counts device sectors; a model without a sector size means 512. */
        ss = d->sector_size ?: 512;
        if (mul_u64_overflow(ph->pub_start, ss, &start) ||
            mul_u64_overflow(ph->pub_size, ss, &size) || add_u64_overflow(start, size, &end))
                return -EOVERFLOW;
        /* The kernel's K4: the public region lies on the device and clear of the private region
         * (a PRIVHEAD says both; nothing checks one against the other before this). Else no
         * extent of the disk is usable, and none is written. */
        if ((d->size > 0 && end > d->size) ||
            (!add_u64_overflow(ph->priv_start, ph->priv_size, &priv_end) &&
             ph->pub_start < priv_end && ph->priv_start < ph->pub_start + ph->pub_size))
                return -ERANGE;
        *ret_start = start;
        *ret_end = end;
        return 0;
}

bool ldm_volume_extent_rejected(const LdmVolume *v) {
        for (size_t i = 0; v && i < v->n_plexes; i++)
                if (v->plexes[i]->extent_rejected)
                        return true;
        return false;
}

bool ldm_plex_present(const LdmPlex *p) {
        for (size_t i = 0; i < p->n_columns; i++)
                if (p->columns[i].missing)
                        return false;
        return true;
}

static LdmVolume *find_volume(const LdmPack *p, uint32_t id) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (p->volumes[i].id == id)
                        return &p->volumes[i];
        return NULL;
}

static LdmPlex *find_plex(const LdmPack *p, uint32_t id) {
        for (size_t i = 0; i < p->n_plexes; i++)
                if (p->plexes[i].id == id)
                        return &p->plexes[i];
        return NULL;
}

static int record_id_compare(const void *a, const void *b) {
        const LdmRecord *const *x = a, *const *y = b;
        return (*x)->id < (*y)->id ? -1 : (*x)->id > (*y)->id;
}

static int extent_offset_compare(const void *a, const void *b) {
        const LdmExtent *const *x = a, *const *y = b;
        if ((*x)->offset_in_column != (*y)->offset_in_column)
                return (*x)->offset_in_column < (*y)->offset_in_column ? -1 : 1;
        return (*x)->id < (*y)->id ? -1 : (*x)->id > (*y)->id;
}

/* The effective records of one type, sorted by object ID. */
static int collect(const LdmDatabase *db, uint8_t type, LdmRecord ***ret, size_t *ret_n) {
        _cleanup_free_ LdmRecord **v = NULL;
        size_t n = 0;

        v = calloc(MAX(db->n_records, (size_t) 1), sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < db->n_records; i++)
                if (db->records[i].type == type && ldm_database_record_effective(db, &db->records[i]))
                        v[n++] = &db->records[i];
        qsort_safe(v, n, sizeof(*v), record_id_compare);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

static void pack_diagf(LdmPack *p, const LdmRecord *r, const char *fmt, ...) _printf_(3, 4);
static void pack_diagf(LdmPack *p, const LdmRecord *r, const char *fmt, ...) {
        char msg[LDM_DIAG_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        (void) ldm_diag_list_addf(&p->diags, LDM_DIAG_ERROR, "record", p->authority->path,
                                  r->n_fragments ? ldm_device_rel_offset(p->authority, p->authority->toc.regions[0].start) +
                                                   (uint64_t) r->slots[0] * 128 + 16 : LDM_DIAG_NO_OFFSET,
                                  "%s %" PRIu32 " \"%s\": %s",
                                  ldm_record_type_to_string(r->type), r->id, r->name, msg);
}

static void pack_diag(LdmPack *p, const LdmRecord *r, const char *msg, uint32_t ref) {
        pack_diagf(p, r, "%s %" PRIu32, msg, ref);
}

static int build_disks(LdmPack *p, LdmDevice *const *devices, size_t n_devices) {
        _cleanup_free_ LdmRecord **recs = NULL;
        size_t n;
        int r;

        r = collect(p->db, LDM_RECORD_DISK, &recs, &n);
        if (r < 0)
                return r;
        if (n > LDM_PACK_MAX_DISKS)
                return -E2BIG;
        p->disks = calloc(MAX(n, (size_t) 1), sizeof(LdmDisk));
        if (!p->disks)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                LdmDisk *d = &p->disks[p->n_disks++];

                *d = (LdmDisk) {
                        .pack = p, .record = recs[i], .id = recs[i]->id, .name = recs[i]->name,
                        .guid = recs[i]->disk.guid, .flags = recs[i]->disk.flags,
                };
                for (size_t j = 0; j < n_devices; j++)
                        if (devices[j]->db && guid_equal(&devices[j]->privhead.disk_guid, &d->guid)) {
                                d->device = devices[j];
                                break;
                        }
        }
        return 0;
}

static int build_volumes(LdmPack *p) {
        _cleanup_free_ LdmRecord **recs = NULL;
        size_t n;
        int r;

        r = collect(p->db, LDM_RECORD_VOLUME, &recs, &n);
        if (r < 0)
                return r;
        if (n > LDM_PACK_MAX_VOLUMES)
                return -E2BIG;
        p->volumes = calloc(MAX(n, (size_t) 1), sizeof(LdmVolume));
        if (!p->volumes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                p->volumes[p->n_volumes++] = (LdmVolume) {
                        .pack = p, .record = recs[i], .id = recs[i]->id, .name = recs[i]->name,
                        .guid = recs[i]->volume.guid, .size = recs[i]->volume.size,
                };
        return 0;
}

static int build_plexes(LdmPack *p) {
        _cleanup_free_ LdmRecord **recs = NULL;
        size_t n;
        int r;

        r = collect(p->db, LDM_RECORD_COMPONENT, &recs, &n);
        if (r < 0)
                return r;
        p->plexes = calloc(MAX(n, (size_t) 1), sizeof(LdmPlex));
        if (!p->plexes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const LdmComponentRecord *c = &recs[i]->component;
                LdmVolume *v = find_volume(p, c->parent_volume_id);

                if (!v) {
                        pack_diag(p, recs[i], "names a volume that does not exist:", c->parent_volume_id);
                        continue;
                }
                if (c->layout < LDM_LAYOUT_STRIPE || c->layout > LDM_LAYOUT_RAID5) {
                        pack_diag(p, recs[i], "has an unknown layout", c->layout);
                        continue;
                }
                if (v->n_plexes >= LDM_VOLUME_MAX_PLEXES) {
                        pack_diag(p, recs[i], "exceeds the plex limit of its volume:", LDM_VOLUME_MAX_PLEXES);
                        continue;
                }
                p->plexes[p->n_plexes++] = (LdmPlex) {
                        .record = recs[i], .id = recs[i]->id, .name = recs[i]->name, .volume = v,
                        .layout = c->layout, .flags = c->flags,
                        .stripe_size = c->layout == LDM_LAYOUT_CONCAT ? 0 : c->stripe_size,
                };
                v->n_plexes++;
        }
        /* Volume → plex pointers, in plex ID order. */
        for (size_t i = 0; i < p->n_volumes; i++) {
                LdmVolume *v = &p->volumes[i];
                size_t k = 0;

                v->plexes = calloc(MAX(v->n_plexes, (size_t) 1), sizeof(LdmPlex *));
                if (!v->plexes)
                        return -ENOMEM;
                for (size_t j = 0; j < p->n_plexes; j++)
                        if (p->plexes[j].volume == v)
                                v->plexes[k++] = &p->plexes[j];
                if (v->n_plexes != v->record->volume.n_components)
                        pack_diag(p, v->record, "has this many components, its record says",
                                  v->record->volume.n_components);
        }
        return 0;
}

static const char *disk_path(const LdmDisk *d) {
        return d->device ? d->device->path : "missing";
}

/* §7.10: an extent lives on its disk's public region. Volume data is written at pub_start +
 * start, so a Partition record (VBLK slots have no checksum) that runs past the region would
 * have a resync write over the private region that follows it on MBR disks, or past the
 * device. Diagnoses and returns false for such an extent. A missing disk has no PRIVHEAD to
 * tell; nothing is written to it, and the extent is checked once the disk is back. */
static bool extent_in_public_region(LdmPack *p, const LdmRecord *rec, const LdmDisk *d) {
        const LdmPartitionRecord *x = &rec->partition;
        uint64_t lo = 0, hi = 0, end;
        int r;

        if (!d->device)
                return true;
        r = ldm_disk_public_bytes(d, &lo, &hi);
        if (r == -ERANGE) {
                pack_diagf(p, rec, "on %s (%s), whose PRIVHEAD puts the public region (sectors %" PRIu64 "+%" PRIu64 ") off the device or over the private region",
                           d->name, disk_path(d), d->device->privhead.pub_start, d->device->privhead.pub_size);
                return false;
        }
        if (r >= 0 && !add_u64_overflow(x->start, x->size, &end) && end <= (hi - lo) / 512)
                return true;
        pack_diagf(p, rec, "sectors %" PRIu64 "+%" PRIu64 " on %s (%s) leave its %" PRIu64 "-sector public region",
                   x->start, x->size, d->name, disk_path(d), (hi - lo) / 512);
        return false;
}

static int extent_disk_start_compare(const void *a, const void *b) {
        const LdmExtent *const *x = a, *const *y = b;
        if ((*x)->disk != (*y)->disk)
                return (*x)->disk < (*y)->disk ? -1 : 1;
        if ((*x)->start != (*y)->start)
                return (*x)->start < (*y)->start ? -1 : 1;
        return (*x)->id < (*y)->id ? -1 : (*x)->id > (*y)->id;
}

static void overlap_diag(LdmPack *p, const LdmExtent *e, const LdmExtent *other) {
        pack_diagf(p, e->record, "sectors %" PRIu64 "+%" PRIu64 " on %s (%s) overlap %s %" PRIu32 " \"%s\" (sectors %" PRIu64 "+%" PRIu64 ")",
                   e->start, e->size, e->disk->name, disk_path(e->disk),
                   ldm_record_type_to_string(other->record->type), other->id, other->name, other->start, other->size);
}

/* Leaves out p->extents[i] for every i with drop[i], keeping the order of the others. */
static void extents_compact(LdmPack *p, const bool *drop) {
        size_t k = 0;

        for (size_t i = 0; i < p->n_extents; i++)
                if (!drop[i])
                        p->extents[k++] = p->extents[i];
        p->n_extents = k;
}

/* Two extents sharing sectors of one disk: writing either volume (a resync, a rebuild)
 * overwrites the other's data, and which record is right cannot be told. Both are left out
 * and their plexes marked, as extent_in_public_region() does. Sorted by disk and start, an
 * extent overlaps an earlier one exactly when it starts before the furthest end so far. */
static int reject_overlaps(LdmPack *p) {
        _cleanup_free_ LdmExtent **v = NULL;
        _cleanup_free_ bool *drop = NULL;
        const LdmExtent *reach = NULL;

        v = calloc(MAX(p->n_extents, (size_t) 1), sizeof(*v));
        drop = calloc(MAX(p->n_extents, (size_t) 1), sizeof(*drop));
        if (!v || !drop)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_extents; i++)
                v[i] = &p->extents[i];
        qsort_safe(v, p->n_extents, sizeof(*v), extent_disk_start_compare);

        for (size_t i = 0; i < p->n_extents; i++) {
                LdmExtent *e = v[i];

                /* start + size cannot overflow: build_extents() checked it. */
                if (reach && reach->disk == e->disk && e->start < reach->start + reach->size) {
                        overlap_diag(p, e, reach);
                        if (!drop[reach - p->extents])
                                overlap_diag(p, reach, e);
                        drop[e - p->extents] = drop[reach - p->extents] = true;
                        e->plex->extent_rejected = reach->plex->extent_rejected = true;
                        e->disk->extent_rejected = true; /* reach is on the same disk */
                }
                if (!reach || reach->disk != e->disk || e->start + e->size > reach->start + reach->size)
                        reach = e;
        }
        extents_compact(p, drop);
        return 0;
}

static int build_extents(LdmPack *p) {
        _cleanup_free_ LdmRecord **recs = NULL;
        size_t n;
        int r;

        r = collect(p->db, LDM_RECORD_PARTITION, &recs, &n);
        if (r < 0)
                return r;
        p->extents = calloc(MAX(n, (size_t) 1), sizeof(LdmExtent));
        if (!p->extents)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const LdmPartitionRecord *x = &recs[i]->partition;
                LdmPlex *pl = find_plex(p, x->parent_component_id);
                LdmDisk *d = ldm_pack_find_disk(p, x->disk_id);
                uint64_t end;

                if (!pl) {
                        pack_diag(p, recs[i], "names a component that does not exist:", x->parent_component_id);
                        continue;
                }
                /* A plex missing an extent record is never written, and a disk that held a
                 * rejected one is never called whole again (repair's disk_back()). */
                if (!d) {
                        pack_diag(p, recs[i], "names a disk that does not exist:", x->disk_id);
                        pl->extent_rejected = true;
                        continue;
                }
                if (x->size == 0 || add_u64_overflow(x->start, x->size, &end) ||
                    add_u64_overflow(x->offset_in_column, x->size, &end) || end > UINT64_MAX / 512) {
                        pack_diag(p, recs[i], "has an empty or overflowing range, size", (uint32_t) x->size);
                        pl->extent_rejected = d->extent_rejected = true;
                        continue;
                }
                if (pl->layout != LDM_LAYOUT_CONCAT && x->column_index >= LDM_PLEX_MAX_COLUMNS) {
                        pack_diag(p, recs[i], "has a column index beyond the limit:", x->column_index);
                        pl->extent_rejected = d->extent_rejected = true;
                        continue;
                }
                if (!extent_in_public_region(p, recs[i], d)) {
                        pl->extent_rejected = d->extent_rejected = true;
                        continue;
                }
                p->extents[p->n_extents++] = (LdmExtent) {
                        .record = recs[i], .id = recs[i]->id, .name = recs[i]->name, .disk = d,
                        .plex = pl, .start = x->start, .offset_in_column = x->offset_in_column,
                        .size = x->size, .column = pl->layout == LDM_LAYOUT_CONCAT ? 0 : x->column_index,
                        .flags = x->flags,
                };
        }
        return reject_overlaps(p);
}

static uint32_t count_plex_extents(const LdmPack *p, const LdmPlex *pl) {
        uint32_t n = 0;

        for (size_t i = 0; i < p->n_extents; i++)
                if (p->extents[i].plex == pl)
                        n++;
        return n;
}

/* Columns of a plex: one for concatenated plexes, else as many as the column count (or the
 * highest column index + 1), each ordered by offset in column. */
static int build_columns(LdmPack *p, LdmPlex *pl) {
        uint32_t n_cols = 1;

        if (pl->layout != LDM_LAYOUT_CONCAT) {
                n_cols = MAX(pl->record->component.n_columns, 1u);
                for (size_t i = 0; i < p->n_extents; i++)
                        if (p->extents[i].plex == pl)
                                n_cols = MAX(n_cols, p->extents[i].column + 1);
                if (n_cols > LDM_PLEX_MAX_COLUMNS) {
                        pack_diag(p, pl->record, "has more columns than the limit", LDM_PLEX_MAX_COLUMNS);
                        n_cols = LDM_PLEX_MAX_COLUMNS;
                }
        }
        pl->columns = calloc(n_cols, sizeof(LdmColumn));
        if (!pl->columns)
                return -ENOMEM;
        pl->n_columns = n_cols;

        for (uint32_t c = 0; c < n_cols; c++) {
                LdmColumn *col = &pl->columns[c];

                col->extents = calloc(LDM_COLUMN_MAX_EXTENTS, sizeof(LdmExtent *));
                if (!col->extents)
                        return -ENOMEM;
                for (size_t i = 0; i < p->n_extents; i++) {
                        LdmExtent *x = &p->extents[i];
                        if (x->plex != pl || x->column != c)
                                continue;
                        if (col->n_extents >= LDM_COLUMN_MAX_EXTENTS) {
                                /* Dropped like the rejections above, and marked as they are. */
                                pack_diag(p, x->record, "exceeds the extents-per-column limit", LDM_COLUMN_MAX_EXTENTS);
                                pl->extent_rejected = x->disk->extent_rejected = true;
                                continue;
                        }
                        col->extents[col->n_extents++] = x;
                        col->size += x->size;
                }
                qsort_safe(col->extents, col->n_extents, sizeof(LdmExtent *), extent_offset_compare);
        }

        switch (pl->layout) {
        case LDM_LAYOUT_CONCAT:
                pl->size = pl->columns[0].size;
                break;
        case LDM_LAYOUT_STRIPE:
                pl->size = pl->columns[0].size * n_cols;
                break;
        default:
                pl->size = pl->columns[0].size * (n_cols - 1);
                break;
        }
        if (pl->record->component.n_partitions != count_plex_extents(p, pl))
                pack_diag(p, pl->record, "has a different number of extents than its record says:",
                          pl->record->component.n_partitions);
        return 0;
}

/* §7.10 (libldm's derivation): layout 2 with 2+ plexes → mirror, with 2+ extents → span,
 * else simple; layout 1 → stripe; 3 → RAID-5. */
static LdmVolumeType volume_type(const LdmVolume *v) {
        const LdmPlex *pl;

        if (v->n_plexes == 0)
                return LDM_VOLUME_SIMPLE;
        pl = v->plexes[0];
        switch (pl->layout) {
        case LDM_LAYOUT_STRIPE:
                return LDM_VOLUME_STRIPE;
        case LDM_LAYOUT_RAID5:
                return LDM_VOLUME_RAID5;
        default:
                if (v->n_plexes >= 2)
                        return LDM_VOLUME_MIRROR;
                return pl->columns[0].n_extents >= 2 ? LDM_VOLUME_SPAN : LDM_VOLUME_SIMPLE;
        }
}

int ldm_pack_build(LdmDevice *authority, LdmDevice *const *devices, size_t n_devices,
                   LdmPack **ret) {
        _cleanup_(ldm_pack_freep) LdmPack *p = NULL;
        int r;

        if (!authority || !authority->db)
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->authority = authority;
        p->db = authority->db;
        p->guid = authority->privhead.group_guid;
        memcpy(p->name, authority->db->vmdb.group_name, sizeof(p->name));
        p->committed_seq = authority->effective_committed;
        p->devices = calloc(MAX(n_devices, (size_t) 1), sizeof(LdmDevice *));
        if (!p->devices)
                return -ENOMEM;
        memcpy(p->devices, devices, n_devices * sizeof(LdmDevice *));
        p->n_devices = n_devices;

        r = build_disks(p, devices, n_devices);
        if (r < 0)
                return r;
        r = build_volumes(p);
        if (r < 0)
                return r;
        r = build_plexes(p);
        if (r < 0)
                return r;
        r = build_extents(p);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_plexes; i++) {
                r = build_columns(p, &p->plexes[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < p->n_volumes; i++)
                p->volumes[i].type = volume_type(&p->volumes[i]);

        *ret = TAKE_PTR(p);
        return 0;
}
