/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* health.c: derives the VDS-style state of a pack from what its disks say (ldm-format.md
 * §10.2 rules 4–6). Bottom-up: disks, then the columns of every plex, then plexes, volumes
 * and finally the pack. Pure computation on the model; nothing here reads a disk. */

#include <string.h>

#include "health.h"
#include "record.h"

/* Severity order used to pick "the worst" health; VDS numbers are not ordered by badness. */
static int health_rank(VdsHealth h) {
        switch (h) {
        case VDS_H_HEALTHY:                   return 0;
        case VDS_H_REBUILDING:                return 1;
        case VDS_H_FAILING_REDUNDANCY:        return 2;
        case VDS_H_PENDING_FAILURE:           return 3;
        case VDS_H_STALE:                     return 4;
        case VDS_H_FAILING:                   return 5;
        case VDS_H_DEGRADED:                  return 6;
        case VDS_H_FAILED_REDUNDANCY:         return 7;
        case VDS_H_FAILED_REDUNDANCY_FAILING: return 8;
        case VDS_H_UNKNOWN:                   return 9;
        case VDS_H_FAILED:                    return 10;
        default:                              return 9;
        }
}

static VdsHealth health_worst(VdsHealth a, VdsHealth b) {
        return health_rank(b) > health_rank(a) ? b : a;
}

static bool device_copies_damaged(const LdmDevice *d) {
        /* -ENOENT is "absent by design" (LBA 6 on GPT, TOC slots a 2008 disk leaves unused);
         * only a copy that exists and fails validation counts (§10.2 rule 1). */
        for (size_t i = 0; i < _LDM_PRIVHEAD_COPY_MAX; i++)
                if (d->privhead_state[i] == -EBADMSG)
                        return true;
        for (size_t i = 0; i < _LDM_TOC_SLOT_MAX; i++)
                if (d->toc_state[i] == -EBADMSG)
                        return true;
        return false;
}

/* Rule 4: disk status from presence, database generation and the Disk record's flags. */
static void disk_compute(LdmPack *p, LdmDisk *disk) {
        disk->db_stale = false;
        disk->db_damaged = false;

        if (!disk->device) {
                if (disk->invalid_device) {
                        /* Present, but its copy could not join the pack (INVALID list): VDS
                         * calls such a disk unusable. */
                        disk->status = VDS_DS_FAILED;
                        disk->health = VDS_H_FAILED;
                        disk->db_damaged = true;
                } else {
                        /* Disk record without a device (VDS_DS_MISSING, §2.2.1.2.20). VDS
                         * forbids HEALTHY with MISSING and FAILED health needs FAILED status,
                         * so the health of an absent disk is UNKNOWN. */
                        disk->status = VDS_DS_MISSING;
                        disk->health = VDS_H_UNKNOWN;
                }
                return;
        }

        disk->status = VDS_DS_ONLINE;
        /* VMDB committed ID (0x75) below the authoritative one, or the same ID reached by
         * other transactions (scan.c): it missed the authority's. */
        disk->db_stale = disk->device->effective_committed < p->committed_seq || disk->device->diverged;
        disk->db_damaged = device_copies_damaged(disk->device);

        if (disk->db_stale || (disk->flags & (LDM_DISK_FLAG_REMOVED | LDM_DISK_FLAG_DETACHED)))
                disk->health = VDS_H_STALE;
        else if (disk->db_damaged || (disk->flags & LDM_DISK_FLAG_FAILING))
                disk->health = VDS_H_FAILING;
        else
                disk->health = VDS_H_HEALTHY;
}

/* Rule 5 (a)–(c) for one extent. */
static void extent_state(const LdmExtent *e, bool *ret_missing, bool *ret_stale) {
        const LdmDisk *d = e->disk;
        bool missing = !d || !d->device;   /* no device, or only an INVALID one */
        bool stale = missing;

        if (d && d->db_stale)
                stale = true;              /* (b) may have missed writes: whole range stale */
        if (d && (d->flags & (LDM_DISK_FLAG_REMOVED | LDM_DISK_FLAG_DETACHED)))
                stale = true;              /* D's "Miss<n>" convention: disk flag 0x200 */
        if (e->flags & (LDM_PARTITION_FLAG_RECOVER | LDM_PARTITION_FLAG_KDETACH))
                stale = true;              /* (c) partition flags 0x08 / 0x10 (§7.7 field 3) */

        *ret_missing = missing;
        *ret_stale = stale;
}

