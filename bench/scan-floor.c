/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* scan-floor: the least any reader of LDM metadata does, as a yardstick for bench/run-scan.sh.
 *
 *   scan-floor [--threads N] PATH...
 *
 * For each PATH: open it, learn its size, read the three places where Windows keeps what a
 * probe needs (the first 52 KiB: MBR, GPT header and entries, a GPT disk's private-region
 * head at sector 34; 32 KiB at size - 1 MiB: an MBR disk's private-region head; the last
 * 4 KiB: the PRIVHEAD and TOCBLOCK copies at a private region's end), close it. Nothing is
 * parsed or allocated. N threads (default: one per online CPU) take equal slices of the
 * paths. Run as a process (scan-bench --exec) while the devices' page cache is hot, its
 * time is a floor under any reader's on the same devices, ours and ldmtool's alike: a ratio
 * against ldmtool above ldmtool's time over this one is out of anybody's reach. (Not so
 * with I/O to wait for: one read after the other, with the kernel's readahead, it waits
 * longer than a probe that names its places in advance.) Prints nothing; exits 1 when a
 * path cannot be opened or read. Not a test. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_THREADS 64
#define HEAD_LEN (52u * 1024u)
#define MBR_PRIV_FROM_END (1024u * 1024u)
#define MBR_PRIV_HEAD_LEN (32u * 1024u)
#define TAIL_LEN 4096u

typedef struct Slice {
        pthread_t thread;
        char **paths;
        size_t n;
        int error;
} Slice;

static int read_at(int fd, void *buf, size_t len, uint64_t size, uint64_t offset) {
        if (offset >= size)
                return 0;
        if (len > size - offset)
                len = (size_t) (size - offset);
        return pread(fd, buf, len, (off_t) offset) < 0 ? -errno : 0;
}

static int read_places(const char *path, uint8_t *buf) {
        struct stat st;
        uint64_t size;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (S_ISBLK(st.st_mode))
                r = ioctl(fd, BLKGETSIZE64, &size) < 0 ? -errno : 0;
        else {
                size = (uint64_t) st.st_size;
                r = 0;
        }
        if (r == 0)
                r = read_at(fd, buf, HEAD_LEN, size, 0);
        if (r == 0 && size > MBR_PRIV_FROM_END)
                r = read_at(fd, buf, MBR_PRIV_HEAD_LEN, size, size - MBR_PRIV_FROM_END);
        if (r == 0 && size > TAIL_LEN)
                r = read_at(fd, buf, TAIL_LEN, size, size - TAIL_LEN);
        close(fd);
        return r;
}

static void *slice_main(void *arg) {
        static _Thread_local uint8_t buf[HEAD_LEN];
        Slice *s = arg;

        for (size_t i = 0; i < s->n && s->error == 0; i++) {
                s->error = read_places(s->paths[i], buf);
                if (s->error < 0)
                        fprintf(stderr, "scan-floor: %s: %s\n", s->paths[i], strerror(-s->error));
        }
        return NULL;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "threads", required_argument, NULL, 't' },
                {}
        };
        static Slice slices[MAX_THREADS];
        long threads = sysconf(_SC_NPROCESSORS_ONLN);
        size_t n, per, at = 0;
        int c, r = 0;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 't': threads = strtol(optarg, NULL, 10); break;
                default: return 2;
                }
        n = (size_t) (argc - optind);
        if (n == 0 || threads < 1 || threads > MAX_THREADS) {
                fprintf(stderr, "usage: scan-floor [--threads 1..%d] PATH...\n", MAX_THREADS);
                return 2;
        }
        if ((size_t) threads > n)
                threads = (long) n;
        per = (n + (size_t) threads - 1) / (size_t) threads;
        for (long t = 0; t < threads; t++) {
                slices[t].paths = argv + optind + at;
                slices[t].n = at + per <= n ? per : n - at;
                at += slices[t].n;
        }
        /* The first slice runs on this thread: one thread is no thread started at all. */
        for (long t = 1; t < threads; t++)
                if (pthread_create(&slices[t].thread, NULL, slice_main, &slices[t]) != 0)
                        return 1;
        slice_main(&slices[0]);
        for (long t = 0; t < threads; t++) {
                if (t > 0)
                        pthread_join(slices[t].thread, NULL);
                if (slices[t].error < 0)
                        r = 1;
        }
        return r;
}
