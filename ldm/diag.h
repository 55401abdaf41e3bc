/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* diag.h: a finding about on-disk metadata: which structure, on which disk, at which absolute
 * byte offset, and what was expected. Parsers fill one LdmDiag when they reject input; the
 * scanner and the strict validator collect many in an LdmDiagList. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

typedef enum LdmDiagSeverity {
        LDM_DIAG_ERROR,    /* a reader would reject the structure */
        LDM_DIAG_DEGRADED, /* valid, but redundancy or a disk is lost */
        LDM_DIAG_WARNING,  /* harmless oddity (stale TOC copy, non-zero unused sector) */
        _LDM_DIAG_SEVERITY_MAX,
        _LDM_DIAG_SEVERITY_INVALID = -EINVAL,
} LdmDiagSeverity;

#define LDM_DIAG_STRUCTURE_MAX 32
#define LDM_DIAG_DISK_MAX 128
#define LDM_DIAG_MESSAGE_MAX 224

typedef struct LdmDiag {
        LdmDiagSeverity severity;
        char structure[LDM_DIAG_STRUCTURE_MAX]; /* "PRIVHEAD", "TOCBLOCK", "VMDB", "VBLK", "record", "KLOG", "MBR", "GPT", "rule K7", … */
        char disk[LDM_DIAG_DISK_MAX];           /* device path or image, "" when not tied to one */
        uint64_t offset;                        /* absolute byte offset on that disk; UINT64_MAX when none */
        char message[LDM_DIAG_MESSAGE_MAX];     /* what was expected and what was found */
} LdmDiag;

#define LDM_DIAG_NO_OFFSET UINT64_MAX

/* A bounded list: past `limit` entries further findings are counted but not stored, so
 * hostile input cannot make us allocate without end. */
typedef struct LdmDiagList {
        LdmDiag *items;
        size_t n_items;
        size_t allocated;
        size_t limit;   /* 0 = default (256) */
        size_t dropped;
} LdmDiagList;

/* Fills *d (which may be NULL: then nothing happens). Always returns -EBADMSG so a parser
 * can write `return ldm_diag_set(err, ...);`. */
int ldm_diag_set(LdmDiag *d, LdmDiagSeverity sev, const char *structure, const char *disk,
                 uint64_t offset, const char *fmt, ...) _printf_(6, 7);

/* Appends a copy of d (NULL list: ignored). Returns 0 or -ENOMEM. */
int ldm_diag_list_add(LdmDiagList *l, const LdmDiag *d);
int ldm_diag_list_addf(LdmDiagList *l, LdmDiagSeverity sev, const char *structure,
                       const char *disk, uint64_t offset, const char *fmt, ...) _printf_(6, 7);
void ldm_diag_list_clear(LdmDiagList *l);
size_t ldm_diag_list_count(const LdmDiagList *l, LdmDiagSeverity sev);

/* "PRIVHEAD at /dev/sdb+0xc00: bad checksum (expected 0x…, found 0x…)" into buf. */
const char *ldm_diag_format(const LdmDiag *d, char *buf, size_t size);
const char *ldm_diag_severity_to_string(LdmDiagSeverity s);
