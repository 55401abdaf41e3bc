/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* volume-read: throughput of the LDM volume reader against plain reads of the same extents.
 * Builds a synthetic volume (RAID-5, stripe, mirror or span) over image files, fills it
 * once through the writer, then times: (1) ldm_volume_read() of the whole volume, (2) the
 * same with one column left out (RAID-5 reconstruction, mirror failover), (3) pread() of
 * every extent in turn ("what dd would read"). Prints one line per measurement, and the
 * extents as "path offset length" lines for bench/run-volume.sh to feed to dd.
 *
 *   volume-read LAYOUT COLUMNS STRIPE_SECTORS MIB BLOCK_KIB FILE...
 *
 * Not a test; numbers depend on the machine and the page cache. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "record.h"
#include "volume-io.h"
#include "volume-map.h"

#define MAXC 16

static LdmDevice devs[MAXC];
static LdmDisk disks[MAXC];
static LdmExtent ext[MAXC];
static LdmExtent *ext_ptrs[MAXC];
static LdmColumn cols[MAXC];
static LdmPlex plexes[MAXC];
static LdmPlex *plex_ptrs[MAXC];
static LdmVolume vol;

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int build(const char *layout, uint32_t n, uint64_t stripe, uint64_t mib, char **files) {
        uint64_t col_sectors;
        bool mirror = strcmp(layout, "mirror") == 0, raid5 = strcmp(layout, "raid5") == 0;
        bool stripe_l = strcmp(layout, "stripe") == 0, span = strcmp(layout, "span") == 0;
        uint64_t data_cols = raid5 ? n - 1 : (mirror ? 1 : n);

        if (!(mirror || raid5 || stripe_l || span) || n == 0 || n > MAXC || stripe == 0)
                return -EINVAL;
        col_sectors = mib * 2048 / data_cols;
        col_sectors -= col_sectors % stripe;

        for (uint32_t i = 0; i < n; i++) {
                int fd = open(files[i], O_CREAT | O_RDWR | O_CLOEXEC, 0600);

                if (fd < 0 || ftruncate(fd, (off_t) ((col_sectors + 2048) * 512)) < 0)
                        return -errno;
                close(fd);
                devs[i].path = files[i];
                /* The writer keeps every extent inside the public region the PRIVHEAD gives. */
                devs[i].privhead.pub_start = 63;
                devs[i].privhead.pub_size = col_sectors + 2048 - 63;
                disks[i].device = &devs[i];
                ext[i] = (LdmExtent) { .disk = &disks[i], .start = 65, .size = col_sectors,
                                       .offset_in_column = span ? i * col_sectors : 0, .column = i };
                ext_ptrs[i] = &ext[i];
        }

        if (mirror) {
                for (uint32_t i = 0; i < n; i++) {
                        cols[i] = (LdmColumn) { .extents = &ext_ptrs[i], .n_extents = 1, .size = col_sectors };
                        plexes[i] = (LdmPlex) { .layout = LDM_LAYOUT_CONCAT, .columns = &cols[i], .n_columns = 1 };
                        plex_ptrs[i] = &plexes[i];
                }
                vol = (LdmVolume) { .type = LDM_VOLUME_MIRROR, .plexes = plex_ptrs, .n_plexes = n };
        } else if (span) {
                cols[0] = (LdmColumn) { .extents = ext_ptrs, .n_extents = n, .size = n * col_sectors };
                plexes[0] = (LdmPlex) { .layout = LDM_LAYOUT_CONCAT, .columns = cols, .n_columns = 1 };
                plex_ptrs[0] = &plexes[0];
                vol = (LdmVolume) { .type = LDM_VOLUME_SPAN, .plexes = plex_ptrs, .n_plexes = 1 };
        } else {
                for (uint32_t i = 0; i < n; i++)
                        cols[i] = (LdmColumn) { .extents = &ext_ptrs[i], .n_extents = 1, .size = col_sectors };
                plexes[0] = (LdmPlex) { .layout = raid5 ? LDM_LAYOUT_RAID5 : LDM_LAYOUT_STRIPE,
                                        .stripe_size = stripe, .columns = cols, .n_columns = n };
                plex_ptrs[0] = &plexes[0];
                vol = (LdmVolume) { .type = raid5 ? LDM_VOLUME_RAID5 : LDM_VOLUME_STRIPE,
                                    .plexes = plex_ptrs, .n_plexes = 1 };
        }
        return 0;
}

