/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* label.h: the partition table around an LDM disk: an MBR with a 0x42 entry, or a GPT with the
 * LDM metadata / MSR / LDM data partitions (§2). */

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "guid.h"
#include "io.h"

#define LDM_MBR_TYPE_LDM 0x42
#define LDM_MBR_TYPE_GPT 0xEE
#define LDM_GPT_TYPE_METADATA "5808c8aa-7e8f-42e0-85d2-e1e90434cfb3"
#define LDM_GPT_TYPE_DATA     "af9b60a0-1431-4f62-bc68-3311714a69ad"
#define LDM_GPT_TYPE_MSR      "e3c9e316-0b5c-4db8-817d-f92df00215ae"
/* Where Windows (and mkldm) start the LDM metadata partition, i.e. the private region, of a GPT
 * disk: right after the primary entry array (ldm-format.md §2: 34 … 2081). */
#define LDM_GPT_META_START 34u

typedef enum LdmLabelType {
        LDM_LABEL_MBR,
        LDM_LABEL_GPT,
        _LDM_LABEL_TYPE_MAX,
        _LDM_LABEL_TYPE_INVALID = -EINVAL,
} LdmLabelType;

typedef struct LdmGptPartition {
        LdmGuid type;
        LdmGuid unique;
        uint64_t first_lba, last_lba;
        uint64_t attributes;
        char name[37];             /* UTF-16LE name folded to ASCII */
} LdmGptPartition;

typedef struct LdmLabel {
        LdmLabelType type;
        uint8_t mbr[512];          /* sector 0 as read */
        /* GPT only */
        LdmGuid gpt_disk_guid;
        uint64_t gpt_first_usable, gpt_last_usable;
        uint32_t gpt_n_entries, gpt_entry_size;
        int metadata_index, data_index; /* -1 when absent */
        LdmGptPartition *parts;    /* the used GPT entries in table order (malloc'ed; NULL for
                                    * MBR): most GPT disks have 3 or 4 of the 128 */
        size_t n_parts;
        uint64_t meta_first, meta_last; /* LDM metadata partition (the private region) */
        uint64_t data_first, data_last; /* LDM data partition (the public region) */
        bool gpt_backup_used;      /* the primary GPT was corrupt: the backup was read */
        LdmDiag gpt_primary_diag;  /* why the primary was rejected */
} LdmLabel;

/* Reads sector 0 (and the primary GPT if protective). Returns 1 when this is an LDM disk
 * (MBR entry 0x42, or GPT with an LDM metadata partition), 0 when it is not, negative on
 * I/O error or a corrupt GPT (-EBADMSG with *err filled: both headers are bad; it names the
 * primary and says what is wrong with the backup). Overwrites *ret whatever it held (call
 * ldm_label_done() on a label read before); its contents mean something only when 1 is
 * returned, and it is to be ldm_label_done()'d in every case. */
int ldm_label_read(LdmIo *io, LdmLabel *ret, LdmDiag *err);
/* Frees what a label owns (its entry array); the label is then empty. NULL-safe. */
void ldm_label_done(LdmLabel *l);
const char *ldm_label_type_to_string(LdmLabelType t);
