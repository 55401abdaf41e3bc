/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* model.h: what the daemon publishes, as plain values: one PackObj/DiskObj/VolumeObj per bus
 * object, with every property already computed from an LdmScan. Property getters read these
 * values only, so a new scan is published by building a new Model and diffing it against the
 * old one (which says exactly which signals to send). Arrays are sorted by object path.
 * Names read from disk are published escaped (utf8.h): valid UTF-8 without control
 * characters, whatever bytes the disk holds. */

#include <stdbool.h>
#include <stdint.h>

#include "scan.h"

#define LDMD_MANAGER_PATH "/org/ldmd1"
#define LDMD_PACK_PREFIX "/org/ldmd1/pack"
#define LDMD_DISK_PREFIX "/org/ldmd1/disk"
#define LDMD_VOLUME_PREFIX "/org/ldmd1/volume"
#define LDMD_INVALID_PACK_PATH "/org/ldmd1/pack/invalid"
#define LDMD_INVALID_PACK_NAME "INVALID"

/* Members of a plex on the bus: a(ott). `offset` is UINT64_MAX when the disk is missing (the
 * byte position is only known from the disk's own PRIVHEAD). */
typedef struct PlexMember {
        char *disk;                /* object path */
        uint64_t offset;           /* bytes on that disk */
        uint64_t length;           /* bytes */
} PlexMember;

typedef struct PlexView {
        uint32_t index;
        uint32_t health;           /* VDS_HEALTH */
        uint32_t transition;       /* VDS_TRANSITION_STATE */
        PlexMember *members;
        size_t n_members;
} PlexView;

typedef struct PackObj {
        char *path;
        char *id;                  /* disk-group GUID text, "" for INVALID */
        char *name;                /* escaped (utf8.h), as every name below */
        uint32_t status, flags, health;
        char **disks, **volumes;   /* object paths */
        uint64_t committed_seq;
        LdmPack *pack;             /* NULL for INVALID; owned by Model.scan */
        struct Model *model;       /* the model it belongs to */
} PackObj;

typedef struct DiskObj {
        char *path;
        char *id;                  /* disk GUID text ("" when no PRIVHEAD names one) */
        char *name;
        char *pack;                /* object path */
        char *device;              /* "" when missing */
        uint32_t status, health;
        uint64_t size, db_seq;
        int db_stale;              /* bool, int-sized as sd-bus reads "b" */
} DiskObj;

typedef struct VolumeObj {
        char *path;
        char *id;
        char *name;
        char *pack;
        uint32_t type, status, health;
        uint64_t size;             /* bytes */
        PlexView *plexes;
        size_t n_plexes;
} VolumeObj;

typedef struct Model {
        void *userdata;            /* the daemon's Manager, for getters that need it */
        LdmScan *scan;             /* owned; NULL when there is no LDM disk at all */
        PackObj *packs;
        size_t n_packs;
        DiskObj *disks;
        size_t n_disks;
        VolumeObj *volumes;
        size_t n_volumes;
} Model;

/* Builds the published view of scan and takes ownership of it (also on failure). scan may
 * be NULL: an empty model. */
int model_build(LdmScan *scan, Model **ret);
Model *model_free(Model *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Model *, model_free);

PackObj *model_find_pack(const Model *m, const char *path);
DiskObj *model_find_disk(const Model *m, const char *path);
VolumeObj *model_find_volume(const Model *m, const char *path);
/* Packs whose Name equals name (INVALID included under its name). Returns how many match
 * and stores up to `max` of them in ret[]. */
size_t model_find_packs_by_name(const Model *m, const char *name, PackObj **ret, size_t max);
/* The pack whose Id is guid (any case), or NULL. */
PackObj *model_find_pack_by_id(const Model *m, const char *guid);

/* Object path lists for the Manager's Packs/Disks properties (sorted). */
int model_pack_paths(const Model *m, char ***ret);
int model_disk_paths(const Model *m, char ***ret);

/* Equality of the values behind each property, for the diff (PropertiesChanged). */
bool plex_views_equal(const PlexView *a, size_t na, const PlexView *b, size_t nb);

/* VDS_VOLUME_TYPE of an LDM volume type. */
uint32_t volume_type_to_vds(LdmVolumeType t);
