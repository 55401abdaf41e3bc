/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* klog.c: one KLOG page of the log region (§8). No public reader but DiskAccessLibrary looks at
 * it; we parse it for the health rules and keep it byte-exact otherwise. */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cursor.h"
#include "klog.h"
#include "unaligned.h"

#define KLOG_MAGIC "KLOG"
#define KLOG_ENTRIES_OFFSET 0x18
#define KLOG_ENTRY_SIZE 24

int ldm_klog_parse(const uint8_t sector[static 512], const char *disk, uint64_t offset,
                   LdmKlogPage *ret, LdmDiag *err) {
        LdmKlogPage p = {};

        if (memcmp(sector, KLOG_MAGIC, 4) != 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "KLOG", disk, offset,
                                    "magic is not \"KLOG\"");
        p.transaction = unaligned_read_be64(sector + 0x04);
        p.sequence = unaligned_read_be32(sector + 0x0C);
        p.n_pages = unaligned_read_be32(sector + 0x10);
        p.index = unaligned_read_be32(sector + 0x14);

        /* Entries run until the first all-empty one (status 0 and both IDs 0): W03 keeps
         * cleared status-0 entries that still carry IDs, and those are kept. */
        for (size_t i = 0; i < LDM_KLOG_MAX_ENTRIES; i++) {
                const uint8_t *e = sector + KLOG_ENTRIES_OFFSET + i * KLOG_ENTRY_SIZE;
                LdmKlogEntry en = {
                        .status = e[0],
                        .committed = unaligned_read_be64(e + 1),
                        .pending = unaligned_read_be64(e + 9),
                        .recovery_seq = unaligned_read_be32(e + 17),
                };

                if (en.status == 0 && en.committed == 0 && en.pending == 0)
                        break;
                if (en.status > 5)
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "KLOG", disk, offset + (e - sector),
                                            "entry %zu has unknown status %u", i, en.status);
                p.entries[p.n_entries++] = en;
        }

        memcpy(p.raw, sector, 512);
        *ret = p;
        return 0;
}

void ldm_klog_encode(const LdmKlogPage *p, uint8_t out[static 512]) {
        uint8_t s[512];
        size_t n = MIN(p->n_entries, (size_t) LDM_KLOG_MAX_ENTRIES);

        memcpy(s, p->raw, 512);
        memcpy(s, KLOG_MAGIC, 4);
        unaligned_write_be64(s + 0x04, p->transaction);
        unaligned_write_be32(s + 0x0C, p->sequence);
        unaligned_write_be32(s + 0x10, p->n_pages);
        unaligned_write_be32(s + 0x14, p->index);
        for (size_t i = 0; i < n; i++) {
                uint8_t *e = s + KLOG_ENTRIES_OFFSET + i * KLOG_ENTRY_SIZE;

                e[0] = p->entries[i].status;
                unaligned_write_be64(e + 1, p->entries[i].committed);
                unaligned_write_be64(e + 9, p->entries[i].pending);
                unaligned_write_be32(e + 17, p->entries[i].recovery_seq);
        }
        /* The entry after the last one ends the list. */
        if (n < LDM_KLOG_MAX_ENTRIES) {
                uint8_t *e = s + KLOG_ENTRIES_OFFSET + n * KLOG_ENTRY_SIZE;
                if (e[0] != 0 || !ldm_is_zero(e + 1, 16)) {
                        e[0] = 0;
                        memset(e + 1, 0, 16);
                }
        }
        memcpy(out, s, 512);
}
