/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* manager.h: the daemon's one top-level object, living on the loop thread: the event loop,
 * the bus connection, the udev monitor, the set of candidate disks ("sources"), the probe
 * thread, the published Model with its pending change signals, the worker pool and the jobs
 * running on it (daemon/job.c), and the pending polkit queries. */

#include <libudev.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "model.h"
#include "polkit.h"
#include "pool.h"
#include "probe.h"

typedef struct Job Job;

#define LDMD_BUS_NAME "org.ldmd1"
#define MANAGER_DEBOUNCE_USEC (150 * 1000ull)  /* quiet time after a udev event */
#define MANAGER_SOURCES_MAX 4096               /* candidate disks we track at most */
#define MANAGER_RESCAN_WAITERS_MAX 64

typedef enum SourceKind {
        SOURCE_IMAGE,              /* --image=PATH: always probed */
        SOURCE_UDEV,               /* a block device udev told us about */
} SourceKind;

typedef enum SourceVerdict {
        VERDICT_UNKNOWN,           /* to be probed with the next scan */
        VERDICT_LDM,
        VERDICT_NOT_LDM,           /* probed: not LDM or unreadable; skipped until it changes */
} SourceVerdict;

/* A disk (or image) that may carry LDM metadata. */
typedef struct Source {
        char *path;                /* device node or image file */
        SourceKind kind;
        SourceVerdict verdict;
        uint64_t stamp;            /* Manager.stamp when it last changed */
} Source;

typedef struct Manager {
        Config config;
        char *config_path;

        sd_event *event;
        sd_bus *bus;
        char *bus_address;         /* --bus=, NULL: system (or user) bus */
        bool user_bus;
        bool bus_name_acquired;

        bool use_udev;
        struct udev *udev;
        struct udev_monitor *monitor;
        sd_event_source *monitor_source;

        Source *sources;
        size_t n_sources;
        uint64_t stamp;            /* bumped on every source change */

        Prober *prober;
        uint64_t generation;       /* of the last submitted scan */
        uint64_t submitted_stamp;  /* Manager.stamp at that submission */
        bool scan_wanted;          /* a change is waiting for the next scan */
        sd_event_source *debounce_source;
        bool coldplugged;          /* first scan finished */

        Model *model;              /* published */
        Model *emitted;            /* what clients last heard of (NULL: same as model) */
        sd_event_source *emit_source;

        sd_bus_message *rescan_waiters[MANAGER_RESCAN_WAITERS_MAX];
        uint64_t rescan_waiter_gen[MANAGER_RESCAN_WAITERS_MAX];
        size_t n_rescan_waiters;

        char *state_dir;           /* --state-dir=, else $STATE_DIRECTORY, else LDMD_STATE_DIR */
        Pool *pool;                /* repair work, off the loop thread */
        sd_event_source *pool_source;
        Job *jobs_head, *jobs_tail; /* by id, ascending */
        size_t n_jobs, n_finished_jobs;
        sd_event_source *jobs_cap_source; /* MaxFinishedJobs=, applied after the dispatch that ended a job */
        uint32_t last_job_id;
        PolkitRegistry *polkit;
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Connects to the bus, registers objects, starts udev and the first scan. The bus name is
 * requested when that scan has been published. */
int manager_start(Manager *m);
int manager_run(Manager *m);

/* sources.c */
int manager_add_source(Manager *m, const char *path, SourceKind kind);
void manager_remove_source(Manager *m, const char *path);
Source *manager_find_source(Manager *m, const char *path);

/* udev.c: monitor first, then enumerate (coldplug). Also used by Rescan(). */
int manager_udev_start(Manager *m);
int manager_udev_enumerate(Manager *m);
void manager_udev_stop(Manager *m);

/* rescan.c */
/* Starts the probe thread. */
int manager_scan_start(Manager *m);
/* Something changed: scan again after MANAGER_DEBOUNCE_USEC of quiet. */
void manager_schedule_scan(Manager *m);
/* Scan now (or as soon as the running one ends). */
int manager_scan_now(Manager *m);
/* Remembers a Rescan() call; it is answered when a scan submitted after now is published. */
int manager_add_rescan_waiter(Manager *m, sd_bus_message *call);
/* Undoes manager_add_rescan_waiter() when the scan could not start: the caller gets that error
 * instead, and only that answer. */
void manager_remove_rescan_waiter(Manager *m, sd_bus_message *call);

/* emit.c */
/* Publishes a new model; signals are sent from a deferred event source, coalesced. */
void manager_publish(Manager *m, Model *model);
int manager_emit_now(Manager *m);

/* manager-bus.c, pack-object.c, disk-object.c, volume-object.c */
int manager_bus_register(Manager *m);
int pack_object_register(Manager *m);
int disk_object_register(Manager *m);
int volume_object_register(Manager *m);
/* Path of the job working on a pack, "/" when none (job.c). */
const char *manager_pack_active_job(Manager *m, const PackObj *p);

/* Appends a NULL-terminated list of object paths as "ao" (sd_bus_message_append_strv()
 * would write "as"). */
int bus_append_object_paths(sd_bus_message *m, char *const *paths);

extern const sd_bus_vtable manager_vtable[];
extern const sd_bus_vtable pack_vtable[];
extern const sd_bus_vtable disk_vtable[];
extern const sd_bus_vtable volume_vtable[];

#define LDMD_MANAGER_INTERFACE "org.ldmd1.Manager"
#define LDMD_PACK_INTERFACE "org.ldmd1.Pack"
#define LDMD_DISK_INTERFACE "org.ldmd1.Disk"
#define LDMD_VOLUME_INTERFACE "org.ldmd1.Volume"
