/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-copy.c: the checkpoint files and the copy pipeline, without any LDM pack: a memory
 * source copied into a memory target, checking that every checkpoint follows a flush that
 * covers it, that cancel stops at a checkpoint, and that a resumed run finishes the job. */

#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "copy.h"
#include "test-util.h"

static CheckpointKey key(uint64_t seq) {
        CheckpointKey k = { .volume_id = 7, .plex_id = 9, .target = 1, .sequence = seq };

        for (int i = 0; i < 16; i++)
                k.pack.bytes[i] = (uint8_t) (i + 1);
        return k;
}

static void test_checkpoint(void) {
        g_autofree char *dir = test_tmpdir();
        CheckpointKey k = key(42), other = key(43);
        uint64_t done = 0;

        g_assert_cmpint(checkpoint_load(dir, &k, 1 << 20, &done), ==, 0);
        g_assert_cmpint(checkpoint_save(dir, &k, 1 << 20, 65536), ==, 0);
        g_assert_cmpint(checkpoint_load(dir, &k, 1 << 20, &done), ==, 1);
        g_assert_cmpuint(done, ==, 65536);
        /* Another database sequence or another size: ignored. */
        g_assert_cmpint(checkpoint_load(dir, &other, 1 << 20, &done), ==, 0);
        g_assert_cmpint(checkpoint_load(dir, &k, 1 << 21, &done), ==, 0);
        /* Overwritten atomically, no temp file left. */
        g_assert_cmpint(checkpoint_save(dir, &k, 1 << 20, 131072), ==, 0);
        g_assert_cmpint(checkpoint_load(dir, &k, 1 << 20, &done), ==, 1);
        g_assert_cmpuint(done, ==, 131072);
        g_autofree char *out = NULL;
        g_assert_cmpint(test_run(&out, "ls '%s' | grep -c tmp || true", dir), ==, 0);
        g_assert_cmpstr(g_strstrip(out), ==, "0");

        /* A damaged file is not trusted. */
        g_autofree char *cmd = g_strdup_printf("for f in '%s'/*.ckpt; do printf X | dd of=\"$f\" bs=1 seek=60 conv=notrunc status=none; done", dir);
        g_assert_cmpint(test_run(NULL, "%s", cmd), ==, 0);
        g_assert_cmpint(checkpoint_load(dir, &k, 1 << 20, &done), ==, 0);

        g_assert_cmpint(checkpoint_remove(dir, &k), ==, 0);
        g_assert_cmpint(checkpoint_remove(dir, &k), ==, 0);
        g_assert_cmpint(checkpoint_load(dir, &k, 1 << 20, &done), ==, 0);
        /* No state directory: checkpoints are off, not an error. */
        g_assert_cmpint(checkpoint_save(NULL, &k, 1, 1), ==, 0);
        g_assert_cmpint(checkpoint_load(NULL, &k, 1, &done), ==, 0);
}

#define SIZE (3u * 1024u * 1024u + 4096u)
#define CHUNK (64u * 1024u)

typedef struct Mem {
        uint8_t *src, *dst;
        uint64_t written_end;   /* highest byte drained */
        uint64_t flushed_end;   /* written_end at the last flush */
        uint64_t checkpointed;
        unsigned n_checkpoints;
        unsigned bad_order;     /* checkpoints beyond the flushed range */
        uint64_t drained_bytes;
        uint64_t fail_after;    /* fail the drain that would pass this byte (0: never) */
        pthread_t caller;
        unsigned fill_on_caller;
} Mem;

static int mem_fill(void *ud, uint64_t off, size_t len, uint8_t *buf, uint8_t *scratch) {
        Mem *m = ud;

        if (pthread_equal(pthread_self(), m->caller))
                m->fill_on_caller++;
        memcpy(buf, m->src + off, len);
        return 0;
}

static int mem_drain(void *ud, uint64_t off, size_t len, const uint8_t *buf) {
        Mem *m = ud;

        if (m->fail_after && off + len > m->fail_after)
                return -EIO;
        memcpy(m->dst + off, buf, len);
        m->written_end = MAX(m->written_end, off + len);
        m->drained_bytes += len;
        return 0;
}

static int mem_flush(void *ud) {
        Mem *m = ud;

        m->flushed_end = m->written_end;
        return 0;
}

static int mem_checkpoint(void *ud, uint64_t done) {
        Mem *m = ud;

        if (done > m->flushed_end)
                m->bad_order++;
        m->checkpointed = done;
        m->n_checkpoints++;
        return 0;
}

static const CopyOps mem_ops = {
        .fill = mem_fill, .drain = mem_drain, .flush = mem_flush, .checkpoint = mem_checkpoint,
};

static void mem_init(Mem *m) {
        *m = (Mem) { .src = g_malloc(SIZE), .dst = g_malloc0(SIZE), .caller = pthread_self() };
        for (size_t i = 0; i < SIZE; i++)
                m->src[i] = (uint8_t) (i * 7 + i / 4096);
}

static void mem_done(Mem *m) {
        g_free(m->src);
        g_free(m->dst);
}

