/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* pack.h: the model of one disk group ("pack"), built from the authoritative database of
 * its present disks: pack → disks (present or missing) → volumes → plexes (components) →
 * columns → extents (partitions). Everything above the format library (volume mapping,
 * health, repair, the daemon) reads the pack through these structures. All sizes and offsets
 * of extents are in 512-byte sectors as on disk; ldm_extent_disk_offset() gives bytes. */

#include <stdbool.h>
#include <stdint.h>

#include "database.h"
#include "device.h"
#include "diag.h"
#include "guid.h"
#include "vds.h"

typedef struct LdmPack LdmPack;
typedef struct LdmVolume LdmVolume;
typedef struct LdmPlex LdmPlex;
typedef struct LdmDisk LdmDisk;

typedef enum LdmVolumeType {
        LDM_VOLUME_SIMPLE,
        LDM_VOLUME_SPAN,
        LDM_VOLUME_STRIPE,
        LDM_VOLUME_MIRROR,
        LDM_VOLUME_RAID5,
        _LDM_VOLUME_TYPE_MAX,
        _LDM_VOLUME_TYPE_INVALID = -EINVAL,
} LdmVolumeType;

/* A disk of the pack, as its Disk record names it. */
struct LdmDisk {
        LdmPack *pack;
        LdmRecord *record;         /* in pack->db */
        uint32_t id;
        const char *name;          /* "Disk1" (points into record) */
        LdmGuid guid;
        uint32_t flags;            /* LDM_DISK_FLAG_* */
        LdmDevice *device;         /* NULL: missing */
        LdmDevice *invalid_device; /* present, but its copy could not join the pack (it sits
                                    * in the scan's INVALID list); device is NULL then */
        bool extent_rejected;      /* pack.c left an extent record on it out: what the disk
                                    * holds is not all known, so nothing may call it whole */

        /* health.c */
        bool db_stale;             /* its copy's committed ID < the pack's */
        bool db_damaged;           /* some copy of a structure on it is invalid */
        VdsDiskStatus status;
        VdsHealth health;
};

/* A Partition record: a run of sectors on one disk. */
typedef struct LdmExtent {
        LdmRecord *record;
        uint32_t id;
        const char *name;          /* "Disk1-01" */
        LdmDisk *disk;
        LdmPlex *plex;
        uint64_t start;            /* sectors from the disk's public region start */
        uint64_t offset_in_column; /* sectors */
        uint64_t size;             /* sectors */
        uint32_t column;           /* column index */
        uint32_t flags;            /* LDM_PARTITION_FLAG_* */
} LdmExtent;

/* The extents of one column, ordered by offset_in_column, contiguous from 0. */
typedef struct LdmColumn {
        LdmExtent **extents;
        size_t n_extents;
        uint64_t size;             /* sectors */
        /* health.c */
        bool stale;                /* needs rebuilding (missing disk, stale copy, recover flag) */
        bool missing;              /* some extent's disk is missing */
} LdmColumn;

/* A Component record: a plex of a volume. */
struct LdmPlex {
        LdmRecord *record;
        uint32_t id;
        const char *name;          /* "Volume1-01" */
        LdmVolume *volume;
        uint8_t layout;            /* LdmComponentLayout */
        uint32_t flags;
        uint64_t stripe_size;      /* sectors, 0 for concatenated plexes */
        LdmColumn *columns;        /* 1 for concatenated plexes */
        size_t n_columns;
        uint64_t size;             /* sectors of volume data this plex holds */
        bool extent_rejected;      /* pack.c left an extent record of it out: outside its
                                    * disk's public region or overlapping another extent.
                                    * Its volume is Failed and never written. */
        /* health.c */
        bool stale;                /* mirror plex out of date */
        VdsHealth health;
        VdsTransitionState transition;
};

struct LdmVolume {
        LdmPack *pack;
        LdmRecord *record;
        uint32_t id;
        const char *name;
        LdmVolumeType type;
        LdmGuid guid;
        uint64_t size;             /* sectors, from the record */
        LdmPlex **plexes;
        size_t n_plexes;
        /* health.c */
        bool needs_resync;         /* SYNC state, crashed flag or KLOG dirty (rule 5) */
        VdsVolumeStatus status;
        VdsHealth health;
};

