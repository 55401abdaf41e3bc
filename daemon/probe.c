/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* probe.c: the probe thread (see probe.h). The mutex guards the request and result slots;
 * the eventfd only says "a result is ready" to the loop thread. Each request is probed by a
 * few short-lived worker threads, so that the reads of many disks overlap (coldplug of a
 * shelf of disks waits on I/O, not CPU); the LDM library itself stays single-threaded: every
 * worker probes its own devices, and one ldm_scan_build() groups them afterwards. */

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>

#include "device.h"
#include "log.h"
#include "probe.h"
#include "strv.h"
#include "thread-sched.h"

struct Prober {
        pthread_t thread;
        bool thread_started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool quit;                 /* set by the loop thread, read under lock */

        char **request;            /* pending request, NULL when none */
        uint64_t request_generation;
        ProbeResult *result;       /* finished, not yet collected */
        ProbeResult *spare;        /* allocated before each request is submitted: the answer
                                    * when the thread runs out of memory, so that the loop
                                    * thread always hears back and scans never stop */
        bool busy;                 /* loop thread's view: submitted, result not collected */

        int efd;
        sd_event_source *source;
        prober_callback_t cb;
        void *userdata;
};

ProbeResult *probe_result_free(ProbeResult *r) {
        if (!r)
                return NULL;
        strv_free(r->paths);
        free(r->verdicts);
        free(r->diags);
        ldm_scan_free(r->scan);
        free(r);
        return NULL;
}

static bool prober_should_quit(Prober *p) {
        bool q;
        pthread_mutex_lock(&p->lock);
        q = p->quit;
        pthread_mutex_unlock(&p->lock);
        return q;
}

/* Parallel reads of different disks: a light probe is a few small dependent reads, each a
 * round trip to its disk. Each worker probes a batch of disks with their reads overlapped
 * (ldm_device_probe_batch()), and the workers run side by side: a shelf of disks then takes
 * the time of a few round trips, and the CPU part of parsing spreads over the cores. One
 * worker per online CPU (ldm_device_probe_threads(): 2 to 8), each with up to 32 disks: 64
 * disks are then all in flight at once on 2 CPUs as on 8. More workers than CPUs only add
 * their own start-up: 64 loop devices, as a process, on a 2-CPU guest where a new page costs
 * 13-30 µs (2026-11-27, medians): buffered warm 19.1 / 20.5 / 22.3 ms with 2 / 4 / 8 workers,
 * cold 30.9 / 32.4 / 34.9; direct-I/O loops warm 19.8 / 19.3 / 22.2, cold 21.1 / 25.0 /
 * 25.8. On the VMs before, where the count mattered less (in process, cold, direct-I/O
 * loops): before batches 4 threads 22-26 ms, 8: 19-20, 16: 18; with batches 8 threads
 * 10.5-13.3 ms, and 2 and 4 no faster. Idle RSS grows with the workers (thread arenas and
 * stacks, ~0.5 MiB from 4 to 16), see bench/RESULTS.md. Each worker holds a 16 KiB config head while it parses (64 KiB for a pack
 * whose records outgrow it). */

typedef struct ProbeWork {
        Prober *prober;
        char **paths;
        size_t n;
        size_t batch;              /* paths per ldm_device_probe_batch() */
        int *verdicts;             /* [i] for paths[i] */
        LdmDiag *diags;            /* [i] for paths[i] */
        LdmDevice **devices;       /* [i] for paths[i], NULL when not LDM */
        atomic_size_t next;        /* first index of the next batch to take */
} ProbeWork;

/* The daemon publishes what it parsed and never writes through this scan (Recover probes
 * again), so it keeps no raw regions: ~850 KiB less per disk. */
static void *probe_worker(void *userdata) {
        ProbeWork *w = userdata;

        for (size_t i; (i = atomic_fetch_add(&w->next, w->batch)) < w->n;) {
                if (prober_should_quit(w->prober))
                        break;
                (void) ldm_device_probe_batch(w->paths + i, MIN(w->batch, w->n - i), LDM_PROBE_NO_RAW,
                                              w->verdicts + i, w->devices + i, w->diags + i);
        }
        return NULL;
}

/* Probes every path of w with up to `threads` workers (inline if none can start). */
static void probe_all(ProbeWork *w, size_t threads) {
        pthread_t workers[LDM_PROBE_THREADS_MAX];
        size_t n_workers = 0;

        for (size_t i = 0; i < MIN(threads, (size_t) LDM_PROBE_THREADS_MAX) && i < w->n; i++) {
                /* Workers inherit this thread's mask: every signal blocked. */
                if (pthread_create(&workers[n_workers], NULL, probe_worker, w) != 0)
                        break;
                n_workers++;
        }
        if (n_workers == 0)
                (void) probe_worker(w);
        for (size_t i = 0; i < n_workers; i++)
                pthread_join(workers[i], NULL);
}