static void test_copy_whole(void) {
        _cleanup_(copy_engine_freep) CopyEngine *e = NULL;
        uint64_t durable = 0;
        Mem m;

        mem_init(&m);
        g_assert_cmpint(copy_engine_new(CHUNK, &e), ==, 0);
        g_assert_cmpint(copy_engine_run(e, &mem_ops, &m, 0, SIZE, 256 * 1024, NULL, &durable), ==, 0);
        g_assert_cmpuint(durable, ==, SIZE);
        g_assert_true(memcmp(m.src, m.dst, SIZE) == 0);
        g_assert_cmpuint(m.checkpointed, ==, SIZE);
        g_assert_cmpuint(m.n_checkpoints, >=, SIZE / (256 * 1024));
        g_assert_cmpuint(m.bad_order, ==, 0);
        g_assert_cmpuint(m.fill_on_caller, ==, 0);
        mem_done(&m);
}

static void test_copy_cancel_resume(void) {
        _cleanup_(copy_engine_freep) CopyEngine *e = NULL;
        atomic_bool cancel = true;
        uint64_t durable = 0;
        Mem m;

        mem_init(&m);
        g_assert_cmpint(copy_engine_new(CHUNK, &e), ==, 0);
        /* Cancel is seen after the first chunk, which is flushed and checkpointed at once
         * rather than at the next regular checkpoint (256 KiB). */
        g_assert_cmpint(copy_engine_run(e, &mem_ops, &m, 0, SIZE, 256 * 1024, &cancel, &durable), ==, -ECANCELED);
        g_assert_cmpuint(durable, ==, CHUNK);
        g_assert_cmpuint(m.checkpointed, ==, durable);
        g_assert_true(memcmp(m.src, m.dst, durable) == 0);

        /* Resume from the checkpoint: only the rest is copied. */
        atomic_store(&cancel, false);
        m.drained_bytes = 0;
        g_assert_cmpint(copy_engine_run(e, &mem_ops, &m, durable, SIZE, 256 * 1024, &cancel, &durable), ==, 0);
        g_assert_cmpuint(m.drained_bytes, ==, SIZE - CHUNK);
        g_assert_true(memcmp(m.src, m.dst, SIZE) == 0);
        g_assert_cmpuint(m.bad_order, ==, 0);
        mem_done(&m);
}

static int slow_drain(void *ud, uint64_t off, size_t len, const uint8_t *buf) {
        usleep(500 * 1000);
        return mem_drain(ud, off, len, buf);
}

/* Without a byte interval, checkpoints still come every COPY_CHECKPOINT_USEC. */
static void test_copy_by_time(void) {
        _cleanup_(copy_engine_freep) CopyEngine *e = NULL;
        CopyOps ops = mem_ops;
        uint64_t durable = 0;
        Mem m;

        mem_init(&m);
        ops.drain = slow_drain;
        g_assert_cmpint(copy_engine_new(512 * 1024, &e), ==, 0);
        /* 6 chunks of ≥ 0.5 s: one checkpoint after the fourth (2 s), one at the end. */
        g_assert_cmpint(copy_engine_run(e, &ops, &m, 0, 3u << 20, 0, NULL, &durable), ==, 0);
        g_assert_cmpuint(durable, ==, 3u << 20);
        g_assert_cmpuint(m.n_checkpoints, ==, 2);
        g_assert_cmpuint(m.bad_order, ==, 0);
        g_assert_true(memcmp(m.src, m.dst, 3u << 20) == 0);
        mem_done(&m);
}

static int square(void *ud, size_t i) {
        uint64_t *out = ud;

        if (i == 5)
                return -EIO;
        out[i] = i * i;
        return 0;
}

static void test_parallel(void) {
        _cleanup_(copy_engine_freep) CopyEngine *e = NULL;
        uint64_t out[16] = {};

        g_assert_cmpint(copy_engine_new(CHUNK, &e), ==, 0);
        for (int round = 0; round < 50; round++) {
                memset(out, 0, sizeof(out));
                g_assert_cmpint(copy_engine_parallel(e, square, out, 5), ==, 0);
                for (size_t i = 0; i < 5; i++)
                        g_assert_cmpuint(out[i], ==, i * i);
                g_assert_cmpint(copy_engine_parallel(e, square, out, 16), ==, -EIO);
                for (size_t i = 0; i < 16; i++)
                        if (i != 5)
                                g_assert_cmpuint(out[i], ==, i * i);
        }
}

static void test_copy_error(void) {
        _cleanup_(copy_engine_freep) CopyEngine *e = NULL;
        uint64_t durable = 0;
        Mem m;

        mem_init(&m);
        m.fail_after = 1024 * 1024 + 1;
        g_assert_cmpint(copy_engine_new(CHUNK, &e), ==, 0);
        g_assert_cmpint(copy_engine_run(e, &mem_ops, &m, 0, SIZE, 256 * 1024, NULL, &durable), ==, -EIO);
        /* Durable position is the last checkpoint before the failure, never past it. */
        g_assert_cmpuint(durable, ==, 1024 * 1024);
        g_assert_cmpuint(m.checkpointed, ==, durable);
        g_assert_cmpint(copy_engine_new(1000, &(CopyEngine *) { NULL }), ==, -EINVAL);
        mem_done(&m);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/repair/checkpoint", test_checkpoint);
        g_test_add_func("/repair/copy/whole", test_copy_whole);
        g_test_add_func("/repair/copy/cancel-resume", test_copy_cancel_resume);
        g_test_add_func("/repair/copy/error", test_copy_error);
        g_test_add_func("/repair/copy/by-time", test_copy_by_time);
        g_test_add_func("/repair/copy/parallel", test_parallel);
        return g_test_run();
}
