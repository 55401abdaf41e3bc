/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* io.h: the one block-I/O layer. Every byte ldmd reads from or writes to a disk goes through
 * an LdmIo: a block device or an image file, opened read-only or exclusively for writing,
 * with its logical and physical sector sizes. Test builds (LDM_IO_FAULT_INJECTION) carry a
 * hook through which tests fail, record or drop individual operations; the installed daemon
 * is built without it, so the hook cannot be reached there. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

typedef struct LdmIo LdmIo;

typedef enum LdmIoFlags {
        LDM_IO_WRITE  = 1 << 0, /* open read-write; block devices with O_EXCL */
        LDM_IO_DIRECT = 1 << 1, /* O_DIRECT: buffers and offsets must be sector aligned */
} LdmIoFlags;

typedef enum LdmIoOp {
        LDM_IO_OP_READ,
        LDM_IO_OP_WRITE,
        LDM_IO_OP_FLUSH,
        _LDM_IO_OP_MAX,
        _LDM_IO_OP_INVALID = -EINVAL,
} LdmIoOp;

/* Opens path. Returns -ENOTBLK for something that is neither a regular file nor a block
 * device, -EBUSY when a block device is held by someone else and LDM_IO_WRITE was asked. */
int ldm_io_open(const char *path, LdmIoFlags flags, LdmIo **ret);
LdmIo *ldm_io_close(LdmIo *io);
DEFINE_TRIVIAL_CLEANUP_FUNC(LdmIo *, ldm_io_close);

const char *ldm_io_path(const LdmIo *io);
uint64_t ldm_io_size(const LdmIo *io);                 /* bytes */
uint32_t ldm_io_logical_sector_size(const LdmIo *io);  /* 512 for image files */
uint32_t ldm_io_physical_sector_size(const LdmIo *io);
bool ldm_io_is_block_device(const LdmIo *io);
bool ldm_io_writable(const LdmIo *io);
dev_t ldm_io_devnum(const LdmIo *io);                  /* 0 for image files */

/* Reads/writes exactly len bytes at offset, retrying short transfers and EINTR. A range that
 * leaves the device is -ENXIO (nothing is transferred); an end of file inside it is -EIO. */
int ldm_io_pread(LdmIo *io, void *buf, size_t len, uint64_t offset);
int ldm_io_pwrite(LdmIo *io, const void *buf, size_t len, uint64_t offset);
/* A hint, never an error: starts reading [offset, offset+len) into the page cache without
 * waiting for it (POSIX_FADV_WILLNEED), clipped to the device. A probe names every range it
 * is about to read this way, so that they reach the disk together, not one after the other. */
void ldm_io_prefetch(LdmIo *io, uint64_t offset, uint64_t len);
/* A hint too: no readahead on this handle (POSIX_FADV_RANDOM), for a reader that names what
 * it needs with ldm_io_prefetch(). Else every small read of a cold disk brings ~128 KiB. */
void ldm_io_no_readahead(LdmIo *io);
/* fdatasync(): what was written is on stable storage when this returns 0. */
int ldm_io_flush(LdmIo *io);

/* Allocates a buffer aligned for O_DIRECT on any device we support (4096 bytes). */
void *ldm_io_alloc_aligned(size_t len);

#ifdef LDM_IO_FAULT_INJECTION
/* Called before every operation. Return 0 to perform it, a negative errno to fail it with
 * that error, or LDM_IO_FAULT_DROP to report success without touching the disk (a write
 * lost to a power cut). For LDM_IO_OP_FLUSH buf is NULL and len 0. */
#define LDM_IO_FAULT_DROP 1
typedef int (*LdmIoFaultHook)(void *userdata, LdmIo *io, LdmIoOp op, uint64_t offset,
                              const void *buf, size_t len);
/* Installs a process-wide hook (NULL removes it). Not thread-safe against running I/O:
 * install before starting work. */
void ldm_io_set_fault_hook(LdmIoFaultHook hook, void *userdata);
#endif
