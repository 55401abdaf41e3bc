/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* job-work.c: the part of a Job that runs on a pool worker thread: the repair engine's run,
 * its progress handed to the loop thread under the job's lock, and RepairRateLimitMiB=.
 * Touches only the fields job.h marks as shared (and the result, read once the work is
 * done). */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "job.h"
#include "log.h"
#include "manager.h"
#include "vds.h"

typedef struct JobRun {
        Job *job;
        PoolTask *task;
        uint64_t rate_limit;       /* bytes/s, 0: none */
        uint64_t base_usec, base_bytes; /* where the current target's clock started */
        char target[128];          /* the step detail naming the current target */
} JobRun;

/* RepairRateLimitMiB=: sleeps on the worker until the data moved so far is not ahead of the
 * limit, in short slices so that Cancel still acts quickly. */
static void job_throttle(JobRun *run, RepairStep step, const char *detail, uint64_t done) {
        uint64_t now = job_now_usec(CLOCK_MONOTONIC), due;

        if (run->rate_limit == 0 || (step != REPAIR_STEP_DATA && step != REPAIR_STEP_VERIFY))
                return;
        /* A new target starts with the bytes a checkpoint lets it skip: not moved data. */
        if (run->base_usec == 0 || done < run->base_bytes || strcmp(run->target, detail ?: "") != 0) {
                snprintf(run->target, sizeof run->target, "%s", detail ?: "");
                run->base_usec = now;
                run->base_bytes = done;
                return;
        }
        due = run->base_usec + (uint64_t) ((long double) (done - run->base_bytes) * 1000000.0L /
                                           (long double) run->rate_limit);
        while (now < due && !atomic_load(&run->job->cancel)) {
                uint64_t slice = MIN(due - now, 50000u);
                struct timespec ts = { .tv_sec = 0, .tv_nsec = (long) slice * 1000 };
                nanosleep(&ts, NULL);
                now = job_now_usec(CLOCK_MONOTONIC);
        }
}

static void job_repair_progress(RepairStep step, const char *detail, uint64_t done, uint64_t total,
                                void *userdata) {
        JobRun *run = userdata;
        Job *j = run->job;

        pthread_mutex_lock(&j->lock);
        j->shared.step = step;
        snprintf(j->shared.detail, sizeof j->shared.detail, "%s", detail ?: "");
        j->shared.done = done;
        j->shared.total = total;
        pthread_mutex_unlock(&j->lock);
        pool_task_notify_progress(run->task);
        job_throttle(run, step, detail, done);
}

/* Appended to what the engine said, as far as the message has room. */
static void job_note_no_checkpoints(RepairResult *res, const char *state_dir, int error) {
        size_t n = strnlen(res->message, sizeof res->message);
        char buf[128];

        (void) snprintf(res->message + n, sizeof res->message - n, "%s(no checkpoints: state directory %s: %s)",
                        n > 0 ? " " : "", state_dir, strerror_r(error, buf, sizeof buf));
}

int job_work(PoolTask *task, void *userdata) {
        Job *j = userdata;
        int r;
        JobRun run = { .job = j, .task = task, .rate_limit = j->manager->config.repair_rate_limit };
        const char *state_dir = j->manager->state_dir;
        RepairRequest req = {
                .pack_guid = j->pack_guid,
                .paths = j->paths,
                .n_paths = j->n_paths,
                .operation = j->operation == JOB_VERIFY ? REPAIR_VERIFY : REPAIR_RECOVER,
                .state_dir = state_dir,
                .cancel = &j->cancel,
                .progress = job_repair_progress,
                .userdata = &run,
        };

        pthread_mutex_lock(&j->lock);
        j->shared.started = true;
        pthread_mutex_unlock(&j->lock);
        pool_task_notify_progress(task);

        if (atomic_load(&j->cancel)) {
                j->result = (RepairResult) { .hresult = VDS_E_OPERATION_CANCELED };
                snprintf(j->result.message, sizeof j->result.message, "Cancelled before it started");
                return 0;
        }
        /* Checkpoints need the directory; without it the job still runs, but cannot resume
         * after a crash or cancel: the journal and the job's message say so. */
        if (state_dir && mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
                int error = errno;

                log_warning_errno(-error, "%s: cannot create the state directory %s, running without checkpoints (no resume): %m",
                                  j->path, state_dir);
                req.state_dir = NULL;
                r = repair_run(&req, &j->result);
                job_note_no_checkpoints(&j->result, state_dir, error);
                return r;
        }
        return repair_run(&req, &j->result);
}
