/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* repair.c: one Recover or Verify job, step by step as recover.md orders them, and the
 * translation of what happened into the VDS HRESULT and message the job reports. */

#include <inttypes.h>
#include <stdio.h>

#include "context.h"
#include "health.h"
#include "sync-journal.h"
#include "vds.h"

static const char *const step_table[_REPAIR_STEP_MAX] = {
        [REPAIR_STEP_REFRESH] = "refresh",
        [REPAIR_STEP_DATABASE_SYNC] = "database-sync",
        [REPAIR_STEP_DATA] = "data",
        [REPAIR_STEP_COMMIT] = "commit",
        [REPAIR_STEP_REPORT] = "report",
        [REPAIR_STEP_VERIFY] = "verify",
};

static const char *const operation_table[_REPAIR_OPERATION_MAX] = {
        [REPAIR_RECOVER] = "recover",
        [REPAIR_VERIFY] = "verify",
};

const char *repair_step_to_string(RepairStep s) {
        return s >= 0 && s < _REPAIR_STEP_MAX ? step_table[s] : NULL;
}

const char *repair_operation_to_string(RepairOperation o) {
        return o >= 0 && o < _REPAIR_OPERATION_MAX ? operation_table[o] : NULL;
}

RepairOperation repair_operation_from_string(const char *s) {
        for (int i = 0; s && i < _REPAIR_OPERATION_MAX; i++)
                if (strcmp(s, operation_table[i]) == 0)
                        return i;
        return _REPAIR_OPERATION_INVALID;
}

void repair_progress(RepairContext *c) {
        if (c->req->progress)
                c->req->progress(c->step, c->detail, c->bytes_done, c->bytes_total, c->req->userdata);
}

void repair_remaining_add(RepairContext *c, const char *fmt, ...) {
        size_t len = strlen(c->res->remaining);
        va_list ap;

        if (len > 0 && len + 2 < sizeof(c->res->remaining)) {
                strcpy(c->res->remaining + len, "; ");
                len += 2;
        }
        if (len + 1 >= sizeof(c->res->remaining))
                return;
        va_start(ap, fmt);
        vsnprintf(c->res->remaining + len, sizeof(c->res->remaining) - len, fmt, ap);
        va_end(ap);
}

static void set_message(RepairContext *c, const char *fmt, ...) _printf_(2, 3);
static void set_message(RepairContext *c, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(c->res->message, sizeof(c->res->message), fmt, ap);
        va_end(ap);
}

LdmIo *repair_disk_io(RepairContext *c, const LdmDisk *d) {
        if (!c->ios || !d || d < c->pack->disks || d >= c->pack->disks + c->pack->n_disks)
                return NULL;
        return c->ios[d - c->pack->disks];
}

void repair_close_disks(RepairContext *c) {
        atomic_store(&c->io_error_path, NULL); /* it pointed into a closing io */
        if (!c->ios)
                return;
        for (size_t i = 0; i < c->pack->n_disks; i++)
                ldm_io_close(c->ios[i]);
        free(c->ios);
        c->ios = NULL;
}

/* Whether io is still the disk dev was probed from: the PRIVHEAD copy the probe used names
 * the same disk and group. Read 4 KiB aligned, so that an O_DIRECT handle can read it too. */
static int check_same_disk(LdmIo *io, const LdmDevice *dev) {
        _cleanup_free_ uint8_t *buf = ldm_io_alloc_aligned(4096);
        uint64_t lba = dev->privhead_used == LDM_PRIVHEAD_COPY_LBA6 ? LDM_PRIVHEAD_MBR_LBA :
                       dev->privhead.priv_start + (dev->privhead_used == LDM_PRIVHEAD_COPY_2047 ?
                                                   LDM_PRIVHEAD_REL_A : LDM_PRIVHEAD_REL_B);
        uint64_t at = lba * LDM_SECTOR, base = at & ~(uint64_t) 4095;
        LdmPrivhead ph;
        LdmDiag ignored;
        int r;

        if (!buf)
                return -ENOMEM;
        if (at + LDM_SECTOR > ldm_io_size(io))
                return -ESTALE; /* the copy is not even on the device any more */
        r = ldm_io_pread(io, buf, (size_t) MIN((uint64_t) 4096, ldm_io_size(io) - base), base);
        if (r < 0)
                return r;
        if (ldm_privhead_parse(buf + (at - base), dev->path, at, &ph, &ignored) < 0 ||
            !guid_equal(&ph.disk_guid, &dev->privhead.disk_guid) ||
            !guid_equal(&ph.group_guid, &dev->privhead.group_guid))
                return -ESTALE;
        return 0;
}

