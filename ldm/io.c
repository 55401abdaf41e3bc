/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

struct LdmIo {
        int fd;
        char *path;
        uint64_t size;
        uint32_t logical_sector_size;
        uint32_t physical_sector_size;
        bool block_device;
        bool writable;
        dev_t devnum;
};

#ifdef LDM_IO_FAULT_INJECTION
static LdmIoFaultHook fault_hook;
static void *fault_userdata;

void ldm_io_set_fault_hook(LdmIoFaultHook hook, void *userdata) {
        fault_hook = hook;
        fault_userdata = userdata;
}

static int fault_check(LdmIo *io, LdmIoOp op, uint64_t offset, const void *buf, size_t len) {
        return fault_hook ? fault_hook(fault_userdata, io, op, offset, buf, len) : 0;
}
#else
static int fault_check(LdmIo *io, LdmIoOp op, uint64_t offset, const void *buf, size_t len) {
        return 0;
}
#endif

static int probe_block_device(LdmIo *io) {
        uint64_t size;
        int lss = 0;
        unsigned pss = 0;

        if (ioctl(io->fd, BLKGETSIZE64, &size) < 0)
                return negative_errno();
        if (ioctl(io->fd, BLKSSZGET, &lss) < 0)
                return negative_errno();
        if (ioctl(io->fd, BLKPBSZGET, &pss) < 0)
                pss = (unsigned) lss;
        io->size = size;
        io->logical_sector_size = (uint32_t) lss;
        io->physical_sector_size = pss;
        return 0;
}

int ldm_io_open(const char *path, LdmIoFlags flags, LdmIo **ret) {
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        struct stat st;
        int oflags = O_CLOEXEC | O_NOCTTY;
        int r;

        io = calloc(1, sizeof(*io));
        if (!io)
                return -ENOMEM;
        io->fd = -EBADF;
        io->path = strdup(path);
        if (!io->path)
                return -ENOMEM;

        if (stat(path, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return -ENOTBLK;

        oflags |= (flags & LDM_IO_WRITE) ? O_RDWR : O_RDONLY;
        if (flags & LDM_IO_DIRECT)
                oflags |= O_DIRECT;
        /* O_EXCL on a block device fails with EBUSY while a partition is mounted or the device
         * is held by dm/md: exactly the cases we must not write to. */
        if ((flags & LDM_IO_WRITE) && S_ISBLK(st.st_mode))
                oflags |= O_EXCL;

        io->fd = open(path, oflags);
        if (io->fd < 0)
                return negative_errno();
        if (fstat(io->fd, &st) < 0)
                return negative_errno();

        io->writable = flags & LDM_IO_WRITE;
        if (S_ISBLK(st.st_mode)) {
                io->block_device = true;
                io->devnum = st.st_rdev;
                r = probe_block_device(io);
                if (r < 0)
                        return r;
        } else {
                io->size = (uint64_t) st.st_size;
                io->logical_sector_size = 512;
                io->physical_sector_size = 512;
        }

        *ret = TAKE_PTR(io);
        return 0;
}

LdmIo *ldm_io_close(LdmIo *io) {
        if (!io)
                return NULL;
        if (io->fd >= 0)
                close(io->fd);
        free(io->path);
        free(io);
        return NULL;
}

const char *ldm_io_path(const LdmIo *io) {
        return io->path;
}
uint64_t ldm_io_size(const LdmIo *io) {
        return io->size;
}
uint32_t ldm_io_logical_sector_size(const LdmIo *io) {
        return io->logical_sector_size;
}
uint32_t ldm_io_physical_sector_size(const LdmIo *io) {
        return io->physical_sector_size;
}
bool ldm_io_is_block_device(const LdmIo *io) {
        return io->block_device;
}
bool ldm_io_writable(const LdmIo *io) {
        return io->writable;
}
dev_t ldm_io_devnum(const LdmIo *io) {
        return io->devnum;
}

static int check_range(const LdmIo *io, size_t len, uint64_t offset) {
        uint64_t end;

        if (add_u64_overflow(offset, len, &end) || end > io->size)
                return -ENXIO;
        return 0;
}

int ldm_io_pread(LdmIo *io, void *buf, size_t len, uint64_t offset) {
        uint8_t *p = buf;
        int r;

        r = check_range(io, len, offset);
        if (r < 0)
                return r;
        r = fault_check(io, LDM_IO_OP_READ, offset, buf, len);
        if (r < 0)
                return r;

        while (len > 0) {
                ssize_t n = pread(io->fd, p, len, (off_t) offset);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return -EIO; /* the device shrank under us */
                p += n;
                len -= (size_t) n;
                offset += (uint64_t) n;
        }
        return 0;
}

void ldm_io_prefetch(LdmIo *io, uint64_t offset, uint64_t len) {
        if (offset >= io->size)
                return;
        len = MIN(len, io->size - offset);
        /* Only reads that follow go through the fault hook: a hint reads nothing for them. */
        (void) posix_fadvise(io->fd, (off_t) offset, (off_t) len, POSIX_FADV_WILLNEED);
}

void ldm_io_no_readahead(LdmIo *io) {
        (void) posix_fadvise(io->fd, 0, 0, POSIX_FADV_RANDOM);
}

int ldm_io_pwrite(LdmIo *io, const void *buf, size_t len, uint64_t offset) {
        const uint8_t *p = buf;
        int r;

        if (!io->writable)
                return -EBADF;
        r = check_range(io, len, offset);
        if (r < 0)
                return r;
        r = fault_check(io, LDM_IO_OP_WRITE, offset, buf, len);
        if (r < 0)
                return r;
        if (r > 0) /* dropped by a test: pretend it happened */
                return 0;

        while (len > 0) {
                ssize_t n = pwrite(io->fd, p, len, (off_t) offset);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t) n;
                offset += (uint64_t) n;
        }
        return 0;
}

int ldm_io_flush(LdmIo *io) {
        int r;

        r = fault_check(io, LDM_IO_OP_FLUSH, 0, NULL, 0);
        if (r < 0)
                return r;
        if (r > 0)
                return 0;
        if (fdatasync(io->fd) < 0)
                return negative_errno();
        return 0;
}

void *ldm_io_alloc_aligned(size_t len) {
        void *p;

        if (posix_memalign(&p, 4096, ALIGN_TO(len ?: 1, 4096)) != 0)
                return NULL;
        return p;
}
