/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* pool.h: the daemon's worker pool. A fixed number of pthreads take work items from a bounded
 * queue and run them off the loop thread, with every signal blocked and at the lowest
 * best-effort I/O priority, so a repair never starves interactive I/O nor eats SIGTERM.
 * Workers never touch sd-bus: all they hand back goes through one eventfd that the loop
 * thread watches (sd_event_add_io on pool_get_fd()) and drains with pool_dispatch(), which
 * runs the completion and progress callbacks on the loop thread. Nothing here includes
 * sd-bus or sd-event; the pool is testable with a plain poll(). */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

typedef struct Pool Pool;
typedef struct PoolTask PoolTask;

/* Runs on a worker thread. The return value (0 or negative errno) reaches PoolDoneFn. */
typedef int (*PoolWorkFn)(PoolTask *task, void *userdata);
/* Run on the loop thread, from pool_dispatch(). */
typedef void (*PoolProgressFn)(void *userdata);
typedef void (*PoolDoneFn)(int result, void *userdata);

#define POOL_THREADS_MAX 64u
#define POOL_QUEUE_MAX 4096u

/* Starts n_threads workers (1…POOL_THREADS_MAX) with a queue of at most queue_max waiting
 * items (1…POOL_QUEUE_MAX). */
int pool_new(unsigned n_threads, size_t queue_max, Pool **ret);
/* Stops accepting work, drops queued items that have not started (their done callbacks are
 * not called), waits for running ones (callers set their cancel flags first), joins the
 * threads. Callbacks of items that finished but were not dispatched are not called either. */
Pool *pool_free(Pool *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Pool *, pool_free);

/* The fd to watch for EPOLLIN (non-blocking eventfd, O_CLOEXEC, owned by the pool). */
int pool_get_fd(const Pool *p);

/* Queues work. progress may be NULL. Returns -EAGAIN when queue_max items already wait,
 * -ESHUTDOWN while the pool is being freed. On success *ret_task (may be NULL) is a borrowed
 * handle, valid until its done callback has returned. */
int pool_submit(Pool *p, PoolWorkFn work, PoolProgressFn progress, PoolDoneFn done,
                void *userdata, PoolTask **ret_task);

/* Loop side: when t has not started yet, takes it out of the queue and has pool_dispatch()
 * call its done callback with result, as if it had run; returns false when a worker already
 * took it (it then ends as its work function decides). */
bool pool_task_unqueue(PoolTask *t, int result);

/* Worker side: asks the loop thread to call the task's progress callback. Calls made before
 * the loop gets round to it are coalesced into one callback; never blocks, never allocates. */
void pool_task_notify_progress(PoolTask *task);

/* Loop side: drains the eventfd, then calls pending progress callbacks and the done callbacks
 * of finished tasks (progress of a task always before its done). Returns the number of done
 * callbacks run, or negative errno. */
int pool_dispatch(Pool *p);

/* Counters, for tests and status. */
size_t pool_n_queued(Pool *p);
size_t pool_n_running(Pool *p);
