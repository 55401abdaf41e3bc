/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* crash-util.h: what the crash and fault suites share. A CrashPack is a set of small disk
 * images holding one LDM pack, with the sha256 of every volume taken *before* the pack was
 * broken (the data a repair must give back), and the pristine broken images every test case
 * starts from. A CrashWork is a scratch copy of those images that is put back into the
 * broken state cheaply: every range written to it (by the test or, through the I/O hook, by
 * the engine) is remembered and copied back from the pristine images, so a few hundred cut
 * points do not cost a few hundred image copies. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "guid.h"
#include "label.h"
#include "repair.h"
#include "scan.h"

#define CRASH_MAX_DISKS 16
#define CRASH_MAX_VOLUMES 16

typedef struct CrashPack {
        char *dir;
        char *paths[CRASH_MAX_DISKS]; /* the broken images, never written after setup */
        size_t n;
        LdmGuid guid;
        char *vol_names[CRASH_MAX_VOLUMES];
        char *vol_sums[CRASH_MAX_VOLUMES];  /* sha256 of each volume before the damage */
        uint8_t *vol_data[CRASH_MAX_VOLUMES]; /* and the data itself (memcmp is cheaper) */
        uint64_t vol_size[CRASH_MAX_VOLUMES];
        size_t n_vols;
} CrashPack;

/* A pack made by the library (ldm_create_pack + writer) on 64 MiB sparse images, one label
 * per disk given as a string of 'm' (MBR) and 'g' (GPT), e.g. "mgmg": 4 disks with
 *   Mirror  mirror 8 MiB on disks 1,2
 *   Parity  RAID-5 8 MiB (3 columns of 4 MiB) on disks 2,3,4
 *   Span    spanned 4 MiB on disks 1,4 (not redundant: must never change)
 * every volume filled with a position-dependent pattern through the volume writer. */
void crash_pack_create(CrashPack *p, const char *labels);
/* A copy of one of the real Windows packs: "2008" (9 disks, MBR and GPT) or "2003"
 * (10 MBR disks). */
void crash_pack_real(CrashPack *p, const char *which);
/* Takes the reference sha256 of every volume (call before breaking the pack). */
void crash_pack_reference(CrashPack *p);
void crash_pack_done(CrashPack *p);

/* Scans paths and returns the pack (aborts the test when absent). */
LdmPack *crash_scan(char *const *paths, size_t n, const LdmGuid *guid, LdmScan **ret_scan);
LdmVolume *crash_find_volume(LdmPack *p, const char *name);
/* sha256 of a volume through the library's volume reader. */
char *crash_volume_sha256(LdmVolume *v);

/* Overwrites the whole extent list of one column of a plex with random bytes, without
 * touching the database (what a disk that missed writes holds). */
void crash_garbage_column(char *const *paths, size_t n, const LdmGuid *guid, const char *volume,
                          unsigned plex, unsigned column, uint64_t at, uint64_t len);
/* Rolls disk `disk` back one committed transaction: snapshot, touch the pack, restore. */
void crash_roll_back(char *const *paths, size_t n, size_t disk);

typedef struct CrashRange {
        unsigned disk;
        uint64_t off, len;
} CrashRange;

typedef struct CrashWork {
        const CrashPack *base;
        char *dir;
        char *paths[CRASH_MAX_DISKS];
        int fds[CRASH_MAX_DISKS];
        int base_fds[CRASH_MAX_DISKS];
        GMutex lock;
        GArray *dirty;                /* CrashRange written since the last reset */
} CrashWork;

void crash_work_init(CrashWork *w, const CrashPack *base);
void crash_work_done(CrashWork *w);
/* The index of an image path of w (or -1). */
int crash_work_disk(const CrashWork *w, const char *path);
/* Remembers a range that is about to be written (thread-safe). */
void crash_work_mark(CrashWork *w, unsigned disk, uint64_t off, uint64_t len);
/* Writes bytes to an image directly (not through the I/O layer) and marks the range. */
void crash_work_write(CrashWork *w, unsigned disk, uint64_t off, const void *buf, size_t len);
/* Copies every marked range back from the pristine images. */
void crash_work_reset(CrashWork *w);
/* Asserts that every image equals its pristine copy (the reset missed nothing). */
void crash_work_assert_pristine(CrashWork *w);

/* An I/O hook that only marks what the engine writes to w's images, so crash_work_reset()
 * can undo it. userdata: the CrashWork. */
int crash_track_hook(void *userdata, LdmIo *io, LdmIoOp op, uint64_t offset, const void *buf,
                     size_t len);

/* Runs Recover on paths; installs `hook` (NULL: none) for the duration. */
void crash_recover(char *const *paths, size_t n, const LdmGuid *guid, const char *state_dir,
                   size_t buffer_size, uint64_t checkpoint_interval,
                   LdmIoFaultHook hook, void *userdata, RepairResult *res);

/* The pack on paths is healthy by our reader (every disk present and healthy, every volume
 * healthy, no stale plex/column, no resync pending) and every volume holds the reference
 * data; with judge, /work/shared/tools/ldmcheck --data agrees (exit 0). Returns false with a
 * reason in *why instead of aborting, so callers can name the cut point. */
bool crash_pack_ok(const CrashPack *ref, char *const *paths, size_t n, bool judge, char **why);

/* A fresh temporary directory on tmpfs (/dev/shm) when there is one, else test_tmpdir();
 * removed at exit. */
char *crash_tmpdir(void);

/* Empties a directory (regular files only) or creates it. */
void crash_empty_dir(const char *dir);
