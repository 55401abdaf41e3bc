/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* device.h: one probed LDM disk (block device or image file): its partition table, every
 * PRIVHEAD and TOCBLOCK copy with its verdict (the copies themselves after a full probe), the
 * copy chosen by the fall-back order of §10.2 rule 1, and its database. Probing reads; it
 * never writes and keeps no fd open. */

#include <stdbool.h>
#include <stdint.h>

#include "database.h"
#include "diag.h"
#include "label.h"
#include "privhead.h"
#include "tocblock.h"

typedef enum LdmPrivheadCopy {
        LDM_PRIVHEAD_COPY_2047,    /* rel 2047 (D's "primary") */
        LDM_PRIVHEAD_COPY_1856,    /* rel 1856 */
        LDM_PRIVHEAD_COPY_LBA6,    /* LBA 6, MBR disks only */
        _LDM_PRIVHEAD_COPY_MAX,
} LdmPrivheadCopy;

typedef enum LdmTocSlot {
        LDM_TOC_SLOT_1,            /* rel 1 */
        LDM_TOC_SLOT_2,            /* rel 2 */
        LDM_TOC_SLOT_2045,
        LDM_TOC_SLOT_2046,
        _LDM_TOC_SLOT_MAX,
} LdmTocSlot;

/* Every PRIVHEAD and TOCBLOCK copy of a disk as read, whether valid or not (see the states in
 * LdmDevice): what the strict validator and the writer look at copy by copy. */
typedef struct LdmDeviceCopies {
        LdmPrivhead privheads[_LDM_PRIVHEAD_COPY_MAX];
        LdmTocblock tocs[_LDM_TOC_SLOT_MAX];
} LdmDeviceCopies;

typedef struct LdmDevice {
        char *path;
        uint64_t size;             /* bytes */
        uint32_t sector_size;      /* logical */
        dev_t devnum;              /* 0 for image files */
        LdmLabel label;

        /* Every copy, as read: 0 valid, -EBADMSG invalid (diag in `diags`), -ENOENT absent
         * (LBA 6 on GPT, beyond the end of the device). */
        int privhead_state[_LDM_PRIVHEAD_COPY_MAX];
        LdmPrivheadCopy privhead_used;
        LdmPrivhead privhead;      /* = copies->privheads[privhead_used] */
        uint64_t located_priv;     /* where the probe looked for the private region (LBA) */

        int toc_state[_LDM_TOC_SLOT_MAX];
        LdmTocSlot toc_used;
        LdmTocblock toc;           /* = copies->tocs[toc_used] */

        /* The copies themselves; NULL after a light probe (LDM_PROBE_NO_RAW), which keeps only
         * their states and the copies in use above: 4.7 KB of the 7.2 a disk kept, each
         * copy's sector included, for readers that never write nor validate. */
        LdmDeviceCopies *copies;

        LdmDatabase *db;           /* NULL when no copy of the database could be parsed */
        int db_state;              /* 0 or why db is NULL */

        /* A transaction left in flight on this copy (VMDB status ≠ clean or pending ≠
         * committed), and the committed ID after the §10.2 rule-2 recovery. */
        bool in_flight;
        uint64_t effective_committed;
        /* Set by the scan: this copy is clean at the pack's committed ID, as the authority's
         * is, yet holds another config region of the same size (§10.2 rule 3's conflict): a
         * history of its own, made while the disk was away from the others. Its disk missed
         * the authority's transactions as a disk with an older copy does. */
        bool diverged;

        LdmDiagList diags;         /* everything wrong with this disk, by structure and offset */
} LdmDevice;

typedef enum LdmProbeFlags {
        /* The database keeps no raw config/log region (LDM_DATABASE_NO_RAW): for readers that
         * never write, such as the daemon. Only the head of the config region is read
         * (LDM_DEVICE_CONFIG_HEAD_FIRST bytes, else LDM_DEVICE_CONFIG_HEAD) when it holds the
         * whole database, else all of it (ldm_database_parse_head()); it is parsed, hashed and
         * freed at once. Of the log
         * region only the KLOG pages parsing needs are read (LDM_DATABASE_LOG_PARSED bytes).
         * So a read error, or a difference between copies, in the unused slots after the
         * head or in the rest of the log goes unnoticed: full probes see them. Nor does the
         * device keep every PRIVHEAD and TOCBLOCK copy (copies NULL), only their states. */
        LDM_PROBE_NO_RAW = 1 << 0,
} LdmProbeFlags;

