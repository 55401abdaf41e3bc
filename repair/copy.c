/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* copy.c: a two-stage pipeline (reader thread → calling thread) over a fixed ring of chunk
 * buffers, plus a small pool of helper threads the reader can spread one chunk's reads over
 * (RAID-5 source columns). Why threads and not io_uring: every disk access must go through
 * ldm_io (the one I/O layer, with its range checks and the test fault hook), and a plain
 * pread/pwrite pipeline with multi-MiB chunks already keeps several requests in flight per
 * device (the block layer splits a large request), which is what a sequential copy between
 * different disks needs. */

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "copy.h"
#include "io.h"

typedef struct CopySlot {
        uint64_t off;
        size_t len;
        int result;
} CopySlot;

/* One batch of copy_engine_parallel() at a time (only the reader submits). */
typedef struct CopyPool {
        pthread_mutex_t lock;
        pthread_cond_t work, done;
        pthread_t threads[COPY_READ_WORKERS];
        unsigned n_threads;
        bool started, stop;
        int (*fn)(void *userdata, size_t i); /* NULL: no batch */
        void *userdata;
        size_t n, next, n_done;
        int error;
} CopyPool;

struct CopyEngine {
        size_t chunk;
        uint8_t *bufs[COPY_BUFFERS];
        uint8_t *scratch;
        CopyPool pool;

        /* per run */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        CopySlot slots[COPY_BUFFERS];
        unsigned n_filled;      /* ring: filled slots start at head */
        unsigned head;
        bool stop;
        bool reader_done;
        const CopyOps *ops;
        void *userdata;
        uint64_t start, end;
};

int copy_engine_new(size_t chunk, CopyEngine **ret) {
        _cleanup_(copy_engine_freep) CopyEngine *e = NULL;

        if (chunk == 0 || chunk % 4096 != 0)
                return -EINVAL;
        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->chunk = chunk;
        for (unsigned i = 0; i < COPY_BUFFERS; i++) {
                e->bufs[i] = ldm_io_alloc_aligned(chunk);
                if (!e->bufs[i])
                        return -ENOMEM;
        }
        e->scratch = ldm_io_alloc_aligned(chunk);
        if (!e->scratch)
                return -ENOMEM;
        pthread_mutex_init(&e->lock, NULL);
        pthread_cond_init(&e->cond, NULL);
        pthread_mutex_init(&e->pool.lock, NULL);
        pthread_cond_init(&e->pool.work, NULL);
        pthread_cond_init(&e->pool.done, NULL);
        *ret = TAKE_PTR(e);
        return 0;
}

static void pool_stop(CopyPool *p) {
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->n_threads; i++)
                pthread_join(p->threads[i], NULL);
        p->n_threads = 0;
}

CopyEngine *copy_engine_free(CopyEngine *e) {
        if (!e)
                return NULL;
        if (e->pool.n_threads > 0)
                pool_stop(&e->pool);
        pthread_cond_destroy(&e->pool.work);
        pthread_cond_destroy(&e->pool.done);
        pthread_mutex_destroy(&e->pool.lock);
        for (unsigned i = 0; i < COPY_BUFFERS; i++)
                free(e->bufs[i]);
        free(e->scratch);
        pthread_cond_destroy(&e->cond);
        pthread_mutex_destroy(&e->lock);
        free(e);
        return NULL;
}

size_t copy_engine_chunk(const CopyEngine *e) {
        return e->chunk;
}

uint8_t *copy_engine_buffer(CopyEngine *e, unsigned i) {
        return i < COPY_BUFFERS ? e->bufs[i] : e->scratch;
}

/* ---- helper pool ---- */

