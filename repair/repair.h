/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* repair.h: the repair engine, one job = one call of repair_run() on a worker thread.
 * Recover follows recover.md step by step: refresh (re-probe, authoritative database,
 * quorum) → database sync (every present disk gets the authoritative database with its own
 * per-disk fields, through the writer's transactional path) → data repair (stale mirror
 * plexes copied from a healthy plex, stale RAID-5 columns rebuilt by XOR, stale parity
 * regenerated) → commit (stale markers cleared in a normal transaction, after the data is
 * flushed) → report. Verify is a read-only scrub. No D-Bus, no logging: everything the caller
 * needs comes back in RepairResult. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guid.h"
#include "macro.h"

typedef enum RepairOperation {
        REPAIR_RECOVER,
        REPAIR_VERIFY,
        _REPAIR_OPERATION_MAX,
        _REPAIR_OPERATION_INVALID = -EINVAL,
} RepairOperation;

typedef enum RepairStep {
        REPAIR_STEP_REFRESH,
        REPAIR_STEP_DATABASE_SYNC,
        REPAIR_STEP_DATA,
        REPAIR_STEP_COMMIT,
        REPAIR_STEP_REPORT,
        REPAIR_STEP_VERIFY,
        _REPAIR_STEP_MAX,
        _REPAIR_STEP_INVALID = -EINVAL,
} RepairStep;

/* Called on the worker thread, at most once per chunk; must not block for long. step_detail
 * names the object being worked on ("Volume3 plex Volume3-02"), may be NULL. */
typedef void (*RepairProgressFn)(RepairStep step, const char *step_detail, uint64_t bytes_done,
                                 uint64_t bytes_total, void *userdata);

#define REPAIR_BUFFER_SIZE_DEFAULT (4u * 1024u * 1024u)
#define REPAIR_BUFFER_SIZE_MIN (64u * 1024u)
#define REPAIR_BUFFER_SIZE_MAX (16u * 1024u * 1024u)
#define REPAIR_CHECKPOINT_INTERVAL_DEFAULT (256u * 1024u * 1024u) /* or every 2 s: copy.h */
#define REPAIR_MAX_PATHS 64u

typedef struct RepairRequest {
        LdmGuid pack_guid;
        /* Every present LDM disk of the pack and the pack's disks that sit in INVALID. Paths
         * of other packs' disks are probed but never opened for writing. */
        char *const *paths;
        size_t n_paths;
        RepairOperation operation;
        const char *state_dir;       /* checkpoints; NULL: no checkpoints (no resume) */
        const atomic_bool *cancel;   /* may be NULL */
        RepairProgressFn progress;   /* may be NULL */
        void *userdata;
        size_t buffer_size;          /* copy chunk, 0 = default; a multiple of 64 KiB */
        uint64_t checkpoint_interval; /* bytes between flush + checkpoint, 0 = default */
} RepairRequest;

#define REPAIR_MESSAGE_MAX 512
#define REPAIR_REMAINING_MAX 1024

typedef struct RepairResult {
        uint32_t hresult;            /* VDS_S_OK, VDS_E_OPERATION_CANCELED, or a failure */
        int error;                   /* the errno behind a failure (0 on success) */
        char message[REPAIR_MESSAGE_MAX];
        uint64_t bytes_repaired;     /* data bytes written to plexes/columns by this run */
        uint64_t bytes_resumed;      /* bytes skipped because a checkpoint covered them */
        unsigned volumes_touched;    /* volumes whose data was rewritten */
        unsigned disks_synced;       /* disks whose database copy was rewritten */
        bool database_committed;     /* the final transaction was written */
        char remaining[REPAIR_REMAINING_MAX]; /* "Volume3 plex Volume3-02 (disk missing); …" */
        /* Verify */
        uint64_t mirror_mismatches;  /* 64 KiB regions where plexes differ */
        uint64_t parity_mismatches;  /* RAID-5 stripe rows whose XOR is not zero */
} RepairResult;

/* Runs one job. Returns 0 when the job ran to an end (successful or not: see ret->hresult),
 * negative errno only for a malformed request (nothing was done, *ret untouched). */
int repair_run(const RepairRequest *req, RepairResult *ret);

const char *repair_step_to_string(RepairStep s);
const char *repair_operation_to_string(RepairOperation o);
RepairOperation repair_operation_from_string(const char *s);
