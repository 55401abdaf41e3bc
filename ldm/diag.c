/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "diag.h"

#define DIAG_LIMIT_DEFAULT 256

static void diag_vfill(LdmDiag *d, LdmDiagSeverity sev, const char *structure, const char *disk,
                       uint64_t offset, const char *fmt, va_list ap) {
        *d = (LdmDiag) { .severity = sev, .offset = offset };
        snprintf(d->structure, sizeof(d->structure), "%s", structure ?: "");
        snprintf(d->disk, sizeof(d->disk), "%s", disk ?: "");
        vsnprintf(d->message, sizeof(d->message), fmt, ap);
}

int ldm_diag_set(LdmDiag *d, LdmDiagSeverity sev, const char *structure, const char *disk,
                 uint64_t offset, const char *fmt, ...) {
        va_list ap;

        if (d) {
                va_start(ap, fmt);
                diag_vfill(d, sev, structure, disk, offset, fmt, ap);
                va_end(ap);
        }
        return -EBADMSG;
}

int ldm_diag_list_add(LdmDiagList *l, const LdmDiag *d) {
        size_t limit;

        if (!l)
                return 0;
        limit = l->limit ?: DIAG_LIMIT_DEFAULT;
        if (l->n_items >= limit) {
                l->dropped++;
                return 0;
        }
        if (l->n_items == l->allocated) {
                size_t n = MAX(l->allocated * 2, (size_t) 8);
                LdmDiag *p = reallocarray(l->items, n, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                l->items = p;
                l->allocated = n;
        }
        l->items[l->n_items++] = *d;
        return 0;
}

int ldm_diag_list_addf(LdmDiagList *l, LdmDiagSeverity sev, const char *structure,
                       const char *disk, uint64_t offset, const char *fmt, ...) {
        LdmDiag d;
        va_list ap;

        if (!l)
                return 0;
        va_start(ap, fmt);
        diag_vfill(&d, sev, structure, disk, offset, fmt, ap);
        va_end(ap);
        return ldm_diag_list_add(l, &d);
}

void ldm_diag_list_clear(LdmDiagList *l) {
        if (!l)
                return;
        free(l->items);
        l->items = NULL;
        l->n_items = l->allocated = l->dropped = 0;
}

size_t ldm_diag_list_count(const LdmDiagList *l, LdmDiagSeverity sev) {
        size_t n = 0;

        for (size_t i = 0; l && i < l->n_items; i++)
                if (l->items[i].severity == sev)
                        n++;
        return n;
}

const char *ldm_diag_format(const LdmDiag *d, char *buf, size_t size) {
        if (d->offset == LDM_DIAG_NO_OFFSET)
                snprintf(buf, size, "%s%s%s: %s", d->structure, d->disk[0] ? " on " : "",
                         d->disk, d->message);
        else
                snprintf(buf, size, "%s at %s+0x%llx: %s", d->structure,
                         d->disk[0] ? d->disk : "?", (unsigned long long) d->offset, d->message);
        return buf;
}

const char *ldm_diag_severity_to_string(LdmDiagSeverity s) {
        static const char *const table[_LDM_DIAG_SEVERITY_MAX] = {
                [LDM_DIAG_ERROR] = "error",
                [LDM_DIAG_DEGRADED] = "degraded",
                [LDM_DIAG_WARNING] = "warning",
        };
        return s >= 0 && s < _LDM_DIAG_SEVERITY_MAX ? table[s] : NULL;
}
