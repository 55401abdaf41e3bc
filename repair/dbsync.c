/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* dbsync.c: steps 2 and 4 of Recover on the metadata side.
 *
 * Database sync, in an order where a power cut after any write leaves a state from which
 * the next Recover reaches the same result:
 *   0. every disk's PRIVHEAD and current TOCBLOCK copies that are damaged or disagree with
 *      the copy in use are rewritten from it (per-disk fields stay the disk's own);
 *   A. copies at the authoritative generation that differ from its clean image (a
 *      transaction left in flight, a torn slot) get the clean image;
 *   B. plexes/columns that are stale only because their disk's copy is old (or unreadable)
 *      get the public "recover" partition flag, in a normal transaction on the disks that
 *      are up to date — otherwise syncing that copy would make them look healthy;
 *   C. every other copy (older generation, INVALID disks of the pack) gets the image.
 * A copy is replaced body first (log region, VBLK slots), flush, then its VMDB sector,
 * flush: until the VMDB lands the copy keeps its old generation and stays "stale".
 * The commit clears the markers of what the data step repaired, and the removed/detached
 * flags of disks that are back and whole, in one transaction on every present disk, only
 * after that data was flushed. */

#include <inttypes.h>
#include <stdio.h>

#include "context.h"
#include "health.h"
#include "sync-journal.h"
#include "writer.h"

static const uint64_t toc_slot_rel[_LDM_TOC_SLOT_MAX] = {
        [LDM_TOC_SLOT_1] = 1, [LDM_TOC_SLOT_2] = 2,
        [LDM_TOC_SLOT_2045] = 2045, [LDM_TOC_SLOT_2046] = 2046,
};

/* Every device of the pack we may write: present ones and the pack's INVALID ones. */
static size_t pack_devices(RepairContext *c, LdmDevice **out, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < c->pack->n_disks && n < max; i++) {
                LdmDisk *d = &c->pack->disks[i];
                if (d->device)
                        out[n++] = d->device;
                else if (d->invalid_device)
                        out[n++] = d->invalid_device;
        }
        return n;
}

static int write_sector(LdmIo *io, const uint8_t *buf, uint64_t lba) {
        return ldm_io_pwrite(io, buf, LDM_SECTOR, lba * LDM_SECTOR);
}

static bool is_current_toc(const LdmDevice *dev, LdmTocSlot s) {
        return dev->privhead.toc_lba[0] == toc_slot_rel[s] || dev->privhead.toc_lba[1] == toc_slot_rel[s];
}

/* Names the disk in the job's message when a write to it failed (an open failure already
 * said why, keep that). */
static int disk_failed(RepairContext *c, const LdmDevice *dev, const char *what, int r) {
        if (c->res->message[0] == 0)
                snprintf(c->res->message, sizeof(c->res->message), "%s of disk %s failed: %s", what,
                         dev->path, strerror(-r));
        return r;
}

/* Phase 0 for one device: returns 1 when something was rewritten. */
static int fix_headers(RepairContext *c, LdmDevice *dev) {
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        uint8_t ph[LDM_SECTOR], toc[LDM_SECTOR], zero[LDM_SECTOR] = {};
        uint64_t priv = dev->privhead.priv_start;
        bool wrote = false;
        int r;

        if (dev->privhead_state[dev->privhead_used] != 0)
                return 0; /* no valid PRIVHEAD at all: nothing to rebuild from */
        ldm_privhead_encode(&dev->privhead, ph);
        ldm_tocblock_encode(&dev->toc, toc);

        for (LdmPrivheadCopy k = 0; k < _LDM_PRIVHEAD_COPY_MAX; k++) {
                uint64_t lba = k == LDM_PRIVHEAD_COPY_LBA6 ? LDM_PRIVHEAD_MBR_LBA :
                               priv + (k == LDM_PRIVHEAD_COPY_2047 ? LDM_PRIVHEAD_REL_A : LDM_PRIVHEAD_REL_B);

                if (dev->privhead_state[k] == -ENOENT)
                        continue;
                if (dev->privhead_state[k] == 0 && memcmp(dev->copies->privheads[k].raw, ph, LDM_SECTOR) == 0)
                        continue;
                if (!io) {
                        r = repair_open_device(c, NULL, dev, LDM_IO_WRITE, &io);
                        if (r < 0)
                                return r;
                }
                r = write_sector(io, ph, lba);
                if (r < 0)
                        return r;
                wrote = true;
        }

        for (LdmTocSlot s = 0; s < _LDM_TOC_SLOT_MAX; s++) {
                const uint8_t *want;

                if (is_current_toc(dev, s)) {
                        if (dev->toc_state[s] == 0 && memcmp(dev->copies->tocs[s].raw, toc, LDM_SECTOR) == 0)
                                continue;
                        want = toc;
                } else if (dev->toc_state[s] == -EBADMSG) {
                        want = zero; /* a damaged spare slot: an empty one is valid */
                } else
                        continue;
                if (!io) {
                        r = repair_open_device(c, NULL, dev, LDM_IO_WRITE, &io);
                        if (r < 0)
                                return r;
                }
                r = write_sector(io, want, priv + toc_slot_rel[s]);
                if (r < 0)
                        return r;
                wrote = true;
        }

        if (!io)
                return 0;
        r = ldm_io_flush(io);
        if (r < 0)
                return r;
        return wrote;
}

