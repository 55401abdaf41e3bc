/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* job.h: a Job is one Recover or Verify of one pack, published as org.ldmd1.Job at
 * /org/ldmd1/job/_<n> with the IVdsAsync semantics of [MS-VDS] §3.4.1.5 and §3.4.5.2.2. It
 * lives on the loop thread; its work (repair_run()) runs on a pool worker that shares only
 * the cancel flag, the progress slot (under `lock`) and, once the work has returned, the
 * result. When the work ends the daemon rescans, and the job is "done" only once that scan
 * is published, so that a client woken by Wait() or Completed reads refreshed states (or,
 * should the scan hang, after JOB_REFRESH_TIMEOUT_USEC, with a warning in the log). A
 * finished job stays on the bus for FinishedJobLifetimeSec= or until its starter leaves the
 * bus, whichever is later, and at most MaxFinishedJobs= finished jobs are kept. */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "guid.h"
#include "inhibit.h"
#include "model.h"
#include "peer.h"
#include "pool.h"
#include "repair.h"

struct Manager;

#define LDMD_JOB_PREFIX "/org/ldmd1/job"
#define LDMD_JOB_INTERFACE "org.ldmd1.Job"
#define JOB_WAITERS_MAX 64u               /* pending Wait() calls per job */
#define JOB_WAITERS_OTHERS_MAX 48u        /* … from users other than root and the starter */
#define JOB_WAITERS_PER_UID 8u            /* … from any one of those users */
#define JOB_WAIT_LOOKUPS_MAX 64u          /* Wait() calls whose caller's uid the bus is asked for */
#define JOB_ACTIVE_MAX 256u               /* queued + running jobs, all packs */
#define JOB_EMIT_INTERVAL_USEC (250 * 1000ull) /* progress PropertiesChanged at most ~4/s */
/* How long a job whose work ended waits for the refresh scan to be published. A scan that
 * hangs (a disk that stops answering) must not keep the job "running" for ever. */
#define JOB_REFRESH_TIMEOUT_USEC (10 * 1000 * 1000ull)

typedef enum JobOperation {
        JOB_RECOVER,
        JOB_VERIFY,
        JOB_AUTO_RECOVER,          /* started by the daemon (AutoRecover=yes) */
        _JOB_OPERATION_MAX,
        _JOB_OPERATION_INVALID = -EINVAL,
} JobOperation;

typedef enum JobState {
        JOB_QUEUED,
        JOB_RUNNING,
        JOB_CANCELLING,
        JOB_DONE,
        _JOB_STATE_MAX,
        _JOB_STATE_INVALID = -EINVAL,
} JobState;

/* Property bits for the coalesced PropertiesChanged. */
typedef enum JobChange {
        JOB_CHANGE_STATE      = 1u << 0,
        JOB_CHANGE_PERCENT    = 1u << 1,
        JOB_CHANGE_BYTES_DONE = 1u << 2,
        JOB_CHANGE_BYTES_TOTAL = 1u << 3,
        JOB_CHANGE_RATE       = 1u << 4,
        JOB_CHANGE_END_TIME   = 1u << 5,
        JOB_CHANGE_CANCELABLE = 1u << 6,
        JOB_CHANGE_HRESULT    = 1u << 7,
        JOB_CHANGE_MESSAGE    = 1u << 8,
        JOB_CHANGE_ALL        = (1u << 9) - 1,
} JobChange;

typedef struct JobWaiter JobWaiter;
typedef struct JobWaiterList {
        JobWaiter *head;
        unsigned n;
} JobWaiterList;

/* What the worker hands to the loop thread while it runs (guarded by Job.lock). */
typedef struct JobProgress {
        bool started;
        RepairStep step;
        char detail[128];
        uint64_t done, total;
} JobProgress;