struct LdmPack {
        LdmGuid guid;
        char name[32];
        LdmDatabase *db;           /* authoritative copy (owned by `authority`) */
        LdmDevice *authority;
        LdmDevice **devices;       /* present devices of the group (owned by the scan) */
        size_t n_devices;
        uint64_t committed_seq;
        /* Set by the scan, 0 unless settled copies at committed_seq hold different configs
         * and no config has more copies than another (a pack split evenly, each side used):
         * then the authority is only the first in device order, and nothing may overwrite
         * the other side on that ground. The number of copies of the authority's config,
         * and as many of another's. */
        size_t n_disputed;

        LdmDisk *disks;            /* every Disk record */
        size_t n_disks;
        LdmVolume *volumes;
        size_t n_volumes;
        LdmPlex *plexes;           /* storage for all plexes */
        size_t n_plexes;
        LdmExtent *extents;        /* storage for all extents */
        size_t n_extents;

        /* health.c */
        VdsPackStatus status;
        uint32_t flags;            /* VDS_PKF_* */
        VdsHealth health;

        LdmDiagList diags;         /* model-level problems (dangling references, counts) */
};

/* Builds the model of a pack from authority->db after the §10.2 rule-2 recovery: disks from
 * Disk records (linked to the devices[] whose PRIVHEAD disk GUID matches; others stay
 * missing), volumes, plexes, columns ordered by column index, extents by offset in column.
 * Dangling references and over-limit counts go to pack->diags and the offending record is
 * left out. So do extents that leave their (present) disk's public region or overlap another
 * extent of the same disk; their plexes are marked extent_rejected. Does not compute health.
 * devices[] and authority stay owned by the caller. */
int ldm_pack_build(LdmDevice *authority, LdmDevice *const *devices, size_t n_devices,
                   LdmPack **ret);
LdmPack *ldm_pack_free(LdmPack *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(LdmPack *, ldm_pack_free);

#define LDM_PACK_MAX_DISKS 1024u      /* far above Windows' limits; bounds hostile input */
#define LDM_PACK_MAX_VOLUMES 2048u
#define LDM_PLEX_MAX_COLUMNS 32u      /* §7.10: ≤ 32 extents per striped/RAID-5/spanned volume */
#define LDM_COLUMN_MAX_EXTENTS 32u
#define LDM_VOLUME_MAX_PLEXES 32u

LdmDisk *ldm_pack_find_disk(const LdmPack *p, uint32_t id);
LdmDisk *ldm_pack_find_disk_by_guid(const LdmPack *p, const LdmGuid *guid);
LdmVolume *ldm_pack_find_volume_by_guid(const LdmPack *p, const LdmGuid *guid);
size_t ldm_pack_n_present(const LdmPack *p);

/* Absolute byte offset on ext->disk->device of the extent's first sector; requires the disk
 * to be present (its PRIVHEAD gives pub_start). */
uint64_t ldm_extent_disk_offset(const LdmExtent *ext);
/* The disk's public region as absolute bytes [*ret_start, *ret_end) on its device (PRIVHEAD
 * pub_start/pub_size, in device sectors). -ENODEV when the disk is missing, -EOVERFLOW when
 * the bytes do not fit in 64 bits, -ERANGE when the region leaves the device or overlaps the
 * private region (then no extent of the disk is used or written). */
int ldm_disk_public_bytes(const LdmDisk *disk, uint64_t *ret_start, uint64_t *ret_end);
/* Whether an extent record of one of the volume's plexes was left out (extent_rejected). */
bool ldm_volume_extent_rejected(const LdmVolume *v);
/* Whether every column of the plex has all its disks (none `missing`, as the health pass
 * set it). */
bool ldm_plex_present(const LdmPlex *p);

const char *ldm_volume_type_to_string(LdmVolumeType t);
LdmVolumeType ldm_volume_type_from_string(const char *s);