/* §10.2 rule 2 applied to a parsed copy, then serialised: the image every disk should hold. */
static int settle(LdmDatabase *db) {
        bool forward = ldm_database_rolls_forward(db);
        size_t n = 0;

        for (size_t i = 0; i < db->n_records; i++) {
                LdmRecord *r = &db->records[i];

                if (!ldm_database_record_effective(db, r))
                        continue; /* dropped: its slots become unused */
                if (r->update_status != 0)
                        ldm_database_record_set_active(db, r);
                db->records[n++] = *r;
        }
        db->n_records = n;

        if (forward) {
                db->vmdb.committed_seq = db->vmdb.pending_seq;
                memcpy(db->vmdb.committed_counts, db->vmdb.pending_counts, sizeof(db->vmdb.committed_counts));
        } else {
                db->vmdb.pending_seq = db->vmdb.committed_seq;
                memcpy(db->vmdb.pending_counts, db->vmdb.committed_counts, sizeof(db->vmdb.pending_counts));
        }
        db->vmdb.status = LDM_VMDB_CLEAN;

        /* A rolled-back transaction may already have logged its commit entry (§11.1 step 3):
         * it must not claim a generation the database never reached. */
        for (size_t i = 0; i < 2; i++) {
                bool changed = false;

                if (db->klog_state[i] != 0 || db->log_size < (i + 1) * LDM_SECTOR)
                        continue;
                for (size_t k = 0; k < db->klog[i].n_entries && k < LDM_KLOG_MAX_ENTRIES; k++) {
                        LdmKlogEntry *e = &db->klog[i].entries[k];
                        if (e->status == 3 && e->pending > db->vmdb.committed_seq) {
                                e->pending = db->vmdb.committed_seq;
                                e->committed = MIN(e->committed, db->vmdb.committed_seq);
                                changed = true;
                        }
                }
                if (changed)
                        ldm_klog_encode(&db->klog[i], db->log + i * LDM_SECTOR);
        }
        return ldm_database_serialize(db);
}

/* In flight by its VMDB, or by records a cut transaction left behind (§11.1 step 1 writes
 * status-1/2 records before the VMDB says anything, and a cut inside a phase can leave a
 * record's fragments half written or half cleared: the parse dropped those). */
static bool needs_settling(const LdmDatabase *db) {
        return !ldm_database_settled(db);
}

static bool klog_mark(uint8_t status) {
        return status == 1 || status == 2 || status == 4 || status == 5; /* detach, dirty, … */
}

static bool page_has(const LdmKlogPage *pg, const LdmKlogEntry *e) {
        for (size_t k = 0; k < pg->n_entries && k < LDM_KLOG_MAX_ENTRIES; k++)
                if (pg->entries[k].status == e->status && pg->entries[k].committed == e->committed)
                        return true;
        return false;
}

/* Into a free slot of page 0: past the last entry, else over a cleared (status 0) one. */
static int page_add(LdmKlogPage *pg, const LdmKlogEntry *e) {
        if (pg->n_entries < LDM_KLOG_MAX_ENTRIES) {
                pg->entries[pg->n_entries++] = *e;
                return 0;
        }
        for (size_t k = 0; k < LDM_KLOG_MAX_ENTRIES; k++)
                if (pg->entries[k].status == 0) {
                        pg->entries[k] = *e;
                        return 0;
                }
        return -ENOSPC;
}