typedef struct Job {
        struct Manager *manager;
        struct Job *prev, *next;   /* Manager's list */
        uint32_t id;
        char *path;
        char *object;              /* the pack's object path */
        char *pack_name;
        LdmGuid pack_guid;
        JobOperation operation;
        JobState state;
        uid_t uid;                 /* of the starter (0 for auto-recover) */
        PeerWatch *starter;        /* NULL for auto-recover, or once the starter left */

        /* Shared with the worker. paths and the state directory are fixed at creation. */
        char **paths;
        size_t n_paths;
        atomic_bool cancel;
        pthread_mutex_t lock;
        JobProgress shared;
        RepairResult result;       /* written by the worker, read after its done callback */
        PoolTask *task;            /* the pool's handle until the done callback */
        int work_error;

        /* Loop side: the published values. */
        uint32_t percent;          /* 0–99 while running, never decreasing */
        uint64_t bytes_done, bytes_total, rate;
        uint64_t start_time, expected_end_time; /* µs CLOCK_REALTIME */
        uint64_t rate_base_usec, rate_base_bytes; /* first data progress (CLOCK_MONOTONIC) */
        uint32_t hresult;
        char *message;             /* escaped (utf8.h), like every text the job publishes */
        char *remaining;           /* result.remaining escaped, once done (NULL: none) */
        bool refreshing;           /* work ended, waiting for the rescan to be published */
        uint64_t refresh_generation;
        sd_event_source *refresh_timeout_source; /* ends the wait after JOB_REFRESH_TIMEOUT_USEC */

        unsigned pending_changes;  /* JobChange bits not yet signalled */
        uint64_t last_emit_usec;
        sd_event_source *emit_source;
        sd_event_source *expire_source;
        bool expired;              /* FinishedJobLifetimeSec= has passed since it ended */
        uint64_t finished_usec;

        JobWaiterList waiters;     /* pending Wait() calls, admitted */
        JobWaiterList lookups;     /* … not yet: their caller's uid is being asked of the bus */
        Inhibitor inhibitor;
} Job;

static inline uint64_t job_now_usec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

const char *job_operation_to_string(JobOperation o);
const char *job_state_to_string(JobState s);

/* Creates a job on pack `pack` (a published pack with an LdmPack), queues its work, exports
 * it and sends JobNew. `call` is the starting method call (NULL for auto-recover): its sender
 * is tracked as the starter. Returns -EBUSY when a job already runs on the pack, -E2BIG when
 * too many jobs are active or the pack has too many disks, -EAGAIN when the pool's queue is
 * full. */
int job_start(struct Manager *m, const PackObj *pack, JobOperation op, uid_t uid,
              sd_bus_message *call, Job **ret);

/* The pool work item of a job (job-work.c, on a worker thread): the whole repair. */
int job_work(PoolTask *task, void *userdata);

/* Asks the worker to stop at its next safe point; a queued job ends without starting. */
void job_cancel(Job *j);

/* Adds a pending Wait() call; it is answered when the job is done. The caller's uid decides
 * admission (waiter caps) and is asked of the bus without blocking the loop, so a call may
 * still be refused (Busy) later. -E2BIG when full. */
int job_add_waiter(Job *j, sd_bus_message *call);

/* Answers every pending Wait(), those whose caller's uid is still being asked for included,
 * with the result (the job is done). */
void job_answer_waiters(Job *j);
void job_free_waiters(Job *j);

/* The published HRESULT / percent ([MS-VDS] §3.4.1.5). */
uint32_t job_hresult(const Job *j);
uint32_t job_percent(const Job *j);

/* The reply body of Wait(): (u hresult, a{sv} output). */
int job_append_result(Job *j, sd_bus_message *reply);

/* Marks properties changed; signalled at once when `now` (state changes), else coalesced. */
void job_changed(Job *j, unsigned changes, bool now);

/* Every job, for shutdown: cancel flags set, the pool joined, then the jobs freed. */
void manager_jobs_free(struct Manager *m);
Job *manager_find_job(struct Manager *m, const char *path);
Job *manager_pack_job(struct Manager *m, const char *pack_path);
int manager_job_paths(struct Manager *m, char ***ret);
/* A scan of this generation was published: jobs waiting for it are done. */
void manager_jobs_on_scan(struct Manager *m, uint64_t generation);
/* Starts the pool and watches its fd. */
int manager_jobs_start(struct Manager *m);

/* auto-recover.c: packs of `new` (the model about to be published) that got a missing disk
 * back and are not healthy, when AutoRecover=yes; and starting their jobs once published. */
int manager_auto_recover_candidates(struct Manager *m, const Model *new, char ***ret);
void manager_auto_recover(struct Manager *m, char **packs);

/* job-bus.c */
extern const sd_bus_vtable job_vtable[];
int job_object_register(struct Manager *m);