int repair_open_device(RepairContext *c, const char *name, const LdmDevice *dev, LdmIoFlags flags,
                       LdmIo **ret) {
        int r;

        r = ldm_io_open(dev->path, flags, ret);
        /* O_DIRECT is an optimisation; file systems without it (tmpfs) still work. */
        if (r == -EINVAL && (flags & LDM_IO_DIRECT))
                r = ldm_io_open(dev->path, flags & ~LDM_IO_DIRECT, ret);
        if (r >= 0) {
                r = check_same_disk(*ret, dev);
                if (r < 0)
                        *ret = ldm_io_close(*ret);
        }
        if (r == -EBUSY) {
                set_message(c, "Disk %s (%s) is in use: a partition is mounted or the device is held by a device-mapper/md mapping or another program; not written",
                            name ?: "?", dev->path);
                c->res->hresult = VDS_E_DEVICE_IN_USE;
        } else if (r == -ESTALE)
                set_message(c, "Disk %s (%s) is not the disk it was a moment ago (its PRIVHEAD names another disk): not written",
                            name ?: "?", dev->path);
        else if (r < 0)
                set_message(c, "Cannot open disk %s (%s): %s", name ?: "?", dev->path, strerror(-r));
        return r;
}

int repair_open_disks(RepairContext *c, LdmIoFlags flags) {
        int r;

        repair_close_disks(c);
        c->ios = calloc(MAX(c->pack->n_disks, 1u), sizeof(LdmIo *));
        if (!c->ios)
                return -ENOMEM;

        for (size_t i = 0; i < c->pack->n_disks; i++) {
                const LdmDevice *dev = c->pack->disks[i].device;

                if (!dev)
                        continue;
                r = repair_open_device(c, c->pack->disks[i].name, dev, flags, &c->ios[i]);
                if (r < 0) {
                        repair_close_disks(c);
                        return r;
                }
        }
        return 0;
}

int repair_rescan(RepairContext *c) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *pack;
        int r;

        repair_close_disks(c);
        r = ldm_scan_paths(c->req->paths, c->req->n_paths, &scan);
        if (r < 0) {
                set_message(c, "Cannot probe the pack's disks: %s", strerror(-r));
                return r;
        }
        pack = ldm_scan_find_pack(scan, &c->req->pack_guid);
        if (!pack) {
                set_message(c, "Pack %s not found on the given disks", GUID_TO_STRING(&c->req->pack_guid));
                c->res->hresult = VDS_E_OBJECT_NOT_FOUND;
                return -ENOENT;
        }
        ldm_scan_free(c->scan);
        c->scan = TAKE_PTR(scan);
        c->pack = pack;
        return 0;
}

/* Also forgets the notes of disks whose copy reads again (written since by someone else): a
 * note must not vouch for a disk that breaks later for another reason. */
static size_t n_disks_being_synced(const RepairContext *c) {
        size_t n = 0;

        for (size_t i = 0; i < c->pack->n_disks; i++) {
                const LdmDisk *d = &c->pack->disks[i];

                if (d->device)
                        (void) sync_journal_end(c->req->state_dir, &c->pack->guid, &d->guid);
                else if (d->invalid_device &&
                         sync_journal_pending(c->req->state_dir, &c->pack->guid, &d->guid, c->pack->committed_seq))
                        n++;
        }
        return n;
}

