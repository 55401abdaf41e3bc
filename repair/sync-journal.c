/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* sync-journal.c: one fixed little-endian record per disk being written, CRC-protected,
 * replaced atomically (state-file.h). A torn or foreign file says nothing: the refresh
 * then counts the disk as it always did. */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crc32.h"
#include "macro.h"
#include "state-file.h"
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

int sync_journal_begin(const char *dir, const LdmGuid *pack, const LdmGuid *disk, uint64_t sequence) {
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        uint8_t buf[JOURNAL_SIZE];

        if (!dir)
                return 0;
        if (journal_path(dir, pack, disk, "", &path) < 0 || journal_path(dir, pack, disk, ".tmp", &tmp) < 0)
                return -ENOMEM;
        journal_encode(pack, disk, sequence, buf);
        return state_file_replace(dir, path, tmp, buf, sizeof(buf));
}

int sync_journal_end(const char *dir, const LdmGuid *pack, const LdmGuid *disk) {
        _cleanup_free_ char *path = NULL;

        if (!dir)
                return 0;
        if (journal_path(dir, pack, disk, "", &path) < 0)
                return -ENOMEM;
        return state_file_remove(dir, path);
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
