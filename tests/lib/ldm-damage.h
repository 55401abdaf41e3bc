/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* ldm-damage.h: break a healthy pack the way Windows (or a power cut) would, for the repair
 * tests. Only markers with public precedent are written (ldm-format.md §10.2 rule 7):
 * component flag 0x02 (recover) on a mirror plex, partition flag 0x08 (recover) on a RAID-5
 * column, both through a normal §11.1 transaction; everything else is the damage itself
 * (garbage data, an older database copy, a broken checksum, a transaction cut short).
 * Every helper takes the image or device paths of the whole pack (any order), returns 0 or
 * a negative errno, and leaves the disks closed and flushed. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "writer.h"

/* Marks plex `plex` (0-based, in the volume's plex order) of mirror `volume` stale:
 * component flag 0x02 in one transaction on every disk; then, when garbage is true,
 * overwrites every extent of that plex with random bytes (what the plex would hold had it
 * missed writes). -ENOENT: no such volume or plex. */
int ldm_damage_stale_plex(char *const *paths, size_t n, const char *volume, unsigned plex,
                          bool garbage);

/* Marks column `column` of RAID-5 `volume` for regeneration: partition flag 0x08 on its
 * extents in one transaction; with garbage, overwrites the column's extents with random
 * bytes (parity then fails on every stripe). */
int ldm_damage_stale_column(char *const *paths, size_t n, const char *volume, unsigned column,
                            bool garbage);

/* Marks one extent (its Partition record, e.g. "Disk6-01") for regeneration: partition flag
 * 0x08 in one transaction on every present disk; its data is left alone (see
 * ldm_damage_scribble()). The plex or column it belongs to becomes stale. */
int ldm_damage_stale_extent(char *const *paths, size_t n, const char *extent);

/* Overwrites len bytes at byte offset `offset` inside extent `extent` with a fixed pattern,
 * as a write the extent missed would leave it. -ERANGE past the extent's end, -ENODEV when
 * its disk is missing, -ENOENT: no such extent. */
int ldm_damage_scribble(char *const *paths, size_t n, const char *extent, uint64_t offset,
                        uint64_t len);

/* The private region, LBA 6 and sector 0 of one disk, as they are now. Restoring it later
 * (after the pack has committed newer transactions) rolls that disk's database copy back to
 * an older committed version: a disk that "missed changes" (§10.2 rule 4). */
typedef struct LdmDamageSnapshot LdmDamageSnapshot;
int ldm_damage_snapshot(const char *path, LdmDamageSnapshot **ret);
int ldm_damage_restore(const LdmDamageSnapshot *s);
LdmDamageSnapshot *ldm_damage_snapshot_free(LdmDamageSnapshot *s);

/* A committed transaction that changes nothing visible (it rewrites the Disk Group record
 * with a new commit ID): moves the pack's committed ID forward by 2. Only the disks given
 * are written: a disk of the pack left out of paths falls behind (it "missed changes"). */
int ldm_damage_touch(char *const *paths, size_t n);

typedef enum LdmDamageTarget {
        LDM_DAMAGE_PRIVHEAD_LBA6,   /* MBR disks only */
        LDM_DAMAGE_PRIVHEAD_1856,
        LDM_DAMAGE_PRIVHEAD_2047,
        LDM_DAMAGE_TOC_PRIMARY,     /* the current TOCBLOCK at PRIVHEAD 0x13B */
        LDM_DAMAGE_TOC_SECONDARY,   /* the current TOCBLOCK at PRIVHEAD 0x143 */
        LDM_DAMAGE_VMDB,            /* magic destroyed: the whole copy is unreadable */
        _LDM_DAMAGE_TARGET_MAX,
} LdmDamageTarget;

/* Corrupts one copy of one structure on one disk: one byte inside the checksummed area is
 * changed (PRIVHEAD, TOCBLOCK: the checksum no longer matches), or the VMDB magic is
 * zeroed. -ENOENT: that copy does not exist on this disk (LBA 6 on GPT). */
int ldm_damage_corrupt(const char *path, LdmDamageTarget what);

/* Runs a transaction (as ldm_damage_touch) and stops after §11.1 step `step` on every disk:
 * a transaction left in flight by a power cut. */
int ldm_damage_in_flight(char *const *paths, size_t n, LdmTxnStep step);

/* Renames every record named `old` to `new`, bytes as given (the library stores any bytes
 * but NUL: a name need not be UTF-8); when `old` is the pack's name, the disk group too, in
 * the VMDB and every PRIVHEAD copy. Each present disk is rewritten from its model
 * (ldm_writer_rewrite_device()), so every checksum stays right and all copies stay equal.
 * -ENOENT: nothing is named old; -ENAMETOOLONG: new does not fit (31 bytes for a group). */
int ldm_damage_rename(char *const *paths, size_t n, const char *old, const char *new);
