/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* manager.c: the Manager's life (see manager.h): set up the loop, connect to the bus,
 * register objects, start udev and the probe thread, run, and tear down in reverse. */

#include <signal.h>
#include <systemd/sd-daemon.h>

#include "errors.h"
#include "job.h"
#include "log.h"
#include "manager.h"

int manager_new(Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(Manager));
        if (!m)
                return -ENOMEM;
        config_init(&m->config);
        m->use_udev = true;

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        /* SIGTERM/SIGINT end the loop; main() blocked them before any thread started. */
        r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return r;
        (void) sd_event_set_watchdog(m->event, true);
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* Workers and the probe thread first: they may still be reading or writing. */
        manager_jobs_free(m);
        m->prober = prober_free(m->prober);
        m->polkit = polkit_registry_free(m->polkit);
        for (size_t i = 0; i < m->n_rescan_waiters; i++)
                sd_bus_message_unref(m->rescan_waiters[i]);
        m->debounce_source = sd_event_source_disable_unref(m->debounce_source);
        m->emit_source = sd_event_source_disable_unref(m->emit_source);
        manager_udev_stop(m);
        m->bus = sd_bus_flush_close_unref(m->bus);
        m->event = sd_event_unref(m->event);
        model_free(m->emitted);
        model_free(m->model);
        for (size_t i = 0; i < m->n_sources; i++)
                free(m->sources[i].path);
        free(m->sources);
        free(m->bus_address);
        free(m->config_path);
        free(m->state_dir);
        free(m);
        return NULL;
}

static int manager_connect_bus(Manager *m) {
        int r;

        if (m->bus_address) {
                r = sd_bus_new(&m->bus);
                if (r < 0)
                        return r;
                r = sd_bus_set_address(m->bus, m->bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(m->bus, true);
                if (r >= 0)
                        r = sd_bus_start(m->bus);
        } else if (m->user_bus)
                r = sd_bus_open_user_with_description(&m->bus, "ldmd");
        else
                r = sd_bus_open_system_with_description(&m->bus, "ldmd");
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the %s bus: %m",
                                       m->bus_address ?: m->user_bus ? "user" : "system");
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        /* Losing the bus ends the daemon (systemd or bus activation brings it back). */
        (void) sd_bus_set_exit_on_disconnect(m->bus, true);
        return 0;
}

int manager_start(Manager *m) {
        int r;

        r = ldmd_errors_register();
        if (r < 0)
                return log_error_errno(r, "Failed to register error names: %m");
        r = manager_jobs_start(m);
        if (r < 0)
                return r;
        r = manager_connect_bus(m);
        if (r < 0)
                return r;
        r = manager_bus_register(m);
        if (r < 0)
                return r;
        r = manager_scan_start(m);
        if (r < 0)
                return r;
        /* Monitor first, then enumerate (coldplug), then the first scan. */
        if (m->use_udev) {
                r = manager_udev_start(m);
                if (r < 0)
                        return r;
        }
        (void) sd_notifyf(false, "STATUS=Scanning %zu disk%s.", m->n_sources, m->n_sources == 1 ? "" : "s");
        return manager_scan_now(m);
}

int manager_run(Manager *m) {
        int r = sd_event_loop(m->event);

        (void) sd_notify(false, "STOPPING=1\nSTATUS=Shutting down.");
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}