static int step_refresh(RepairContext *c) {
        size_t n_present;
        int r;

        c->step = REPAIR_STEP_REFRESH;
        c->detail = NULL;
        repair_progress(c);

        r = repair_rescan(c);
        if (r < 0)
                return r;

        /* VDS_PACK_FLAG: quorum is n/2 + 1 of the pack's disks. Without it, which copy is
         * authoritative cannot be known: write nothing. A disk whose copy this engine was
         * rewriting, to a generation the authority has, when the last run stopped counts
         * (sync-journal.h): it holds nothing the authority lacks. */
        n_present = ldm_pack_n_present(c->pack) + n_disks_being_synced(c);
        if (n_present < c->pack->n_disks / 2 + 1) {
                set_message(c, "Pack %s has no quorum: %zu of %zu disks present, %zu needed; nothing was written",
                            c->pack->name, n_present, c->pack->n_disks, c->pack->n_disks / 2 + 1);
                c->res->hresult = VDS_E_PACK_OFFLINE;
                return -ENOLINK;
        }
        /* Either side may hold the writes that matter: choosing by device order would
         * overwrite the other side's database and, through it, the data its plexes hold. */
        if (c->pack->n_disputed > 0 && c->req->operation == REPAIR_RECOVER) {
                set_message(c, "Pack %s was split: %zu of its database copies at ID %" PRIu64 " hold one history and %zu another, and no majority says which is the pack's; nothing was written (remove the disks of the side to drop, then recover)",
                            c->pack->name, c->pack->n_disputed, c->pack->committed_seq, c->pack->n_disputed);
                c->res->hresult = VDS_E_OPERATION_DENIED;
                return -ENOTUNIQ;
        }
        return 0;
}

static int run_verify(RepairContext *c) {
        unsigned unverified = 0;
        int r;

        r = repair_open_disks(c, LDM_IO_DIRECT);
        if (r < 0)
                return r;
        c->step = REPAIR_STEP_VERIFY;
        r = repair_verify(c, &unverified);
        if (r < 0 && r != -ECANCELED && atomic_load(&c->io_error_path))
                set_message(c, "Verifying %s failed: I/O error on %s: %s",
                            c->detail ?: "volume data", atomic_load(&c->io_error_path), strerror(-r));
        repair_close_disks(c);
        if (r < 0)
                return r;
        if (unverified > 0) {
                /* A scrub that could not read everything cannot vouch for the pack. */
                c->res->hresult = VDS_E_VOLUME_NOT_HEALTHY;
                set_message(c, "Verified pack %s only partly: %s; in what could be checked: %" PRIu64 " mismatching mirror regions, %" PRIu64 " bad parity rows",
                            c->pack->name, c->res->remaining, c->res->mirror_mismatches,
                            c->res->parity_mismatches);
                return -EHWPOISON; /* handled: hresult and message already set */
        }
        set_message(c, "Verified pack %s: %" PRIu64 " mismatching mirror regions, %" PRIu64 " bad parity rows",
                    c->pack->name, c->res->mirror_mismatches, c->res->parity_mismatches);
        return 0;
}

static int run_recover(RepairContext *c) {
        unsigned unrepairable = 0;
        int r;

        c->step = REPAIR_STEP_DATABASE_SYNC;
        c->detail = NULL;
        repair_progress(c);
        r = repair_database_sync(c);
        if (r < 0)
                return r;
        if (repair_cancelled(c))
                return -ECANCELED;

        c->step = REPAIR_STEP_DATA;
        r = repair_plan(c, &unrepairable);
        if (r < 0) {
                set_message(c, "Pack %s: a volume's layout is inconsistent, nothing repaired", c->pack->name);
                return r;
        }
        c->bytes_total = repair_data_bytes(c);
        if (c->n_targets > 0) {
                r = repair_open_disks(c, LDM_IO_WRITE | LDM_IO_DIRECT);
                if (r < 0)
                        return r;
                r = repair_data(c);
                if (r == -EINVAL && atomic_load(&c->refused_extent))
                        set_message(c, "Repairing %s refused: extent %s would be written outside the public region of %s; nothing was written there",
                                    c->detail ?: "volume data", atomic_load(&c->refused_extent)->name,
                                    atomic_load(&c->refused_extent)->disk->name);
                else if (r < 0 && r != -ECANCELED && atomic_load(&c->io_error_path))
                        set_message(c, "Repairing %s failed: I/O error on %s: %s",
                                    c->detail ?: "volume data", atomic_load(&c->io_error_path), strerror(-r));
                repair_close_disks(c);
                if (r < 0)
                        return r;
        }

        c->step = REPAIR_STEP_COMMIT;
        c->detail = NULL;
        repair_progress(c);
        r = repair_commit(c);
        if (r < 0)
                return r;
        r = repair_data_forget(c);
        if (r < 0) {
                set_message(c, "Pack %s: the repair is committed, but a checkpoint in %s could not be removed (%s); the KLOG marks stay, so the next Recover checks those volumes again",
                            c->pack->name, c->req->state_dir, strerror(-r));
                return r;
        }
        r = repair_clear_klog_marks(c);
        if (r < 0)
                return r;

        c->step = REPAIR_STEP_REPORT;
        repair_progress(c);
        if (unrepairable > 0 || c->n_left_behind > 0) {
                c->res->hresult = VDS_E_VOLUME_NOT_HEALTHY;
                set_message(c, "Pack %s recovered partly; still failed: %s", c->pack->name, c->res->remaining);
                return -EHWPOISON; /* handled: hresult and message already set */
        }
        set_message(c, "Pack %s recovered: %u disk(s) synced, %u volume(s) resynchronised, %" PRIu64 " bytes repaired%s",
                    c->pack->name, c->res->disks_synced, c->res->volumes_touched, c->res->bytes_repaired,
                    c->n_rebuilt_dirty > 0 ?
                    "; a RAID-5 column was rebuilt while its volume was marked dirty (a crash while it was written): rows written at that moment may hold what was there before or a mix, as a degraded read would have given; check the file system" : "");
        return 0;
}

