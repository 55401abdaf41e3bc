/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* fuzz-label: feeds a partition table (MBR, protective MBR + primary GPT, backup GPT) to
 * ldm_label_read() on a sparse memfd opened through the real I/O layer, as fuzz-device does.
 *
 * Input format:
 *   u32 le  disk size in sectors (clamped to 64 … 1<<20)
 *   up to 34 × 512 bytes: LBA 0 onwards (MBR, GPT header, entry array)
 *   the rest: the end of the disk (backup entries and header), ending at its last byte
 * What is accepted must be self-consistent: LDM partitions inside the disk, every rejection
 * a diagnosis with an offset on the disk. */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "label.h"
#include "unaligned.h"

#define HEAD_MAX (34 * 512)

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "fuzz-label: %s\n", #cond); abort(); } } while (0)

static int make_disk(const uint8_t *data, size_t size, uint64_t *ret_bytes) {
        _cleanup_close_ int fd = -EBADF;
        uint64_t sectors, bytes;
        size_t head, tail;

        if (size < 4)
                return -EINVAL;
        sectors = unaligned_read_le32(data);
        sectors = MAX(sectors, (uint64_t) 64);
        sectors = MIN(sectors, (uint64_t) 1 << 20);
        bytes = sectors * 512;
        data += 4;
        size -= 4;
        head = MIN(size, (size_t) HEAD_MAX);
        tail = MIN(size - head, (size_t) (bytes - HEAD_MAX));

        fd = memfd_create("fuzz-label", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, (off_t) bytes) < 0)
                return -errno;
        if (pwrite(fd, data, head, 0) != (ssize_t) head)
                return -EIO;
        if (tail > 0 && pwrite(fd, data + head, tail, (off_t) (bytes - tail)) != (ssize_t) tail)
                return -EIO;
        *ret_bytes = bytes;
        return TAKE_FD(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(ldm_label_done) LdmLabel label = {};
        uint64_t bytes = 0, n_sectors;
        LdmDiag err = {};
        char path[64];
        int r;

        fd = make_disk(data, size, &bytes);
        if (fd < 0)
                return 0;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (ldm_io_open(path, 0, &io) < 0)
                return 0;
        n_sectors = bytes / 512;

        r = ldm_label_read(io, &label, &err);
        if (r == -EBADMSG) {
                CHECK(err.structure[0] && err.message[0]);
                CHECK(err.offset == LDM_DIAG_NO_OFFSET || err.offset < bytes);
                return 0;
        }
        CHECK(r == 0 || r == 1);
        if (r == 0)
                return 0;
        if (label.type == LDM_LABEL_MBR)
                return 0;

        CHECK(label.type == LDM_LABEL_GPT);
        CHECK(label.n_parts > 0 && label.n_parts <= label.gpt_n_entries);
        CHECK(label.metadata_index >= 0 && (size_t) label.metadata_index < label.n_parts);
        CHECK(label.meta_first <= label.meta_last && label.meta_last < n_sectors);
        CHECK(label.data_index < 0 || label.data_first <= label.data_last);
        CHECK(label.data_index < 0 || label.data_last < n_sectors);
        for (size_t i = 0; i < label.n_parts; i++)
                CHECK(label.parts[i].first_lba <= label.parts[i].last_lba && label.parts[i].last_lba < n_sectors);
        if (label.gpt_backup_used)
                CHECK(label.gpt_primary_diag.structure[0] && label.gpt_primary_diag.offset < bytes);
        return 0;
}