static bool state_is_active(const char *s) {
        return s && strcmp(s, "ACTIVE") == 0;
}

/* KLOG page 0 entries (§8): the W03 sample carries a volume's object ID in the "committed"
 * field of status-0 entries; we read detach/logdetach (1/4) and dirty/app-dirty (2/5)
 * entries naming an object the same way (rule 5). */
static bool page_names(const LdmDatabase *db, uint64_t id, bool want_detach) {
        const LdmKlogPage *pg = &db->klog[0];

        for (size_t i = 0; i < pg->n_entries && i < LDM_KLOG_MAX_ENTRIES; i++) {
                uint8_t st = pg->entries[i].status;
                bool match = want_detach ? (st == 1 || st == 4) : (st == 2 || st == 5);
                if (match && pg->entries[i].committed == id)
                        return true;
        }
        return false;
}

/* A mark on any copy at the pack's generation counts, not only the authority's: Windows
 * writes the KLOG disk by disk, and a crash in between leaves the mark on some copies. */
static bool klog_names(const LdmPack *p, uint64_t id, bool want_detach) {
        if (p->db && page_names(p->db, id, want_detach))
                return true;
        for (size_t i = 0; i < p->n_devices; i++) {
                const LdmDevice *d = p->devices[i];

                if (d->db && d->db != p->db && d->effective_committed == p->committed_seq &&
                    page_names(d->db, id, want_detach))
                        return true;
        }
        return false;
}

static bool plex_flagged(const LdmPack *p, const LdmPlex *plex) {
        if (plex->flags & (LDM_COMPONENT_FLAG_RECOVER | LDM_COMPONENT_FLAG_IOFAIL))
                return true;               /* (c) component flags 0x02 / 0x04 (§7.6 field 5) */
        if (plex->record && !state_is_active(plex->record->component.state))
                return true;               /* (c) state other than ACTIVE (§7.6 field 3) */
        return klog_names(p, plex->id, true);
}

/* Columns first; returns the number of stale columns and how many of them are missing. */
static size_t plex_compute_columns(LdmPlex *plex, size_t *ret_missing) {
        size_t n_stale = 0, n_missing = 0;

        for (size_t c = 0; c < plex->n_columns; c++) {
                LdmColumn *col = &plex->columns[c];

                col->stale = col->missing = false;
                for (size_t i = 0; i < col->n_extents; i++) {
                        bool m, s;

                        extent_state(col->extents[i], &m, &s);
                        col->missing = col->missing || m;
                        col->stale = col->stale || s;
                }
                n_stale += col->stale;
                n_missing += col->missing;
        }
        *ret_missing = n_missing;
        return n_stale;
}

static bool volume_needs_resync(const LdmPack *p, const LdmVolume *v) {
        if (v->record) {
                /* Volume state "SYNC" (§7.5 field 5) or flag 0x004 crashed (field 8). */
                if (strncmp(v->record->volume.state, "SYNC", 4) == 0)
                        return true;
                if (v->record->volume.volume_flags & LDM_VOLUME_FLAG_CRASHED)
                        return true;
        }
        return klog_names(p, v->id, false) || klog_names(p, v->id, true);
}

/* Rule 6 for a mirror: each plex is a full copy. */
static void mirror_compute(LdmPack *p, LdmVolume *v) {
        size_t n_good = 0, n_readable = 0;

        for (size_t i = 0; i < v->n_plexes; i++) {
                LdmPlex *plex = v->plexes[i];
                size_t n_missing, n_stale = plex_compute_columns(plex, &n_missing);

                plex->stale = n_stale > 0 || plex_flagged(p, plex);
                plex->transition = VDS_TS_STABLE;
                if (n_missing > 0)
                        plex->health = VDS_H_FAILED;
                else if (plex->stale)
                        plex->health = VDS_H_STALE;
                else
                        plex->health = VDS_H_HEALTHY;
                n_good += !plex->stale;
                n_readable += n_missing == 0;
        }

        if (n_good == v->n_plexes && n_good > 0) {
                v->status = VDS_VS_ONLINE;
                v->health = v->needs_resync ? VDS_H_FAILING_REDUNDANCY : VDS_H_HEALTHY;
        } else if (n_good > 0) {
                v->status = VDS_VS_ONLINE;
                v->health = VDS_H_FAILED_REDUNDANCY;
        } else if (n_readable > 0) {
                /* Every plex out of date but one is readable: usable, configuration stale. */
                v->status = VDS_VS_ONLINE;
                v->health = VDS_H_STALE;
        } else {
                v->status = VDS_VS_FAILED;
                v->health = VDS_H_FAILED;
        }
}

