/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* auto-recover.c: hot-plug repair. When a scan shows a pack's disk that was MISSING present
 * again, the pack has already been refreshed by that scan; with AutoRecover=yes, and if the
 * pack is not healthy (the disk missed writes, its copy is stale, or it landed in INVALID),
 * an "auto-recover" job starts on it by itself. */

#include "job.h"
#include "log.h"
#include "manager.h"
#include "strv.h"
#include "vds.h"

static bool disk_came_back(const Model *old, const DiskObj *d) {
        const DiskObj *before = model_find_disk(old, d->path);

        return before && before->status == VDS_DS_MISSING && d->status != VDS_DS_MISSING && *d->device;
}

static bool pack_needs_recover(const Model *new, const PackObj *p) {
        if (p->health != VDS_H_HEALTHY)
                return true;
        for (char **d = p->disks; d && *d; d++) {
                const DiskObj *o = model_find_disk(new, *d);
                if (o && (o->db_stale || o->health != VDS_H_HEALTHY || strcmp(o->pack, p->path) != 0))
                        return true;
        }
        return false;
}

int manager_auto_recover_candidates(Manager *m, const Model *new, char ***ret) {
        _cleanup_strv_free_ char **l = strv_new_empty();
        const Model *old = m->model;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; old && m->config.auto_recover && i < new->n_packs; i++) {
                const PackObj *p = &new->packs[i];
                bool back = false;

                if (!p->pack)
                        continue; /* INVALID */
                for (char **d = p->disks; d && *d && !back; d++) {
                        const DiskObj *o = model_find_disk(new, *d);
                        back = o && disk_came_back(old, o);
                }
                if (back && pack_needs_recover(new, p) && strv_extend(&l, p->path) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

void manager_auto_recover(Manager *m, char **packs) {
        for (char **p = packs; p && *p; p++) {
                const PackObj *pack = model_find_pack(m->model, *p);
                int r;

                if (!pack)
                        continue;
                log_info("A missing disk of pack %s is back; starting auto-recover.", pack->name);
                r = job_start(m, pack, JOB_AUTO_RECOVER, 0, NULL, NULL);
                if (r == -EBUSY)
                        log_info("Pack %s already has a job; no auto-recover.", pack->name);
                else if (r < 0)
                        log_warning_errno(r, "Failed to start auto-recover on pack %s: %m", pack->name);
        }
}
