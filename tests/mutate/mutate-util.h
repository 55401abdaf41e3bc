/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* mutate-util.h: the harness of the hostile-input tests. It keeps a working copy of each real
 * Windows image holding only its metadata (sector 0, the GPT, the private region, the backup
 * GPT: all a probe ever reads), applies byte patches or a truncation to one or more copies,
 * runs the whole reader on them (ldm_scan_paths → probe, pack model, health; then
 * ldm_validate_strict; then the volume mapping of every plex the model accepts), checks what
 * must hold for ANY input, and undoes the patches. Mutations are deterministic: the PRNG has
 * a fixed seed, and every failure names the mutation that caused it. */

#include <stdbool.h>
#include <stdint.h>

/* The LDM headers first: GLib redefines MIN/MAX over basic/macro.h, not the reverse. */
#include "device.h"
#include "scan.h"

#include <glib.h>

#define M_MAX_IMAGES 19
#define M_MAX_UNDO 256

typedef struct MImage {
        char *name;            /* "ldm-2003r2-simple-1.img" */
        char *path;            /* working copy */
        int fd;
        uint64_t size;         /* bytes, pristine */
        uint64_t cur_size;     /* bytes, after a truncation */
        uint8_t *head;         /* pristine bytes [0, head_len) */
        size_t head_len;
        uint8_t *tail;         /* pristine bytes [size − tail_len, size) */
        size_t tail_len;
        LdmDevice *dev;        /* the pristine probe: where every structure lives */
} MImage;

typedef struct MUndo {
        MImage *img;
        uint64_t offset;
        size_t len;
} MUndo;

typedef struct MResult {
        LdmScan *scan;
        LdmDiagList strict;    /* ldm_validate_strict() output */
        MImage *imgs[M_MAX_IMAGES];
        size_t n_imgs;
} MResult;

typedef struct MCtx {
        MImage img[M_MAX_IMAGES];
        size_t n_img;
        GRand *rand;
        char what[512];        /* the mutation being run, for failure messages */
        MUndo undo[M_MAX_UNDO];
        size_t n_undo;
        unsigned n_mutations;  /* probes run on mutated input */
        unsigned n_failures;   /* with $M_KEEP_GOING */
        bool keep_going;
        gint64 max_usec, total_usec;
        char max_what[512];
} MCtx;

/* The shared context: images loaded once per process (fixed PRNG seed). */
MCtx *m_ctx(void);
MImage *m_image(MCtx *c, const char *name);
bool m_is_gpt(const MImage *img);

/* Starts a mutation: its description (kept for failure messages). */
void m_begin(MCtx *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Patches img (recording the pristine bytes for m_restore). */
void m_write(MCtx *c, MImage *img, uint64_t offset, const void *buf, size_t len);
void m_write_be16(MCtx *c, MImage *img, uint64_t offset, uint16_t v);
void m_write_be32(MCtx *c, MImage *img, uint64_t offset, uint32_t v);
void m_write_be64(MCtx *c, MImage *img, uint64_t offset, uint64_t v);
void m_write_u8(MCtx *c, MImage *img, uint64_t offset, uint8_t v);
void m_flip_bit(MCtx *c, MImage *img, uint64_t offset, unsigned bit);
/* Reads the current (possibly patched) bytes. */
void m_read(MImage *img, uint64_t offset, void *buf, size_t len);
/* Recomputes the PRIVHEAD/TOCBLOCK checksum of the 512-byte structure at offset. */
void m_fix_checksum(MCtx *c, MImage *img, uint64_t offset);
/* Recomputes a GPT header's CRC (header at lba; entries CRC too when fix_entries). */
void m_fix_gpt(MCtx *c, MImage *img, uint64_t lba, bool fix_entries);
void m_truncate(MCtx *c, MImage *img, uint64_t size);

/* Scans imgs[] as they are now, checks the invariants (no failure, every rejection
 * diagnosed, offsets inside the device, time < 1 s per mutation, model mappable), undoes all
 * patches. The result stays for specific assertions; free it with m_result_free(). */
MResult *m_probe(MCtx *c, MImage *const *imgs, size_t n);
MResult *m_probe1(MCtx *c, MImage *img);
void m_result_free(MResult *r);
void m_restore(MCtx *c);

/* Finds a diagnosis anywhere in r (device, scan, pack and strict lists): structure equal,
 * disk = img's path (NULL: any), offset in [lo, hi) (lo == hi: any), message containing
 * substr (NULL: any). */
const LdmDiag *m_find(const MResult *r, const char *structure, const MImage *img, uint64_t lo,
                      uint64_t hi, const char *substr);
/* As m_find, failing the test with the mutation and every diagnosis printed when absent. */
void m_expect_at(MCtx *c, const MResult *r, const char *structure, const MImage *img,
                 uint64_t lo, uint64_t hi, const char *substr, const char *file, int line);
#define m_expect(c, r, structure, img, lo, hi, substr) \
        m_expect_at((c), (r), (structure), (img), (lo), (hi), (substr), __FILE__, __LINE__)
/* Fails with the mutation and every diagnosis printed. With $M_KEEP_GOING set it only
 * prints and counts (to survey every problem at once); the test then fails at the end. */
void m_fail(MCtx *c, const MResult *r, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* The device of img in r (NULL when it was not probed as LDM). */
LdmDevice *m_device(const MResult *r, const MImage *img);

/* Absolute offsets in the pristine image. */
uint64_t m_rel(const MImage *img, uint64_t rel_sector);        /* private region sector */
uint64_t m_config(const MImage *img);                           /* VMDB */
uint64_t m_slot(const MImage *img, uint32_t slot);              /* VBLK slot */
uint64_t m_privhead_copy(const MImage *img, LdmPrivheadCopy i);
uint64_t m_toc_copy(const MImage *img, LdmTocSlot i);

/* Rewrites a record's slots from its (edited) fields; false when it no longer fits in the
 * same number of fragments (nothing written then). */
bool m_write_record(MCtx *c, MImage *img, const LdmRecord *rec);
/* The pristine records of img (its pristine device's database). */
const LdmDatabase *m_db(const MImage *img);
const LdmRecord *m_record_by_type(const MImage *img, LdmRecordType t, unsigned nth);

void m_report(MCtx *c, const char *test);

/* The test cases of mutate-records.c and mutate-pack.c. */
void m_register_records(void);
void m_register_pack(void);
