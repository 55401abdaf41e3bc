/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* record.h: one VBLK record (§7): Volume, Component, Partition, Disk or Disk Group, with
 * every field Windows writes and where it lives in the config region. Records we did not
 * change are rewritten from the bytes of their slots (byte-exact, §7.10; see
 * ldm_database_record_bytes()); a record whose fields were changed (dirty) or that is new is
 * encoded from its fields. */

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "guid.h"

#define LDM_VBLK_PAYLOAD 112u           /* bytes of record per 128-byte slot */
#define LDM_RECORD_MAX_FRAGMENTS 4u
#define LDM_RECORD_MAX_SIZE (LDM_VBLK_PAYLOAD * LDM_RECORD_MAX_FRAGMENTS)

typedef enum LdmRecordType {
        LDM_RECORD_VOLUME = 1,
        LDM_RECORD_COMPONENT = 2,
        LDM_RECORD_PARTITION = 3,
        LDM_RECORD_DISK = 4,
        LDM_RECORD_DISK_GROUP = 5,
        _LDM_RECORD_TYPE_MAX,
        _LDM_RECORD_TYPE_INVALID = -EINVAL,
} LdmRecordType;

typedef enum LdmComponentLayout {
        LDM_LAYOUT_STRIPE = 1,
        LDM_LAYOUT_CONCAT = 2,
        LDM_LAYOUT_RAID5 = 3,
} LdmComponentLayout;

/* Flag bits with public precedent (§7.5–7.9, §10.2 rule 7). */
#define LDM_VOLUME_FLAG_CRASHED      0x000004u
#define LDM_VOLUME_FLAG_DEFAULT      0x000010u
#define LDM_COMPONENT_FLAG_RECOVER   0x02u
#define LDM_COMPONENT_FLAG_IOFAIL    0x04u
#define LDM_PARTITION_FLAG_RECOVER   0x0008u
#define LDM_PARTITION_FLAG_KDETACH   0x0010u
#define LDM_DISK_FLAG_FAILING        0x004u
#define LDM_DISK_FLAG_REMOVED        0x100u
#define LDM_DISK_FLAG_DETACHED       0x200u

typedef struct LdmVolumeRecord {
        char type_name[16];       /* "gen", "raid5" */
        char ddla[32];            /* field 4, usually "" */
        char state[15];           /* "ACTIVE", NUL terminated */
        uint8_t read_policy;      /* 3 gen, 4 raid5 */
        uint32_t volume_number;   /* 1…255, encoded 01 nn */
        uint32_t volume_flags;
        uint32_t n_components;
        uint64_t commit_id;
        uint64_t unknown_id;
        uint64_t size;            /* sectors */
        uint8_t reserved[4];
        uint8_t partition_type;
        LdmGuid guid;
        uint64_t id1, id2, size2; /* optional, by record flags 0x08, 0x20, 0x80 */
        char hint[32];            /* optional, record flag 0x02 */
} LdmVolumeRecord;

typedef struct LdmComponentRecord {
        char state[32];           /* "ACTIVE" */
        uint8_t layout;           /* LdmComponentLayout */
        uint32_t flags;
        uint32_t n_partitions;
        uint64_t commit_id;
        uint8_t reserved[8];
        uint32_t parent_volume_id;
        uint64_t log_sd;          /* always 0 */
        uint64_t stripe_size;     /* sectors, record flag 0x10 */
        uint32_t n_columns;       /* record flag 0x10 */
} LdmComponentRecord;

typedef struct LdmPartitionRecord {
        uint32_t flags;
        uint64_t commit_id;
        uint64_t start;            /* sectors from the disk's public region start */
        uint64_t offset_in_column; /* sectors */
        uint64_t size;             /* sectors */
        uint32_t parent_component_id;
        uint32_t disk_id;
        uint32_t column_index;     /* record flag 0x08; 0 when absent */
        uint64_t unknown_txn;      /* record flag 0x20 */
        uint64_t unknown1;         /* record flag 0x40 */
        uint64_t hidden_count;     /* record flag 0x02 */
} LdmPartitionRecord;

typedef struct LdmDiskRecord {
        LdmGuid guid;              /* rev 3: parsed from text; rev 4: binary */
        LdmGuid diskset_guid;      /* rev 4 only */
        char device_name[128];     /* "last device name" */
        uint32_t flags;
        uint64_t commit_id;
} LdmDiskRecord;

typedef struct LdmDiskGroupRecord {
        LdmGuid guid;
        LdmGuid diskset_guid;      /* rev 4 only */
        uint8_t reserved[4];
        uint64_t commit_id;
        uint32_t n_config_copies;  /* record flag 0x08 */
        uint32_t n_log_copies;     /* record flag 0x08 */
        uint32_t minors;           /* record flag 0x10 (never written) */
} LdmDiskGroupRecord;

typedef struct LdmRecord {
        /* 8-byte record header */
        uint16_t update_status;    /* 0 active, 1 pending deletion, 2 pending activation */
        uint8_t record_flags;
        uint8_t type;              /* LdmRecordType (low nibble) */
        uint8_t revision;          /* high nibble */
        uint32_t id;
        char name[64];
        union {
                LdmVolumeRecord volume;
                LdmComponentRecord component;
                LdmPartitionRecord partition;
                LdmDiskRecord disk;
                LdmDiskGroupRecord disk_group;
        };

        /* Where it lives in the config region. */
        uint32_t group;            /* VBLK group number, non-zero */
        uint16_t n_fragments;
        uint32_t slots[LDM_RECORD_MAX_FRAGMENTS]; /* slot of fragment i, in index order */

        /* The bytes are not kept here: a parsed record's are in its slots of the config region
         * (ldm_database_record_bytes()), and a scan that keeps no region has no use for them
         * (448 bytes a record, most of a daemon's memory per disk). */
        size_t raw_size;           /* 8 + data length */
        bool dirty;                /* fields changed since parse: encode, do not copy its slots */
} LdmRecord;

/* Parses an assembled record (header + body). Checks every var field lies inside the data
 * length and the per-type rules of §7 (revision, exact lengths). disk/offset word *err. */
int ldm_record_parse(const uint8_t *buf, size_t size, const char *disk, uint64_t offset,
                     LdmRecord *ret, LdmDiag *err);
/* Encodes r's fields (minimal var-int lengths, padded sizes as Windows writes them) into
 * out; returns the record size (8 + data length) or -E2BIG past LDM_RECORD_MAX_SIZE. */
int ldm_record_encode(const LdmRecord *r, uint8_t out[static LDM_RECORD_MAX_SIZE]);
const char *ldm_record_type_to_string(LdmRecordType t);
