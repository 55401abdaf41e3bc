/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* pool.c: fixed worker threads, one bounded FIFO of work, and the eventfd through which they
 * hand completions and progress back to the loop thread. One mutex guards every list; the
 * work itself runs without it. */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pool.h"
#include "thread-sched.h"

/* <linux/ioprio.h> is not in every libc's reach; the ABI values are stable. */
#define POOL_IOPRIO_CLASS_SHIFT 13
#define POOL_IOPRIO_CLASS_BE 2
#define POOL_IOPRIO_WHO_PROCESS 1
#define POOL_IOPRIO_BE_LOWEST 7
/* Weight 110 against 1024 for nice 0: a busy machine still leaves a repair ~10 % of a CPU. */
#define POOL_WORKER_NICE 10

struct PoolTask {
        Pool *pool;
        PoolWorkFn work;
        PoolProgressFn progress;
        PoolDoneFn done;
        void *userdata;
        int result;
        bool in_notify;
        PoolTask *next;        /* queue or finished list */
        PoolTask *next_notify; /* notify list */
};

typedef struct TaskList {
        PoolTask *head, *tail;
        size_t n;
} TaskList;

struct Pool {
        pthread_mutex_t lock;
        pthread_cond_t cond;   /* signalled when work arrives or on shutdown */
        pthread_t *threads;
        unsigned n_threads;
        unsigned n_started;
        size_t queue_max;
        TaskList queue;
        TaskList finished;
        PoolTask *notify_head; /* tasks with a pending progress callback (LIFO, order free) */
        size_t n_running;
        bool shutdown;
        int efd;
};

static void list_push(TaskList *l, PoolTask *t) {
        t->next = NULL;
        if (l->tail)
                l->tail->next = t;
        else
                l->head = t;
        l->tail = t;
        l->n++;
}

static PoolTask *list_pop(TaskList *l) {
        PoolTask *t = l->head;

        if (!t)
                return NULL;
        l->head = t->next;
        if (!l->head)
                l->tail = NULL;
        l->n--;
        t->next = NULL;
        return t;
}

static TaskList list_steal(TaskList *l) {
        TaskList r = *l;

        *l = (TaskList) {};
        return r;
}

static void list_free(TaskList *l) {
        PoolTask *t;

        while ((t = list_pop(l)))
                free(t);
}

static void wake_loop(Pool *p) {
        uint64_t one = 1;

        /* EAGAIN means the counter is saturated: the loop will wake anyway. */
        (void) !write(p->efd, &one, sizeof(one));
}

static void worker_setup(void) {
        /* The whole repair is background work: give way to every other I/O, and to the CPU
         * needs of the daemon's own bus thread (a QueryStatus must not wait behind a
         * rebuild's XOR) and of the rest of the machine. Nice is per thread on Linux; the
         * engine's reader threads inherit it. Failure (an old kernel, a seccomp filter)
         * only costs politeness, so it is ignored. */
        (void) syscall(SYS_ioprio_set, POOL_IOPRIO_WHO_PROCESS, 0,
                       (POOL_IOPRIO_CLASS_BE << POOL_IOPRIO_CLASS_SHIFT) | POOL_IOPRIO_BE_LOWEST);
        thread_sched_background(POOL_WORKER_NICE);
        (void) prctl(PR_SET_NAME, "ldmd-worker");
}

static void *worker_main(void *arg) {
        Pool *p = arg;

        worker_setup();

        pthread_mutex_lock(&p->lock);
        for (;;) {
                PoolTask *t;

                while (!p->shutdown && !p->queue.head)
                        pthread_cond_wait(&p->cond, &p->lock);
                if (p->shutdown)
                        break;

                t = list_pop(&p->queue);
                p->n_running++;
                pthread_mutex_unlock(&p->lock);

                t->result = t->work(t, t->userdata);

                pthread_mutex_lock(&p->lock);
                p->n_running--;
                list_push(&p->finished, t);
                wake_loop(p);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

int pool_new(unsigned n_threads, size_t queue_max, Pool **ret) {
        _cleanup_(pool_freep) Pool *p = NULL;
        sigset_t all, saved;
        int r = 0;

        if (n_threads == 0 || n_threads > POOL_THREADS_MAX)
                return -EINVAL;
        if (queue_max == 0 || queue_max > POOL_QUEUE_MAX)
                return -EINVAL;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->efd = -EBADF;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->cond, NULL);
        p->queue_max = queue_max;
        p->n_threads = n_threads;

        p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->efd < 0)
                return negative_errno();

        p->threads = calloc(n_threads, sizeof(pthread_t));
        if (!p->threads)
                return -ENOMEM;

        /* Threads inherit the creator's mask: block everything around pthread_create() so
         * signals are only ever delivered to the loop thread (signalfd / sd-event). */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        for (unsigned i = 0; i < n_threads; i++) {
                r = -pthread_create(&p->threads[i], NULL, worker_main, p);
                if (r < 0)
                        break;
                p->n_started++;
        }
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(p);
        return 0;
}

