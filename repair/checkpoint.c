/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* checkpoint.c: one fixed little-endian record per file, CRC-protected, replaced atomically. */

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "crc32.h"
#include "macro.h"
#include "state-file.h"
#include "unaligned.h"

/* magic[8] pack[16] volume:u32 plex:u32 target:u32 source:u32 sequence:u64 total:u64 done:u64
 * klog:u32 crc:u32 (over everything before it). A checkpoint of the first format (LDMDCKP1,
 * 68 bytes, no KLOG CRC) is ignored: its target is repaired again from its start. */
#define CHECKPOINT_MAGIC "LDMDCKP2"
#define CHECKPOINT_CRC_OFFSET 68
#define CHECKPOINT_SIZE 72

static int checkpoint_path(const char *dir, const CheckpointKey *key, const char *suffix,
                           char **ret) {
        char *p;

        if (asprintf(&p, "%s/%s-v%u-p%u-t%u.ckpt%s", dir, GUID_TO_STRING(&key->pack),
                     key->volume_id, key->plex_id, key->target, suffix) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static void checkpoint_encode(const CheckpointKey *key, uint64_t total, uint64_t done,
                              uint8_t out[static CHECKPOINT_SIZE]) {
        memset(out, 0, CHECKPOINT_SIZE);
        memcpy(out, CHECKPOINT_MAGIC, 8);
        memcpy(out + 8, key->pack.bytes, 16);
        unaligned_write_le32(out + 24, key->volume_id);
        unaligned_write_le32(out + 28, key->plex_id);
        unaligned_write_le32(out + 32, key->target);
        unaligned_write_le32(out + 36, key->source_id);
        unaligned_write_le64(out + 40, key->sequence);
        unaligned_write_le64(out + 48, total);
        unaligned_write_le64(out + 56, done);
        unaligned_write_le32(out + 64, key->klog_crc);
        unaligned_write_le32(out + CHECKPOINT_CRC_OFFSET, crc32_ieee(out, CHECKPOINT_CRC_OFFSET));
}

int checkpoint_load(const char *dir, const CheckpointKey *key, uint64_t total, uint64_t *ret_done) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint8_t buf[CHECKPOINT_SIZE + 1], want[CHECKPOINT_SIZE];
        uint64_t done;
        ssize_t n;
        int r;

        if (!dir)
                return 0;
        r = checkpoint_path(dir, key, "", &path);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        n = read(fd, buf, sizeof(buf));
        if (n < 0)
                return negative_errno();
        if (n != CHECKPOINT_SIZE)
                return 0; /* torn or foreign: start over */

        done = unaligned_read_le64(buf + 56);
        /* Everything but `done` must be exactly what we would write for this key. */
        checkpoint_encode(key, total, done, want);
        if (memcmp(buf, want, CHECKPOINT_SIZE) != 0)
                return 0;
        if (done > total)
                return 0;

        *ret_done = done;
        return 1;
}

int checkpoint_save(const char *dir, const CheckpointKey *key, uint64_t total, uint64_t done) {
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        uint8_t buf[CHECKPOINT_SIZE];
        int r;

        if (!dir)
                return 0;
        r = checkpoint_path(dir, key, "", &path);
        if (r < 0)
                return r;
        r = checkpoint_path(dir, key, ".tmp", &tmp);
        if (r < 0)
                return r;

        checkpoint_encode(key, total, done, buf);
        return state_file_replace(dir, path, tmp, buf, sizeof(buf));
}

int checkpoint_remove(const char *dir, const CheckpointKey *key) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (!dir)
                return 0;
        r = checkpoint_path(dir, key, "", &path);
        if (r < 0)
                return r;
        return state_file_remove(dir, path);
}