static double time_volume(LdmVolumeIo *v, uint8_t *buf, size_t block) {
        uint64_t size = ldm_volume_io_size(v);
        double t = now();

        for (uint64_t off = 0; off < size; off += block) {
                size_t l = size - off < block ? (size_t) (size - off) : block;
                int r = ldm_volume_read(v, off, buf, l);

                if (r < 0) {
                        fprintf(stderr, "read at %llu: %s\n", (unsigned long long) off, strerror(-r));
                        exit(1);
                }
        }
        return size / (now() - t);
}

static double time_raw(uint32_t n, uint8_t *buf, size_t block, uint64_t *ret_bytes) {
        uint64_t total = 0;
        double t = now();

        for (uint32_t i = 0; i < n; i++) {
                int fd = open(devs[i].path, O_RDONLY | O_CLOEXEC);
                uint64_t base = ldm_extent_byte_offset(&ext[i], 0), len = ext[i].size * 512;

                for (uint64_t o = 0; o < len; o += block)
                        if (pread(fd, buf, len - o < block ? len - o : block, (off_t) (base + o)) < 0)
                                exit(1);
                close(fd);
                total += len;
        }
        *ret_bytes = total;
        return total / (now() - t);
}

int main(int argc, char *argv[]) {
        LdmVolumeIo *v = NULL;
        uint8_t *buf;
        uint64_t raw_bytes;
        uint32_t n;
        size_t block;
        int r;

        if (argc < 7) {
                fprintf(stderr, "usage: %s raid5|stripe|mirror|span COLUMNS STRIPE_SECTORS MIB BLOCK_KIB FILE...\n", argv[0]);
                return 2;
        }
        n = (uint32_t) atoi(argv[2]);
        block = (size_t) atoi(argv[5]) * 1024;
        if ((uint32_t) (argc - 6) != n || block == 0) {
                fprintf(stderr, "need COLUMNS files and a block size\n");
                return 2;
        }
        r = build(argv[1], n, (uint64_t) atoll(argv[3]), (uint64_t) atoll(argv[4]), argv + 6);
        if (r >= 0)
                r = ldm_volume_io_open(&vol, LDM_IO_WRITE, &v);
        if (r < 0) {
                fprintf(stderr, "cannot set up the volume: %s\n", strerror(-r));
                return 1;
        }
        buf = ldm_io_alloc_aligned(block);
        memset(buf, 0xa5, block);

        /* Fill once (whole rows: the writer's fast path), then flush to the page cache. */
        for (uint64_t off = 0; off < ldm_volume_io_size(v); off += block) {
                uint64_t left = ldm_volume_io_size(v) - off;
                buf[0] = (uint8_t) off;
                r = ldm_volume_write(v, off, buf, left < block ? (size_t) left : block);
                if (r < 0) {
                        fprintf(stderr, "write at %llu: %s\n", (unsigned long long) off, strerror(-r));
                        return 1;
                }
        }
        time_volume(v, buf, block);   /* warm the cache */

        printf("volume %s bytes %llu\n", argv[1], (unsigned long long) ldm_volume_io_size(v));
        printf("rate volume-read %.0f\n", time_volume(v, buf, block));
        if (n > 1 && strcmp(argv[1], "stripe") && strcmp(argv[1], "span")) {
                ldm_volume_io_exclude(v, 0, 0, true);
                printf("rate volume-read-degraded %.0f\n", time_volume(v, buf, block));
                ldm_volume_io_exclude(v, 0, 0, false);
        }
        printf("rate raw-extents %.0f\n", time_raw(n, buf, block, &raw_bytes));
        for (uint32_t i = 0; i < n; i++)
                printf("extent %s %llu %llu\n", devs[i].path,
                       (unsigned long long) ldm_extent_byte_offset(&ext[i], 0),
                       (unsigned long long) (ext[i].size * 512));
        ldm_volume_io_close(v);
        free(buf);
        return 0;
}
