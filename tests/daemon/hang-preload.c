/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* hang-preload.so: an LD_PRELOAD shim for the daemon tests that makes reads of chosen files
 * hang, the way a disk that stops answering does, so that a test can see what ldmd does
 * while a scan never finishes. pread()/pread64() on a file whose name ends in
 * $LDM_HANG_SUFFIX block for as long as the file $LDM_HANG_GATE exists (polled every
 * 20 ms); every other read goes straight through. Test-only; never installed. */

/* Plain declarations of pread/pread64: no 64-bit-offset or fortify redirections here, the
 * shim defines both symbols itself. */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE

#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef ssize_t (*PreadFn)(int fd, void *buf, size_t count, off_t offset);

static bool fd_is_hung(int fd) {
        const char *suffix = getenv("LDM_HANG_SUFFIX"), *gate = getenv("LDM_HANG_GATE");
        char link[64], target[PATH_MAX];
        size_t ls;
        ssize_t n;

        if (!suffix || !*suffix || !gate || access(gate, F_OK) < 0)
                return false;
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        n = readlink(link, target, sizeof target - 1);
        if (n < 0)
                return false;
        target[n] = 0;
        ls = strlen(suffix);
        return (size_t) n >= ls && strcmp(target + n - ls, suffix) == 0;
}

static void wait_gate(int fd) {
        while (fd_is_hung(fd))
                nanosleep(&(struct timespec) { .tv_nsec = 20 * 1000 * 1000 }, NULL);
}

static ssize_t call_next(const char *name, int fd, void *buf, size_t count, off_t offset) {
        PreadFn next = (PreadFn) dlsym(RTLD_NEXT, name);

        wait_gate(fd);
        return next(fd, buf, count, offset);
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset) {
        return call_next("pread", fd, buf, count, offset);
}

ssize_t pread64(int fd, void *buf, size_t count, off_t offset) {
        return call_next("pread64", fd, buf, count, offset);
}