/* The heads a light probe reads (LDM_PROBE_NO_RAW), first the short one, then the long one if
 * the short one did not hold the database: 128 and 512 slots. The records of the packs made by
 * Windows or mkldm that we have seen sit in the first hundred slots. */
#define LDM_DEVICE_CONFIG_HEAD_FIRST (16u * 1024u)
#define LDM_DEVICE_CONFIG_HEAD (64u * 1024u)
/* Where Windows (and mkldm) start the log region, in sectors from the private region's
 * start (spec §12): probes prefetch its KLOG pages there before a TOCBLOCK has said so. */
#define LDM_DEVICE_LOG_REL 1498u

/* Probes path. Returns 1 with *ret set for an LDM disk (even one whose database is damaged:
 * see db/db_state and diags), 0 for a disk that is not LDM, negative errno when it cannot be
 * read at all. */
int ldm_device_probe(const char *path, LdmDevice **ret);
/* The same on an already open LdmIo (tests, the repair engine after writing). */
int ldm_device_probe_io(LdmIo *io, LdmDevice **ret);
/* The same with flags (ldm_device_probe() is flags 0). */
int ldm_device_probe_flags(const char *path, LdmProbeFlags flags, LdmDevice **ret);
int ldm_device_probe_io_flags(LdmIo *io, LdmProbeFlags flags, LdmDevice **ret);
/* The same, and when the disk's metadata leaves no device to hold a diagnosis (-EBADMSG: a
 * GPT whose primary and backup headers are both bad) *err says what is wrong, and where. */
int ldm_device_probe_diag(const char *path, LdmProbeFlags flags, LdmDevice **ret, LdmDiag *err);
int ldm_device_probe_io_diag(LdmIo *io, LdmProbeFlags flags, LdmDevice **ret, LdmDiag *err);
/* ldm_device_probe_io_diag() in two halves, for callers that probe many disks and want the
 * reads of all of them in flight at once (ldm_device_probe_batch()). begin reads the
 * partition table (hint it first with ldm_device_prefetch_label(), for every disk of the
 * batch, so that they all come in one round trip), locates the private region and names its
 * places to the I/O layer (ldm_io_prefetch()) without waiting for them: 1 with *ret set for
 * an LDM disk, 0 not LDM, negative errno as the probe. finish reads and parses those places into d: 0, or negative
 * errno when the device cannot be read (d is then to be freed, not used). */
int ldm_device_probe_begin(LdmIo *io, LdmDevice **ret, LdmDiag *err);
int ldm_device_probe_finish(LdmIo *io, LdmDevice *d, LdmProbeFlags flags);
/* Names the label area (MBR, GPT header and entries, LBA 6) to the I/O layer: a hint. */
void ldm_device_prefetch_label(LdmIo *io);

/* Probes paths[0..n), like ldm_device_probe_diag() each (verdicts[i], devices[i] (NULL
 * unless verdicts[i] is 1), diags[i]), on the calling thread, with their reads overlapped:
 * all are opened and their label areas hinted, then each label is read and its private
 * region hinted, then each is probed to the end. n disks then wait on about as many round
 * trips as one. At most LDM_PROBE_BATCH_MAX paths: that many fds are open at once, per thread
 * that calls this (ldmd: at most LDM_PROBE_THREADS_MAX threads, 256 fds, well under the 1024
 * a service gets). */
#define LDM_PROBE_BATCH_MAX 32u
int ldm_device_probe_batch(char *const *paths, size_t n, LdmProbeFlags flags, int *verdicts,
                           LdmDevice **devices, LdmDiag *diags);
/* The batch size for n disks probed by `threads` threads: one batch each when the disks are
 * few, batches of LDM_PROBE_BATCH_MAX when they are many; at least 1. */
size_t ldm_device_probe_batch_size(size_t n, size_t threads);
/* How many threads should probe side by side (ldmd, scan-bench --threads auto): one per
 * online CPU, at least 2, at most LDM_PROBE_THREADS_MAX. A warm probe is CPU work, and the
 * reads of a whole batch are in flight together whatever the thread count, so threads beyond
 * the CPUs only add their own start-up (see daemon/probe.c). */
#define LDM_PROBE_THREADS_MAX 8u
size_t ldm_device_probe_threads(void);

LdmDevice *ldm_device_free(LdmDevice *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(LdmDevice *, ldm_device_free);

/* Absolute byte offsets of a device's private-region structures. */
uint64_t ldm_device_rel_offset(const LdmDevice *d, uint64_t rel_sector);