/* The detach/dirty marks (§8) of every copy at the authority's generation go into the image:
 * Windows writes the KLOG disk by disk, so a crash can leave a mark on some copies only, and
 * the image replaces them all. A mark anywhere means the volume's plexes may differ. */
static int merge_klog_marks(RepairContext *c, LdmDatabase *img) {
        LdmKlogPage *pg = &img->klog[0];
        bool changed = false;

        if (img->log_size < LDM_SECTOR)
                return 0;
        for (size_t i = 0; i < c->pack->n_devices; i++) {
                const LdmDevice *d = c->pack->devices[i];

                if (!d->db || d->db == c->pack->db || d->effective_committed != c->pack->committed_seq)
                        continue;
                for (size_t k = 0; k < d->db->klog[0].n_entries && k < LDM_KLOG_MAX_ENTRIES; k++) {
                        const LdmKlogEntry *e = &d->db->klog[0].entries[k];

                        if (!klog_mark(e->status) || page_has(pg, e))
                                continue;
                        if (page_add(pg, e) < 0) {
                                snprintf(c->res->message, sizeof(c->res->message),
                                         "The KLOG detach/dirty marks of the pack's copies (%s's among them) do not fit in one page; no database copy was synchronised",
                                         d->path);
                                return -ENOSPC;
                        }
                        changed = true;
                }
        }
        if (changed)
                ldm_klog_encode(pg, img->log);
        return 0;
}

/* The authoritative clean image: the authority's copy, settled if it was in flight, with
 * every copy's KLOG marks. */
static int clean_image(RepairContext *c, LdmDatabase **ret) {
        const LdmDatabase *a = c->pack->db;
        LdmDiag diag;
        int r;

        if (!a)
                return -ENODATA;
        r = ldm_database_parse(a->config, a->config_size, a->log, a->log_size,
                               c->pack->authority ? c->pack->authority->path : "", 0, 0, ret, &diag);
        if (r < 0)
                return r;
        if (needs_settling(*ret))
                r = settle(*ret);
        if (r >= 0)
                r = merge_klog_marks(c, *ret);
        if (r < 0)
                *ret = ldm_database_free(*ret);
        return r;
}

static bool copy_equal(const LdmDevice *dev, const LdmDatabase *img) {
        return dev->db && dev->db->config_size == img->config_size && dev->db->log_size == img->log_size &&
               memcmp(dev->db->config, img->config, img->config_size) == 0 &&
               memcmp(dev->db->log, img->log, img->log_size) == 0;
}

/* Whether dev holds the authority's copy byte for byte: the only copies a transaction may
 * start from (ldm_txn_commit() refuses any other, and would then write to none). A copy
 * write_copy() had to leave behind is not one. */
static bool copy_is_authoritys(const RepairContext *c, const LdmDevice *dev) {
        return c->pack->db && copy_equal(dev, c->pack->db);
}

static bool is_left_behind(const RepairContext *c, const LdmDevice *dev) {
        for (size_t i = 0; i < c->n_left_behind; i++)
                if (guid_equal(&c->left_behind[i], &dev->privhead.disk_guid))
                        return true;
        return false;
}

static void leave_behind(RepairContext *c, const LdmDevice *dev, const LdmDatabase *img) {
        const LdmTocRegion *cfg = &dev->toc.regions[0], *log = &dev->toc.regions[1];

        if (is_left_behind(c, dev))
                return; /* phase C meets again what phase A left */
        if (dev->privhead_state[dev->privhead_used] != 0 || dev->toc_state[dev->toc_used] != 0)
                repair_remaining_add(c, "%s: no valid PRIVHEAD or TOCBLOCK copy to place a database by, database not rewritten",
                                     dev->path);
        else
                repair_remaining_add(c, "%s: config/log regions of %" PRIu64 "/%" PRIu64 " sectors where the pack's are %zu/%zu (another geometry), database not rewritten",
                                     dev->path, cfg->size, log->size, img->config_size / LDM_SECTOR,
                                     img->log_size / LDM_SECTOR);
        if (c->n_left_behind < ELEMENTSOF(c->left_behind))
                c->left_behind[c->n_left_behind++] = dev->privhead.disk_guid;
}

/* Replaces one disk's copy: body first, the VMDB sector (the copy's identity) last. In
 * between the copy is neither the old one nor the new one: the sync journal says so, for a
 * refresh after a power cut there (sync-journal.h). */