static uint32_t hresult_from_errno(int r) {
        switch (r) {
        case -ECANCELED:
                return VDS_E_OPERATION_CANCELED;
        case -EBUSY:
                return VDS_E_DEVICE_IN_USE;
        case -EIO:
        case -ENXIO:
                return VDS_E_DISK_IO_FAILING;
        default:
                return VDS_E_DMADMIN_METHOD_CALL_FAILED;
        }
}

static void finish(RepairContext *c, int r) {
        if (r >= 0) {
                c->res->hresult = VDS_S_OK;
                return;
        }
        c->res->error = r == -EHWPOISON ? 0 : -r;
        if (r == -ECANCELED) {
                c->res->hresult = VDS_E_OPERATION_CANCELED;
                set_message(c, "Cancelled during %s; everything written so far is consistent and the next run resumes",
                            repair_step_to_string(c->step));
                return;
        }
        if (c->res->hresult == VDS_S_OK)
                c->res->hresult = hresult_from_errno(r);
        if (c->res->message[0] == 0)
                set_message(c, "%s failed during %s: %s", repair_operation_to_string(c->req->operation),
                            repair_step_to_string(c->step), strerror(-r));
}

static int check_request(const RepairRequest *req) {
        size_t b = req->buffer_size ?: REPAIR_BUFFER_SIZE_DEFAULT;

        if (req->n_paths == 0 || req->n_paths > REPAIR_MAX_PATHS || !req->paths)
                return -EINVAL;
        for (size_t i = 0; i < req->n_paths; i++)
                if (!req->paths[i])
                        return -EINVAL;
        if (req->operation < 0 || req->operation >= _REPAIR_OPERATION_MAX)
                return -EINVAL;
        if (b < REPAIR_BUFFER_SIZE_MIN || b > REPAIR_BUFFER_SIZE_MAX || b % REPAIR_BUFFER_SIZE_MIN != 0)
                return -EINVAL;
        return 0;
}

int repair_run(const RepairRequest *req, RepairResult *ret) {
        RepairResult res = {};
        RepairContext c = { .req = req, .res = &res };
        int r;

        if (!req || !ret)
                return -EINVAL;
        r = check_request(req);
        if (r < 0)
                return r;

        r = copy_engine_new(req->buffer_size ?: REPAIR_BUFFER_SIZE_DEFAULT, &c.engine);
        if (r >= 0)
                r = step_refresh(&c);
        if (r >= 0)
                r = req->operation == REPAIR_VERIFY ? run_verify(&c) : run_recover(&c);
        finish(&c, r);

        repair_close_disks(&c);
        ldm_scan_free(c.scan);
        copy_engine_free(c.engine);
        *ret = res;
        return 0;
}
