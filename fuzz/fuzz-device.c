/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* fuzz-device: feeds a whole (sparse) disk to the LDM device prober and the pack scanner.
 *
 * Input format, so that the fuzzer mutates both the bytes and where they sit:
 *   u32 le  disk size in sectors (clamped to 4096 … 1<<22)
 *   then repeated: u32 le sector number, 512 bytes of content
 * The disk is a sparse memfd opened through the real I/O layer (/proc/self/fd/N). */

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>

#include "fuzz.h"
#include "scan.h"
#include "unaligned.h"

#define CHUNK (4 + 512)

static int make_disk(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        uint64_t sectors;

        if (size < 4)
                return -EINVAL;
        sectors = unaligned_read_le32(data);
        sectors = MAX(sectors, (uint64_t) 4096);
        sectors = MIN(sectors, (uint64_t) 1 << 22);

        fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, (off_t) (sectors * 512)) < 0)
                return -errno;

        for (size_t o = 4; o + CHUNK <= size; o += CHUNK) {
                uint64_t lba = unaligned_read_le32(data + o);
                if (lba >= sectors)
                        continue;
                if (pwrite(fd, data + o + 4, 512, (off_t) (lba * 512)) != 512)
                        return -EIO;
        }
        return TAKE_FD(fd);
}

/* ldmd's way: light probes in a batch (the config region's head alone when it holds the
 * database, ldm_database_parse_head()), then the model built from them. The disk is probed
 * twice in the batch, so that the second copy shares the first one's records or database
 * (ldm_database_share()), whatever the metadata says. */
static void light_scan(const char *path) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        char *paths[] = { (char *) path, (char *) path };
        LdmDevice **devices = calloc(2, sizeof(LdmDevice *));
        int verdicts[2];
        LdmDiag diags[2];
        size_t n = 0;

        if (!devices)
                return;
        (void) ldm_device_probe_batch(paths, 2, LDM_PROBE_NO_RAW, verdicts, devices, diags);
        for (size_t i = 0; i < 2; i++)
                if (devices[i])
                        devices[n++] = devices[i];
        if (n == 0) {
                free(devices);
                return;
        }
        (void) ldm_scan_build(devices, n, &scan); /* takes the array and the devices */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        char path[64];

        fd = make_disk(data, size);
        if (fd < 0)
                return 0;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

        /* Scanning probes the device and builds the model, health included. */
        char *paths[] = { path };
        (void) ldm_scan_paths(paths, 1, &scan);
        light_scan(path);
        return 0;
}
