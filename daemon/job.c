/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* job.c: the life of a Job (see job.h): creation on a pack, the work on a pool worker,
 * progress coming back through the pool's eventfd, the refresh scan, the end, and removal
 * from the bus. What clients see of it (methods, waiters, signals) is in job-bus.c; what
 * runs on the pool's worker thread is in job-work.c. */

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "errors.h"
#include "job.h"
#include "log.h"
#include "manager.h"
#include "strv.h"
#include "utf8.h"
#include "vds.h"

static const char *const operation_table[_JOB_OPERATION_MAX] = {
        [JOB_RECOVER] = "recover",
        [JOB_VERIFY] = "verify",
        [JOB_AUTO_RECOVER] = "auto-recover",
};

static const char *const state_table[_JOB_STATE_MAX] = {
        [JOB_QUEUED] = "queued",
        [JOB_RUNNING] = "running",
        [JOB_CANCELLING] = "cancelling",
        [JOB_DONE] = "done",
};

const char *job_operation_to_string(JobOperation o) {
        return o >= 0 && o < _JOB_OPERATION_MAX ? operation_table[o] : NULL;
}

const char *job_state_to_string(JobState s) {
        return s >= 0 && s < _JOB_STATE_MAX ? state_table[s] : NULL;
}

static bool hresult_succeeded(uint32_t hr) {
        return (hr & 0x80000000u) == 0;
}

uint32_t job_hresult(const Job *j) {
        return j->state == JOB_DONE ? j->hresult : VDS_E_OPERATION_PENDING;
}

uint32_t job_percent(const Job *j) {
        /* [MS-VDS] §3.4.1.5: 100 only on success; failed or cancelled jobs report 0. */
        if (j->state == JOB_DONE)
                return hresult_succeeded(j->hresult) ? 100 : 0;
        return j->percent;
}

/* ---- the list ---- */

Job *manager_find_job(Manager *m, const char *path) {
        for (Job *j = m->jobs_head; j; j = j->next)
                if (strcmp(j->path, path) == 0)
                        return j;
        return NULL;
}

Job *manager_pack_job(Manager *m, const char *pack_path) {
        for (Job *j = m->jobs_head; j; j = j->next)
                if (j->state != JOB_DONE && strcmp(j->object, pack_path) == 0)
                        return j;
        return NULL;
}

const char *manager_pack_active_job(Manager *m, const PackObj *p) {
        Job *j = m ? manager_pack_job(m, p->path) : NULL;
        return j ? j->path : "/";
}

