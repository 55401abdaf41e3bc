/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* writer.h: puts LDM metadata on disks. Three jobs:
 *  - a new pack (create.h) onto blank disks: private regions first, partition tables last;
 *  - a transaction (§11.1) that changes records of an existing pack on all its present disks
 *    so that a power cut after any single write leaves every copy either the old committed
 *    database or the new one (under the in-flight recovery of §10.2 rule 2);
 *  - rewriting a parsed disk from its model (byte-identical when nothing changed), and the
 *    per-disk PRIVHEAD/TOCBLOCK update of §11.1.
 * The writer only ever writes the private region and the partition table (with LBA 6);
 * volume data is the repair engine's business. Disks with logical sectors other than 512
 * bytes are refused (-EOPNOTSUPP, §13). */

#include <stdbool.h>
#include <stdint.h>

#include "create.h"
#include "database.h"
#include "device.h"
#include "io.h"

/* Writes a new pack: ios[i] receives pack->disks[i] (n must equal pack->n_disks, every io
 * writable and at least as large as the disk planned). Data areas are not touched. Order:
 * every private region (zeroed, then config, log, TOCBLOCKs, PRIVHEAD rel 1856/2047), flush;
 * then every partition table with the LBA-6 PRIVHEAD, flush. */
int ldm_writer_write_new(const LdmNewPack *pack, LdmIo *const *ios, size_t n, LdmDiag *err);

/* Rewrites one parsed disk from its model: config region serialised from dev->db, the two
 * KLOG pages encoded over the log region, every valid TOCBLOCK and PRIVHEAD copy encoded in
 * its slot, and the partition table (MBR sector as read; GPT re-encoded) when with_label.
 * For an unchanged disk the result is byte-identical to what was read. */
int ldm_writer_rewrite_device(LdmIo *io, const LdmDevice *dev, bool with_label, LdmDiag *err);

/* Per-disk PRIVHEAD/TOCBLOCK update (§11.1): writes dev's TOCBLOCK with update sequence + 1
 * into the unused slot of each pair (1↔2, 2045↔2046), then the PRIVHEAD copies with the new
 * TOC LBAs, sequence + 1 and a new timestamp at rel 2047, rel 1856, then LBA 6 (MBR). ph
 * gives the PRIVHEAD fields to write (NULL: dev->privhead unchanged otherwise). Flushes. */
int ldm_writer_update_privhead(LdmIo *io, const LdmDevice *dev, const LdmPrivhead *ph,
                               LdmDiag *err);

/* A transaction on the database of a pack (§11.1). Begin from the authoritative copy, edit,
 * add or delete records, then commit onto every present disk. */
typedef struct LdmTxn LdmTxn;

/* The steps of §11.1, for ldm_txn_set_stop_after(). */
typedef enum LdmTxnStep {
        LDM_TXN_STEP_RECORDS = 1,   /* new records status 2, replaced ones status 1 */
        LDM_TXN_STEP_CHANGE = 2,    /* VMDB status 2, pending ID and counts */
        LDM_TXN_STEP_LOG = 3,       /* KLOG commit entry */
        LDM_TXN_STEP_COMMIT = 4,    /* VMDB status 3: the commit point */
        LDM_TXN_STEP_CLEANUP = 5,   /* old records cleared, new ones status 0 */
        LDM_TXN_STEP_CLEAN = 6,     /* VMDB status 1, committed := pending */
        _LDM_TXN_STEP_MAX,
        _LDM_TXN_STEP_INVALID = -EINVAL,
} LdmTxnStep;

/* Starts a transaction on a copy of db (db itself is not modified; its config and log
 * regions are the "old committed" images the transaction starts from). */
int ldm_txn_begin(const LdmDatabase *db, LdmTxn **ret);
LdmTxn *ldm_txn_free(LdmTxn *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(LdmTxn *, ldm_txn_free);

/* Returns the transaction's working copy of record id to modify in place (it will be
 * written to a new slot, the old slot freed), or NULL when there is no such record. */
LdmRecord *ldm_txn_edit(LdmTxn *t, uint32_t id);
/* Adds a new record of type with a fresh object ID (returned in the record's id); the caller
 * fills the type-specific fields. NULL on -ENOMEM or too many records. */
LdmRecord *ldm_txn_add(LdmTxn *t, LdmRecordType type, const char *name);
/* Deletes record id (-ENOENT when absent). */
int ldm_txn_delete(LdmTxn *t, uint32_t id);

/* Test hook: stop after writing (and flushing) step `step` on every disk, leaving the
 * transaction in flight. 0 = run all steps. */
void ldm_txn_set_stop_after(LdmTxn *t, LdmTxnStep step);

/* The transaction ID the commit will give (valid after the last edit/add/delete). */
uint64_t ldm_txn_id(const LdmTxn *t);

/* Runs the transaction on n disks: ios[i] open for writing, devs[i] the probed disk (for its
 * private region geometry). Every disk's config and log regions must currently equal the
 * transaction's starting images (-ESTALE otherwise; sync that copy first). Each step is
 * written and flushed on all disks before the next starts. Only sectors that change are
 * written. */
int ldm_txn_commit(LdmTxn *t, LdmIo *const *ios, LdmDevice *const *devs, size_t n,
                   LdmDiag *err);
