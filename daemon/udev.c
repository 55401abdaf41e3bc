/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* udev.c: block devices from libudev: a monitor for hot-plug, an enumeration for coldplug
 * (monitor first, so nothing that appears in between is lost). Whole disks only; RAM disks
 * and unbacked loop devices are not disks anyone keeps LDM data on. Loop devices announce
 * attach and detach with "change" only, so every event re-checks whether the device
 * qualifies. */

#include <string.h>

#include "log.h"
#include "manager.h"

static bool startswith(const char *s, const char *prefix) {
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Whether a block device can carry LDM data now. */
static bool udev_device_is_candidate(struct udev_device *d) {
        const char *sysname = udev_device_get_sysname(d);
        const char *devtype = udev_device_get_devtype(d);
        const char *size = udev_device_get_sysattr_value(d, "size");

        if (!devtype || strcmp(devtype, "disk") != 0 || !udev_device_get_devnode(d))
                return false;
        if (startswith(sysname, "ram") || startswith(sysname, "zram"))
                return false;
        if (startswith(sysname, "loop") && !udev_device_get_sysattr_value(d, "loop/backing_file"))
                return false;
        if (size && strcmp(size, "0") == 0)
                return false;
        return true;
}

static void udev_handle_device(Manager *m, struct udev_device *d, const char *action) {
        const char *node = udev_device_get_devnode(d);
        Source *s;

        if (!node)
                return;
        s = manager_find_source(m, node);
        if ((action && strcmp(action, "remove") == 0) || !udev_device_is_candidate(d)) {
                if (!s)
                        return;
                bool was_ldm = s->verdict != VERDICT_NOT_LDM;
                log_debug("%s %s: gone.", node, strna(action));
                manager_remove_source(m, node);
                if (was_ldm)
                        manager_schedule_scan(m);
                return;
        }
        log_debug("%s %s: probing.", node, strna(action));
        if (manager_add_source(m, node, SOURCE_UDEV) >= 0)
                manager_schedule_scan(m);
}

static int udev_on_monitor(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        struct udev_device *d;

        /* Drain what is queued; each receive returns one device or NULL. */
        while ((d = udev_monitor_receive_device(m->monitor))) {
                udev_handle_device(m, d, udev_device_get_action(d));
                udev_device_unref(d);
        }
        return 0;
}

int manager_udev_start(Manager *m) {
        int r;

        m->udev = udev_new();
        if (!m->udev)
                return log_error_errno(errno ?: ENOMEM, "Failed to create udev context: %m");
        m->monitor = udev_monitor_new_from_netlink(m->udev, "udev");
        if (!m->monitor)
                return log_error_errno(errno ?: ENOMEM, "Failed to create udev monitor: %m");
        r = udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "block", "disk");
        if (r < 0)
                return log_error_errno(r, "Failed to filter udev monitor: %m");
        r = udev_monitor_enable_receiving(m->monitor);
        if (r < 0)
                return log_error_errno(r, "Failed to listen for udev events: %m");
        r = sd_event_add_io(m->event, &m->monitor_source, udev_monitor_get_fd(m->monitor),
                            EPOLLIN, udev_on_monitor, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch udev monitor: %m");
        (void) sd_event_source_set_description(m->monitor_source, "udev-monitor");
        return manager_udev_enumerate(m);
}

/* Adds every qualifying block disk and drops udev sources that are no longer there. */
int manager_udev_enumerate(Manager *m) {
        struct udev_enumerate *e;
        struct udev_list_entry *entry;
        int r;

        if (!m->udev)
                return 0;
        e = udev_enumerate_new(m->udev);
        if (!e)
                return log_oom();
        r = udev_enumerate_add_match_subsystem(e, "block");
        if (r >= 0)
                r = udev_enumerate_add_match_property(e, "DEVTYPE", "disk");
        if (r >= 0)
                r = udev_enumerate_scan_devices(e);
        if (r < 0) {
                udev_enumerate_unref(e);
                return log_error_errno(r, "Failed to enumerate block devices: %m");
        }

        /* Mark-and-sweep: sources seen now get a fresh stamp. */
        uint64_t before = m->stamp;
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e)) {
                struct udev_device *d = udev_device_new_from_syspath(m->udev, udev_list_entry_get_name(entry));
                if (!d)
                        continue;
                if (udev_device_is_candidate(d))
                        (void) manager_add_source(m, udev_device_get_devnode(d), SOURCE_UDEV);
                udev_device_unref(d);
        }
        udev_enumerate_unref(e);

        for (size_t i = m->n_sources; i > 0; i--) {
                Source *s = &m->sources[i - 1];
                if (s->kind == SOURCE_UDEV && s->stamp <= before)
                        manager_remove_source(m, s->path);
        }
        return 0;
}

void manager_udev_stop(Manager *m) {
        m->monitor_source = sd_event_source_disable_unref(m->monitor_source);
        m->monitor = udev_monitor_unref(m->monitor);
        m->udev = udev_unref(m->udev);
}
