/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* tocblock.c: TOCBLOCK, the per-disk table naming the config and log regions (§5). */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cursor.h"
#include "privhead.h"
#include "tocblock.h"
#include "unaligned.h"

#define TOC_MAGIC "TOCBLOCK"
#define TOC_REGION_OFFSET 0x24
#define TOC_REGION_SIZE 34

static const char *const region_names[LDM_TOC_REGIONS] = { "config", "log" };

int ldm_tocblock_parse(const uint8_t sector[static 512], const char *disk, uint64_t offset,
                       LdmTocblock *ret, LdmDiag *err) {
        LdmTocblock toc = {};
        uint32_t stored, computed;

        if (memcmp(sector, TOC_MAGIC, 8) != 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "TOCBLOCK", disk, offset,
                                    "magic is not \"TOCBLOCK\"");
        stored = unaligned_read_be32(sector + 0x08);
        computed = ldm_header_checksum(sector);
        if (stored != computed)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "TOCBLOCK", disk, offset + 0x08,
                                    "bad checksum (expected 0x%08x, found 0x%08x)", computed, stored);
        toc.update_seq = unaligned_read_be64(sector + 0x0C);

        for (size_t i = 0; i < LDM_TOC_REGIONS; i++) {
                const uint8_t *e = sector + TOC_REGION_OFFSET + i * TOC_REGION_SIZE;
                LdmTocRegion *rg = &toc.regions[i];
                uint64_t end;

                ldm_text_field_get(e, 8, rg->name);
                if (strcmp(rg->name, region_names[i]) != 0)
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "TOCBLOCK", disk,
                                            offset + (e - sector),
                                            "region %zu is named \"%.8s\" (expected \"%s\")",
                                            i, rg->name, region_names[i]);
                rg->flags = unaligned_read_be16(e + 0x08);
                rg->start = unaligned_read_be64(e + 0x0A);
                rg->size = unaligned_read_be64(e + 0x12);
                rg->unknown = unaligned_read_be16(e + 0x1A);
                rg->copy = unaligned_read_be16(e + 0x1C);
                if (rg->size == 0 || add_u64_overflow(rg->start, rg->size, &end) ||
                    end > LDM_PRIV_SIZE)
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "TOCBLOCK", disk,
                                            offset + (e - sector) + 0x0A,
                                            "region \"%s\" %" PRIu64 "+%" PRIu64 " is empty or leaves the private region",
                                            rg->name, rg->start, rg->size);
        }

        memcpy(toc.raw, sector, 512);
        *ret = toc;
        return 0;
}

void ldm_tocblock_encode(const LdmTocblock *toc, uint8_t out[static 512]) {
        uint8_t s[512];

        memcpy(s, toc->raw, 512);
        memcpy(s, TOC_MAGIC, 8);
        unaligned_write_be64(s + 0x0C, toc->update_seq);
        for (size_t i = 0; i < LDM_TOC_REGIONS; i++) {
                uint8_t *e = s + TOC_REGION_OFFSET + i * TOC_REGION_SIZE;
                const LdmTocRegion *rg = &toc->regions[i];

                ldm_text_field_set(e, 8, rg->name[0] ? rg->name : region_names[i]);
                unaligned_write_be16(e + 0x08, rg->flags);
                unaligned_write_be64(e + 0x0A, rg->start);
                unaligned_write_be64(e + 0x12, rg->size);
                unaligned_write_be16(e + 0x1A, rg->unknown);
                unaligned_write_be16(e + 0x1C, rg->copy);
        }
        unaligned_write_be32(s + 0x08, ldm_header_checksum(s));
        memcpy(out, s, 512);
}
