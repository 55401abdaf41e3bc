/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-pool.c: the worker pool: work runs off the calling thread, completions and progress
 * come back only through the fd and pool_dispatch(), the queue is bounded, workers have every
 * signal blocked and the lowest best-effort I/O priority. */

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pool.h"
#include "test-util.h"

typedef struct Gate {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool open;
} Gate;

static Gate gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };

static void gate_wait(void) {
        pthread_mutex_lock(&gate.lock);
        while (!gate.open)
                pthread_cond_wait(&gate.cond, &gate.lock);
        pthread_mutex_unlock(&gate.lock);
}

static void gate_set(bool open) {
        pthread_mutex_lock(&gate.lock);
        gate.open = open;
        pthread_cond_broadcast(&gate.cond);
        pthread_mutex_unlock(&gate.lock);
}

typedef struct Item {
        int value;
        pthread_t worker;
        bool sigterm_blocked;
        int ioprio;
        bool gated;
        int n_progress_posts;
        /* loop side */
        int done_result;
        int n_done;
        int n_progress;
        int order_violation;
} Item;

static int work(PoolTask *t, void *userdata) {
        Item *it = userdata;
        sigset_t mask;

        it->worker = pthread_self();
        pthread_sigmask(SIG_SETMASK, NULL, &mask);
        it->sigterm_blocked = sigismember(&mask, SIGTERM) == 1 && sigismember(&mask, SIGINT) == 1;
        it->ioprio = (int) syscall(SYS_ioprio_get, 1, 0);
        if (it->gated)
                gate_wait();
        for (int i = 0; i < it->n_progress_posts; i++)
                pool_task_notify_progress(t);
        return -it->value;
}

static void progress(void *userdata) {
        Item *it = userdata;

        it->n_progress++;
        if (it->n_done > 0)
                it->order_violation++;
}

static void done(int result, void *userdata) {
        Item *it = userdata;

        it->done_result = result;
        it->n_done++;
}

/* Waits on the fd (never sleeps blindly) and dispatches until `want` done callbacks ran. */
static void run_until(Pool *p, int want) {
        int n = 0;

        while (n < want) {
                struct pollfd pfd = { .fd = pool_get_fd(p), .events = POLLIN };
                int r = poll(&pfd, 1, 10000);
                g_assert_cmpint(r, ==, 1);
                r = pool_dispatch(p);
                g_assert_cmpint(r, >=, 0);
                n += r;
        }
        g_assert_cmpint(n, ==, want);
}

static void test_submit(void) {
        _cleanup_(pool_freep) Pool *p = NULL;
        Item items[32] = {};

        g_assert_cmpint(pool_new(2, 64, &p), ==, 0);
        for (int i = 0; i < 32; i++) {
                items[i].value = i;
                g_assert_cmpint(pool_submit(p, work, NULL, done, &items[i], NULL), ==, 0);
        }
        run_until(p, 32);
        for (int i = 0; i < 32; i++) {
                g_assert_cmpint(items[i].n_done, ==, 1);
                g_assert_cmpint(items[i].done_result, ==, -i);
                g_assert_false(pthread_equal(items[i].worker, pthread_self()));
                g_assert_true(items[i].sigterm_blocked);
                /* class BE (2) << 13 | level 7 */
                g_assert_cmpint(items[i].ioprio, ==, (2 << 13) | 7);
        }
        /* Nothing more is pending: the fd is not readable. */
        struct pollfd pfd = { .fd = pool_get_fd(p), .events = POLLIN };
        g_assert_cmpint(poll(&pfd, 1, 0), ==, 0);
}

static void test_bounded(void) {
        _cleanup_(pool_freep) Pool *p = NULL;
        Item busy = { .gated = true }, queued[4] = {}, extra = {};

        gate_set(false);
        g_assert_cmpint(pool_new(1, 4, &p), ==, 0);
        g_assert_cmpint(pool_submit(p, work, NULL, done, &busy, NULL), ==, 0);
        /* Wait until the single worker took `busy` off the queue. */
        while (pool_n_running(p) == 0)
                sched_yield();
        for (int i = 0; i < 4; i++)
                g_assert_cmpint(pool_submit(p, work, NULL, done, &queued[i], NULL), ==, 0);
        g_assert_cmpint(pool_n_queued(p), ==, 4);
        g_assert_cmpint(pool_submit(p, work, NULL, done, &extra, NULL), ==, -EAGAIN);

        /* No completion can arrive while the gate is shut. */
        struct pollfd pfd = { .fd = pool_get_fd(p), .events = POLLIN };
        g_assert_cmpint(poll(&pfd, 1, 50), ==, 0);
        g_assert_cmpint(busy.n_done, ==, 0);

        gate_set(true);
        run_until(p, 5);
        g_assert_cmpint(busy.n_done, ==, 1);
        for (int i = 0; i < 4; i++)
                g_assert_cmpint(queued[i].n_done, ==, 1);
        g_assert_cmpint(extra.n_done, ==, 0);
        /* Room again. */
        g_assert_cmpint(pool_submit(p, work, NULL, done, &extra, NULL), ==, 0);
        run_until(p, 1);
        g_assert_cmpint(extra.n_done, ==, 1);
}