int manager_job_paths(Manager *m, char ***ret) {
        _cleanup_strv_free_ char **l = strv_new_empty();

        if (!l)
                return -ENOMEM;
        for (Job *j = m->jobs_head; j; j = j->next)
                if (strv_extend(&l, j->path) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

static void manager_jobs_changed(Manager *m) {
        (void) sd_bus_emit_properties_changed(m->bus, LDMD_MANAGER_PATH, LDMD_MANAGER_INTERFACE, "Jobs", NULL);
}

static void pack_active_job_changed(Job *j) {
        /* The pack may have vanished meanwhile: then there is nothing to tell. */
        if (model_find_pack(j->manager->model, j->object))
                (void) sd_bus_emit_properties_changed(j->manager->bus, j->object, LDMD_PACK_INTERFACE,
                                                      "ActiveJob", NULL);
}

/* Every text the worker hands over goes through here, escaped (utf8.h): the repair engine
 * writes names as its own scan read them from disk, raw. */
static void job_set_message(Job *j, const char *text) {
        _cleanup_free_ char *c = utf8_escape(text);

        if (!c)
                return (void) log_oom();
        if (j->message && strcmp(j->message, c) == 0)
                return;
        free(j->message);
        j->message = TAKE_PTR(c);
        j->pending_changes |= JOB_CHANGE_MESSAGE;
}

/* ---- free and remove ---- */

static Job *job_free(Job *j) {
        if (!j)
                return NULL;
        job_free_waiters(j);
        inhibitor_release(&j->inhibitor);
        sd_event_source_disable_unref(j->emit_source);
        sd_event_source_disable_unref(j->expire_source);
        sd_event_source_disable_unref(j->refresh_timeout_source);
        peer_watch_free(j->starter);
        strv_free(j->paths);
        pthread_mutex_destroy(&j->lock);
        free(j->path);
        free(j->object);
        free(j->pack_name);
        free(j->message);
        free(j->remaining);
        free(j);
        return NULL;
}

static void job_unlink(Job *j) {
        Manager *m = j->manager;

        if (j->prev)
                j->prev->next = j->next;
        else
                m->jobs_head = j->next;
        if (j->next)
                j->next->prev = j->prev;
        else
                m->jobs_tail = j->prev;
        m->n_jobs--;
        if (j->state == JOB_DONE)
                m->n_finished_jobs--;
}

/* Takes a finished job off the bus (InterfacesRemoved, JobRemoved) and frees it. */
static void job_remove(Job *j) {
        Manager *m = j->manager;

        log_debug("Removing %s.", j->path);
        /* The object must still be findable while InterfacesRemoved is built. */
        (void) sd_bus_emit_object_removed(m->bus, j->path);
        (void) sd_bus_emit_signal(m->bus, LDMD_MANAGER_PATH, LDMD_MANAGER_INTERFACE, "JobRemoved",
                                  "ou", j->path, j->hresult);
        job_unlink(j);
        manager_jobs_changed(m);
        job_free(j);
}

static void job_maybe_remove(Job *j) {
        if (j->state == JOB_DONE && j->expired && !j->starter)
                job_remove(j);
}

static void job_on_starter_gone(PeerWatch *w, void *userdata) {
        Job *j = userdata;

        log_debug("The starter of %s left the bus.", j->path);
        j->starter = peer_watch_free(j->starter);
        job_maybe_remove(j);
}

static int job_on_expire(sd_event_source *s, uint64_t usec, void *userdata) {
        Job *j = userdata;

        j->expired = true;
        job_maybe_remove(j);
        return 0;
}

static Job *manager_first_finished_job(Manager *m) {
        Job *first = NULL;

        for (Job *j = m->jobs_head; j; j = j->next)
                if (j->state == JOB_DONE && (!first || j->finished_usec < first->finished_usec))
                        first = j;
        return first;
}

/* Keeps at most MaxFinishedJobs= finished jobs: those that ended first go first (not the
 * oldest started: a long job that just ended is what its clients are about to read). */
static int manager_on_jobs_cap(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        Job *j;

        m->jobs_cap_source = sd_event_source_disable_unref(m->jobs_cap_source);
        while (m->n_finished_jobs > m->config.max_finished_jobs && (j = manager_first_finished_job(m)))
                job_remove(j);
        return 0;
}

/* Not at once: job_finish() still uses the job it ended, which may be the oldest, and its
 * callers walk the job list, whose next entry the cap may free. */
static void manager_jobs_schedule_cap(Manager *m) {
        int r;

        if (m->jobs_cap_source || m->n_finished_jobs <= m->config.max_finished_jobs)
                return;
        r = sd_event_add_defer(m->event, &m->jobs_cap_source, manager_on_jobs_cap, m);
        if (r < 0)
                log_warning_errno(r, "Failed to schedule dropping old finished jobs, trying at the next one: %m");
        else
                (void) sd_event_source_set_description(m->jobs_cap_source, "jobs-cap");
}

/* ---- the end ---- */

/* Arms the job's expiry, FinishedJobLifetimeSec= from now. A lifetime the monotonic clock
 * cannot count to from now (the setting admits up to ~584,000 years, and the clock starts at
 * boot) means never: sd_event_add_time_relative() would fail with -EOVERFLOW, and a job
 * whose expiry cannot be armed expires at once, the opposite of what was asked. */
static int job_arm_expiry(Job *j) {
        Manager *m = j->manager;
        uint64_t lifetime = m->config.finished_job_lifetime_usec;

        if (lifetime >= UINT64_MAX - job_now_usec(CLOCK_MONOTONIC)) {
                log_debug("%s never expires (FinishedJobLifetimeSec= is beyond the clock's reach).", j->path);
                return 0;
        }
        return sd_event_add_time_relative(m->event, &j->expire_source, CLOCK_MONOTONIC, lifetime, 0,
                                          job_on_expire, j);
}

static void job_finish(Job *j) {
        Manager *m = j->manager;
        int r;

        j->refreshing = false;
        j->refresh_timeout_source = sd_event_source_disable_unref(j->refresh_timeout_source);
        j->state = JOB_DONE;
        j->finished_usec = job_now_usec(CLOCK_MONOTONIC);
        m->n_finished_jobs++;
        inhibitor_release(&j->inhibitor);

        if (j->work_error < 0) {
                /* repair_run() refused the request: nothing was done. */
                j->hresult = VDS_E_DMADMIN_METHOD_CALL_FAILED;
                char buf[256];
                snprintf(buf, sizeof buf, "The repair engine refused the request: %s", strerror(-j->work_error));
                job_set_message(j, buf);
        } else {
                j->hresult = j->result.hresult;
                job_set_message(j, j->result.message);
                j->remaining = utf8_escape(j->result.remaining);
                if (!j->remaining)
                        log_oom();
        }
        j->expected_end_time = job_now_usec(CLOCK_REALTIME);
        j->rate = 0;
        log_info("%s %s of pack %s ended: 0x%08" PRIx32 " %s", j->path, job_operation_to_string(j->operation),
                 j->pack_name, j->hresult, (j->message ?: ""));

        job_changed(j, JOB_CHANGE_ALL, true);
        r = sd_bus_emit_signal(m->bus, j->path, LDMD_JOB_INTERFACE, "Completed", "us", j->hresult,
                               (j->message ?: ""));
        if (r < 0)
                log_warning_errno(r, "Failed to send Completed of %s: %m", j->path);
        job_answer_waiters(j);
        pack_active_job_changed(j);

        r = job_arm_expiry(j);
        if (r < 0) {
                log_warning_errno(r, "Failed to arm the expiry of %s, it expires now: %m", j->path);
                j->expired = true;
        }
        manager_jobs_schedule_cap(m);
        /* A job without starter and with a zero lifetime leaves at once. */
        if (j->expired)
                job_maybe_remove(j);
}

void manager_jobs_on_scan(Manager *m, uint64_t generation) {
        Job *j = m->jobs_head;
        bool any = false;

        for (Job *k = j; k; k = k->next)
                any = any || (k->refreshing && k->refresh_generation <= generation);
        /* Clients woken by the end of a job read refreshed states: signal them first. */
        if (any)
                (void) manager_emit_now(m);

        while (j) {
                Job *next = j->next;
                if (j->refreshing && j->refresh_generation <= generation)
                        job_finish(j);
                j = next;
        }
}

/* The refresh scan did not come back in time: end the job with its result anyway (the
 * published states catch up whenever the scan does). */
static int job_on_refresh_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Job *j = userdata;

        if (!j->refreshing)
                return 0;
        log_warning("%s: the scan after the job was not published within %llu s (a disk not answering?); ending the job without it.",
                    j->path, (unsigned long long) (JOB_REFRESH_TIMEOUT_USEC / 1000000u));
        job_finish(j);
        return 0;
}

/* Loop thread: the work returned. Refresh the published states before calling it done. */
static void job_on_work_done(int result, void *userdata) {
        Job *j = userdata;
        Manager *m = j->manager;
        uint64_t gen = m->generation + 1;
        int r;

        j->task = NULL;
        j->work_error = result;
        j->refreshing = true;
        job_set_message(j, "Refreshing the pack's state");
        job_changed(j, JOB_CHANGE_CANCELABLE, false);
        r = manager_scan_now(m);
        if (r < 0) {
                log_warning_errno(r, "Failed to rescan after %s: %m", j->path);
                job_finish(j);
                return;
        }
        j->refresh_generation = gen;
        r = sd_event_add_time_relative(m->event, &j->refresh_timeout_source, CLOCK_MONOTONIC,
                                       JOB_REFRESH_TIMEOUT_USEC, 0, job_on_refresh_timeout, j);
        if (r < 0)
                log_warning_errno(r, "Failed to bound the refresh wait of %s: %m", j->path);
        else
                (void) sd_event_source_set_description(j->refresh_timeout_source, "job-refresh-timeout");
}

/* ---- progress ---- */

static uint32_t progress_percent(const JobProgress *p) {
        uint64_t pc;

        if (p->step == REPAIR_STEP_COMMIT || p->step == REPAIR_STEP_REPORT)
                return 99;
        if (p->total == 0)
                return 0;
        if (p->total >= 100)
                pc = p->done / (p->total / 100);
        else
                pc = p->done * 100 / p->total;
        return (uint32_t) MIN(pc, 99u);
}

static void job_update_rate(Job *j, const JobProgress *p) {
        uint64_t t = job_now_usec(CLOCK_MONOTONIC), dt;

        if (p->step != REPAIR_STEP_DATA && p->step != REPAIR_STEP_VERIFY)
                return;
        if (j->rate_base_usec == 0) {
                j->rate_base_usec = t;
                j->rate_base_bytes = p->done;
                return;
        }
        dt = t - j->rate_base_usec;
        if (dt < 500000 || p->done <= j->rate_base_bytes)
                return;
        j->rate = (uint64_t) ((long double) (p->done - j->rate_base_bytes) * 1000000.0L / (long double) dt);
        j->pending_changes |= JOB_CHANGE_RATE;
        if (j->rate > 0 && p->total > p->done) {
                j->expected_end_time = job_now_usec(CLOCK_REALTIME) + (p->total - p->done) / j->rate * 1000000u;
                j->pending_changes |= JOB_CHANGE_END_TIME;
        }
}

/* Loop thread: the worker posted progress. */
static void job_on_progress(void *userdata) {
        Job *j = userdata;
        JobProgress p;
        char buf[sizeof(p.detail) + 32];
        uint32_t pc;

        pthread_mutex_lock(&j->lock);
        p = j->shared;
        pthread_mutex_unlock(&j->lock);

        if (j->state == JOB_DONE || j->refreshing)
                return;
        if (p.started && j->state == JOB_QUEUED) {
                j->state = JOB_RUNNING;
                if (j->operation != JOB_VERIFY) {
                        snprintf(buf, sizeof buf, "Recovering pack %s", j->pack_name);
                        inhibitor_take(&j->inhibitor, j->manager->bus, buf);
                }
                job_changed(j, JOB_CHANGE_STATE, true);
        }
        pc = progress_percent(&p);
        if (pc > j->percent) {
                j->percent = pc;
                j->pending_changes |= JOB_CHANGE_PERCENT;
        }
        if (p.done != j->bytes_done) {
                j->bytes_done = p.done;
                j->pending_changes |= JOB_CHANGE_BYTES_DONE;
        }
        if (p.total != j->bytes_total) {
                j->bytes_total = p.total;
                j->pending_changes |= JOB_CHANGE_BYTES_TOTAL;
        }
        job_update_rate(j, &p);
        if (p.detail[0])
                snprintf(buf, sizeof buf, "%s: %s", strna(repair_step_to_string(p.step)), p.detail);
        else
                snprintf(buf, sizeof buf, "%s", strna(repair_step_to_string(p.step)));
        job_set_message(j, buf);
        job_changed(j, 0, false);
}

/* ---- creation ---- */

static bool device_in(const LdmDevice *d, char *const *paths) {
        return strv_contains(paths, d->path);
}

/* Present disks of the pack, and INVALID disks that belong to it (recover.md: Recover tries
 * to bring them back). */
static int pack_paths(const Manager *m, const PackObj *p, char ***ret) {
        _cleanup_strv_free_ char **l = strv_new_empty();
        const LdmPack *pack = p->pack;
        const LdmScan *s = m->model->scan;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < pack->n_devices; i++)
                if (!device_in(pack->devices[i], l) && strv_extend(&l, pack->devices[i]->path) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < pack->n_disks; i++) {
                const LdmDevice *d = pack->disks[i].invalid_device;
                if (d && !device_in(d, l) && strv_extend(&l, d->path) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; s && i < s->n_invalid; i++) {
                const LdmDevice *d = s->invalid[i];
                bool ours = d->privhead_state[d->privhead_used] == 0 &&
                            guid_equal(&d->privhead.group_guid, &pack->guid);
                if (ours && !device_in(d, l) && strv_extend(&l, d->path) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static void job_link(Manager *m, Job *j) {
        j->prev = m->jobs_tail;
        if (m->jobs_tail)
                m->jobs_tail->next = j;
        else
                m->jobs_head = j;
        m->jobs_tail = j;
        m->n_jobs++;
}

int job_start(Manager *m, const PackObj *pack, JobOperation op, uid_t uid, sd_bus_message *call,
              Job **ret) {
        Job *j;
        int r;

        if (!pack->pack)
                return -EOPNOTSUPP;
        if (manager_pack_job(m, pack->path))
                return -EBUSY;
        if (m->n_jobs - m->n_finished_jobs >= JOB_ACTIVE_MAX)
                return -E2BIG;

        j = calloc(1, sizeof(Job));
        if (!j)
                return -ENOMEM;
        pthread_mutex_init(&j->lock, NULL);
        j->manager = m;
        j->inhibitor = INHIBITOR_NULL;
        j->operation = op;
        j->uid = uid;
        j->state = JOB_QUEUED;
        j->hresult = VDS_E_OPERATION_PENDING;
        j->pack_guid = pack->pack->guid;
        j->start_time = job_now_usec(CLOCK_REALTIME);
        atomic_init(&j->cancel, false);
        j->object = strdup(pack->path);
        j->pack_name = strdup(pack->name);
        j->message = strdup("Queued");
        if (!j->object || !j->pack_name || !j->message) {
                job_free(j);
                return -ENOMEM;
        }
        r = pack_paths(m, pack, &j->paths);
        if (r >= 0) {
                j->n_paths = strv_length(j->paths);
                if (j->n_paths == 0 || j->n_paths > REPAIR_MAX_PATHS)
                        r = -E2BIG;
        }
        /* Its presence is checked too: the polkit check may have asked the bus daemon about
         * it long ago. */
        if (r >= 0 && call)
                r = peer_watch_new(call, true, job_on_starter_gone, j, &j->starter);
        if (r >= 0 && asprintf(&j->path, LDMD_JOB_PREFIX "/_%" PRIu32, m->last_job_id + 1) < 0) {
                j->path = NULL;
                r = -ENOMEM;
        }
        if (r >= 0)
                r = pool_submit(m->pool, job_work, job_on_progress, job_on_work_done, j, &j->task);
        if (r < 0) {
                job_free(j);
                return r;
        }

        j->id = ++m->last_job_id;
        job_link(m, j);
        log_info("%s: %s of pack %s (%s) by uid %u, %zu disk(s).", j->path, job_operation_to_string(op),
                 j->pack_name, j->object, (unsigned) uid, j->n_paths);
        (void) sd_bus_emit_object_added(m->bus, j->path);
        (void) sd_bus_emit_signal(m->bus, LDMD_MANAGER_PATH, LDMD_MANAGER_INTERFACE, "JobNew", "oo",
                                  j->path, j->object);
        manager_jobs_changed(m);
        pack_active_job_changed(j);
        if (ret)
                *ret = j;
        return 0;
}

void job_cancel(Job *j) {
        if (j->state == JOB_DONE || j->state == JOB_CANCELLING || j->refreshing)
                return;
        atomic_store(&j->cancel, true);
        j->state = JOB_CANCELLING;
        job_set_message(j, "Cancelling at the next safe point");
        job_changed(j, JOB_CHANGE_STATE, true);
        /* Still queued (behind other packs' jobs): it ends now, not when a worker is free. */
        if (j->task && pool_task_unqueue(j->task, 0)) {
                j->result = (RepairResult) { .hresult = VDS_E_OPERATION_CANCELED };
                snprintf(j->result.message, sizeof j->result.message, "Cancelled before it started");
        }
}

/* ---- the manager's side ---- */

static int manager_on_pool(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        int r = pool_dispatch(m->pool);

        if (r < 0)
                log_warning_errno(r, "Failed to collect worker results: %m");
        return 0;
}

static unsigned worker_threads(const Manager *m) {
        long n;

        if (m->config.worker_threads > 0)
                return m->config.worker_threads;
        n = sysconf(_SC_NPROCESSORS_ONLN);
        return (unsigned) MAX(1L, MIN(n, (long) CONFIG_WORKER_THREADS_MAX));
}

int manager_jobs_start(Manager *m) {
        unsigned n = worker_threads(m);
        int r;

        if (!m->state_dir) {
                const char *e = getenv("STATE_DIRECTORY"); /* set by StateDirectory= */
                /* systemd may list several, separated by ':'; ours is the only one. */
                m->state_dir = strndup(e ?: LDMD_STATE_DIR, e ? strcspn(e, ":") : strlen(LDMD_STATE_DIR));
                if (!m->state_dir)
                        return log_oom();
        }
        r = pool_new(n, JOB_ACTIVE_MAX, &m->pool);
        if (r < 0)
                return log_error_errno(r, "Failed to start %u worker thread(s): %m", n);
        r = sd_event_add_io(m->event, &m->pool_source, pool_get_fd(m->pool), EPOLLIN, manager_on_pool, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the worker pool: %m");
        (void) sd_event_source_set_description(m->pool_source, "pool");
        log_debug("%u worker thread(s), state directory %s.", n, m->state_dir);
        return 0;
}

void manager_jobs_free(Manager *m) {
        Job *j;

        m->jobs_cap_source = sd_event_source_disable_unref(m->jobs_cap_source);
        for (j = m->jobs_head; j; j = j->next)
                atomic_store(&j->cancel, true);
        /* Waits for running work; its done callbacks are dropped. */
        m->pool_source = sd_event_source_disable_unref(m->pool_source);
        m->pool = pool_free(m->pool);
        while ((j = m->jobs_head)) {
                job_unlink(j);
                job_free(j);
        }
}
