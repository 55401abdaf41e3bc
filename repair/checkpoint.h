/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* checkpoint.h: how far the data repair of one target (a mirror plex, a RAID-5 column, or a
 * RAID-5 volume's parity) got, kept in a small file in the state directory so that a job
 * interrupted by a cancel, a crash or a power cut resumes where its last *flushed* region
 * ended. The key is (pack GUID, volume ID, plex ID, target, source plex ID, committed
 * database sequence, CRC of KLOG page 0): a checkpoint whose sequence differs from the
 * database the job is working on describes other data and is ignored, and so is a mirror
 * plex's checkpoint made copying another plex than this job's source (the plexes of a dirty
 * mirror may differ). Writes to a volume change no database sequence; Windows's volume
 * manager rewrites KLOG page 0 when it starts, so a pack used by Windows since the
 * checkpoint (which may have written the source plex only) is copied again from the start.
 * Files are replaced atomically (temp + fsync + rename + fsync dir). */

#include <stdint.h>

#include "guid.h"

#define CHECKPOINT_TARGET_PARITY UINT32_MAX /* RAID-5: parity of every row */
#define CHECKPOINT_TARGET_PLEX (UINT32_MAX - 1) /* mirror: the whole plex */

typedef struct CheckpointKey {
        LdmGuid pack;
        uint32_t volume_id;
        uint32_t plex_id;
        uint32_t target;           /* column index, or one of the values above */
        uint32_t source_id;        /* mirror: the plex copied from; RAID-5: 0 */
        uint64_t sequence;         /* committed database sequence the data belongs to */
        uint32_t klog_crc;         /* CRC-32 of the authority's KLOG page 0 sector */
} CheckpointKey;

/* Reads the checkpoint for key from dir. Returns 1 with *ret_done (bytes from the start of
 * the target that are repaired and flushed) set, 0 when there is none or it does not match
 * key (another sequence, another total, damaged), negative errno on I/O errors. */
int checkpoint_load(const char *dir, const CheckpointKey *key, uint64_t total, uint64_t *ret_done);
/* Atomically records done bytes (call only after flushing them). */
int checkpoint_save(const char *dir, const CheckpointKey *key, uint64_t total, uint64_t done);
/* Removes the checkpoint (a missing file is not an error). */
int checkpoint_remove(const char *dir, const CheckpointKey *key);
