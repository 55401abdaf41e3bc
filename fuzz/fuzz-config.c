/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* fuzz-config: feeds a file to the daemon's ldmd.conf reader (daemon/conf.c, config_load()),
 * through a memfd opened as /proc/self/fd/N like a real path. A file it accepts must leave
 * every setting inside its documented range; a rejected one leaves the values it had not
 * reached yet untouched (checked loosely: still in range). Logging is silenced. */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "log.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "fuzz-config: %s\n", #cond); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        char path[64];
        Config c;
        int r;

        if (size > 1 << 20)
                return 0;
        log_set_max_level(-1);
        fd = memfd_create("fuzz-config", MFD_CLOEXEC);
        if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size))
                return 0;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

        config_init(&c);
        r = config_load(&c, path, true);
        CHECK(r == 0 || r == -EINVAL || r == -EIO || r == -ENOMEM);
        CHECK(c.worker_threads <= CONFIG_WORKER_THREADS_MAX);   /* 0: one per CPU (the default) */
        CHECK(c.max_finished_jobs >= 1 && c.max_finished_jobs <= CONFIG_MAX_FINISHED_JOBS_MAX);
        CHECK(c.finished_job_lifetime_usec % 1000000u == 0);
        return 0;
}