static int write_copy(RepairContext *c, LdmDevice *dev, const LdmDatabase *img) {
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        const LdmTocRegion *cfg = &dev->toc.regions[0], *log = &dev->toc.regions[1];
        uint64_t priv = dev->privhead.priv_start, cfg_off, log_off;
        int r;

        if (dev->privhead_state[dev->privhead_used] != 0 || dev->toc_state[dev->toc_used] != 0 ||
            cfg->size * LDM_SECTOR != img->config_size || log->size * LDM_SECTOR != img->log_size) {
                leave_behind(c, dev, img);
                return 0;
        }
        cfg_off = (priv + cfg->start) * LDM_SECTOR;
        log_off = (priv + log->start) * LDM_SECTOR;

        r = repair_open_device(c, NULL, dev, LDM_IO_WRITE, &io);
        if (r < 0)
                return r;
        r = sync_journal_begin(c->req->state_dir, &c->pack->guid, &dev->privhead.disk_guid,
                               img->vmdb.committed_seq);
        if (r < 0)
                return disk_failed(c, dev, "Noting in the state directory the database sync", r);
        r = ldm_io_pwrite(io, img->log, img->log_size, log_off);
        if (r >= 0)
                r = ldm_io_pwrite(io, img->config + LDM_SECTOR, img->config_size - LDM_SECTOR,
                                  cfg_off + LDM_SECTOR);
        if (r >= 0)
                r = ldm_io_flush(io);
        if (r >= 0)
                r = ldm_io_pwrite(io, img->config, LDM_SECTOR, cfg_off);
        if (r >= 0)
                r = ldm_io_flush(io);
        if (r < 0)
                return r;
        r = sync_journal_end(c->req->state_dir, &c->pack->guid, &dev->privhead.disk_guid);
        if (r < 0)
                return disk_failed(c, dev, "Removing the state directory's note of the database sync", r);
        c->res->disks_synced++;
        return 1;
}

/* A copy at the authoritative generation, or caught in the middle of the very transaction
 * that produced it (§11.1 applies each step to every disk before the next, so a copy at
 * "change" whose pending ID is the authority's committed ID missed nothing but the last
 * steps of that metadata transaction — no data write). */
static bool same_generation(const LdmDevice *dev, uint64_t seq) {
        /* A copy of the same ID with another history is behind: phase A must not make it the
         * authority's before phase B marked what its disk holds. */
        if (!dev->db || dev->diverged)
                return false;
        if (dev->effective_committed == seq)
                return true;
        return ldm_database_in_flight(dev->db) && dev->db->vmdb.pending_seq == seq;
}

/* Phases A and C: copies that `select` picks and that differ from the image. */
static int sync_copies(RepairContext *c, bool current_generation) {
        _cleanup_(ldm_database_freep) LdmDatabase *img = NULL;
        LdmDevice *devs[LDM_CREATE_MAX_DISKS * 4];
        size_t n;
        int r, wrote = 0;

        r = clean_image(c, &img);
        if (r < 0)
                return r;
        n = pack_devices(c, devs, ELEMENTSOF(devs));
        for (size_t i = 0; i < n; i++) {
                bool current = same_generation(devs[i], c->pack->committed_seq);

                if (current != current_generation || copy_equal(devs[i], img))
                        continue;
                r = write_copy(c, devs[i], img);
                if (r < 0)
                        return disk_failed(c, devs[i], "Writing the database copy", r);
                wrote |= r;
        }
        return wrote;
}

static bool volume_redundant(const LdmVolume *v) {
        return v->type == LDM_VOLUME_MIRROR || v->type == LDM_VOLUME_RAID5;
}

/* Phase B: extents on disks whose copy is behind (or unreadable but present) get the
 * recover flag before that copy is replaced. */