static void test_progress(void) {
        _cleanup_(pool_freep) Pool *p = NULL;
        Item it = { .n_progress_posts = 100 };

        g_assert_cmpint(pool_new(1, 4, &p), ==, 0);
        g_assert_cmpint(pool_submit(p, work, progress, done, &it, NULL), ==, 0);
        run_until(p, 1);
        /* 100 posts coalesce into at least one and far fewer callbacks, all before done. */
        g_assert_cmpint(it.n_progress, >=, 1);
        g_assert_cmpint(it.n_progress, <=, 100);
        g_assert_cmpint(it.order_violation, ==, 0);
}

static void test_free_with_queued(void) {
        Pool *p = NULL;
        Item busy = { .gated = true }, queued = {};

        gate_set(false);
        g_assert_cmpint(pool_new(1, 4, &p), ==, 0);
        g_assert_cmpint(pool_submit(p, work, NULL, done, &busy, NULL), ==, 0);
        while (pool_n_running(p) == 0)
                sched_yield();
        g_assert_cmpint(pool_submit(p, work, NULL, done, &queued, NULL), ==, 0);
        gate_set(true);
        p = pool_free(p);
        g_assert_null(p);
        g_assert_cmpint(busy.n_done, ==, 0);
        g_assert_cmpint(queued.n_done, ==, 0);
}

static void test_unqueue(void) {
        _cleanup_(pool_freep) Pool *p = NULL;
        Item busy = { .gated = true, .value = 1 }, queued[3] = { { .value = 2 }, { .value = 3 }, { .value = 4 } };
        PoolTask *running, *tasks[3];

        gate_set(false);
        g_assert_cmpint(pool_new(1, 4, &p), ==, 0);
        g_assert_cmpint(pool_submit(p, work, NULL, done, &busy, &running), ==, 0);
        while (pool_n_running(p) == 0)
                sched_yield();
        for (int i = 0; i < 3; i++)
                g_assert_cmpint(pool_submit(p, work, NULL, done, &queued[i], &tasks[i]), ==, 0);

        /* The middle one leaves the queue and completes with the result given, without
         * running; a running task cannot be taken back. */
        g_assert_true(pool_task_unqueue(tasks[1], -ECANCELED));
        g_assert_false(pool_task_unqueue(running, -ECANCELED));
        g_assert_cmpint(pool_n_queued(p), ==, 2);
        run_until(p, 1);
        g_assert_cmpint(queued[1].n_done, ==, 1);
        g_assert_cmpint(queued[1].done_result, ==, -ECANCELED);
        g_assert_true(pthread_equal(queued[1].worker, (pthread_t) 0));

        gate_set(true);
        run_until(p, 3);
        g_assert_cmpint(busy.done_result, ==, -1);
        g_assert_cmpint(queued[0].done_result, ==, -2);
        g_assert_cmpint(queued[2].done_result, ==, -4);
        g_assert_cmpint(queued[1].n_done, ==, 1);
}

static void test_invalid(void) {
        Pool *p = NULL;

        g_assert_cmpint(pool_new(0, 4, &p), ==, -EINVAL);
        g_assert_cmpint(pool_new(2, 0, &p), ==, -EINVAL);
        g_assert_cmpint(pool_new(POOL_THREADS_MAX + 1, 4, &p), ==, -EINVAL);
        g_assert_null(p);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/pool/submit", test_submit);
        g_test_add_func("/pool/bounded", test_bounded);
        g_test_add_func("/pool/progress", test_progress);
        g_test_add_func("/pool/free-with-queued", test_free_with_queued);
        g_test_add_func("/pool/unqueue", test_unqueue);
        g_test_add_func("/pool/invalid", test_invalid);
        return g_test_run();
}