/* Runs on the probe thread: the whole of one request. */
static ProbeResult *probe_paths(Prober *p, char **paths, uint64_t generation) {
        size_t n = strv_length(paths), n_ldm = 0;
        _cleanup_free_ LdmDevice **devices = NULL;
        ProbeWork w = { .prober = p, .paths = paths, .n = n };
        size_t threads = ldm_device_probe_threads();
        ProbeResult *r;

        r = calloc(1, sizeof(ProbeResult));
        if (!r) {
                strv_free(paths);
                return NULL;
        }
        r->generation = generation;
        r->paths = paths;
        r->verdicts = calloc(n ?: 1, sizeof(int));
        r->diags = calloc(n ?: 1, sizeof(LdmDiag));
        devices = calloc(n ?: 1, sizeof(LdmDevice *));
        if (!r->verdicts || !r->diags || !devices)
                return probe_result_free(r);

        w.verdicts = r->verdicts;
        w.diags = r->diags;
        w.devices = devices;
        w.batch = ldm_device_probe_batch_size(n, threads);
        atomic_init(&w.next, 0);
        probe_all(&w, threads);
        /* In path order, whatever order the workers finished in. */
        for (size_t i = 0; i < n; i++) {
                if (r->verdicts[i] > 0 && devices[i])
                        devices[n_ldm++] = devices[i];
                else if (r->verdicts[i] > 0)
                        r->verdicts[i] = 0;
        }
        if (n_ldm > 0) {
                /* ldm_scan_build() owns the array and the devices from here on. */
                r->scan_error = ldm_scan_build(TAKE_PTR(devices), n_ldm, &r->scan);
                if (r->scan_error > 0)
                        r->scan_error = 0;
        }
        /* The region buffers the workers freed sit in their malloc arenas below the trim
         * threshold; give those pages back, or an idle daemon keeps ~1 MiB per worker. */
        (void) malloc_trim(0);
        return r;
}

static void *prober_thread(void *userdata) {
        Prober *p = userdata;

        thread_sched_default(); /* not the loop thread's short slice; its workers inherit it */
        pthread_mutex_lock(&p->lock);
        for (;;) {
                while (!p->quit && !p->request)
                        pthread_cond_wait(&p->cond, &p->lock);
                if (p->quit)
                        break;

                char **paths = TAKE_PTR(p->request);
                uint64_t gen = p->request_generation;
                pthread_mutex_unlock(&p->lock);

                ProbeResult *r = probe_paths(p, paths, gen);

                pthread_mutex_lock(&p->lock);
                if (!r) {
                        /* Out of memory: answer with the spare, an empty failed result. */
                        r = TAKE_PTR(p->spare);
                        *r = (ProbeResult) { .generation = gen, .scan_error = -ENOMEM };
                }
                probe_result_free(p->result);
                p->result = r;
                (void) !eventfd_write(p->efd, 1);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

static int prober_on_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Prober *p = userdata;
        eventfd_t v;
        ProbeResult *r;

        (void) eventfd_read(p->efd, &v);
        pthread_mutex_lock(&p->lock);
        r = TAKE_PTR(p->result);
        pthread_mutex_unlock(&p->lock);
        if (!r)
                return 0;
        p->busy = false;
        p->cb(r, p->userdata);
        return 0;
}

int prober_new(sd_event *event, prober_callback_t cb, void *userdata, Prober **ret) {
        _cleanup_(prober_freep) Prober *p = NULL;
        sigset_t all, old;
        int r;

        p = calloc(1, sizeof(Prober));
        if (!p)
                return -ENOMEM;
        p->efd = -EBADF;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->cond, NULL);
        p->cb = cb;
        p->userdata = userdata;

        p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->efd < 0)
                return -errno;
        r = sd_event_add_io(event, &p->source, p->efd, EPOLLIN, prober_on_event, p);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(p->source, "probe-result");

        /* Signals belong to the loop thread (sd-event signalfd). */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = -pthread_create(&p->thread, NULL, prober_thread, p);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0)
                return r;
        p->thread_started = true;
        *ret = TAKE_PTR(p);
        return 0;
}

Prober *prober_free(Prober *p) {
        if (!p)
                return NULL;
        if (p->thread_started) {
                pthread_mutex_lock(&p->lock);
                p->quit = true;
                pthread_cond_signal(&p->cond);
                pthread_mutex_unlock(&p->lock);
                pthread_join(p->thread, NULL);
        }
        strv_free(p->request);
        probe_result_free(p->result);
        probe_result_free(p->spare);
        sd_event_source_disable_unref(p->source);
        if (p->efd >= 0)
                close(p->efd);
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
}

int prober_submit(Prober *p, char **paths, uint64_t generation) {
        if (p->busy) {
                strv_free(paths);
                return -EBUSY;
        }
        /* The thread waits for a non-NULL request: "no paths" is an empty list. */
        if (!paths && !(paths = strv_new_empty()))
                return -ENOMEM;
        pthread_mutex_lock(&p->lock);
        if (!p->spare && !(p->spare = calloc(1, sizeof(ProbeResult)))) {
                pthread_mutex_unlock(&p->lock);
                strv_free(paths);
                return -ENOMEM;
        }
        p->request = paths;
        p->request_generation = generation;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
        p->busy = true;
        return 0;
}

bool prober_busy(const Prober *p) {
        return p->busy;
}
