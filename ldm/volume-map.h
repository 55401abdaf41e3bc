/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* volume-map.h: where the bytes of an LDM volume live (ldm-format.md §9). Pure functions:
 * volume byte offset → (plex column, offset in the column) → (extent, byte offset on its
 * disk), for concatenated plexes (simple, spanned, each mirror plex), striped plexes and
 * RAID-5 left-symmetric plexes. All offsets and lengths here are in bytes; the model keeps
 * sectors of 512 bytes (§9: whatever the physical sector size). No I/O, no allocation. */

#include <stdint.h>

#include "pack.h"

#define LDM_NO_COLUMN UINT32_MAX
#define LDM_NO_DISK_OFFSET UINT64_MAX

/* A position inside a striped or RAID-5 plex. */
typedef struct LdmStripePos {
        uint64_t row;             /* stripe row r */
        uint32_t column;          /* data column c */
        uint32_t parity_column;   /* RAID-5: parity column p of row r; else LDM_NO_COLUMN */
        uint64_t column_offset;   /* bytes into column c */
        uint64_t chunk_left;      /* bytes from here to the end of the chunk (≥ 1) */
} LdmStripePos;

/* Striped (§9): d = b / s, c = d mod n, column offset = (d / n)·s + b mod s.
 * stripe (bytes) and n_columns must be non-zero. */
void ldm_stripe_locate(uint64_t offset, uint64_t stripe, uint32_t n_columns, LdmStripePos *ret);

/* RAID-5 left-symmetric (§9): r = d / (n−1), k = d mod (n−1), p = (n−1) − (r mod n),
 * c = (p + 1 + k) mod n, column offset = r·s + b mod s. n_columns ≥ 2. */
void ldm_raid5_locate(uint64_t offset, uint64_t stripe, uint32_t n_columns, LdmStripePos *ret);
/* Parity column of stripe row r. */
uint32_t ldm_raid5_parity_column(uint64_t row, uint32_t n_columns);
/* The inverse: volume byte offset of the chunk that column `column` holds in row `row`, or
 * UINT64_MAX when that column holds the row's parity. */
uint64_t ldm_raid5_chunk_offset(uint64_t row, uint32_t column, uint64_t stripe, uint32_t n_columns);

/* Geometry of a plex, in bytes. ldm_plex_check() validates what the other functions rely
 * on: no extent record of it left out of the model (LdmPlex.extent_rejected), extents of
 * each column contiguous from 0 with the column's size, stripe size > 0 and equal column
 * sizes that are multiples of it (striped, RAID-5), n ≥ 3 for RAID-5, no overflow when
 * sectors become bytes. Returns 0 or -EBADMSG. */
int ldm_plex_check(const LdmPlex *plex);
uint64_t ldm_plex_stripe_bytes(const LdmPlex *plex);      /* 0 for concatenated plexes */
uint64_t ldm_plex_column_bytes(const LdmPlex *plex, uint32_t column);
uint64_t ldm_plex_capacity(const LdmPlex *plex);          /* bytes of volume data it holds */
uint64_t ldm_plex_n_rows(const LdmPlex *plex);            /* stripe rows; 0 if concatenated */

/* Column → extent: the extent holding column_offset, the offset inside it and how many
 * bytes (≤ len) continue in that extent. Returns 0, or -ENXIO past the column's end. */
int ldm_column_map(const LdmColumn *col, uint64_t column_offset, uint64_t len,
                   const LdmExtent **ret_extent, uint64_t *ret_extent_offset, uint64_t *ret_len);

/* Absolute byte offset on the extent's device of byte `extent_offset` of the extent
 * (pub_start in device sectors + start in 512-byte units, §9/§13); LDM_NO_DISK_OFFSET
 * when its disk is missing. */
uint64_t ldm_extent_byte_offset(const LdmExtent *e, uint64_t extent_offset);

/* The same offset for a write of len bytes, checked first: the range must lie inside the
 * extent and inside its disk's public region, whatever the model says (recover.md "Nothing
 * outside the pack": volume data never lands on the private region, the partition table or
 * past the device). Returns 0, -ENODEV when the disk is missing, -EINVAL otherwise. */
int ldm_extent_write_offset(const LdmExtent *e, uint64_t extent_offset, uint64_t len, uint64_t *ret);

/* Volume offset → one piece of a plex: the column and extent that hold `offset`, and the
 * length (≤ len) that stays inside one chunk and one extent. */
typedef struct LdmPlexPos {
        uint32_t column;
        uint32_t parity_column;   /* RAID-5 only, else LDM_NO_COLUMN */
        uint64_t row;             /* striped/RAID-5 stripe row, else 0 */
        uint64_t column_offset;
        uint64_t length;
        const LdmExtent *extent;
        uint64_t extent_offset;
        uint64_t disk_offset;     /* LDM_NO_DISK_OFFSET when the extent's disk is missing */
} LdmPlexPos;

/* Returns 0, -ENXIO when offset is beyond the plex, -EINVAL for len 0. Assumes
 * ldm_plex_check(plex) == 0. */
int ldm_plex_map(const LdmPlex *plex, uint64_t offset, uint64_t len, LdmPlexPos *ret);
