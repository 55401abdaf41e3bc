/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* tocblock.h: TOCBLOCK, the per-disk table of the config and log regions (§5). */

#include <stdint.h>

#include "diag.h"

#define LDM_TOC_REGIONS 2

typedef struct LdmTocRegion {
        char name[9];      /* "config", "log" */
        uint16_t flags;
        uint64_t start;    /* rel sectors */
        uint64_t size;     /* sectors */
        uint16_t unknown;  /* 6 */
        uint16_t copy;     /* 1 */
} LdmTocRegion;

typedef struct LdmTocblock {
        uint64_t update_seq;
        LdmTocRegion regions[LDM_TOC_REGIONS]; /* [0] config, [1] log */
        uint8_t raw[512];
} LdmTocblock;

int ldm_tocblock_parse(const uint8_t sector[static 512], const char *disk, uint64_t offset,
                       LdmTocblock *ret, LdmDiag *err);
void ldm_tocblock_encode(const LdmTocblock *toc, uint8_t out[static 512]);