Pool *pool_free(Pool *p) {
        PoolTask *t;

        if (!p)
                return NULL;

        pthread_mutex_lock(&p->lock);
        p->shutdown = true;
        list_free(&p->queue);
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);

        for (unsigned i = 0; i < p->n_started; i++)
                pthread_join(p->threads[i], NULL);

        /* Every task is either finished or was dropped above; the notify list only points
         * into finished tasks. */
        while ((t = list_pop(&p->finished)))
                free(t);

        free(p->threads);
        if (p->efd >= 0)
                close(p->efd);
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
}

int pool_get_fd(const Pool *p) {
        return p->efd;
}

int pool_submit(Pool *p, PoolWorkFn work, PoolProgressFn progress, PoolDoneFn done,
                void *userdata, PoolTask **ret_task) {
        PoolTask *t;

        if (!p || !work || !done)
                return -EINVAL;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        *t = (PoolTask) {
                .pool = p,
                .work = work,
                .progress = progress,
                .done = done,
                .userdata = userdata,
        };

        pthread_mutex_lock(&p->lock);
        if (p->shutdown || p->queue.n >= p->queue_max) {
                int r = p->shutdown ? -ESHUTDOWN : -EAGAIN;
                pthread_mutex_unlock(&p->lock);
                free(t);
                return r;
        }
        list_push(&p->queue, t);
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);

        if (ret_task)
                *ret_task = t;
        return 0;
}

/* Takes t out of l if it is there. */
static bool list_remove(TaskList *l, PoolTask *t) {
        PoolTask *prev = NULL;

        for (PoolTask *q = l->head; q; prev = q, q = q->next) {
                if (q != t)
                        continue;
                if (prev)
                        prev->next = t->next;
                else
                        l->head = t->next;
                if (l->tail == t)
                        l->tail = prev;
                l->n--;
                t->next = NULL;
                return true;
        }
        return false;
}

bool pool_task_unqueue(PoolTask *t, int result) {
        Pool *p = t->pool;
        bool queued;

        pthread_mutex_lock(&p->lock);
        queued = list_remove(&p->queue, t);
        if (queued) {
                t->result = result;
                list_push(&p->finished, t);
                wake_loop(p);
        }
        pthread_mutex_unlock(&p->lock);
        return queued;
}

void pool_task_notify_progress(PoolTask *t) {
        Pool *p = t->pool;

        if (!t->progress)
                return;

        pthread_mutex_lock(&p->lock);
        if (!t->in_notify) {
                t->in_notify = true;
                t->next_notify = p->notify_head;
                p->notify_head = t;
                wake_loop(p);
        }
        pthread_mutex_unlock(&p->lock);
}

int pool_dispatch(Pool *p) {
        PoolTask *notify, *t;
        TaskList finished;
        uint64_t counter;
        int n = 0;

        /* Read the counter under the lock workers hold while they post and write it: what we
         * take below is exactly what the counter announced, so no wake-up is left behind
         * for work already dispatched. */
        pthread_mutex_lock(&p->lock);
        if (read(p->efd, &counter, sizeof(counter)) < 0 && errno != EAGAIN) {
                int r = negative_errno();
                pthread_mutex_unlock(&p->lock);
                return r;
        }
        notify = TAKE_PTR(p->notify_head);
        for (t = notify; t; t = t->next_notify)
                t->in_notify = false;
        finished = list_steal(&p->finished);
        pthread_mutex_unlock(&p->lock);

        /* Callbacks run unlocked: they may submit more work. A task on the notify list stays
         * allocated at least until its own done callback below or in a later dispatch. */
        while (notify) {
                t = notify;
                notify = t->next_notify;
                t->next_notify = NULL;
                t->progress(t->userdata);
        }

        while ((t = list_pop(&finished))) {
                bool again;

                /* A notify posted after we took the list but before the task finished is
                 * still pending on the pool's list: unlink it so it never outlives t. */
                pthread_mutex_lock(&p->lock);
                again = t->in_notify;
                if (again) {
                        PoolTask **pp = &p->notify_head;
                        while (*pp != t)
                                pp = &(*pp)->next_notify;
                        *pp = t->next_notify;
                        t->in_notify = false;
                }
                pthread_mutex_unlock(&p->lock);
                if (again)
                        t->progress(t->userdata);

                t->done(t->result, t->userdata);
                free(t);
                n++;
        }
        return n;
}

size_t pool_n_queued(Pool *p) {
        size_t n;

        pthread_mutex_lock(&p->lock);
        n = p->queue.n;
        pthread_mutex_unlock(&p->lock);
        return n;
}

size_t pool_n_running(Pool *p) {
        size_t n;

        pthread_mutex_lock(&p->lock);
        n = p->n_running;
        pthread_mutex_unlock(&p->lock);
        return n;
}