static int mark_behind(RepairContext *c) {
        _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
        LdmIo *ios[LDM_CREATE_MAX_DISKS * 4] = {};
        LdmDevice *devs[ELEMENTSOF(ios)];
        size_t n = 0, n_marked = 0;
        LdmDiag diag = {};
        int r;

        r = ldm_txn_begin(c->pack->db, &t);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->pack->n_extents; i++) {
                LdmExtent *e = &c->pack->extents[i];
                LdmDisk *d = e->disk;
                LdmRecord *rec;

                if (!d || !e->plex || !volume_redundant(e->plex->volume))
                        continue;
                if (!(d->device && d->db_stale) && !(!d->device && d->invalid_device))
                        continue;
                if (e->flags & LDM_PARTITION_FLAG_RECOVER)
                        continue;
                rec = ldm_txn_edit(t, e->id);
                if (!rec)
                        return -ENOENT;
                rec->partition.flags |= LDM_PARTITION_FLAG_RECOVER;
                rec->dirty = true;
                n_marked++;
        }
        if (n_marked == 0)
                return 0;

        for (size_t i = 0; i < c->pack->n_disks && n < ELEMENTSOF(ios); i++) {
                LdmDevice *dev = c->pack->disks[i].device;
                if (!dev || dev->effective_committed != c->pack->committed_seq || !copy_is_authoritys(c, dev))
                        continue;
                r = repair_open_device(c, c->pack->disks[i].name, dev, LDM_IO_WRITE, &ios[n]);
                if (r < 0)
                        goto out;
                devs[n++] = dev;
        }
        r = ldm_txn_commit(t, ios, devs, n, &diag);
        if (r >= 0)
                r = 1;
        else {
                char buf[LDM_DIAG_MESSAGE_MAX + 256];
                snprintf(c->res->message, sizeof(c->res->message), "Writing the recover markers failed: %s",
                         ldm_diag_format(&diag, buf, sizeof(buf)));
        }
out:
        for (size_t i = 0; i < n + 1 && i < ELEMENTSOF(ios); i++)
                ldm_io_close(ios[i]);
        return r;
}

int repair_database_sync(RepairContext *c) {
        LdmDevice *devs[LDM_CREATE_MAX_DISKS * 4];
        size_t n;
        int r, wrote = 0;

        /* 0: per-disk header copies. */
        n = pack_devices(c, devs, ELEMENTSOF(devs));
        for (size_t i = 0; i < n; i++) {
                r = fix_headers(c, devs[i]);
                if (r < 0)
                        return disk_failed(c, devs[i], "Rewriting the PRIVHEAD/TOCBLOCK copies", r);
                wrote |= r;
        }
        if (wrote) {
                r = repair_rescan(c);
                if (r < 0)
                        return r;
        }

        /* A: settle the copies at the authoritative generation. */
        r = sync_copies(c, true);
        if (r < 0)
                return r;
        if (r > 0) {
                r = repair_rescan(c);
                if (r < 0)
                        return r;
        }

        /* B: markers, then C: the copies that are behind. */
        r = mark_behind(c);
        if (r < 0)
                return r;
        if (r > 0) {
                r = repair_rescan(c);
                if (r < 0)
                        return r;
        }
        r = sync_copies(c, false);
        if (r < 0)
                return r;
        if (r > 0)
                return repair_rescan(c);
        return 0;
}

/* ---- commit ---- */

static int clear_partition(LdmTxn *t, const LdmExtent *e, size_t *changed) {
        LdmRecord *rec;

        if (!(e->flags & (LDM_PARTITION_FLAG_RECOVER | LDM_PARTITION_FLAG_KDETACH)))
                return 0;
        rec = ldm_txn_edit(t, e->id);
        if (!rec)
                return -ENOENT;
        rec->partition.flags &= ~(LDM_PARTITION_FLAG_RECOVER | LDM_PARTITION_FLAG_KDETACH);
        rec->dirty = true;
        (*changed)++;
        return 0;
}

