/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* sync-journal.c: one fixed little-endian record per disk being written, CRC-protected,
 * replaced atomically (as checkpoint.c). A torn or foreign file says nothing: the refresh
 * then counts the disk as it always did. */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crc32.h"
#include "macro.h"
#include "sync-journal.h"
#include "unaligned.h"

/* magic[8] pack[16] disk[16] sequence:u64 crc:u32 (over everything before it) */
#define JOURNAL_MAGIC "LDMDSYN1"
#define JOURNAL_CRC_OFFSET 48
#define JOURNAL_SIZE 52

static int journal_path(const char *dir, const LdmGuid *pack, const LdmGuid *disk, const char *suffix,
                        char **ret) {
        char *p;

        if (asprintf(&p, "%s/%s-sync-%s.journal%s", dir, GUID_TO_STRING(pack), GUID_TO_STRING(disk),
                     suffix) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static void journal_encode(const LdmGuid *pack, const LdmGuid *disk, uint64_t sequence,
                           uint8_t out[static JOURNAL_SIZE]) {
        memcpy(out, JOURNAL_MAGIC, 8);
        memcpy(out + 8, pack->bytes, 16);
        memcpy(out + 24, disk->bytes, 16);
        unaligned_write_le64(out + 40, sequence);
        unaligned_write_le32(out + JOURNAL_CRC_OFFSET, crc32_ieee(out, JOURNAL_CRC_OFFSET));
}

static int fsync_dir(const char *dir) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                return negative_errno();
        return 0;
}

static int write_file_synced(const char *path, const uint8_t *buf, size_t size) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0)
                return negative_errno();
        if (write(fd, buf, size) != (ssize_t) size)
                return errno > 0 ? -errno : -EIO;
        if (fsync(fd) < 0)
                return negative_errno();
        return 0;
}

int sync_journal_begin(const char *dir, const LdmGuid *pack, const LdmGuid *disk, uint64_t sequence) {
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        uint8_t buf[JOURNAL_SIZE];
        int r;

        if (!dir)
                return 0;
        if (journal_path(dir, pack, disk, "", &path) < 0 || journal_path(dir, pack, disk, ".tmp", &tmp) < 0)
                return -ENOMEM;
        journal_encode(pack, disk, sequence, buf);
        r = write_file_synced(tmp, buf, sizeof(buf));
        if (r >= 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return fsync_dir(dir);
}

int sync_journal_end(const char *dir, const LdmGuid *pack, const LdmGuid *disk) {
        _cleanup_free_ char *path = NULL;

        if (!dir)
                return 0;
        if (journal_path(dir, pack, disk, "", &path) < 0)
                return -ENOMEM;
        if (unlink(path) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return fsync_dir(dir);
}

bool sync_journal_pending(const char *dir, const LdmGuid *pack, const LdmGuid *disk,
                          uint64_t authority_sequence) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint8_t buf[JOURNAL_SIZE + 1], want[JOURNAL_SIZE];
        uint64_t sequence;

        if (!dir || journal_path(dir, pack, disk, "", &path) < 0)
                return false;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || read(fd, buf, sizeof(buf)) != JOURNAL_SIZE)
                return false;
        sequence = unaligned_read_le64(buf + 40);
        journal_encode(pack, disk, sequence, want);
        return memcmp(buf, want, JOURNAL_SIZE) == 0 && sequence <= authority_sequence;
}
