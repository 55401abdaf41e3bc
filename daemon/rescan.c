/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* rescan.c: when to scan, and what to do with a scan's result. Changes are debounced (udev
 * sends bursts: add, change, partition events), one scan runs at a time on the probe thread,
 * and a change that arrives meanwhile triggers exactly one more scan afterwards. The result
 * becomes the new published Model (emit.c sends the signals). The first result completes
 * coldplug: only then is the bus name requested. */

#include <inttypes.h>
#include <systemd/sd-daemon.h>

#include "job.h"
#include "log.h"
#include "manager.h"
#include "strv.h"

static int manager_submit_scan(Manager *m) {
        _cleanup_strv_free_ char **paths = strv_new_empty();
        int r;

        if (!paths)
                return log_oom();
        /* Known LDM disks and everything not yet probed; known non-LDM disks are skipped
         * until udev says they changed. */
        for (size_t i = 0; i < m->n_sources; i++)
                if (m->sources[i].verdict != VERDICT_NOT_LDM &&
                    strv_extend(&paths, m->sources[i].path) < 0)
                        return log_oom();

        m->scan_wanted = false;
        m->submitted_stamp = m->stamp;
        r = prober_submit(m->prober, TAKE_PTR(paths), m->generation + 1);
        if (r < 0)
                return log_error_errno(r, "Failed to start scan: %m");
        m->generation++; /* only a scan that runs counts */
        log_debug("Scan %" PRIu64 " started.", m->generation);
        return 0;
}

int manager_scan_now(Manager *m) {
        m->scan_wanted = true;
        if (prober_busy(m->prober))
                return 0; /* manager_on_probe_result() starts the next one */
        if (m->debounce_source)
                (void) sd_event_source_set_enabled(m->debounce_source, SD_EVENT_OFF);
        return manager_submit_scan(m);
}

static int manager_on_debounce(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        if (!prober_busy(m->prober))
                (void) manager_submit_scan(m);
        return 0;
}

void manager_schedule_scan(Manager *m) {
        int r;

        m->scan_wanted = true;
        if (prober_busy(m->prober))
                return;
        /* The delay runs from the first event of a burst, so a steady stream of events cannot
         * postpone a scan for ever. */
        if (m->debounce_source) {
                int enabled = SD_EVENT_OFF;
                (void) sd_event_source_get_enabled(m->debounce_source, &enabled);
                if (enabled != SD_EVENT_OFF)
                        return;
                r = sd_event_source_set_time_relative(m->debounce_source, MANAGER_DEBOUNCE_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(m->debounce_source, SD_EVENT_ONESHOT);
        } else {
                r = sd_event_add_time_relative(m->event, &m->debounce_source, CLOCK_MONOTONIC,
                                               MANAGER_DEBOUNCE_USEC, 0, manager_on_debounce, m);
                if (r >= 0)
                        (void) sd_event_source_set_description(m->debounce_source, "scan-debounce");
        }
        if (r < 0)
                log_error_errno(r, "Failed to schedule scan, scanning now: %m");
        if (r < 0)
                (void) manager_scan_now(m);
}

int manager_add_rescan_waiter(Manager *m, sd_bus_message *call) {
        if (m->n_rescan_waiters >= MANAGER_RESCAN_WAITERS_MAX)
                return -EBUSY;
        m->rescan_waiters[m->n_rescan_waiters] = sd_bus_message_ref(call);
        /* A scan submitted from now on carries a generation above the current one. */
        m->rescan_waiter_gen[m->n_rescan_waiters] = m->generation + 1;
        m->n_rescan_waiters++;
        return 0;
}

void manager_remove_rescan_waiter(Manager *m, sd_bus_message *call) {
        for (size_t i = 0; i < m->n_rescan_waiters; i++) {
                if (m->rescan_waiters[i] != call)
                        continue;
                sd_bus_message_unref(call);
                for (size_t k = i + 1; k < m->n_rescan_waiters; k++) {
                        m->rescan_waiters[k - 1] = m->rescan_waiters[k];
                        m->rescan_waiter_gen[k - 1] = m->rescan_waiter_gen[k];
                }
                m->n_rescan_waiters--;
                return;
        }
}

static void manager_answer_rescan_waiters(Manager *m, uint64_t generation) {
        size_t j = 0;

        for (size_t i = 0; i < m->n_rescan_waiters; i++) {
                if (m->rescan_waiter_gen[i] <= generation) {
                        (void) sd_bus_reply_method_return(m->rescan_waiters[i], NULL);
                        sd_bus_message_unref(m->rescan_waiters[i]);
                        continue;
                }
                m->rescan_waiters[j] = m->rescan_waiters[i];
                m->rescan_waiter_gen[j] = m->rescan_waiter_gen[i];
                j++;
        }
        m->n_rescan_waiters = j;
}

/* Records what each path turned out to be, unless it changed again since submission. */
static void manager_apply_verdicts(Manager *m, const ProbeResult *r) {
        for (size_t i = 0; r->paths && r->paths[i]; i++) {
                Source *s = manager_find_source(m, r->paths[i]);

                if (!s || s->stamp > m->submitted_stamp)
                        continue;
                if (r->verdicts[i] == -EBADMSG && r->diags[i].message[0] && s->verdict != VERDICT_NOT_LDM) {
                        char buf[512];
                        log_warning("Failed to probe %s, ignoring it: %s", s->path,
                                    ldm_diag_format(&r->diags[i], buf, sizeof buf));
                } else if (r->verdicts[i] < 0 && s->verdict != VERDICT_NOT_LDM)
                        log_warning_errno(r->verdicts[i], "Failed to probe %s, ignoring it: %m", s->path);
                else if (r->verdicts[i] > 0 && s->verdict == VERDICT_UNKNOWN)
                        log_info("Found LDM disk %s.", s->path);
                s->verdict = r->verdicts[i] > 0 ? VERDICT_LDM : VERDICT_NOT_LDM;
        }
}

static int manager_on_name_acquired(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e) {
                log_error("Failed to acquire bus name %s: %s", LDMD_BUS_NAME, e->message);
                return sd_event_exit(m->event, -sd_bus_error_get_errno(e));
        }
        m->bus_name_acquired = true;
        log_info("Acquired bus name %s.", LDMD_BUS_NAME);
        (void) sd_notify(false, "READY=1");
        return 0;
}

