/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* vmdb.h: the VMDB header at the start of the config region (§6). */

#include <stdint.h>

#include "diag.h"
#include "guid.h"

typedef enum LdmVmdbStatus {
        LDM_VMDB_CLEAN = 1,
        LDM_VMDB_CHANGE = 2,
        LDM_VMDB_COMMIT = 3,
        LDM_VMDB_ABORT = 4,
        LDM_VMDB_NEW = 5,
        LDM_VMDB_STALE = 6,
        LDM_VMDB_OFFLINE = 8,
} LdmVmdbStatus;

/* Record counts, in the on-disk order. */
typedef enum LdmCount {
        LDM_COUNT_VOLUME,
        LDM_COUNT_COMPONENT,
        LDM_COUNT_PARTITION,
        LDM_COUNT_DISK,
        LDM_COUNT_DISK_ACCESS,
        _LDM_COUNT_MAX,
} LdmCount;

typedef struct LdmVmdb {
        uint32_t n_slots;        /* including the 4 header slots */
        uint32_t vblk_size;      /* 128 */
        uint32_t header_size;    /* 512 */
        uint16_t status;         /* LdmVmdbStatus */
        uint16_t version_major, version_minor;
        char group_name[32];
        LdmGuid group_guid;
        uint64_t committed_seq, pending_seq;
        uint32_t committed_counts[_LDM_COUNT_MAX];
        uint32_t pending_counts[_LDM_COUNT_MAX];
        uint64_t timestamp;      /* FILETIME */
        uint8_t raw[512];
} LdmVmdb;

int ldm_vmdb_parse(const uint8_t sector[static 512], const char *disk, uint64_t offset,
                   LdmVmdb *ret, LdmDiag *err);
void ldm_vmdb_encode(const LdmVmdb *v, uint8_t out[static 512]);
