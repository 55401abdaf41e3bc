/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* privhead.h: PRIVHEAD, the per-disk private header (ldm-format.md §4). Three copies on MBR
 * disks (LBA 6, rel 1856, rel 2047), two on GPT (rel 1856, rel 2047). */

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "guid.h"

#define LDM_SECTOR 512u
#define LDM_PRIV_SIZE 2048u          /* sectors */
#define LDM_PRIVHEAD_MBR_LBA 6u
#define LDM_PRIVHEAD_REL_A 2047u
#define LDM_PRIVHEAD_REL_B 1856u
#define LDM_HOST_GUID "1b77da20-c717-11d0-a5be-00a0c91db73c"

typedef struct LdmPrivhead {
        uint16_t version_major, version_minor;
        uint64_t timestamp;          /* FILETIME */
        uint64_t update_seq;
        uint64_t copy_lba_a, copy_lba_b; /* rel sectors of the copies (2047, 1856) */
        LdmGuid disk_guid;
        LdmGuid host_guid;
        LdmGuid group_guid;
        char group_name[32];         /* NUL terminated (field is 31 bytes) */
        uint32_t bytes_per_sector;
        uint32_t flags;
        uint16_t pub_slice, priv_slice;
        uint64_t pub_start, pub_size;    /* sectors, absolute */
        uint64_t priv_start, priv_size;  /* sectors, absolute */
        uint64_t toc_lba[2];             /* rel sectors of the current TOCBLOCKs */
        uint32_t n_configs, n_logs;
        uint64_t config_size, log_size;  /* sectors */
        uint32_t disk_signature;         /* 0x163: group-wide value, not the MBR signature */
        uint8_t diskset_guid[16], diskset_guid2[16];
        uint8_t raw[512];                /* the sector as read (or last encoded) */
} LdmPrivhead;

/* Byte sum of the first 512 bytes with bytes 8..11 taken as zero (§4.2). */
uint32_t ldm_header_checksum(const uint8_t sector[static 512]);

/* Parses and validates one copy: magic, checksum, version 2.11/2.12, GUID texts, region sanity.
 * disk/offset are only used to word *err. Returns 0, or -EBADMSG with *err filled. */
int ldm_privhead_parse(const uint8_t sector[static 512], const char *disk, uint64_t offset,
                       LdmPrivhead *ret, LdmDiag *err);
/* Serialises ph into out: starts from ph->raw (unknown bytes kept), writes every field, sets
 * the checksum. encode(parse(x)) == x for every valid x. */
void ldm_privhead_encode(const LdmPrivhead *ph, uint8_t out[static 512]);
