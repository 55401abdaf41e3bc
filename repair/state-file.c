/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* state-file.c: see state-file.h. */

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "macro.h"
#include "state-file.h"

static int fsync_dir(const char *dir) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                return negative_errno();
        return 0;
}

static int write_synced(const char *path, const void *buf, size_t size) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0)
                return negative_errno();
        if (write(fd, buf, size) != (ssize_t) size)
                return errno > 0 ? -errno : -EIO;
        if (fsync(fd) < 0)
                return negative_errno();
        return 0;
}

int state_file_replace(const char *dir, const char *path, const char *tmp, const void *buf, size_t size) {
        int r;

        r = write_synced(tmp, buf, size);
        if (r >= 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return fsync_dir(dir);
}

int state_file_remove(const char *dir, const char *path) {
        if (unlink(path) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return fsync_dir(dir);
}
