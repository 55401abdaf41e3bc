/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* ldmctl-model.h: ldmctl's snapshot of the daemon's objects (packs, disks, volumes, jobs)
 * as read over D-Bus with ObjectManager.GetManagedObjects and Properties.GetAll, plus the
 * resolution of a PACK argument (name, GUID or object path) to an object path. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "macro.h"

typedef struct LdmctlMember {
        char *disk;             /* object path */
        uint64_t offset;        /* bytes on that disk */
        uint64_t length;        /* bytes */
} LdmctlMember;

typedef struct LdmctlPlex {
        uint32_t index;
        uint32_t health;        /* VDS_HEALTH */
        uint32_t transition;    /* VDS_TRANSITION_STATE */
        LdmctlMember *members;
        size_t n_members;
} LdmctlPlex;

typedef struct LdmctlPack {
        char *path;
        char *id, *name;
        uint32_t status, flags, health;
        char **disks, **volumes;        /* object paths */
        uint64_t committed_sequence;
        char *active_job;               /* "/" when none */
} LdmctlPack;

typedef struct LdmctlDisk {
        char *path;
        char *id, *name, *pack, *device;
        uint32_t status, health;
        uint64_t size, database_sequence;
        bool database_stale;
} LdmctlDisk;

typedef struct LdmctlVolume {
        char *path;
        char *id, *name, *pack;
        uint32_t type, status, health;
        uint64_t size;
        LdmctlPlex *plexes;
        size_t n_plexes;
} LdmctlVolume;

typedef struct LdmctlJob {
        char *path;
        char *operation, *object, *state, *message;
        uint32_t percent, started_by_uid, hresult;
        uint64_t bytes_done, bytes_total, rate, start_time, expected_end_time;
        bool cancelable;
} LdmctlJob;

typedef struct LdmctlModel {
        LdmctlPack *packs;     size_t n_packs;
        LdmctlDisk *disks;     size_t n_disks;
        LdmctlVolume *volumes; size_t n_volumes;
        LdmctlJob *jobs;       size_t n_jobs;
} LdmctlModel;

LdmctlModel *ldmctl_model_free(LdmctlModel *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(LdmctlModel *, ldmctl_model_free);

/* Reads every pack, disk, volume and job the daemon exports (one GetManagedObjects call).
 * Packs, disks and volumes come sorted by name (natural order: Disk2 before Disk10). */
int ldmctl_model_load(sd_bus *bus, LdmctlModel **ret, sd_bus_error *error);

const LdmctlPack *ldmctl_model_pack(const LdmctlModel *m, const char *path);
const LdmctlDisk *ldmctl_model_disk(const LdmctlModel *m, const char *path);
const LdmctlVolume *ldmctl_model_volume(const LdmctlModel *m, const char *path);
const LdmctlJob *ldmctl_model_job(const LdmctlModel *m, const char *path);
/* The pack's name, or its path when unknown. */
const char *ldmctl_model_pack_label(const LdmctlModel *m, const char *path);

/* Resolves a PACK argument: an object path (checked to exist), a GUID (Manager.GetPackById)
 * or a name (Manager.GetPackByName). Returns a negative errno with `error` set by the daemon,
 * or -EINVAL (error unset) for a malformed object path. */
int ldmctl_resolve_pack(sd_bus *bus, const char *pack, char **ret_path, sd_bus_error *error);

void ldmctl_job_done(LdmctlJob *j);
/* Reads all properties of one job (Properties.GetAll). */
int ldmctl_job_load(sd_bus *bus, const char *path, LdmctlJob *ret, sd_bus_error *error);
/* Applies an a{sv} of Job properties (e.g. from PropertiesChanged) to j. */
int ldmctl_job_apply(LdmctlJob *j, sd_bus_message *m);
