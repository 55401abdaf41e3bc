/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* context.h: the state of one repair job, shared by its steps (repair.c drives them): the
 * request, the scan and pack being worked on, one LdmIo per present disk while data is
 * moved, the copy engine with the job's fixed buffers, progress accounting and the result
 * being built. Internal to repair/. */

#include <stdarg.h>

#include "checkpoint.h"
#include "copy.h"
#include "io.h"
#include "pack.h"
#include "repair.h"
#include "scan.h"

typedef enum RepairTargetKind {
        REPAIR_TARGET_MIRROR,      /* a stale plex, copied from `source` */
        REPAIR_TARGET_COLUMN,      /* a stale RAID-5 column, XOR of the others */
        REPAIR_TARGET_PARITY,      /* every row's parity chunk, from its data chunks */
} RepairTargetKind;

/* One unit of data repair, and the key of its checkpoint. */
typedef struct RepairTarget {
        RepairTargetKind kind;
        LdmVolume *volume;
        LdmPlex *plex;             /* the plex written (mirror) or the RAID-5 plex */
        LdmPlex *source;           /* mirror only */
        uint32_t column;           /* COLUMN: its index; else CHECKPOINT_TARGET_* */
        uint64_t size;             /* bytes of plex/column offsets to process */
        CheckpointKey key;
} RepairTarget;

#define REPAIR_MAX_TARGETS 256
#define REPAIR_MAX_LEFT_BEHIND 128

typedef struct RepairContext {
        const RepairRequest *req;
        RepairResult *res;
        LdmScan *scan;
        LdmPack *pack;
        LdmIo **ios;               /* indexed like pack->disks; NULL: missing or closed */
        CopyEngine *engine;
        RepairStep step;
        const char *detail;
        char detail_buf[128];
        uint64_t bytes_done, bytes_total;
        /* First device an I/O error was seen on (reader and writer threads race for it). */
        const char *_Atomic io_error_path;
        /* First extent a write was refused on for leaving its disk's public region. */
        const LdmExtent *_Atomic refused_extent;
        RepairTarget targets[REPAIR_MAX_TARGETS];
        size_t n_targets;
        /* Present disks whose database copy could not be rewritten (each named once in
         * remaining): no transaction includes them, and the pack is not whole. */
        LdmGuid left_behind[REPAIR_MAX_LEFT_BEHIND];
        size_t n_left_behind;
        /* RAID-5 columns rebuilt while their volume needed a resync: said in the message. */
        unsigned n_rebuilt_dirty;
} RepairContext;

static inline bool repair_cancelled(const RepairContext *c) {
        return c->req->cancel && atomic_load(c->req->cancel);
}

void repair_progress(RepairContext *c);
/* Appends "; text" to res->remaining (truncating quietly: the message says enough). */
void repair_remaining_add(RepairContext *c, const char *fmt, ...) _printf_(2, 3);

/* The LdmIo of an extent's disk, or NULL. */
LdmIo *repair_disk_io(RepairContext *c, const LdmDisk *d);

/* resync.c. repair_plan() lists the targets of the (refreshed) pack; what cannot be
 * repaired (no healthy source, disk missing) goes to res->remaining and is counted in
 * *ret_unrepairable. repair_data() runs the targets, resuming from checkpoints; returns 0 or
 * negative errno (-ECANCELED at a safe point). repair_data_forget() removes the targets'
 * checkpoints once the commit made them useless; negative errno when one stays. */
int repair_plan(RepairContext *c, unsigned *ret_unrepairable);
/* Whether a mirror or RAID-5 volume has the layout data repair and the scrub compute with:
 * every present plex passes ldm_plex_check() (stripe size in bytes, column sizes), a
 * mirror's plexes are one column holding the whole volume, a RAID-5 has one plex. A volume
 * that does not is left alone, and the others are still repaired. */
bool repair_volume_consistent(const LdmVolume *v);
uint64_t repair_data_bytes(RepairContext *c);
int repair_data(RepairContext *c);
int repair_data_forget(RepairContext *c);

/* verify.c: the read-only scrub of every mirror and RAID-5 volume. *ret_unverified: plexes
 * and columns that could not be checked (disk missing), each named in res->remaining. */
int repair_verify(RepairContext *c, unsigned *ret_unverified);

/* Column I/O shared by resync.c and verify.c: len bytes at byte offset off of a column. */
int repair_column_io(RepairContext *c, const LdmColumn *col, bool write, uint64_t off,
                     uint8_t *buf, size_t len);
/* Reads len bytes at offset off of cols[0…n−1] into dst[0…n−1] at the same time, on the
 * engine's read helpers (copy_engine_parallel()): it costs the slowest column's read, not
 * their sum. From the engine's reader thread, or from the job's thread when no copy runs. */
int repair_read_columns(RepairContext *c, const LdmColumn *const *cols, uint8_t *const *dst,
                        size_t n, uint64_t off, size_t len);

/* dbsync.c. repair_database_sync() brings every present copy of the pack's database (and
 * every PRIVHEAD/TOCBLOCK copy) to the authoritative one, writing persistent "recover"
 * markers first for plexes/columns whose only sign of staleness is their disk's old copy, so
 * that a crash in between loses nothing. It re-scans the pack afterwards (c->scan/c->pack
 * are replaced). repair_commit() clears the markers of what was repaired (and the
 * removed/detached flags of disks that are present and whole again) in one
 * transaction written to every present disk. repair_clear_klog_marks() then clears the KLOG
 * detach/dirty entries naming what was repaired; it re-scans the pack. Only after the
 * targets' checkpoints are gone: a KLOG mark does not change the database sequence that keys
 * a checkpoint, so a finished checkpoint left behind the cleared mark would pass a later mark
 * at the same sequence as already repaired. */
int repair_database_sync(RepairContext *c);
int repair_commit(RepairContext *c);
int repair_clear_klog_marks(RepairContext *c);

/* repair.c: re-probes req->paths and finds the pack (replacing c->scan/c->pack). */
int repair_rescan(RepairContext *c);
/* Opens the device dev was probed from; on failure the result's message names the disk and
 * why (held devices: VDS_E_DEVICE_IN_USE). O_DIRECT falls back to buffered I/O where
 * unsupported. The engine reopens disks by path between its steps, so the device is checked
 * to still be that disk (its PRIVHEAD's disk and group GUIDs): -ESTALE when another disk took
 * the path meanwhile (hot-swapped). */
int repair_open_device(RepairContext *c, const char *name, const LdmDevice *dev, LdmIoFlags flags,
                       LdmIo **ret);
/* Opens (flags) / closes an LdmIo for every present disk of the pack. */
int repair_open_disks(RepairContext *c, LdmIoFlags flags);
void repair_close_disks(RepairContext *c);