static void manager_notify_status(Manager *m) {
        size_t n_packs = m->model ? m->model->n_packs : 0, n_disks = m->model ? m->model->n_disks : 0;

        (void) sd_notifyf(false, "STATUS=Watching %zu pack%s, %zu disk%s.", n_packs,
                          n_packs == 1 ? "" : "s", n_disks, n_disks == 1 ? "" : "s");
}

static void manager_on_probe_result(ProbeResult *result, void *userdata) {
        _cleanup_(probe_result_freep) ProbeResult *r = result;
        _cleanup_strv_free_ char **auto_recover = NULL;
        Manager *m = userdata;
        Model *model = NULL;
        int k;

        manager_apply_verdicts(m, r);
        if (r->scan_error < 0)
                log_error_errno(r->scan_error, "Failed to build packs from the LDM disks: %m");

        k = model_build(TAKE_PTR(r->scan), &model);
        if (k < 0)
                log_error_errno(k, "Failed to publish scan %" PRIu64 ": %m", r->generation);
        else {
                log_debug("Scan %" PRIu64 " done: %zu packs, %zu disks, %zu volumes.", r->generation,
                          model->n_packs, model->n_disks, model->n_volumes);
                if (manager_auto_recover_candidates(m, model, &auto_recover) < 0)
                        log_oom();
                manager_publish(m, model);
                manager_notify_status(m);
        }
        manager_answer_rescan_waiters(m, r->generation);
        manager_jobs_on_scan(m, r->generation);
        manager_auto_recover(m, auto_recover);

        if (!m->coldplugged) {
                m->coldplugged = true;
                k = sd_bus_request_name_async(m->bus, NULL, LDMD_BUS_NAME, 0, manager_on_name_acquired, m);
                if (k < 0) {
                        log_error_errno(k, "Failed to request bus name %s: %m", LDMD_BUS_NAME);
                        (void) sd_event_exit(m->event, k);
                }
        }
        if (m->scan_wanted)
                manager_schedule_scan(m);
}

int manager_scan_start(Manager *m) {
        int r = prober_new(m->event, manager_on_probe_result, m, &m->prober);
        if (r < 0)
                return log_error_errno(r, "Failed to start probe thread: %m");
        return 0;
}
