/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* volume-io.h: reading and writing the data of one LDM volume through the I/O layer, with the
 * redundancy the layout offers: a mirror is read from a healthy plex and written to every
 * plex; a RAID-5 column that is missing, stale or excluded is reconstructed by XOR on reads
 * and kept consistent through parity on writes. Also the column-level primitives the repair
 * engine builds on (raw column I/O, reconstruction, parity verification of a stripe row).
 *
 * Column availability: a column is *readable* when every extent's disk is present, its
 * device could be opened and the caller did not exclude it; it is *fresh* when it is also
 * not stale (LdmColumn.stale, filled by ldm_health_compute()). Redundant layouts read and
 * reconstruct from fresh columns; non-redundant ones use readable columns.
 *
 * Offsets and lengths are bytes. Buffers are the caller's; any scratch space is allocated at
 * open, so no I/O call allocates. Not thread-safe: one LdmVolumeIo per thread. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io.h"
#include "pack.h"

typedef struct LdmVolumeIo LdmVolumeIo;

/* Opens every present device holding an extent of vol (each once, by path, with flags).
 * Returns -EBADMSG when a plex's geometry is inconsistent (ldm_plex_check(): also a plex
 * that lost an extent record, LdmPlex.extent_rejected) or the volume is larger than a plex,
 * or what ldm_io_open() returned. */
int ldm_volume_io_open(LdmVolume *vol, LdmIoFlags flags, LdmVolumeIo **ret);
/* The same, borrowing the already open ios[i] for devices[i] (the caller keeps ownership;
 * e.g. the repair engine holding O_EXCL handles). Other devices are opened by path. */
int ldm_volume_io_open_with(LdmVolume *vol, LdmIoFlags flags, LdmDevice *const *devices,
                            LdmIo *const *ios, size_t n, LdmVolumeIo **ret);
LdmVolumeIo *ldm_volume_io_close(LdmVolumeIo *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(LdmVolumeIo *, ldm_volume_io_close);

LdmVolume *ldm_volume_io_volume(const LdmVolumeIo *v);
uint64_t ldm_volume_io_size(const LdmVolumeIo *v);   /* bytes */

/* Leaves a column out of (or back into) all I/O, as if its disk were missing. -EINVAL for a
 * column that does not exist. */
int ldm_volume_io_exclude(LdmVolumeIo *v, size_t plex, uint32_t column, bool exclude);
bool ldm_volume_io_column_readable(const LdmVolumeIo *v, size_t plex, uint32_t column);
bool ldm_volume_io_column_fresh(const LdmVolumeIo *v, size_t plex, uint32_t column);

/* Volume data. Reads: mirror from the first plex whose columns are all fresh (else all
 * readable); RAID-5 reconstructs a non-fresh data column from the fresh others. Writes:
 * mirror to every plex whose columns are readable; RAID-5 keeps parity consistent (full
 * rows computed from the new data, partial rows by read-modify-write or, when the data
 * column is unavailable, from the other columns). -ENXIO for a range past the end, -ENODEV
 * when the data needed is on unavailable columns, -EBADF for a write on a read-only open,
 * -EINVAL for a write an extent would place outside its disk's public region (nothing of
 * that piece is written; see ldm_extent_write_offset()). */
int ldm_volume_read(LdmVolumeIo *v, uint64_t offset, void *buf, size_t len);
int ldm_volume_write(LdmVolumeIo *v, uint64_t offset, const void *buf, size_t len);
/* Flushes every device opened (or borrowed) for writing. */
int ldm_volume_flush(LdmVolumeIo *v);

/* Volume data as one given plex holds it (mirror resync and verify). Readable columns are
 * used whether fresh or not; a RAID-5 plex reconstructs as ldm_volume_read() does. */
int ldm_volume_read_plex(LdmVolumeIo *v, size_t plex, uint64_t offset, void *buf, size_t len);
int ldm_volume_write_plex(LdmVolumeIo *v, size_t plex, uint64_t offset, const void *buf, size_t len);

/* Raw bytes of one column (data or parity) at a byte offset inside the column. */
int ldm_volume_read_column(LdmVolumeIo *v, size_t plex, uint32_t column, uint64_t column_offset,
                           void *buf, size_t len);
int ldm_volume_write_column(LdmVolumeIo *v, size_t plex, uint32_t column,
                            uint64_t column_offset, const void *buf, size_t len);
/* RAID-5: what column `column` must contain at column_offset, as the XOR of all other
 * columns (which must be readable). Works for data and parity alike. */
int ldm_volume_rebuild_column(LdmVolumeIo *v, size_t plex, uint32_t column,
                              uint64_t column_offset, void *buf, size_t len);
/* RAID-5: reads all columns of stripe row `row` and sets *ret_ok to whether they XOR to
 * zero (parity consistent). */
int ldm_volume_verify_row(LdmVolumeIo *v, size_t plex, uint64_t row, bool *ret_ok);