static void *pool_main(void *arg) {
        CopyPool *p = arg;

        pthread_mutex_lock(&p->lock);
        for (;;) {
                int (*fn)(void *, size_t);
                void *userdata;
                size_t i;
                int r;

                while (!p->stop && (!p->fn || p->next >= p->n))
                        pthread_cond_wait(&p->work, &p->lock);
                if (p->stop)
                        break;
                fn = p->fn;
                userdata = p->userdata;
                i = p->next++;
                pthread_mutex_unlock(&p->lock);

                r = fn(userdata, i);

                pthread_mutex_lock(&p->lock);
                if (r < 0 && p->error == 0)
                        p->error = r;
                if (++p->n_done == p->n)
                        pthread_cond_signal(&p->done);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

/* Called on the reader thread, which already blocks every signal: the helpers inherit that. */
static void pool_start(CopyPool *p) {
        p->started = true;
        for (unsigned i = 0; i < COPY_READ_WORKERS; i++) {
                if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0)
                        break;
                p->n_threads++;
        }
}

int copy_engine_parallel(CopyEngine *e, int (*fn)(void *userdata, size_t i), void *userdata,
                         size_t n) {
        CopyPool *p = &e->pool;
        int r;

        if (!p->started && n > 1)
                pool_start(p);
        if (p->n_threads == 0 || n <= 1) {
                for (size_t i = 0; i < n; i++) {
                        r = fn(userdata, i);
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        pthread_mutex_lock(&p->lock);
        p->fn = fn;
        p->userdata = userdata;
        p->n = n;
        p->next = p->n_done = 0;
        p->error = 0;
        pthread_cond_broadcast(&p->work);
        /* The caller takes items too: with two sources, one helper suffices. */
        while (p->next < p->n) {
                size_t i = p->next++;

                pthread_mutex_unlock(&p->lock);
                r = fn(userdata, i);
                pthread_mutex_lock(&p->lock);
                if (r < 0 && p->error == 0)
                        p->error = r;
                p->n_done++;
        }
        while (p->n_done < p->n)
                pthread_cond_wait(&p->done, &p->lock);
        r = p->error;
        p->fn = NULL;
        pthread_mutex_unlock(&p->lock);
        return r;
}

/* ---- pipeline ---- */

static void *reader_main(void *arg) {
        CopyEngine *e = arg;
        uint64_t off = e->start;
        unsigned n_produced = 0;

        while (off < e->end) {
                unsigned idx;
                size_t len = (size_t) MIN((uint64_t) e->chunk, e->end - off);
                int r;

                pthread_mutex_lock(&e->lock);
                while (!e->stop && e->n_filled == COPY_BUFFERS)
                        pthread_cond_wait(&e->cond, &e->lock);
                if (e->stop) {
                        pthread_mutex_unlock(&e->lock);
                        break;
                }
                idx = n_produced % COPY_BUFFERS;
                pthread_mutex_unlock(&e->lock);

                r = e->ops->fill(e->userdata, off, len, e->bufs[idx], e->scratch);

                pthread_mutex_lock(&e->lock);
                e->slots[idx] = (CopySlot) { .off = off, .len = len, .result = r };
                e->n_filled++;
                n_produced++;
                pthread_cond_broadcast(&e->cond);
                pthread_mutex_unlock(&e->lock);
                if (r < 0)
                        break;
                off += len;
        }

        pthread_mutex_lock(&e->lock);
        e->reader_done = true;
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
        return NULL;
}

/* Flush, then record. The order is the whole point: a checkpoint never covers data that is
 * not yet on stable storage. */
static int make_durable(CopyEngine *e, uint64_t pos, uint64_t *durable) {
        int r;

        r = e->ops->flush(e->userdata);
        if (r < 0)
                return r;
        if (e->ops->checkpoint) {
                r = e->ops->checkpoint(e->userdata, pos);
                if (r < 0)
                        return r;
        }
        *durable = pos;
        return 0;
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int writer_loop(CopyEngine *e, uint64_t interval, const atomic_bool *cancel,
                       uint64_t *durable) {
        uint64_t since = 0, pos = e->start, last = now_usec();
        int r;

        for (;;) {
                CopySlot s;
                unsigned idx;
                bool cancelled;

                pthread_mutex_lock(&e->lock);
                while (e->n_filled == 0 && !e->reader_done)
                        pthread_cond_wait(&e->cond, &e->lock);
                if (e->n_filled == 0) {
                        pthread_mutex_unlock(&e->lock);
                        break;
                }
                idx = e->head;
                s = e->slots[idx];
                pthread_mutex_unlock(&e->lock);

                if (s.result < 0)
                        return s.result;
                r = e->ops->drain(e->userdata, s.off, s.len, e->bufs[idx]);
                if (r < 0)
                        return r;

                pthread_mutex_lock(&e->lock);
                e->head = (e->head + 1) % COPY_BUFFERS;
                e->n_filled--;
                pthread_cond_broadcast(&e->cond);
                pthread_mutex_unlock(&e->lock);

                pos = s.off + s.len;
                since += s.len;
                if (e->ops->progress)
                        e->ops->progress(e->userdata, s.len);
                if (pos >= e->end)
                        continue; /* the final flush + checkpoint comes after the loop */

                cancelled = cancel && atomic_load(cancel);
                if (cancelled || since >= interval || now_usec() - last >= COPY_CHECKPOINT_USEC) {
                        r = make_durable(e, pos, durable);
                        if (r < 0)
                                return r;
                        since = 0;
                        last = now_usec();
                        /* Safe point: everything up to pos is durable and recorded. */
                        if (cancelled)
                                return -ECANCELED;
                }
        }

        if (pos != e->end)
                return -EIO; /* the reader stopped early without an error: cannot happen */
        return make_durable(e, pos, durable);
}

int copy_engine_run(CopyEngine *e, const CopyOps *ops, void *userdata, uint64_t start,
                    uint64_t end, uint64_t checkpoint_interval, const atomic_bool *cancel,
                    uint64_t *ret_durable) {
        uint64_t durable = start;
        pthread_t reader;
        sigset_t all, saved;
        int r;

        if (start > end || !ops->fill || !ops->drain || !ops->flush)
                return -EINVAL;
        /* Before the shortcut below: make_durable() calls through e->ops, which would
         * otherwise be NULL (fresh engine) or the previous run's callbacks and userdata. */
        e->ops = ops;
        e->userdata = userdata;
        if (start == end) {
                r = make_durable(e, end, &durable);
                goto out;
        }

        e->start = start;
        e->end = end;
        e->n_filled = 0;
        e->head = 0;
        e->stop = false;
        e->reader_done = false;

        /* The reader must not take the daemon's signals either. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        r = -pthread_create(&reader, NULL, reader_main, e);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r < 0)
                return r;

        r = writer_loop(e, checkpoint_interval ?: UINT64_MAX, cancel, &durable);

        pthread_mutex_lock(&e->lock);
        e->stop = true;
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
        pthread_join(reader, NULL);

out:
        if (ret_durable)
                *ret_durable = durable;
        return r;
}
