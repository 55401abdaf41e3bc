/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* create.h: a brand-new pack, built in memory from a request (group name, label type and size
 * of each disk, volumes), following Windows' defaults and the [P] rules of ldm-format.md
 * §11.3/§12: object IDs 1…M in creation order, T = M + 1, extents aligned to 1 MiB, stripe
 * 128 sectors, random v4 GUIDs, the constant host GUID. Nothing is written here; writer.h
 * puts an LdmNewPack on disks. */

#include <stdbool.h>
#include <stdint.h>

#include "database.h"
#include "label.h"
#include "pack.h"
#include "privhead.h"
#include "tocblock.h"

#define LDM_CREATE_MAX_DISKS 32u
#define LDM_CREATE_MAX_VOLUMES 255u       /* volume numbers are 1…255 (§7.5) */
#define LDM_CREATE_MAX_EXTENTS 32u        /* per volume (§7.10 limits) */
#define LDM_STRIPE_SECTORS 128u           /* 64 KiB, striped and RAID-5 (W03, W08) */
#define LDM_CONFIG_START 17u
#define LDM_CONFIG_SECTORS 1481u
#define LDM_LOG_START 1498u
#define LDM_LOG_SECTORS 224u

/* One volume of the request. */
typedef struct LdmCreateVolume {
        LdmVolumeType type;
        uint64_t size;            /* bytes wanted; rounded up so every extent is whole MiB */
        const char *name;         /* NULL: "Volume<n>" */
        unsigned disks[LDM_CREATE_MAX_EXTENTS]; /* 0-based disk indexes, in column order */
        size_t n_disks;
        uint8_t partition_type;   /* 0: 0x06 (no file system yet) */
} LdmCreateVolume;

typedef struct LdmCreateDisk {
        uint64_t size;            /* bytes */
        LdmLabelType label;
} LdmCreateDisk;

typedef struct LdmCreateRequest {
        const char *group_name;   /* NULL: "<short hostname>-Dg0" */
        const LdmCreateDisk *disks;
        size_t n_disks;
        const LdmCreateVolume *volumes;
        size_t n_volumes;
        uint64_t timestamp;       /* FILETIME; 0: now */
} LdmCreateRequest;

/* One disk of the new pack: everything the writer puts on it. */
typedef struct LdmNewDisk {
        uint64_t n_sectors;
        LdmLabel label;           /* partition table to write */
        LdmPrivhead privhead;     /* raw[] holds the encoded sector */
        LdmTocblock toc;          /* written at rel 2 and 2045; raw[] encoded */
        uint32_t record_id;       /* object ID of its Disk record */
        char name[16];            /* "Disk<n>" */
} LdmNewDisk;

/* One extent as planned (for printing and tests; the records hold the same numbers). */
typedef struct LdmNewExtent {
        unsigned disk;            /* 0-based index */
        uint32_t plex;            /* 0 or 1 (mirror) */
        uint32_t column;
        uint64_t start;           /* sectors from the disk's public region start */
        uint64_t offset_in_column;
        uint64_t size;            /* sectors */
        uint32_t record_id;
        char name[24];            /* "Disk1-01" */
} LdmNewExtent;

typedef struct LdmNewVolume {
        LdmVolumeType type;
        char name[32];
        LdmGuid guid;
        uint64_t size;            /* sectors */
        uint32_t record_id;
        LdmNewExtent extents[2 * LDM_CREATE_MAX_EXTENTS];
        size_t n_extents;
} LdmNewVolume;

typedef struct LdmNewPack {
        LdmGuid group_guid;
        char group_name[32];
        LdmNewDisk *disks;
        size_t n_disks;
        LdmNewVolume *volumes;
        size_t n_volumes;
        LdmDatabase *db;          /* config and log images, identical on every disk */
} LdmNewPack;

/* Builds a new pack. Errors: -EINVAL (bad request; *err says which part), -ENOSPC (a volume
 * does not fit on its disks; *err names volume, disk and sizes), -EFBIG (an MBR disk over
 * 2 TiB), -ENOMEM. err may be NULL. */
int ldm_create_pack(const LdmCreateRequest *req, LdmNewPack **ret, LdmDiag *err);
LdmNewPack *ldm_new_pack_free(LdmNewPack *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(LdmNewPack *, ldm_new_pack_free);

/* Current time as FILETIME (100 ns since 1601-01-01). */
uint64_t ldm_filetime_now(void);
