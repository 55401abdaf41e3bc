/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* emit.c: change signals. A new Model replaces the published one at once (getters always see
 * the current state); the signals are computed later, in a deferred event source, by diffing
 * what clients last heard of against what is published now. Several scans in one loop
 * iteration thus cost one set of signals, and an object that went and came back is a change,
 * not a removal. */

#include "log.h"
#include "manager.h"
#include "strv.h"

#define CHANGED(field) (a->field != b->field)
#define CHANGED_STR(field) (strcmp(a->field, b->field) != 0)

typedef struct Changes {
        const char *names[16];
        size_t n;
} Changes;

static void changes_add(Changes *c, bool changed, const char *name) {
        if (changed && c->n < ELEMENTSOF(c->names) - 1)
                c->names[c->n++] = name;
        c->names[c->n] = NULL;
}

static void diff_pack(const PackObj *a, const PackObj *b, Changes *c) {
        changes_add(c, CHANGED_STR(name), "Name");
        changes_add(c, CHANGED(status), "Status");
        changes_add(c, CHANGED(flags), "Flags");
        changes_add(c, CHANGED(health), "Health");
        changes_add(c, !strv_equal(a->disks, b->disks), "Disks");
        changes_add(c, !strv_equal(a->volumes, b->volumes), "Volumes");
        changes_add(c, CHANGED(committed_seq), "CommittedSequence");
}

static void diff_disk(const DiskObj *a, const DiskObj *b, Changes *c) {
        changes_add(c, CHANGED_STR(name), "Name");
        changes_add(c, CHANGED_STR(pack), "Pack");
        changes_add(c, CHANGED_STR(device), "Device");
        changes_add(c, CHANGED(status), "Status");
        changes_add(c, CHANGED(health), "Health");
        changes_add(c, CHANGED(size), "Size");
        changes_add(c, CHANGED(db_seq), "DatabaseSequence");
        changes_add(c, CHANGED(db_stale), "DatabaseStale");
}

static void diff_volume(const VolumeObj *a, const VolumeObj *b, Changes *c) {
        changes_add(c, CHANGED_STR(name), "Name");
        changes_add(c, CHANGED_STR(pack), "Pack");
        changes_add(c, CHANGED(type), "Type");
        changes_add(c, CHANGED(status), "Status");
        changes_add(c, CHANGED(health), "Health");
        changes_add(c, CHANGED(size), "Size");
        changes_add(c, !plex_views_equal(a->plexes, a->n_plexes, b->plexes, b->n_plexes), "Plexes");
}

/* Walks two path-sorted arrays of one class and emits added/removed/changed. */
#define DIFF_CLASS(m, Type, arr, n_arr, iface, difffn, removals)                                         \
        do {                                                                                     \
                const Model *o_ = (m)->emitted, *n_ = (m)->model;                                \
                size_t i_ = 0, j_ = 0;                                                           \
                size_t no_ = o_ ? o_->n_arr : 0, nn_ = n_ ? n_->n_arr : 0;                       \
                while (i_ < no_ || j_ < nn_) {                                                   \
                        const Type *a_ = i_ < no_ ? &o_->arr[i_] : NULL;                         \
                        const Type *b_ = j_ < nn_ ? &n_->arr[j_] : NULL;                         \
                        int c_ = !a_ ? 1 : !b_ ? -1 : strcmp(a_->path, b_->path);                \
                        if (c_ < 0) {                                                            \
                                if (removals)                                                    \
                                        (void) sd_bus_emit_interfaces_removed((m)->bus, a_->path, iface, NULL); \
                                i_++;                                                            \
                        } else if (c_ > 0) {                                                     \
                                if (!(removals))                                                 \
                                        (void) sd_bus_emit_interfaces_added((m)->bus, b_->path, iface, NULL); \
                                j_++;                                                            \
                        } else if (removals) {                                                   \
                                i_++, j_++;                                                      \
                        } else {                                                                 \
                                Changes ch_ = {};                                                \
                                difffn(a_, b_, &ch_);                                            \
                                if (ch_.n > 0)                                                   \
                                        (void) sd_bus_emit_properties_changed_strv(              \
                                                (m)->bus, b_->path, iface, (char **) ch_.names); \
                                i_++, j_++;                                                      \
                        }                                                                        \
                }                                                                                \
        } while (0)

static void diff_manager(Manager *m) {
        _cleanup_strv_free_ char **op = NULL, **np = NULL, **od = NULL, **nd = NULL;
        Changes c = {};

        if (model_pack_paths(m->emitted, &op) < 0 || model_pack_paths(m->model, &np) < 0 ||
            model_disk_paths(m->emitted, &od) < 0 || model_disk_paths(m->model, &nd) < 0) {
                log_oom();
                return;
        }
        changes_add(&c, !strv_equal(op, np), "Packs");
        changes_add(&c, !strv_equal(od, nd), "Disks");
        if (c.n > 0)
                (void) sd_bus_emit_properties_changed_strv(m->bus, LDMD_MANAGER_PATH,
                                                           LDMD_MANAGER_INTERFACE, (char **) c.names);
}

int manager_emit_now(Manager *m) {
        if (!m->emitted)
                return 0;
        /* Packs first on the way in (the other objects point to them), last on the way out. */
        DIFF_CLASS(m, PackObj, packs, n_packs, LDMD_PACK_INTERFACE, diff_pack, false);
        DIFF_CLASS(m, DiskObj, disks, n_disks, LDMD_DISK_INTERFACE, diff_disk, false);
        DIFF_CLASS(m, VolumeObj, volumes, n_volumes, LDMD_VOLUME_INTERFACE, diff_volume, false);
        DIFF_CLASS(m, VolumeObj, volumes, n_volumes, LDMD_VOLUME_INTERFACE, diff_volume, true);
        DIFF_CLASS(m, DiskObj, disks, n_disks, LDMD_DISK_INTERFACE, diff_disk, true);
        DIFF_CLASS(m, PackObj, packs, n_packs, LDMD_PACK_INTERFACE, diff_pack, true);
        diff_manager(m);
        m->emitted = model_free(m->emitted);
        return 0;
}

static int manager_on_emit(sd_event_source *s, void *userdata) {
        return manager_emit_now(userdata);
}

void manager_publish(Manager *m, Model *model) {
        Model *old = m->model;
        int r;

        model->userdata = m;
        m->model = model;
        if (!m->emitted) {
                /* The first model has nothing to diff against: an empty one. */
                if (!old && model_build(NULL, &old) < 0) {
                        log_oom();
                        return;
                }
                m->emitted = old;
        } else
                model_free(old);

        if (!m->emit_source) {
                r = sd_event_add_defer(m->event, &m->emit_source, manager_on_emit, m);
                if (r < 0) {
                        log_error_errno(r, "Failed to queue change signals, sending them now: %m");
                        (void) manager_emit_now(m);
                        return;
                }
                (void) sd_event_source_set_description(m->emit_source, "emit-changes");
        }
        (void) sd_event_source_set_enabled(m->emit_source, SD_EVENT_ONESHOT);
}
