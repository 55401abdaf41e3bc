/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* copy.h: the data mover of one job. A reader thread fills chunk buffers (reading healthy
 * sources, XOR-ing columns) while the calling thread drains the previous chunk to the
 * targets, so reads and writes overlap. The buffers are allocated once per job (bounded
 * memory whatever the volume size, nothing allocated in the loop), aligned for O_DIRECT.
 * The targets are flushed and only then the checkpoint callback records the new durable
 * position: when COPY_CHECKPOINT_USEC have passed or `checkpoint_interval` bytes were
 * drained since the last checkpoint (whichever comes first), and at the end. Cancellation
 * is looked at after every chunk: when set, the engine flushes and checkpoints at once and
 * stops, so a cancelled job leaves a consistent, resumable state without waiting for the
 * next regular checkpoint (a cancel waits at most about one chunk plus one flush). */

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define COPY_BUFFERS 3 /* one being filled, one being drained, one spare to absorb jitter */
/* Why time as well as bytes: a flush + checkpoint costs an fdatasync and two fsyncs, which
 * at a 16 MiB stride cost 10-20 % of the copy; by time, a crash loses at most ~2 s of copy
 * whatever the disks' speed, and slow disks still checkpoint often. */
#define COPY_CHECKPOINT_USEC (2u * 1000000u)
/* Helper threads (besides the reader itself) for copy_engine_parallel(): a RAID-5 chunk reads
 * its source columns at once, so it costs the slowest column's read, not their sum. */
#define COPY_READ_WORKERS 3
/* Per-job memory, fixed at copy_engine_new(): COPY_BUFFERS chunk buffers + one chunk-sized
 * reader scratch = 4 × chunk (16 MiB at the 4 MiB default chunk), whatever the volume size
 * or column count; plus at most COPY_READ_WORKERS + 1 thread stacks. */

typedef struct CopyOps {
        /* Reader thread: produce the len bytes that belong at target offset off into buf.
         * scratch is a chunk-sized buffer private to the reader (and to the helpers it hands
         * work to through copy_engine_parallel()). */
        int (*fill)(void *userdata, uint64_t off, size_t len, uint8_t *buf, uint8_t *scratch);
        /* Calling thread: write buf to the target(s) at off. */
        int (*drain)(void *userdata, uint64_t off, size_t len, const uint8_t *buf);
        /* Calling thread: make everything drained so far durable. */
        int (*flush)(void *userdata);
        /* Calling thread, after flush: [start of target, done) is durable. May be NULL. */
        int (*checkpoint)(void *userdata, uint64_t done);
        /* Calling thread, after each drained chunk. May be NULL. */
        void (*progress)(void *userdata, uint64_t bytes);
} CopyOps;

typedef struct CopyEngine CopyEngine;

/* chunk: bytes per buffer, a multiple of 4096. */
int copy_engine_new(size_t chunk, CopyEngine **ret);
CopyEngine *copy_engine_free(CopyEngine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(CopyEngine *, copy_engine_free);
size_t copy_engine_chunk(const CopyEngine *e);
/* The reader's scratch buffer, for single-threaded users (verify) between runs. */
uint8_t *copy_engine_buffer(CopyEngine *e, unsigned i);

/* Reader thread only (inside fill): runs fn(userdata, i) for every i in [0, n) at once, on
 * the calling thread and up to COPY_READ_WORKERS helper threads (started on first use, kept
 * until copy_engine_free()), and returns when all are done: 0, or the first error. If the
 * helpers cannot be started, runs them one after the other on the calling thread. */
int copy_engine_parallel(CopyEngine *e, int (*fn)(void *userdata, size_t i), void *userdata,
                         size_t n);

/* Moves [start, end) in chunks. Returns 0 when done (flushed and checkpointed at end),
 * -ECANCELED when *cancel was seen (after flushing and checkpointing what was drained), or
 * the first error of any callback. checkpoint_interval 0: checkpoints by time only.
 * *ret_durable (may be NULL) receives the last position known durable in every case. */
int copy_engine_run(CopyEngine *e, const CopyOps *ops, void *userdata, uint64_t start,
                    uint64_t end, uint64_t checkpoint_interval, const atomic_bool *cancel,
                    uint64_t *ret_durable);