static int clear_column(LdmTxn *t, const LdmColumn *col, size_t *changed) {
        for (size_t i = 0; i < col->n_extents; i++) {
                int r = clear_partition(t, col->extents[i], changed);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int clear_plex(LdmTxn *t, const LdmPlex *p, size_t *changed) {
        LdmRecord *rec;

        if (!(p->flags & (LDM_COMPONENT_FLAG_RECOVER | LDM_COMPONENT_FLAG_IOFAIL)) &&
            (!p->record || strcmp(p->record->component.state, "ACTIVE") == 0))
                return 0;
        rec = ldm_txn_edit(t, p->id);
        if (!rec)
                return -ENOENT;
        rec->component.flags &= ~(LDM_COMPONENT_FLAG_RECOVER | LDM_COMPONENT_FLAG_IOFAIL);
        snprintf(rec->component.state, sizeof(rec->component.state), "ACTIVE");
        rec->dirty = true;
        (*changed)++;
        return 0;
}

static int clear_volume(LdmTxn *t, const LdmVolume *v, size_t *changed) {
        LdmRecord *rec;

        if (!v->record || (!(v->record->volume.volume_flags & LDM_VOLUME_FLAG_CRASHED) &&
                           strcmp(v->record->volume.state, "ACTIVE") == 0))
                return 0;
        rec = ldm_txn_edit(t, v->id);
        if (!rec)
                return -ENOENT;
        rec->volume.volume_flags &= ~LDM_VOLUME_FLAG_CRASHED;
        snprintf(rec->volume.state, sizeof(rec->volume.state), "ACTIVE");
        rec->dirty = true;
        (*changed)++;
        return 0;
}

static int clear_target(LdmTxn *t, const RepairTarget *tg, size_t *changed) {
        int r;

        switch (tg->kind) {
        case REPAIR_TARGET_MIRROR:
                r = clear_column(t, &tg->plex->columns[0], changed);
                if (r >= 0)
                        r = clear_plex(t, tg->plex, changed);
                if (r >= 0)
                        r = clear_plex(t, tg->source, changed);
                break;
        case REPAIR_TARGET_COLUMN:
                r = clear_column(t, &tg->plex->columns[tg->column], changed);
                if (r >= 0)
                        r = clear_plex(t, tg->plex, changed);
                break;
        case REPAIR_TARGET_PARITY:
                r = clear_plex(t, tg->plex, changed);
                break;
        default:
                r = -EINVAL;
        }
        if (r >= 0)
                r = clear_volume(t, tg->volume, changed);
        return r;
}

static bool id_in(const uint32_t *ids, size_t n, uint64_t id) {
        for (size_t i = 0; i < n; i++)
                if (ids[i] == id)
                        return true;
        return false;
}

/* Whether every plex of v could be resynchronised by this run: none lacks a disk. */
static bool volume_whole(const LdmVolume *v) {
        for (size_t i = 0; i < v->n_plexes; i++)
                if (!ldm_plex_present(v->plexes[i]))
                        return false;
        return true;
}

/* KLOG detach/dirty entries (§8) naming what was repaired become plain status-0 entries, on
 * every present disk, after the commit: a crash before this only costs a repeated resync.
 * A volume's own entries stay while a plex of it was left out (its disk missing): that plex
 * still may differ, and nothing else says so — the commit may change no record, and then
 * the disk comes back at the same database sequence, holding no stale mark. */
int repair_clear_klog_marks(RepairContext *c) {
        uint32_t ids[3 * REPAIR_MAX_TARGETS];
        LdmKlogPage page;
        uint8_t sector[LDM_SECTOR];
        bool changed = false;
        size_t n_ids = 0;
        int r;

        if (c->n_targets == 0)
                return 0;
        /* The targets point into the pack the rescan below replaces: keep their IDs. */
        for (size_t i = 0; i < c->n_targets; i++) {
                if (volume_whole(c->targets[i].volume))
                        ids[n_ids++] = c->targets[i].volume->id;
                ids[n_ids++] = c->targets[i].plex->id;
                if (c->targets[i].source)
                        ids[n_ids++] = c->targets[i].source->id;
        }
        r = repair_rescan(c);
        if (r < 0)
                return r;
        if (!c->pack->db || c->pack->db->klog_state[0] != 0)
                return 0;
        page = c->pack->db->klog[0];
        for (size_t k = 0; k < page.n_entries && k < LDM_KLOG_MAX_ENTRIES; k++) {
                uint8_t st = page.entries[k].status;
                if ((st == 1 || st == 2 || st == 4 || st == 5) && id_in(ids, n_ids, page.entries[k].committed)) {
                        page.entries[k].status = 0;
                        changed = true;
                }
        }
        if (!changed)
                return 0;
        ldm_klog_encode(&page, sector);

        for (size_t i = 0; i < c->pack->n_disks; i++) {
                _cleanup_(ldm_io_closep) LdmIo *io = NULL;
                const LdmDevice *dev = c->pack->disks[i].device;

                if (!dev || is_left_behind(c, dev))
                        continue; /* its log is not this one, and may not be where it says */
                r = repair_open_device(c, c->pack->disks[i].name, dev, LDM_IO_WRITE, &io);
                if (r < 0)
                        return r;
                r = ldm_io_pwrite(io, sector, LDM_SECTOR,
                                  (dev->privhead.priv_start + dev->toc.regions[1].start) * LDM_SECTOR);
                if (r >= 0)
                        r = ldm_io_flush(io);
                if (r < 0)
                        return r;
        }
        return 0;
}

#define DISK_FLAGS_AWAY (LDM_DISK_FLAG_REMOVED | LDM_DISK_FLAG_DETACHED)

/* Whether this run's data step rewrote the stale plex (mirror) or column (RAID-5) e is in. */
static bool extent_repaired(const RepairContext *c, const LdmExtent *e) {
        for (size_t i = 0; i < c->n_targets; i++) {
                const RepairTarget *t = &c->targets[i];

                if (t->plex != e->plex)
                        continue;
                if (t->kind == REPAIR_TARGET_MIRROR ||
                    (t->kind == REPAIR_TARGET_COLUMN && t->column == e->column))
                        return true;
        }
        return false;
}

/* A disk marked removed/detached (§10.2 rule 7, D's convention for a disk that was missing)
 * is whole again when it is present with a current copy and nothing on it is left stale:
 * every stale plex or column it holds was rewritten by this run. Extents of volumes without
 * redundancy have nothing to repair. A disk with an extent record the reader left out
 * (hostile or damaged metadata) holds what nobody checked: it keeps its mark. */
static bool disk_back(const RepairContext *c, const LdmDisk *d) {
        if (!(d->flags & DISK_FLAGS_AWAY) || !d->device || d->db_stale || d->extent_rejected)
                return false;
        for (size_t i = 0; i < c->pack->n_extents; i++) {
                const LdmExtent *e = &c->pack->extents[i];
                const LdmPlex *p = e->plex;
                bool stale;

                if (e->disk != d || !p || !volume_redundant(p->volume))
                        continue;
                if (p->volume->type == LDM_VOLUME_MIRROR)
                        stale = p->stale;
                else
                        stale = e->column >= p->n_columns || p->columns[e->column].stale;
                if (stale && !extent_repaired(c, e))
                        return false;
        }
        return true;
}

static bool any_disk_back(const RepairContext *c) {
        for (size_t i = 0; i < c->pack->n_disks; i++)
                if (disk_back(c, &c->pack->disks[i]))
                        return true;
        return false;
}

static int clear_disks(RepairContext *c, LdmTxn *t, size_t *changed) {
        for (size_t i = 0; i < c->pack->n_disks; i++) {
                const LdmDisk *d = &c->pack->disks[i];
                LdmRecord *rec;

                if (!disk_back(c, d))
                        continue;
                rec = ldm_txn_edit(t, d->id);
                if (!rec)
                        return -ENOENT;
                rec->disk.flags &= ~DISK_FLAGS_AWAY;
                rec->dirty = true;
                (*changed)++;
        }
        return 0;
}

int repair_commit(RepairContext *c) {
        _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
        LdmDevice *devs[LDM_CREATE_MAX_DISKS * 4];
        size_t changed = 0, n = 0;
        LdmDiag diag = {};
        int r;

        if (c->n_targets == 0 && !any_disk_back(c))
                return 0;
        r = ldm_txn_begin(c->pack->db, &t);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_targets; i++) {
                r = clear_target(t, &c->targets[i], &changed);
                if (r < 0)
                        return r;
        }
        r = clear_disks(c, t, &changed);
        if (r < 0)
                return r;
        if (changed == 0)
                return 0;

        /* Buffered handles: the writer's sector buffers are not O_DIRECT-aligned. */
        r = repair_open_disks(c, LDM_IO_WRITE);
        if (r < 0)
                return r;
        LdmIo *ios[ELEMENTSOF(devs)];
        for (size_t i = 0; i < c->pack->n_disks && n < ELEMENTSOF(devs); i++)
                if (c->ios[i] && copy_is_authoritys(c, c->pack->disks[i].device)) {
                        ios[n] = c->ios[i];
                        devs[n++] = c->pack->disks[i].device;
                }
        r = ldm_txn_commit(t, ios, devs, n, &diag);
        repair_close_disks(c);
        if (r < 0) {
                char buf[LDM_DIAG_MESSAGE_MAX + 256];
                snprintf(c->res->message, sizeof(c->res->message),
                         "Writing the final transaction failed: %s", ldm_diag_format(&diag, buf, sizeof(buf)));
                return r;
        }
        c->res->database_committed = true;
        return 0;
}
