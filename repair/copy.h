/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* copy.h: the data mover of one job. A reader thread fills chunk buffers (reading healthy
 * sources, XOR-ing columns) while the calling thread drains the previous chunk to the
 * targets, so reads and writes overlap. The buffers are allocated once per job (bounded
 * memory whatever the volume size, nothing allocated in the loop), aligned for O_DIRECT.
 * Every `checkpoint_interval` bytes, and at the end, the targets are flushed and only then
 * the checkpoint callback records the new durable position; cancellation is honoured right
 * after such a checkpoint, so a cancelled job always leaves a consistent, resumable state. */

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define COPY_BUFFERS 3 /* one being filled, one being drained, one spare to absorb jitter */

typedef struct CopyOps {
        /* Reader thread: produce the len bytes that belong at target offset off into buf.
         * scratch is a second chunk-sized buffer private to the reader. */
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

/* Moves [start, end) in chunks. Returns 0 when done (flushed and checkpointed at end),
 * -ECANCELED when *cancel was seen at a checkpoint, or the first error of any callback.
 * *ret_durable (may be NULL) receives the last position known durable in every case. */
int copy_engine_run(CopyEngine *e, const CopyOps *ops, void *userdata, uint64_t start,
                    uint64_t end, uint64_t checkpoint_interval, const atomic_bool *cancel,
                    uint64_t *ret_durable);