/* Rule 6 for simple/spanned/striped (no redundancy) and RAID-5 (one column may be lost). */
static void single_plex_compute(LdmPack *p, LdmVolume *v) {
        LdmPlex *plex = v->n_plexes > 0 ? v->plexes[0] : NULL;
        size_t n_missing = 0, n_stale = 0;

        if (!plex) {
                v->status = VDS_VS_FAILED;
                v->health = VDS_H_FAILED;
                return;
        }

        n_stale = plex_compute_columns(plex, &n_missing);
        plex->transition = VDS_TS_STABLE;

        if (v->type == LDM_VOLUME_RAID5) {
                /* A flagged RAID-5 component means its parity needs regenerating. */
                if (plex_flagged(p, plex))
                        v->needs_resync = true;
                plex->stale = n_stale > 0;
                if (n_stale == 0) {
                        v->status = VDS_VS_ONLINE;
                        v->health = v->needs_resync ? VDS_H_FAILING_REDUNDANCY : VDS_H_HEALTHY;
                } else if (n_stale == 1) {
                        v->status = VDS_VS_ONLINE;          /* data via XOR */
                        v->health = VDS_H_FAILED_REDUNDANCY;
                } else {
                        v->status = VDS_VS_FAILED;
                        v->health = VDS_H_FAILED;
                }
                plex->health = v->health;
                return;
        }

        plex->stale = n_stale > 0 || plex_flagged(p, plex);
        if (n_missing > 0) {
                v->status = VDS_VS_FAILED;                  /* SDK: "whenever a disk is missing" */
                v->health = VDS_H_FAILED;
        } else if (plex->stale) {
                v->status = VDS_VS_ONLINE;                  /* nothing to rebuild from */
                v->health = VDS_H_STALE;
        } else {
                v->status = VDS_VS_ONLINE;
                v->health = VDS_H_HEALTHY;
        }
        plex->health = v->health;
}

/* An extent left out of the model (pack.c: outside its disk's public region, or overlapping
 * another) leaves a plex whose sectors are unknown: none of its data can be trusted and a
 * write or resync could land on what belongs to someone else. */
static void volume_fail_rejected(LdmVolume *v) {
        for (size_t i = 0; i < v->n_plexes; i++)
                if (v->plexes[i]->extent_rejected)
                        v->plexes[i]->health = VDS_H_FAILED;
        v->status = VDS_VS_FAILED;
        v->health = VDS_H_FAILED;
}

static void volume_compute(LdmPack *p, LdmVolume *v) {
        v->needs_resync = volume_needs_resync(p, v);
        if (v->type == LDM_VOLUME_MIRROR)
                mirror_compute(p, v);
        else
                single_plex_compute(p, v);
        if (ldm_volume_extent_rejected(v))
                volume_fail_rejected(v);
}

void ldm_health_compute(LdmPack *p) {
        size_t n_present = 0;
        bool errors = false, corrupted = false;

        if (!p)
                return;

        for (size_t i = 0; i < p->n_disks; i++) {
                LdmDisk *d = &p->disks[i];

                disk_compute(p, d);
                n_present += d->device != NULL;
                errors = errors || d->status != VDS_DS_ONLINE || d->db_stale || d->db_damaged;
                corrupted = corrupted || d->db_damaged;
        }

        p->health = VDS_H_HEALTHY;
        for (size_t i = 0; i < p->n_volumes; i++) {
                volume_compute(p, &p->volumes[i]);
                p->health = health_worst(p->health, p->volumes[i].health);
        }

        p->flags = 0;
        /* VDS_PACK_FLAG docs: quorum is n/2 + 1 disks of the pack. VDS reports a pack without
         * quorum offline; ldmd keeps it ONLINE with NOQUORUM set (the brief's rule) so that a
         * 2-disk mirror with one disk left stays readable and recoverable. Only a pack with
         * no disk at all is OFFLINE. */
        if (n_present < p->n_disks / 2 + 1)
                p->flags |= VDS_PKF_NOQUORUM;
        p->status = n_present > 0 ? VDS_PS_ONLINE : VDS_PS_OFFLINE;
        if (errors)
                p->flags |= VDS_PKF_ONLINE_ERROR;
        if (corrupted || ldm_diag_list_count(&p->diags, LDM_DIAG_ERROR) > 0)
                p->flags |= VDS_PKF_CORRUPTED;
}
