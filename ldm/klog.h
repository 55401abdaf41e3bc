/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* klog.h: KLOG pages of the log region (§8). Only K/L/F-invisible; kept byte-exact. */

#include <stdint.h>

#include "diag.h"

#define LDM_KLOG_MAX_ENTRIES 20 /* (512 - 0x18) / 24 */

typedef struct LdmKlogEntry {
        uint8_t status;      /* 0 none, 1 detach, 2 dirty, 3 commit, 4 logdetach, 5 app-dirty */
        uint64_t committed;
        uint64_t pending;
        uint32_t recovery_seq;
} LdmKlogEntry;

typedef struct LdmKlogPage {
        uint64_t transaction;
        uint32_t sequence;
        uint32_t n_pages;
        uint32_t index;
        LdmKlogEntry entries[LDM_KLOG_MAX_ENTRIES];
        size_t n_entries;    /* entries before the first status-0 entry whose IDs are zero */
        uint8_t raw[512];
} LdmKlogPage;

int ldm_klog_parse(const uint8_t sector[static 512], const char *disk, uint64_t offset,
                   LdmKlogPage *ret, LdmDiag *err);
void ldm_klog_encode(const LdmKlogPage *p, uint8_t out[static 512]);
