/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-repair.c: Recover and Verify on copies of the real Windows 2008 R2 pack (MBR and GPT
 * disks, a mirror and a RAID-5). Each case breaks the pack the way a crash, a missed write
 * or a bad sector would, runs repair_run(), and then asks the independent judge
 * (ldmcheck --data --strict) and the gold sha256 of every volume whether the result is the
 * healthy pack Windows made. */

#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "context.h"
#include "health.h"
#include "io.h"
#include "ldm-damage.h"
#include "repair.h"
#include "scan.h"
#include "sync-journal.h"
#include "test-util.h"
#include "unaligned.h"
#include "validate.h"
#include "vds.h"
#include "volume-io.h"
#include "writer.h"

#include <glib/gstdio.h>

#define PACK_GUID "06495a84-fbfd-11e1-8cf9-52540061f5db"
#define PACK_NAME "WIN-ERRDJSBDAVF-Dg0"

static const char *const images[] = {
        "ldm-2008r2-spanned-1.img", "ldm-2008r2-spanned-2.img", "ldm-2008r2-striped-1.img",
        "ldm-2008r2-striped-2.img", "ldm-2008r2-mirrored-1.img", "ldm-2008r2-mirrored-2.img",
        "ldm-2008r2-raid5-1.img", "ldm-2008r2-raid5-2.img", "ldm-2008r2-raid5-3.img",
};
#define N_IMAGES ELEMENTSOF(images)
#define MIRROR2 5 /* Disk6, plex 2 of Volume3 */

static const struct {
        const char *name, *sha256;
} gold[] = {
        { "Volume1", "8d6b04d858aefa751855f925ab71de5a8203564691fa70b8bc8b250b83629f43" },
        { "Volume2", "8d106036e1d035e227834cbc1008ce0922fbeeb51048b5e172c39591a921d30d" },
        { "Volume3", "cd3a7a1c5e851b411390a0d7385e256fc987757e6e8ca4f490d1672d75ddfb2f" },
        { "Volume4", "0095f2221f15a769887b4dff28e32cb1df79a4406cb36ee54528c2320a5a2dd8" },
        { "Volume5", "1a757c59a8c9e67916d6564295b4e2db8db6badfa889d06302b46f77bd3730c0" },
};

typedef struct Fixture {
        LdmGuid guid;
        char *dir;
        char *state;
        char *paths[16];
        size_t n_paths;
} Fixture;

/* Where a case's images live. $LDM_REPAIR_TEST_DIR (the slow suite sets /dev/shm) trades
 * the O_DIRECT path and real fsync latency — covered by the unit and root suites — for a
 * matrix that does not wait on a busy disk; the directory goes with the fixture. */
static char *fixture_dir(void) {
        const char *base = g_getenv("LDM_REPAIR_TEST_DIR");
        char *d;

        if (!base || !*base)
                return test_tmpdir();
        d = g_build_filename(base, "ldmd-repair-XXXXXX", NULL);
        g_assert_nonnull(g_mkdtemp(d));
        return d;
}

static void fixture_init(Fixture *f, bool with_mirror2) {
        *f = (Fixture) { .dir = fixture_dir() };
        g_assert_cmpint(guid_from_string(PACK_GUID, &f->guid), ==, 0);
        f->state = g_build_filename(f->dir, "state", NULL);
        g_assert_cmpint(g_mkdir(f->state, 0700), ==, 0);
        for (size_t i = 0; i < N_IMAGES; i++) {
                g_autofree char *src = test_real_image(images[i]);
                char *dst = g_build_filename(f->dir, images[i], NULL);

                test_copy_file(src, dst);
                if (!with_mirror2 && i == MIRROR2) {
                        g_free(dst);
                        continue;
                }
                f->paths[f->n_paths++] = dst;
        }
}

static void fixture_done(Fixture *f) {
        const char *base = g_getenv("LDM_REPAIR_TEST_DIR");

        if (base && *base && g_str_has_prefix(f->dir, base))
                g_assert_cmpint(test_run(NULL, "rm -rf '%s'", f->dir), ==, 0);
        for (size_t i = 0; i < f->n_paths; i++)
                g_free(f->paths[i]);
        g_free(f->state);
        g_free(f->dir);
}

static char *all_paths(const Fixture *f) {
        GString *s = g_string_new(NULL);

        for (size_t i = 0; i < f->n_paths; i++)
                g_string_append_printf(s, " '%s'", f->paths[i]);
        return g_string_free(s, false);
}

static LdmPack *scan_pack(const Fixture *f, LdmScan **ret_scan) {
        g_assert_cmpint(ldm_scan_paths(f->paths, f->n_paths, ret_scan), ==, 0);
        return ldm_scan_find_pack(*ret_scan, &f->guid);
}

static LdmExtent *find_extent(LdmPack *p, const char *name) {
        for (size_t i = 0; i < p->n_extents; i++)
                if (strcmp(p->extents[i].name, name) == 0)
                        return &p->extents[i];
        g_assert_not_reached();
}

static LdmVolume *find_volume(LdmPack *p, const char *name) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (strcmp(p->volumes[i].name, name) == 0)
                        return &p->volumes[i];
        g_assert_not_reached();
}

typedef void (*EditFn)(LdmPack *p, LdmTxn *t);

/* One transaction from `from` (a database copy of p), edited by `edit`, on devs[0..n). */
static void commit_on(LdmPack *p, const LdmDatabase *from, EditFn edit, LdmTxnStep stop_after,
                      LdmDevice **devs, size_t n) {
        _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
        LdmIo *ios[16];
        LdmDiag diag = {};

        g_assert_cmpuint(n, <=, ELEMENTSOF(ios));
        for (size_t i = 0; i < n; i++)
                g_assert_cmpint(ldm_io_open(devs[i]->path, LDM_IO_WRITE, &ios[i]), ==, 0);
        g_assert_cmpint(ldm_txn_begin(from, &t), ==, 0);
        edit(p, t);
        if (stop_after)
                ldm_txn_set_stop_after(t, stop_after);
        g_assert_cmpint(ldm_txn_commit(t, ios, devs, n, &diag), ==, 0);
        for (size_t i = 0; i < n; i++)
                ldm_io_close(ios[i]);
}

/* Runs one transaction on every present disk except `skip` (NULL: none). */
static void transact(const Fixture *f, EditFn edit, LdmTxnStep stop_after, const char *skip) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *p = scan_pack(f, &scan);
        LdmDevice *devs[16];
        size_t n = 0;

        g_assert_nonnull(p);
        for (size_t i = 0; i < p->n_devices && n < ELEMENTSOF(devs); i++)
                if (!skip || !g_str_has_suffix(p->devices[i]->path, skip))
                        devs[n++] = p->devices[i];
        commit_on(p, p->db, edit, stop_after, devs, n);
}

static void set_partition_flag(LdmPack *p, LdmTxn *t, const char *name, uint32_t flag) {
        LdmRecord *r = ldm_txn_edit(t, find_extent(p, name)->id);

        g_assert_nonnull(r);
        r->partition.flags |= flag;
        r->dirty = true;
}

static void edit_flag_disk6(LdmPack *p, LdmTxn *t) {
        set_partition_flag(p, t, "Disk6-01", LDM_PARTITION_FLAG_RECOVER);
}
static void edit_flag_disk8(LdmPack *p, LdmTxn *t) {
        set_partition_flag(p, t, "Disk8-01", LDM_PARTITION_FLAG_RECOVER);
}
static void edit_flag_raid5_component(LdmPack *p, LdmTxn *t) {
        LdmRecord *r = ldm_txn_edit(t, find_volume(p, "Volume4")->plexes[0]->id);

        g_assert_nonnull(r);
        r->component.flags |= LDM_COMPONENT_FLAG_RECOVER;
        r->dirty = true;
}
static LdmDisk *find_disk(LdmPack *p, const char *name) {
        for (size_t i = 0; i < p->n_disks; i++)
                if (strcmp(p->disks[i].name, name) == 0)
                        return &p->disks[i];
        g_assert_not_reached();
}

/* D's convention for disks that were missing (§10.2 rule 7): Disk6 (the mirror's second
 * plex) detached, Disk1 (a spanned volume, no redundancy) removed. */
static void edit_disks_away(LdmPack *p, LdmTxn *t) {
        LdmRecord *r = ldm_txn_edit(t, find_disk(p, "Disk6")->id);

        g_assert_nonnull(r);
        r->disk.flags |= LDM_DISK_FLAG_DETACHED;
        r->dirty = true;
        r = ldm_txn_edit(t, find_disk(p, "Disk1")->id);
        g_assert_nonnull(r);
        r->disk.flags |= LDM_DISK_FLAG_REMOVED;
        r->dirty = true;
}
/* A harmless change (the record moves to a new slot with a new commit ID). */
static void edit_touch_volume1(LdmPack *p, LdmTxn *t) {
        g_assert_nonnull(ldm_txn_edit(t, find_volume(p, "Volume1")->id));
}

/* Overwrites len bytes at offset `at` inside an extent with a pattern. */
static void scribble_extent(const Fixture *f, const char *extent, uint64_t at, size_t len) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        LdmPack *p = scan_pack(f, &scan);
        LdmExtent *e = find_extent(p, extent);
        g_autofree uint8_t *buf = g_malloc(len);

        g_assert_cmpuint(at + len, <=, e->size * 512);
        for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t) (0xA5 ^ i ^ (i >> 9));
        g_assert_cmpint(ldm_io_open(e->disk->device->path, LDM_IO_WRITE, &io), ==, 0);
        g_assert_cmpint(ldm_io_pwrite(io, buf, len, ldm_extent_disk_offset(e) + at), ==, 0);
}

static void scribble_file(const char *path, uint64_t offset, size_t len) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        g_autofree uint8_t *buf = g_malloc(len);

        g_assert_cmpint(fd, >=, 0);
        memset(buf, 0x5A, len);
        g_assert_cmpint(pwrite(fd, buf, len, (off_t) offset), ==, (ssize_t) len);
        close(fd);
}

typedef struct Progress {
        atomic_bool cancel;
        uint64_t cancel_at;          /* data bytes after which cancel is requested */
        uint64_t last_done;
        unsigned calls;
        bool went_backwards;
        bool overshot;               /* done > total in a data or verify step */
        uint64_t final_done, final_total; /* of the last call */
} Progress;

static void on_progress(RepairStep step, const char *detail, uint64_t done, uint64_t total, void *ud) {
        Progress *p = ud;

        p->calls++;
        p->final_done = done;
        p->final_total = total;
        if ((step == REPAIR_STEP_DATA || step == REPAIR_STEP_VERIFY) && done > total)
                p->overshot = true;
        if (step == REPAIR_STEP_DATA && p->cancel_at && done >= p->cancel_at)
                atomic_store(&p->cancel, true);
        if (step == REPAIR_STEP_DATA) {
                if (done < p->last_done)
                        p->went_backwards = true;
                p->last_done = done;
        }
}

/* Checkpoints every 4 MiB keep fsyncs down; the resume tests want finer ones. */
static uint64_t checkpoint_interval = 4u << 20;

/* Every run: progress never passes its total, and a successful run ends at done == total
 * (what the daemon publishes as the job's BytesDone / BytesTotal). */
static void run_op(const Fixture *f, RepairOperation op, Progress *prog, RepairResult *res) {
        Progress local = {};
        RepairRequest req = {
                .paths = f->paths,
                .n_paths = f->n_paths,
                .operation = op,
                .state_dir = f->state,
                .progress = on_progress,
                .userdata = prog ?: &local,
                .cancel = &(prog ?: &local)->cancel,
                .buffer_size = 256 * 1024,
                .checkpoint_interval = checkpoint_interval,
        };

        req.pack_guid = f->guid;
        g_assert_cmpint(repair_run(&req, res), ==, 0);
        g_test_message("%s: hresult 0x%08x: %s [remaining: %s] repaired %" G_GUINT64_FORMAT " resumed %" G_GUINT64_FORMAT,
                       repair_operation_to_string(op), res->hresult, res->message, res->remaining,
                       res->bytes_repaired, res->bytes_resumed);
        prog = prog ?: &local;
        g_assert_false(prog->overshot);
        if (res->hresult == VDS_S_OK)
                g_assert_cmpuint(prog->final_done, ==, prog->final_total);
}

static void recover_ok(const Fixture *f, RepairResult *res) {
        run_op(f, REPAIR_RECOVER, NULL, res);
        g_assert_cmphex(res->hresult, ==, VDS_S_OK);
}

/* sha256 of a volume read through the library's volume reader. */
static char *volume_sha256(LdmVolume *v) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *vio = NULL;
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        g_autofree uint8_t *buf = g_malloc(1 << 20);
        uint64_t size;

        g_assert_cmpint(ldm_volume_io_open(v, 0, &vio), ==, 0);
        size = ldm_volume_io_size(vio);
        for (uint64_t off = 0; off < size; off += 1 << 20) {
                size_t len = (size_t) MIN((uint64_t) 1 << 20, size - off);
                g_assert_cmpint(ldm_volume_read(vio, off, buf, len), ==, 0);
                g_checksum_update(sum, buf, len);
        }
        return g_strdup(g_checksum_get_string(sum));
}

/* The judge (pack rules and data), the gold data (every volume through our reader, the
 * damaged one also through the judge's extractor), a clean scrub, and the engine's own view
 * of health. */
static void assert_healthy(const Fixture *f, const char *damaged_volume) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        g_autofree char *paths = all_paths(f), *out = NULL;
        LdmPack *p;
        RepairResult v;

        if (test_run(&out, "%s/tools/ldmcheck --data --strict %s 2>&1", test_shared_dir(), paths) != 0) {
                g_test_message("ldmcheck:\n%s", out);
                g_assert_not_reached();
        }
        p = scan_pack(f, &scan);
        g_assert_nonnull(p);
        g_assert_cmpuint(p->n_devices, ==, f->n_paths);
        for (size_t i = 0; i < ELEMENTSOF(gold); i++) {
                LdmVolume *vol = find_volume(p, gold[i].name);
                g_autofree char *sum = volume_sha256(vol);

                g_assert_cmpstr(sum, ==, gold[i].sha256);
                g_assert_cmpint(vol->health, ==, VDS_H_HEALTHY);
                if (damaged_volume && strcmp(damaged_volume, gold[i].name) == 0) {
                        g_autofree char *bin = g_build_filename(f->dir, "volume.bin", NULL), *sum2 = NULL;

                        g_assert_cmpint(test_run(NULL, "%s/tools/ldmcheck --extract %s/%s --out '%s' %s >/dev/null",
                                                 test_shared_dir(), PACK_NAME, gold[i].name, bin, paths), ==, 0);
                        g_assert_cmpint(test_run(&sum2, "sha256sum '%s' | cut -c1-64", bin), ==, 0);
                        g_assert_cmpstr(g_strstrip(sum2), ==, gold[i].sha256);
                        unlink(bin);
                }
        }
        Progress vp = {};
        run_op(f, REPAIR_VERIFY, &vp, &v);
        g_assert_cmphex(v.hresult, ==, VDS_S_OK);
        g_assert_cmpuint(v.mirror_mismatches, ==, 0);
        g_assert_cmpuint(v.parity_mismatches, ==, 0);
        /* The 16 MiB mirror and the 32 MiB RAID-5, all of it read. */
        g_assert_cmpuint(vp.final_total, ==, 48u << 20);
        g_assert_cmpuint(vp.final_done, ==, 48u << 20);
}

static void test_clean(void) {
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        recover_ok(&f, &res);
        g_assert_cmpuint(res.bytes_repaired, ==, 0);
        g_assert_cmpuint(res.disks_synced, ==, 0);
        assert_healthy(&f, NULL);
        fixture_done(&f);
}

static void test_mirror_stale(void) {
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        transact(&f, edit_flag_disk6, 0, NULL);
        scribble_extent(&f, "Disk6-01", 0, 1 << 20);
        scribble_extent(&f, "Disk6-01", 15 << 20, 1 << 20);
        recover_ok(&f, &res);
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);
        g_assert_cmpuint(res.volumes_touched, ==, 1);
        g_assert_true(res.database_committed);
        assert_healthy(&f, "Volume3");
        fixture_done(&f);
}

/* Disks that were away and are back: Disk6's plex is resynchronised (it may have missed
 * writes), and both flags are cleared in the commit, so a second Recover has nothing to do. */
static void test_disks_back(void) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        Fixture f;
        RepairResult res;
        LdmPack *p;

        fixture_init(&f, true);
        transact(&f, edit_disks_away, 0, NULL);
        p = scan_pack(&f, &scan);
        g_assert_cmphex(find_disk(p, "Disk6")->flags, ==, LDM_DISK_FLAG_DETACHED);
        g_assert_cmphex(find_disk(p, "Disk1")->flags, ==, LDM_DISK_FLAG_REMOVED);
        g_assert_cmpint(find_volume(p, "Volume3")->health, !=, VDS_H_HEALTHY);
        scan = ldm_scan_free(scan);
        scribble_extent(&f, "Disk6-01", 2 << 20, 1 << 20);

        recover_ok(&f, &res);
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);
        g_assert_true(res.database_committed);
        assert_healthy(&f, "Volume3");
        p = scan_pack(&f, &scan);
        for (size_t i = 0; i < p->n_disks; i++) {
                g_assert_cmphex(p->disks[i].flags & (LDM_DISK_FLAG_DETACHED | LDM_DISK_FLAG_REMOVED), ==, 0);
                g_assert_cmpint(p->disks[i].health, ==, VDS_H_HEALTHY);
        }

        recover_ok(&f, &res);
        g_assert_cmpuint(res.bytes_repaired, ==, 0);
        g_assert_cmpuint(res.disks_synced, ==, 0);
        g_assert_false(res.database_committed);
        fixture_done(&f);
}

static void test_raid5_column_stale(void) {
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        transact(&f, edit_flag_disk8, 0, NULL);
        scribble_extent(&f, "Disk8-01", 64 << 10, 3 << 20);
        recover_ok(&f, &res);
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);
        assert_healthy(&f, "Volume4");
        fixture_done(&f);
}

static void mark_volume_dirty(const Fixture *f, const char *volume);

/* A stale column of a RAID-5 that is also marked dirty: its other columns are all there is
 * to rebuild from, and rows written at the crash may disagree. The column is rebuilt (a
 * degraded read gives the same bytes) and the job says what may be wrong. */
static void test_raid5_column_stale_dirty(void) {
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        transact(&f, edit_flag_disk8, 0, NULL);
        mark_volume_dirty(&f, "Volume4");
        scribble_extent(&f, "Disk8-01", 64 << 10, 3 << 20);
        recover_ok(&f, &res);
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);
        g_assert_nonnull(strstr(res.message, "rebuilt while its volume was marked dirty"));
        assert_healthy(&f, "Volume4");
        fixture_done(&f);
}

static void test_raid5_parity_stale(void) {
        Fixture f;
        RepairResult res, v;

        fixture_init(&f, true);
        transact(&f, edit_flag_raid5_component, 0, NULL);
        /* Row 0's parity lives on the last column (Disk9-01); row 1's on Disk8-01. */
        scribble_extent(&f, "Disk9-01", 0, 64 << 10);
        scribble_extent(&f, "Disk8-01", 64 << 10, 64 << 10);
        run_op(&f, REPAIR_VERIFY, NULL, &v);
        g_assert_cmpuint(v.parity_mismatches, ==, 2);
        recover_ok(&f, &res);
        /* Parity only: one chunk in every row, one column's worth in all. */
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);
        assert_healthy(&f, "Volume4");
        fixture_done(&f);
}

static void test_db_rolled_back(void) {
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        /* Disk6 misses a transaction: its copy is one generation behind and its mirror plex
         * may have missed writes too (we scribble to make sure). */
        transact(&f, edit_touch_volume1, 0, "mirrored-2.img");
        scribble_extent(&f, "Disk6-01", 4 << 20, 1 << 20);
        recover_ok(&f, &res);
        g_assert_cmpuint(res.disks_synced, >=, 1);
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);
        assert_healthy(&f, "Volume3");
        fixture_done(&f);
}

/* Runs one transaction on the image `only` alone, from that disk's own database copy. */
static void transact_only(const Fixture *f, EditFn edit, const char *only) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *p = scan_pack(f, &scan);
        LdmDevice *dev = NULL;

        g_assert_nonnull(p);
        for (size_t i = 0; i < p->n_devices; i++)
                if (g_str_has_suffix(p->devices[i]->path, only))
                        dev = p->devices[i];
        g_assert_nonnull(dev);
        commit_on(p, dev->db, edit, 0, &dev, 1);
}

static void edit_touch_volume2(LdmPack *p, LdmTxn *t) {
        g_assert_nonnull(ldm_txn_edit(t, find_volume(p, "Volume2")->id));
}

/* Disk6 (the mirror's second plex) away from the others while each side made one
 * transaction of one record: both copies are clean at the same committed sequence, with
 * different records, and Disk6's plex took writes the others never saw. The majority's copy
 * is the authority; Disk6 missed its transaction just as a disk behind does, so its plex is
 * stale and resynchronised. Before, the reader called Volume3 healthy and Recover overwrote
 * Disk6's copy without marking anything: the plexes stayed different in a "healthy" volume. */
static void test_split_same_sequence(void) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        Fixture f;
        RepairResult res;
        LdmPack *p;

        fixture_init(&f, true);
        transact(&f, edit_touch_volume1, 0, images[MIRROR2]);
        transact_only(&f, edit_touch_volume2, images[MIRROR2]);
        scribble_extent(&f, "Disk6-01", 4 << 20, 1 << 20);
        p = scan_pack(&f, &scan);
        g_assert_cmpuint(find_extent(p, "Disk6-01")->disk->device->effective_committed, ==, p->committed_seq);
        g_assert_cmpint(find_volume(p, "Volume3")->health, !=, VDS_H_HEALTHY);
        scan = ldm_scan_free(scan);

        recover_ok(&f, &res);
        g_assert_cmpuint(res.disks_synced, ==, 1);
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);
        assert_healthy(&f, "Volume3");
        fixture_done(&f);
}

static const LdmDiag *find_diag(const LdmDiagList *l, const char *structure, const char *a, const char *b) {
        for (size_t i = 0; i < l->n_items; i++)
                if (strcmp(l->items[i].structure, structure) == 0 && strstr(l->items[i].message, a) &&
                    (!b || strstr(l->items[i].message, b)))
                        return &l->items[i];
        return NULL;
}

/* Runs one transaction on f->paths[from..to) alone, from the first one's database copy. */
static void transact_on(const Fixture *f, EditFn edit, size_t from, size_t to) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *p = scan_pack(f, &scan);
        LdmDevice *devs[16];
        size_t n = 0;

        g_assert_nonnull(p);
        for (size_t k = from; k < to; k++)
                for (size_t i = 0; i < p->n_devices && n < ELEMENTSOF(devs); i++)
                        if (strcmp(p->devices[i]->path, f->paths[k]) == 0)
                                devs[n++] = p->devices[i];
        g_assert_cmpuint(n, ==, to - from);
        commit_on(p, devs[0]->db, edit, 0, devs, n);
}

/* The pack split in two halves of four disks (the ninth away), each used on its own: two
 * settled histories at one committed ID, with as many copies each. Which half holds the
 * writes that matter cannot be known: Recover writes nothing and says so (before, the half
 * holding the first disk in device order won, and the other half's copies would have been
 * overwritten and its plexes resynchronised from the first). Verify still runs. */
static void test_split_even(void) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        char *before[N_IMAGES];
        RepairResult res, v;
        LdmPack *p;
        Fixture f;

        fixture_init(&f, false);
        g_assert_cmpuint(f.n_paths, ==, 8);
        transact_on(&f, edit_touch_volume1, 0, 4);
        transact_on(&f, edit_touch_volume2, 4, 8);
        p = scan_pack(&f, &scan);
        g_assert_cmpuint(p->n_disputed, ==, 4);
        g_assert_nonnull(find_diag(&scan->diags, "VMDB", "no majority says which is the pack's", NULL));
        scan = ldm_scan_free(scan);

        for (size_t i = 0; i < f.n_paths; i++)
                g_assert_cmpint(test_run(&before[i], "sha256sum '%s'", f.paths[i]), ==, 0);
        run_op(&f, REPAIR_RECOVER, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_OPERATION_DENIED);
        g_assert_nonnull(strstr(res.message, "was split: 4 of its database copies at ID"));
        g_assert_false(res.database_committed);
        for (size_t i = 0; i < f.n_paths; i++) {
                g_autofree char *after = NULL;
                g_assert_cmpint(test_run(&after, "sha256sum '%s'", f.paths[i]), ==, 0);
                g_assert_cmpstr(after, ==, before[i]);
                g_free(before[i]);
        }
        run_op(&f, REPAIR_VERIFY, NULL, &v);
        g_assert_cmpuint(v.mirror_mismatches, ==, 0);
        g_assert_cmpuint(v.parity_mismatches, ==, 0);
        fixture_done(&f);
}

static void test_header_copies(void) {
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        /* spanned-1 is MBR: PRIVHEAD at rel 1856 (= LBA 100352 + 1856) and TOC at rel 2. */
        scribble_file(f.paths[0], (100352ull + 1856) * 512 + 100, 16);
        scribble_file(f.paths[0], (100352ull + 2) * 512 + 40, 8);
        /* striped-2 is GPT: its LBA-6 copy does not exist; break rel 2047 (LBA 2081). */
        scribble_file(f.paths[3], 2081ull * 512 + 64, 8);
        recover_ok(&f, &res);
        assert_healthy(&f, NULL);
        fixture_done(&f);
}

static void test_vmdb_copy_corrupt(void) {
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        /* raid5-1 (MBR) VMDB at config + 17 = LBA 100369: the disk's copy is unreadable, it
         * sits in INVALID, Recover rejoins it and rebuilds its column to be safe. */
        scribble_file(f.paths[6], 100369ull * 512, 64);
        recover_ok(&f, &res);
        g_assert_cmpuint(res.disks_synced, >=, 1);
        assert_healthy(&f, "Volume4");
        fixture_done(&f);
}

static void test_in_flight(gconstpointer data) {
        LdmTxnStep stop = GPOINTER_TO_INT(data);
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        transact(&f, edit_touch_volume1, stop, NULL);
        recover_ok(&f, &res);
        assert_healthy(&f, "Volume1");
        fixture_done(&f);
}

static void test_missing_disk(void) {
        Fixture f;
        RepairResult res;
        char *before[N_IMAGES];

        fixture_init(&f, false);
        for (size_t i = 0; i < f.n_paths; i++)
                g_assert_cmpint(test_run(&before[i], "sha256sum '%s'", f.paths[i]), ==, 0);
        run_op(&f, REPAIR_RECOVER, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_VOLUME_NOT_HEALTHY);
        g_assert_nonnull(strstr(res.remaining, "Volume3"));
        g_assert_cmpuint(res.bytes_repaired, ==, 0);
        for (size_t i = 0; i < f.n_paths; i++) {
                g_autofree char *after = NULL;
                g_assert_cmpint(test_run(&after, "sha256sum '%s'", f.paths[i]), ==, 0);
                g_assert_cmpstr(after, ==, before[i]);
                g_free(before[i]);
        }
        fixture_done(&f);
}

/* A hostile Partition record (VBLK slots carry no checksum): Disk5-01, the first plex of the
 * mirror Volume3 on the MBR disk mirrored-1, moved to `moved_start` and marked "recover" so
 * that a Recover would resynchronise it from Disk6-01. Disk5 also holds Disk5-02 (Volume5,
 * sectors 32833…96321 of its 100289-sector public region); its private region follows the
 * public region. */
static uint64_t moved_start;
static void edit_move_disk5(LdmPack *p, LdmTxn *t) {
        LdmRecord *r = ldm_txn_edit(t, find_extent(p, "Disk5-01")->id);

        g_assert_nonnull(r);
        r->partition.start = moved_start;
        r->partition.flags |= LDM_PARTITION_FLAG_RECOVER;
        r->dirty = true;
}

/* The reader names the record, its disk and where the record is; the strict validator
 * repeats it; the extent is left out of the model and every volume in `failed` is Failed. */
static void assert_extent_rejected(const Fixture *f, const char *record, const char *says,
                                   const char *const *failed) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        _cleanup_(ldm_diag_list_clear) LdmDiagList strict = {};
        LdmPack *p = scan_pack(f, &scan);
        const LdmDiag *d;

        g_assert_nonnull(p);
        d = find_diag(&p->diags, "record", record, says);
        g_assert_nonnull(d);
        g_test_message("%s at %s+0x%" G_GINT64_MODIFIER "x: %s", d->structure, d->disk, d->offset, d->message);
        g_assert_nonnull(strstr(d->message, "on Disk5 ("));
        g_assert_nonnull(strstr(d->message, "mirrored-1.img"));
        g_assert_cmpstr(d->disk, ==, p->authority->path);
        g_assert_cmpuint(d->offset, <, p->authority->size);
        g_assert_cmpuint(p->flags & VDS_PKF_CORRUPTED, ==, VDS_PKF_CORRUPTED);
        for (size_t i = 0; i < p->n_extents; i++)
                g_assert_cmpstr(p->extents[i].name, !=, record);
        for (; *failed; failed++) {
                g_assert_cmpint(find_volume(p, *failed)->status, ==, VDS_VS_FAILED);
                g_assert_cmpint(find_volume(p, *failed)->health, ==, VDS_H_FAILED);
        }
        g_assert_cmpint(ldm_validate_strict(scan, &strict), >, 0);
        g_assert_nonnull(find_diag(&strict, "rule L10", record, says));
}

/* Recover leaves every byte of every disk as it was (the private region and the other
 * volume's extent included), and fails naming the volumes it could not repair; Verify does
 * not check them either. */
static void assert_recover_writes_nothing(const Fixture *f, const char *const *failed) {
        char *before[N_IMAGES];
        RepairResult res, v;

        for (size_t i = 0; i < f->n_paths; i++)
                g_assert_cmpint(test_run(&before[i], "sha256sum '%s'", f->paths[i]), ==, 0);
        run_op(f, REPAIR_RECOVER, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_VOLUME_NOT_HEALTHY);
        g_assert_cmpuint(res.bytes_repaired, ==, 0);
        g_assert_false(res.database_committed);
        run_op(f, REPAIR_VERIFY, NULL, &v);
        g_assert_cmphex(v.hresult, ==, VDS_E_VOLUME_NOT_HEALTHY);
        g_assert_cmpuint(v.mirror_mismatches, ==, 0);
        g_assert_cmpuint(v.parity_mismatches, ==, 0);
        for (; *failed; failed++) {
                g_assert_nonnull(strstr(res.remaining, *failed));
                g_assert_nonnull(strstr(v.remaining, *failed));
        }
        for (size_t i = 0; i < f->n_paths; i++) {
                g_autofree char *after = NULL;
                g_assert_cmpint(test_run(&after, "sha256sum '%s'", f->paths[i]), ==, 0);
                g_assert_cmpstr(after, ==, before[i]);
                g_free(before[i]);
        }
}

/* Disk5-01 (32768 sectors) moved by `edit` to sector 96321: past Disk5-02, but 28800 sectors
 * beyond the public region, over the private region (and past the end of the disk).
 * Recover writes nothing, and Disk5's flags stay `disk5_flags`. */
static void extent_past_public_region(EditFn edit, uint32_t disk5_flags) {
        static const char *const failed[] = { "Volume3", NULL };
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        Fixture f;

        fixture_init(&f, true);
        moved_start = 96321;
        transact(&f, edit, 0, NULL);
        assert_extent_rejected(&f, "\"Disk5-01\"", "leave its 100289-sector public region", failed);
        assert_recover_writes_nothing(&f, failed);
        g_assert_cmphex(find_disk(scan_pack(&f, &scan), "Disk5")->flags, ==, disk5_flags);
        fixture_done(&f);
}
static void test_extent_past_public_region(void) {
        extent_past_public_region(edit_move_disk5, 0);
}

/* The same, with Disk5 marked detached (D's mark for a disk that was missing): the commit
 * clears that mark only on a disk whose stale extents this run rewrote, and what Disk5 holds
 * of Volume3 is unknown. Before the reader's rejections counted, the disk looked whole (its
 * other extent, Volume5, has no redundancy) and Recover committed the mark away. */
static void edit_move_disk5_detached(LdmPack *p, LdmTxn *t) {
        LdmRecord *r = ldm_txn_edit(t, find_disk(p, "Disk5")->id);

        g_assert_nonnull(r);
        r->disk.flags |= LDM_DISK_FLAG_DETACHED;
        r->dirty = true;
        edit_move_disk5(p, t);
}
static void test_rejected_extent_keeps_disk_mark(void) {
        extent_past_public_region(edit_move_disk5_detached, LDM_DISK_FLAG_DETACHED);
}

/* Disk5-01 split into 1 + LDM_COLUMN_MAX_EXTENTS extents, its last 32 sectors one sector
 * each (the same bytes, one extent over the per-column limit), and Disk5 marked detached. The
 * reader drops the extra extent: it used to do so without marking the plex or the disk, so
 * Volume3 was not Failed and Disk5 could look whole to the commit. */
static void edit_split_disk5_01(LdmPack *p, LdmTxn *t) {
        const LdmExtent *e = find_extent(p, "Disk5-01");
        LdmRecord *r = ldm_txn_edit(t, e->id), *d = ldm_txn_edit(t, find_disk(p, "Disk5")->id);
        LdmRecord *c = ldm_txn_edit(t, e->plex->id);
        uint64_t head = e->size - LDM_COLUMN_MAX_EXTENTS;

        g_assert_nonnull(r);
        g_assert_nonnull(d);
        g_assert_nonnull(c);
        c->component.n_partitions += LDM_COLUMN_MAX_EXTENTS;
        c->dirty = true;
        d->disk.flags |= LDM_DISK_FLAG_DETACHED;
        d->dirty = true;
        r->partition.size = head;
        r->dirty = true;
        for (uint32_t i = 0; i < LDM_COLUMN_MAX_EXTENTS; i++) {
                char name[32];
                LdmRecord *x;

                snprintf(name, sizeof(name), "Disk5-1%02u", i);
                x = ldm_txn_add(t, LDM_RECORD_PARTITION, name);
                g_assert_nonnull(x);
                x->record_flags = e->record->record_flags;
                x->partition = e->record->partition;
                x->partition.start = e->start + head + i;
                x->partition.offset_in_column = e->offset_in_column + head + i;
                x->partition.size = 1;
        }
}
static void test_extents_over_column_limit(void) {
        static const char *const failed[] = { "Volume3", NULL };
        _cleanup_(ldm_scan_freep) LdmScan *before = NULL, *after = NULL;
        LdmPack *p;
        Fixture f;

        fixture_init(&f, true);
        transact(&f, edit_split_disk5_01, 0, NULL);
        p = scan_pack(&f, &before);
        g_assert_nonnull(find_diag(&p->diags, "record", "exceeds the extents-per-column limit", NULL));
        g_assert_cmpint(find_volume(p, "Volume3")->health, ==, VDS_H_FAILED);
        assert_recover_writes_nothing(&f, failed);
        g_assert_cmphex(find_disk(scan_pack(&f, &after), "Disk5")->flags, ==, LDM_DISK_FLAG_DETACHED);
        fixture_done(&f);
}

/* Disk5-01 from sector 16449: its second half overlaps the first 8 MiB of Disk5-02. */
static void test_extents_overlap(void) {
        static const char *const failed[] = { "Volume3", "Volume5", NULL };
        Fixture f;

        fixture_init(&f, true);
        moved_start = 16449;
        transact(&f, edit_move_disk5, 0, NULL);
        assert_extent_rejected(&f, "\"Disk5-01\"", "overlap Partition 33 \"Disk5-02\"", failed);
        assert_extent_rejected(&f, "\"Disk5-02\"", "overlap Partition 18 \"Disk5-01\"", failed);
        assert_recover_writes_nothing(&f, failed);
        fixture_done(&f);
}

/* Disk5's PRIVHEAD copies grow its public region 1024 sectors into its private region (the
 * kernel's rule K4; nothing checked it): no extent of that disk is used, so both volumes on
 * it are Failed, and Recover writes nothing. */
static void test_public_region_over_private(void) {
        static const char *const failed[] = { "Volume3", "Volume5", NULL };
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        const LdmDevice *d;
        Fixture f;

        fixture_init(&f, true);
        d = find_extent(scan_pack(&f, &scan), "Disk5-01")->disk->device;
        g_assert_cmpint(ldm_io_open(d->path, LDM_IO_WRITE, &io), ==, 0);
        for (LdmPrivheadCopy c = 0; c < _LDM_PRIVHEAD_COPY_MAX; c++) {
                uint64_t lba = c == LDM_PRIVHEAD_COPY_LBA6 ? LDM_PRIVHEAD_MBR_LBA :
                               d->privhead.priv_start + (c == LDM_PRIVHEAD_COPY_2047 ? LDM_PRIVHEAD_REL_A : LDM_PRIVHEAD_REL_B);
                LdmPrivhead ph = d->copies->privheads[c];
                uint8_t sector[512];

                if (d->privhead_state[c] != 0)
                        continue;
                ph.pub_size += 1024;
                ldm_privhead_encode(&ph, sector);
                g_assert_cmpint(ldm_io_pwrite(io, sector, sizeof sector, lba * 512), ==, 0);
        }
        io = ldm_io_close(io);
        scan = ldm_scan_free(scan);

        assert_extent_rejected(&f, "\"Disk5-01\"", "over the private region", failed);
        assert_extent_rejected(&f, "\"Disk5-02\"", "over the private region", failed);
        assert_recover_writes_nothing(&f, failed);
        fixture_done(&f);
}

/* The PRIVHEAD and TOCBLOCK copies of the disk holding `extent` give its log region one
 * sector less: its database copy is of another geometry than the pack's, which Recover
 * cannot rewrite. */
static void shrink_log_region(const Fixture *f, const char *extent) {
        static const uint64_t toc_rel[] = { 1, 2, 2045, 2046 };
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        const LdmDevice *d = find_extent(scan_pack(f, &scan), extent)->disk->device;
        uint8_t sector[512];

        g_assert_cmpint(ldm_io_open(d->path, LDM_IO_WRITE, &io), ==, 0);
        for (LdmPrivheadCopy c = 0; c < _LDM_PRIVHEAD_COPY_MAX; c++) {
                uint64_t lba = c == LDM_PRIVHEAD_COPY_LBA6 ? LDM_PRIVHEAD_MBR_LBA :
                               d->privhead.priv_start + (c == LDM_PRIVHEAD_COPY_2047 ? LDM_PRIVHEAD_REL_A : LDM_PRIVHEAD_REL_B);
                LdmPrivhead ph = d->copies->privheads[c];

                if (d->privhead_state[c] != 0)
                        continue;
                ph.log_size--;
                ldm_privhead_encode(&ph, sector);
                g_assert_cmpint(ldm_io_pwrite(io, sector, sizeof sector, lba * 512), ==, 0);
        }
        for (size_t slot = 0; slot < ELEMENTSOF(toc_rel); slot++) {
                LdmTocblock toc = d->copies->tocs[slot];

                if (d->toc_state[slot] != 0)
                        continue;
                toc.regions[1].size--;
                ldm_tocblock_encode(&toc, sector);
                g_assert_cmpint(ldm_io_pwrite(io, sector, sizeof sector,
                                              (d->privhead.priv_start + toc_rel[slot]) * 512), ==, 0);
        }
}

/* A stale mirror plex (Volume3's, on Disk6) in a pack where Disk1's database copy is of
 * another geometry; with `behind`, the plex is stale because Disk6's copy missed a
 * transaction, so the recover markers are written first. The data step resynchronises the
 * plex; each transaction goes to every disk whose copy is the authority's and leaves Disk1's,
 * which it would refuse, behind, named in the result. Before, the transactions tried Disk1
 * too and failed on every run: the plex was copied again each time (or never) and its
 * recover mark never cleared. The scan no longer takes Disk1's copy for the others' either:
 * it was the authority, first in device order, and every other copy was left behind. */
static void test_copy_of_other_geometry(gconstpointer data) {
        bool behind = GPOINTER_TO_INT(data);
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        RepairResult res;
        LdmPack *p;
        Fixture f;

        fixture_init(&f, true);
        if (behind)
                transact(&f, edit_touch_volume1, 0, images[MIRROR2]);
        else {
                transact(&f, edit_flag_disk6, 0, NULL);
                scribble_extent(&f, "Disk6-01", 0, 1 << 20);
        }
        shrink_log_region(&f, "Disk1-01");

        run_op(&f, REPAIR_RECOVER, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_VOLUME_NOT_HEALTHY);
        g_assert_nonnull(strstr(res.remaining, "spanned-1.img: config/log regions of 1481/223 sectors where the pack's are 1481/224 (another geometry)"));
        g_assert_null(strstr(strstr(res.remaining, "spanned-1.img") + 1, "spanned-1.img")); /* once */
        g_assert_null(strstr(res.remaining, "spanned-2.img"));
        g_assert_true(res.database_committed);
        g_assert_cmpuint(res.disks_synced, ==, behind ? 1 : 0);
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);
        p = scan_pack(&f, &scan);
        g_assert_false(find_extent(p, "Disk6-01")->flags & LDM_PARTITION_FLAG_RECOVER);
        g_assert_false(find_extent(p, "Disk6-01")->disk->db_stale);
        g_assert_true(find_extent(p, "Disk1-01")->disk->db_stale);
        g_assert_cmpint(find_volume(p, "Volume3")->health, ==, VDS_H_HEALTHY);

        /* Nothing else to do: the second run copies no data, and says the same. */
        run_op(&f, REPAIR_RECOVER, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_VOLUME_NOT_HEALTHY);
        g_assert_nonnull(strstr(res.remaining, "spanned-1.img: config/log regions of 1481/223 sectors where the pack's are 1481/224 (another geometry)"));
        g_assert_cmpuint(res.bytes_repaired, ==, 0);
        fixture_done(&f);
}

/* The engine reopens disks by path between its steps: a disk that took a probed disk's path
 * meanwhile (hot-swapped; here another disk of the same pack, so only the disk GUID differs)
 * is refused with a message naming it, and nothing is written to it. */
static void test_swapped_disk_refused(void) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        g_autofree char *before = NULL, *after = NULL;
        RepairRequest req = {};
        RepairResult res = {};
        RepairContext c = { .req = &req, .res = &res };
        const char *victim;
        Fixture f;

        fixture_init(&f, true);
        c.pack = scan_pack(&f, &scan);
        victim = find_extent(c.pack, "Disk5-01")->disk->device->path;
        test_copy_file(find_extent(c.pack, "Disk6-01")->disk->device->path, victim);
        g_assert_cmpint(test_run(&before, "sha256sum '%s'", victim), ==, 0);
        g_assert_cmpint(repair_open_disks(&c, LDM_IO_WRITE), ==, -ESTALE);
        g_assert_null(c.ios);
        g_assert_nonnull(strstr(res.message, "is not the disk it was a moment ago"));
        g_assert_nonnull(strstr(res.message, victim));
        g_assert_cmpint(test_run(&after, "sha256sum '%s'", victim), ==, 0);
        g_assert_cmpstr(after, ==, before);
        fixture_done(&f);
}

/* Below the model: an extent moved past its disk's public region after the model was built
 * (pack.c would have left it out) is refused by the engine's column writer, which writes
 * nothing and keeps the extent for the job's message. */
static void test_write_guard(void) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        g_autofree uint8_t *buf = g_malloc0(1 << 20);
        g_autofree char *before = NULL, *after = NULL;
        RepairRequest req = {};
        RepairResult res = {};
        RepairContext c = { .req = &req, .res = &res };
        LdmExtent *e;
        Fixture f;

        fixture_init(&f, true);
        c.pack = scan_pack(&f, &scan);
        e = find_extent(c.pack, "Disk5-01");
        /* 3968 sectors (1984 KiB) of it left in the public region, then the private region. */
        e->start = 96321;
        g_assert_cmpint(test_run(&before, "sha256sum '%s'", e->disk->device->path), ==, 0);
        g_assert_cmpint(repair_open_disks(&c, LDM_IO_WRITE), ==, 0);
        g_assert_cmpint(repair_column_io(&c, &e->plex->columns[0], true, 1 << 20, buf, 1 << 20), ==, -EINVAL);
        g_assert_true(atomic_load(&c.refused_extent) == e);
        g_assert_cmpint(repair_column_io(&c, &e->plex->columns[0], false, 1 << 20, buf, 1 << 20), ==, 0);
        repair_close_disks(&c);
        g_assert_cmpint(test_run(&after, "sha256sum '%s'", e->disk->device->path), ==, 0);
        g_assert_cmpstr(after, ==, before);
        fixture_done(&f);
}

static void test_no_quorum(void) {
        Fixture f;
        RepairResult res;
        char *before[N_IMAGES];

        fixture_init(&f, true);
        /* A stale plex: work Recover would do, had it quorum. */
        g_assert_cmpint(ldm_damage_stale_plex(f.paths, f.n_paths, "Volume3", 1, true), ==, 0);
        f.n_paths = 4; /* 4 of 9 disks: quorum is 5 */
        for (size_t i = 0; i < f.n_paths; i++)
                g_assert_cmpint(test_run(&before[i], "sha256sum '%s'", f.paths[i]), ==, 0);
        run_op(&f, REPAIR_RECOVER, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_PACK_OFFLINE);
        g_assert_nonnull(strstr(res.message, "quorum"));
        for (size_t i = 0; i < f.n_paths; i++) {
                g_autofree char *after = NULL;
                g_assert_cmpint(test_run(&after, "sha256sum '%s'", f.paths[i]), ==, 0);
                g_assert_cmpstr(after, ==, before[i]);
                g_free(before[i]);
        }
        f.n_paths = N_IMAGES;
        fixture_done(&f);
}

/* Disk6's plex of Volume3 stale and all of it overwritten, and a Recover cancelled once
 * 6 MiB of it are copied, with a checkpoint every MiB (left so for the next run). */
static void cancelled_resync(Fixture *f) {
        RepairResult res;
        Progress prog = { .cancel_at = 6u << 20 };

        fixture_init(f, true);
        transact(f, edit_flag_disk6, 0, NULL);
        scribble_extent(f, "Disk6-01", 0, 16 << 20);
        checkpoint_interval = 1u << 20;
        run_op(f, REPAIR_RECOVER, &prog, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_OPERATION_CANCELED);
        g_assert_false(res.database_committed);
        g_assert_cmpuint(res.bytes_repaired, >=, 6u << 20);
        g_assert_cmpuint(res.bytes_repaired, <, 16u << 20);
        g_assert_false(prog.went_backwards);
}

static void test_cancel_then_resume(void) {
        Fixture f;
        RepairResult res;

        cancelled_resync(&f);

        recover_ok(&f, &res);
        checkpoint_interval = 4u << 20;
        g_assert_cmpuint(res.bytes_resumed, >=, 6u << 20);
        g_assert_cmpuint(res.bytes_repaired + res.bytes_resumed, ==, 16u << 20);
        assert_healthy(&f, "Volume3");
        /* The checkpoint is gone once the commit is written. */
        g_autofree char *ls = NULL;
        g_assert_cmpint(test_run(&ls, "ls -A '%s'", f.state), ==, 0);
        g_assert_cmpstr(ls, ==, "");
        fixture_done(&f);
}

static void judge_ok(const Fixture *f) {
        g_autofree char *paths = all_paths(f), *out = NULL;

        if (test_run(&out, "%s/tools/ldmcheck --data --strict %s 2>&1", test_shared_dir(), paths) != 0) {
                g_test_message("ldmcheck:\n%s", out);
                g_assert_not_reached();
        }
}

/* What Windows leaves after using the pack between two runs: its volume manager rewrote KLOG
 * page 0 (here: the next log sequence number) on every copy, and it wrote the volume, to its
 * healthy plex alone. The database sequence is the same. */
static void windows_used_pack(const Fixture *f) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *p = scan_pack(f, &scan);
        LdmKlogPage page = p->db->klog[0];
        uint8_t sector[512];

        page.sequence++;
        ldm_klog_encode(&page, sector);
        for (size_t i = 0; i < p->n_devices; i++) {
                _cleanup_(ldm_io_closep) LdmIo *io = NULL;
                const LdmDevice *d = p->devices[i];

                g_assert_cmpint(ldm_io_open(d->path, LDM_IO_WRITE, &io), ==, 0);
                g_assert_cmpint(ldm_io_pwrite(io, sector, 512, (d->privhead.priv_start + d->toc.regions[1].start) * 512), ==, 0);
        }
        scribble_extent(f, "Disk5-01", 0, 2 << 20);
}

/* A cancelled resync, then the pack used by Windows, then Recover again: the checkpoint
 * (made at the same database sequence) no longer vouches for the plex's first megabytes,
 * whose source changed; the copy starts over. Before, it resumed, and the plexes differed
 * where Windows had written. */
static void test_resume_after_windows(void) {
        Fixture f;
        RepairResult res, v;

        cancelled_resync(&f);
        windows_used_pack(&f);
        recover_ok(&f, &res);
        checkpoint_interval = 4u << 20;
        g_assert_cmpuint(res.bytes_resumed, ==, 0);
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);
        run_op(&f, REPAIR_VERIFY, NULL, &v);
        g_assert_cmphex(v.hresult, ==, VDS_S_OK);
        g_assert_cmpuint(v.mirror_mismatches, ==, 0);
        judge_ok(&f);
        fixture_done(&f);
}

/* Fails every data write to Disk8 after `budget` bytes, as a disk that drops off would. */
static atomic_uint_fast64_t fault_budget;
static int fault_hook(void *ud, LdmIo *io, LdmIoOp op, uint64_t offset, const void *buf, size_t len) {
        if (op != LDM_IO_OP_WRITE || !g_str_has_suffix(ldm_io_path(io), "raid5-2.img") || offset < 33619968)
                return 0;
        if (atomic_load(&fault_budget) < len)
                return -EIO;
        atomic_fetch_sub(&fault_budget, len);
        return 0;
}

static void test_fault_then_resume(void) {
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        transact(&f, edit_flag_disk8, 0, NULL);
        scribble_extent(&f, "Disk8-01", 0, 8 << 20);
        atomic_store(&fault_budget, (5u << 20) + (512u << 10));
        checkpoint_interval = 1u << 20;
        ldm_io_set_fault_hook(fault_hook, NULL);
        run_op(&f, REPAIR_RECOVER, NULL, &res);
        ldm_io_set_fault_hook(NULL, NULL);
        g_assert_cmphex(res.hresult, ==, VDS_E_DISK_IO_FAILING);
        g_assert_nonnull(strstr(res.message, "raid5-2.img"));
        g_assert_false(res.database_committed);

        recover_ok(&f, &res);
        checkpoint_interval = 4u << 20;
        /* Resumed from the last flushed checkpoint: 5 of the 5.5 MiB that got through. */
        g_assert_cmpuint(res.bytes_resumed, ==, 5u << 20);
        g_assert_cmpuint(res.bytes_repaired, ==, 11u << 20);
        assert_healthy(&f, "Volume4");
        fixture_done(&f);
}

static void test_verify_counts(void) {
        Fixture f;
        RepairResult v;

        fixture_init(&f, true);
        /* Silent corruption (no marker): Verify must see it, Recover would not touch it. */
        scribble_extent(&f, "Disk6-01", 100 << 10, 200 << 10); /* 64 KiB regions 1..4 */
        scribble_extent(&f, "Disk7-01", 1 << 20, 4096);        /* one RAID-5 row */
        run_op(&f, REPAIR_VERIFY, NULL, &v);
        g_assert_cmphex(v.hresult, ==, VDS_S_OK);
        g_assert_cmpuint(v.mirror_mismatches, ==, 4);
        g_assert_cmpuint(v.parity_mismatches, ==, 1);
        fixture_done(&f);
}

/* Verify without Disk6 (plex 2 of the mirror): the mirror cannot be scrubbed, the RAID-5
 * still is. The job fails, naming the disk and the volume, and still counts what it found. */
static void test_verify_missing_disk(void) {
        Fixture f;
        RepairResult v;
        Progress prog = {};

        fixture_init(&f, false);
        scribble_extent(&f, "Disk7-01", 1 << 20, 4096);        /* one RAID-5 row */
        run_op(&f, REPAIR_VERIFY, &prog, &v);
        g_assert_cmphex(v.hresult, ==, VDS_E_VOLUME_NOT_HEALTHY);
        g_assert_nonnull(strstr(v.message, "Volume3"));
        g_assert_nonnull(strstr(v.message, "Disk6"));
        g_assert_nonnull(strstr(v.remaining, "Volume3-02"));
        g_assert_nonnull(strstr(v.remaining, "Disk6"));
        g_assert_cmpuint(v.parity_mismatches, ==, 1);
        g_assert_cmpuint(v.mirror_mismatches, ==, 0);
        /* Only the RAID-5 was in the plan, and all of it was read. */
        g_assert_cmpuint(prog.final_total, ==, 32u << 20);
        g_assert_cmpuint(prog.final_done, ==, 32u << 20);
        fixture_done(&f);
}

/* A hostile Component record (VBLK slots carry no checksum): the RAID-5 plex's stripe size
 * 2^55 sectors, 2^64 bytes. */
static void edit_raid5_huge_stripe(LdmPack *p, LdmTxn *t) {
        LdmRecord *r = ldm_txn_edit(t, find_volume(p, "Volume4")->plexes[0]->id);

        g_assert_nonnull(r);
        r->component.stripe_size = UINT64_C(1) << 55;
        r->dirty = true;
}

/* Verify leaves out a RAID-5 whose layout does not hold together, as Recover does, names it,
 * and still scrubs the mirror. Before, it computed rows with a stripe of 0 bytes (the size in
 * bytes wrapped) and the job died of a division by zero, taking the daemon with it. */
static void test_verify_hostile_stripe(void) {
        Fixture f;
        RepairResult v, res;
        Progress prog = {};

        fixture_init(&f, true);
        transact(&f, edit_raid5_huge_stripe, 0, NULL);
        run_op(&f, REPAIR_VERIFY, &prog, &v);
        g_assert_cmphex(v.hresult, ==, VDS_E_VOLUME_NOT_HEALTHY);
        g_assert_nonnull(strstr(v.remaining, "Volume4"));
        g_assert_cmpuint(v.mirror_mismatches, ==, 0);
        g_assert_cmpuint(v.parity_mismatches, ==, 0);
        /* The mirror alone was in the plan, and all of it was read. */
        g_assert_cmpuint(prog.final_total, ==, 16u << 20);
        g_assert_cmpuint(prog.final_done, ==, 16u << 20);
        run_op(&f, REPAIR_RECOVER, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_VOLUME_NOT_HEALTHY);
        g_assert_nonnull(strstr(res.remaining, "Volume4"));
        fixture_done(&f);
}

/* A hostile Volume record: the mirror Volume3 one sector larger than its plexes (each plex
 * is a whole copy of the volume), its second plex stale; and a stale RAID-5 column
 * (Disk8-01) to repair. */
static void edit_mirror_too_large(LdmPack *p, LdmTxn *t) {
        LdmRecord *r = ldm_txn_edit(t, find_volume(p, "Volume3")->id);

        g_assert_nonnull(r);
        r->volume.size++;
        r->dirty = true;
        set_partition_flag(p, t, "Disk6-01", LDM_PARTITION_FLAG_RECOVER);
        set_partition_flag(p, t, "Disk8-01", LDM_PARTITION_FLAG_RECOVER);
}

/* Recover leaves the mirror alone, names it, and still rebuilds the RAID-5 column; a second
 * run has nothing more to do. Before, the plan refused the whole pack ("a volume's layout is
 * inconsistent, nothing repaired") on every run: the RAID-5 stayed without redundancy for
 * one bad record elsewhere. */
static void test_mirror_larger_than_plexes(void) {
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        transact(&f, edit_mirror_too_large, 0, NULL);
        scribble_extent(&f, "Disk8-01", 64 << 10, 3 << 20);
        run_op(&f, REPAIR_RECOVER, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_VOLUME_NOT_HEALTHY);
        g_assert_nonnull(strstr(res.remaining, "Volume3: inconsistent layout"));
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);
        g_assert_true(res.database_committed);

        run_op(&f, REPAIR_RECOVER, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_VOLUME_NOT_HEALTHY);
        g_assert_cmpuint(res.bytes_repaired, ==, 0);
        g_assert_false(res.database_committed);
        run_op(&f, REPAIR_VERIFY, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_VOLUME_NOT_HEALTHY);
        g_assert_nonnull(strstr(res.remaining, "Volume3: inconsistent layout"));
        g_assert_cmpuint(res.parity_mismatches, ==, 0);
        fixture_done(&f);
}

/* Power cut after the k-th write of a Recover (a disk behind by one transaction and its
 * plex overwritten): every later write fails, the job stops there; a second Recover must
 * reach the same healthy pack whatever k was. */
static atomic_uint writes_left;
static atomic_uint writes_seen;
static int cut_hook(void *ud, LdmIo *io, LdmIoOp op, uint64_t offset, const void *buf, size_t len) {
        if (op == LDM_IO_OP_READ)
                return 0;
        if (op == LDM_IO_OP_WRITE)
                atomic_fetch_add(&writes_seen, 1);
        if (atomic_load(&writes_left) == 0)
                return -EIO;
        if (op == LDM_IO_OP_WRITE)
                atomic_fetch_sub(&writes_left, 1);
        return 0;
}

static void power_cut_once(unsigned cut, unsigned *ret_total) {
        Fixture f;
        RepairResult res;
        bool counting = cut == UINT_MAX;

        fixture_init(&f, true);
        transact(&f, edit_touch_volume1, 0, "mirrored-2.img");
        scribble_extent(&f, "Disk6-01", 4 << 20, 1 << 20);

        atomic_store(&writes_seen, 0);
        atomic_store(&writes_left, cut);
        ldm_io_set_fault_hook(cut_hook, NULL);
        run_op(&f, REPAIR_RECOVER, NULL, &res);
        ldm_io_set_fault_hook(NULL, NULL);
        if (counting) {
                g_assert_cmphex(res.hresult, ==, VDS_S_OK);
                *ret_total = atomic_load(&writes_seen);
        } else {
                g_assert_cmphex(res.hresult, !=, VDS_S_OK);
                recover_ok(&f, &res);
        }
        assert_healthy(&f, NULL);
        fixture_done(&f);
}

static void test_power_cut(void) {
        /* Early cuts land in the metadata sync (markers, copies), middle ones in the data
         * copy, the last ones in the final transaction. */
        static const unsigned early[] = { 0, 1, 3, 8, 13, 21, 34, 55 };
        static const unsigned from_end[] = { 1, 6, 15 };
        unsigned total = 0;

        power_cut_once(UINT_MAX, &total);
        g_test_message("a full Recover issued %u writes", total);
        g_assert_cmpuint(total, >, 100);
        for (size_t i = 0; i < ELEMENTSOF(early); i++)
                power_cut_once(early[i], NULL);
        for (size_t i = 0; i < ELEMENTSOF(from_end); i++)
                power_cut_once(total - from_end[i], NULL);
}

/* Appends a KLOG "dirty" entry (§8 status 2) naming volume to page 0 of every disk whose
 * database is current (a disk behind keeps its page). */
/* On the copies at the pack's generation; `only`: on the image of that name alone. */
static void mark_volume_dirty_on(const Fixture *f, const char *volume, const char *only) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *p = scan_pack(f, &scan);
        LdmKlogPage page = p->db->klog[0];
        uint8_t sector[512];

        g_assert_cmpuint(page.n_entries, <, LDM_KLOG_MAX_ENTRIES);
        page.entries[page.n_entries++] = (LdmKlogEntry) { .status = 2, .committed = find_volume(p, volume)->id };
        ldm_klog_encode(&page, sector);
        for (size_t i = 0; i < p->n_devices; i++) {
                _cleanup_(ldm_io_closep) LdmIo *io = NULL;
                const LdmDevice *d = p->devices[i];

                if (d->effective_committed != p->committed_seq || (only && !g_str_has_suffix(d->path, only)))
                        continue;
                g_assert_cmpint(ldm_io_open(d->path, LDM_IO_WRITE, &io), ==, 0);
                g_assert_cmpint(ldm_io_pwrite(io, sector, 512, (d->privhead.priv_start + d->toc.regions[1].start) * 512), ==, 0);
        }
}
static void mark_volume_dirty(const Fixture *f, const char *volume) {
        mark_volume_dirty_on(f, volume, NULL);
}

/* A KLOG "dirty" entry naming the mirror: its plexes may differ anywhere, so Recover copies
 * the first plex over the second and then clears the entry. */
static void test_klog_dirty(void) {
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        mark_volume_dirty(&f, "Volume3");
        scribble_extent(&f, "Disk6-01", 8 << 20, 64 << 10);

        recover_ok(&f, &res);
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);
        assert_healthy(&f, "Volume3");
        fixture_done(&f);
}

/* The mark on one copy only, not the first disk's (a crash while Windows wrote the KLOG
 * pages disk by disk): the reader calls the volume in need of resync, and Recover spreads
 * the mark with the database and resynchronises the mirror. Before, the reader went by the
 * authority's KLOG alone, and the database sync overwrote the one copy holding the mark with
 * the authority's log: the mirror's plexes stayed different in a volume called healthy. */
static void test_klog_dirty_one_copy(void) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        mark_volume_dirty_on(&f, "Volume3", images[MIRROR2]);
        scribble_extent(&f, "Disk6-01", 8 << 20, 64 << 10);
        g_assert_cmpint(find_volume(scan_pack(&f, &scan), "Volume3")->health, !=, VDS_H_HEALTHY);

        recover_ok(&f, &res);
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);
        assert_healthy(&f, "Volume3");
        fixture_done(&f);
}

/* The same mark while a RAID-5 disk is one transaction behind: the database sync commits a
 * transaction (what that disk holds is marked stale) before the data step, and its KLOG commit
 * entry (§11.1 step 3 replaces the last entry) once took the mark's place, so the mirror was
 * never resynchronised and Recover still said S_OK. */
static void test_klog_dirty_behind(void) {
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        transact(&f, edit_touch_volume1, 0, "raid5-3.img");
        mark_volume_dirty(&f, "Volume3");
        scribble_extent(&f, "Disk6-01", 8 << 20, 64 << 10);

        recover_ok(&f, &res);
        g_assert_cmpuint(res.volumes_touched, ==, 2);
        assert_healthy(&f, "Volume3");
        fixture_done(&f);
}

/* ---- packs made by mkldm: 4 disks, a mirror and a 3-column RAID-5 that share disk 2,
 * filled with a pattern through the volume writer (which keeps parity right). ---- */

static void mkldm_fixture(Fixture *f, bool gpt) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        const char *build = g_getenv("LDM_BUILD_ROOT");
        g_autofree char *out = NULL;

        *f = (Fixture) { .dir = fixture_dir() };
        f->state = g_build_filename(f->dir, "state", NULL);
        g_assert_cmpint(g_mkdir(f->state, 0700), ==, 0);
        for (int i = 0; i < 4; i++)
                f->paths[f->n_paths++] = g_strdup_printf("%s/disk%d.img", f->dir, i + 1);
        g_assert_nonnull(build);
        if (test_run(&out, "%s/tools/mkldm %s --name RepairTest --create 64M "
                     "--volume mirror:16M:Mirror@1,2 --volume raid5:24M:Parity@2,3,4 "
                     "'%s' '%s' '%s' '%s' 2>&1", build, gpt ? "--gpt" : "",
                     f->paths[0], f->paths[1], f->paths[2], f->paths[3]) != 0) {
                g_test_message("mkldm: %s", out);
                g_assert_not_reached();
        }
        g_assert_cmpint(ldm_scan_paths(f->paths, f->n_paths, &scan), ==, 0);
        g_assert_cmpuint(scan->n_packs, ==, 1);
        f->guid = scan->packs[0]->guid;

        /* Fill both volumes with a position-dependent pattern. */
        for (size_t v = 0; v < scan->packs[0]->n_volumes; v++) {
                _cleanup_(ldm_volume_io_closep) LdmVolumeIo *vio = NULL;
                g_autofree uint8_t *buf = g_malloc(1 << 20);
                uint64_t size;

                g_assert_cmpint(ldm_volume_io_open(&scan->packs[0]->volumes[v], LDM_IO_WRITE, &vio), ==, 0);
                size = ldm_volume_io_size(vio);
                for (uint64_t off = 0; off < size; off += 1 << 20) {
                        for (size_t i = 0; i < (1 << 20); i += 8)
                                memcpy(buf + i, &(uint64_t) { (off + i) * 2654435761u + v }, 8);
                        g_assert_cmpint(ldm_volume_write(vio, off, buf, MIN((uint64_t) 1 << 20, size - off)), ==, 0);
                }
                g_assert_cmpint(ldm_volume_flush(vio), ==, 0);
        }
}

static void volume_sums(const Fixture *f, char *sums[static 2]) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *p = scan_pack(f, &scan);

        g_assert_nonnull(p);
        sums[0] = volume_sha256(find_volume(p, "Mirror"));
        sums[1] = volume_sha256(find_volume(p, "Parity"));
}


static void edit_flag_mkldm(LdmPack *p, LdmTxn *t) {
        /* The mirror's second plex (disk 2) and the RAID-5's second column (disk 3). */
        LdmVolume *m = find_volume(p, "Mirror"), *r5 = find_volume(p, "Parity");
        LdmRecord *r;

        r = ldm_txn_edit(t, m->plexes[1]->columns[0].extents[0]->id);
        g_assert_nonnull(r);
        r->partition.flags |= LDM_PARTITION_FLAG_RECOVER;
        r->dirty = true;
        r = ldm_txn_edit(t, r5->plexes[0]->columns[1].extents[0]->id);
        g_assert_nonnull(r);
        r->partition.flags |= LDM_PARTITION_FLAG_RECOVER;
        r->dirty = true;
}

static void test_mkldm(gconstpointer data) {
        bool gpt = GPOINTER_TO_INT(data);
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        char *before[2], *after[2];
        Fixture f;
        RepairResult res;
        LdmPack *p;

        mkldm_fixture(&f, gpt);
        judge_ok(&f);
        volume_sums(&f, before);

        transact(&f, edit_flag_mkldm, 0, NULL);
        p = scan_pack(&f, &scan);
        scribble_extent(&f, find_volume(p, "Mirror")->plexes[1]->columns[0].extents[0]->name, 0, 2 << 20);
        scribble_extent(&f, find_volume(p, "Parity")->plexes[0]->columns[1].extents[0]->name, 1 << 20, 2 << 20);

        recover_ok(&f, &res);
        g_assert_cmpuint(res.volumes_touched, ==, 2);
        g_assert_cmpuint(res.bytes_repaired, ==, (16u << 20) + (12u << 20));
        judge_ok(&f);
        volume_sums(&f, after);
        for (int i = 0; i < 2; i++) {
                g_assert_cmpstr(after[i], ==, before[i]);
                g_free(before[i]);
                g_free(after[i]);
        }
        fixture_done(&f);
}

/* ---- a three-way mirror: mkldm makes two plexes, a third one is added on disk 4 (after its
 * RAID-5 column) and given the first plex's data. ---- */

static void edit_add_third_plex(LdmPack *p, LdmTxn *t) {
        LdmVolume *m = find_volume(p, "Mirror");
        const LdmExtent *e2 = m->plexes[1]->columns[0].extents[0];
        const LdmDisk *d4 = find_volume(p, "Parity")->plexes[0]->columns[2].extents[0]->disk;
        uint64_t start = 0;
        LdmRecord *c, *x, *v;

        for (size_t i = 0; i < p->n_extents; i++)
                if (p->extents[i].disk == d4)
                        start = MAX(start, p->extents[i].start + p->extents[i].size);
        c = ldm_txn_add(t, LDM_RECORD_COMPONENT, "Mirror-03");
        g_assert_nonnull(c);
        c->record_flags = m->plexes[1]->record->record_flags;
        c->component = m->plexes[1]->record->component;
        x = ldm_txn_add(t, LDM_RECORD_PARTITION, "Disk4-02");
        g_assert_nonnull(x);
        x->record_flags = e2->record->record_flags;
        x->partition = e2->record->partition;
        x->partition.parent_component_id = c->id;
        x->partition.disk_id = d4->id;
        x->partition.start = start;
        x->partition.flags = 0;
        v = ldm_txn_edit(t, m->id);
        g_assert_nonnull(v);
        v->volume.n_components = 3;
        v->dirty = true;
}

/* Copies plex `from` of volume over plex `to`, extent to extent (one each), behind the
 * engine's back. */
static void copy_plex(const Fixture *f, const char *volume, size_t from, size_t to) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        _cleanup_(ldm_io_closep) LdmIo *in = NULL, *out = NULL;
        LdmVolume *v = find_volume(scan_pack(f, &scan), volume);
        const LdmExtent *a = v->plexes[from]->columns[0].extents[0], *b = v->plexes[to]->columns[0].extents[0];
        g_autofree uint8_t *buf = g_malloc(1 << 20);

        g_assert_cmpuint(a->size, ==, b->size);
        g_assert_cmpint(ldm_io_open(a->disk->device->path, 0, &in), ==, 0);
        g_assert_cmpint(ldm_io_open(b->disk->device->path, LDM_IO_WRITE, &out), ==, 0);
        for (uint64_t off = 0; off < a->size * 512; off += 1 << 20) {
                size_t len = (size_t) MIN((uint64_t) 1 << 20, a->size * 512 - off);
                g_assert_cmpint(ldm_io_pread(in, buf, len, ldm_extent_disk_offset(a) + off), ==, 0);
                g_assert_cmpint(ldm_io_pwrite(out, buf, len, ldm_extent_disk_offset(b) + off), ==, 0);
        }
}

static void three_way_fixture(Fixture *f) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmVolume *m;

        mkldm_fixture(f, false);
        transact(f, edit_add_third_plex, 0, NULL);
        copy_plex(f, "Mirror", 0, 2);
        m = find_volume(scan_pack(f, &scan), "Mirror");
        g_assert_cmpuint(m->n_plexes, ==, 3);
        g_assert_cmpint(m->health, ==, VDS_H_HEALTHY);
}

/* scribble_extent() on the (only) extent of plex i of volume. */
static void scribble_plex(const Fixture *f, const char *volume, size_t i, uint64_t at, size_t len) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmVolume *v = find_volume(scan_pack(f, &scan), volume);

        scribble_extent(f, v->plexes[i]->columns[0].extents[0]->name, at, len);
}

/* Drops path i from the fixture (a disk gone missing); returns it for put_back_path(). */
static char *take_path(Fixture *f, size_t i) {
        char *p = f->paths[i];

        memmove(f->paths + i, f->paths + i + 1, (f->n_paths - i - 1) * sizeof(char *));
        f->n_paths--;
        return p;
}

static void put_back_path(Fixture *f, size_t i, char *p) {
        memmove(f->paths + i + 1, f->paths + i, (f->n_paths - i) * sizeof(char *));
        f->paths[i] = p;
        f->n_paths++;
}

/* Verify finds the plexes of every mirror equal and every RAID-5 row right. */
static void assert_scrub_clean(const Fixture *f) {
        RepairResult v;

        run_op(f, REPAIR_VERIFY, NULL, &v);
        g_assert_cmphex(v.hresult, ==, VDS_S_OK);
        g_assert_cmpuint(v.mirror_mismatches, ==, 0);
        g_assert_cmpuint(v.parity_mismatches, ==, 0);
}

/* A dirty three-way mirror whose first plex differs from the second. A Recover without the
 * first plex's disk copies the second over the third and is cancelled half-way; with every
 * disk back (the database did not change) the first plex is the source. The third plex's
 * checkpoint was made copying another plex: resuming from it left the third plex's first
 * half the second plex's data while every other byte became the first's, and the volume
 * was marked healthy. */
static void test_mirror_resume_other_source(void) {
        Fixture f;
        RepairResult res;
        Progress prog = { .cancel_at = 6u << 20 };
        char *disk1;

        three_way_fixture(&f);
        mark_volume_dirty(&f, "Mirror");
        scribble_plex(&f, "Mirror", 1, 0, 2 << 20);

        disk1 = take_path(&f, 0);
        checkpoint_interval = 1u << 20;
        run_op(&f, REPAIR_RECOVER, &prog, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_OPERATION_CANCELED);
        g_assert_cmpuint(res.bytes_repaired, <, 16u << 20);
        put_back_path(&f, 0, disk1);

        recover_ok(&f, &res);
        checkpoint_interval = 4u << 20;
        assert_scrub_clean(&f);
        judge_ok(&f);
        /* The second and the third plex copied whole, from the first. */
        g_assert_cmpuint(res.bytes_resumed, ==, 0);
        g_assert_cmpuint(res.bytes_repaired, ==, 32u << 20);
        fixture_done(&f);
}

/* A dirty three-way mirror recovered while the third plex's disk is missing: the second
 * plex is resynchronised, the third cannot be. The volume's KLOG dirty entry must stay (the
 * third plex still may differ), so that the Recover after the disk is back resynchronises
 * it; clearing it left that plex's different bytes in a volume called healthy. */
static void test_mirror_dirty_plex_missing(void) {
        Fixture f;
        RepairResult res;
        char *disk4;

        three_way_fixture(&f);
        mark_volume_dirty(&f, "Mirror");
        scribble_plex(&f, "Mirror", 2, 1 << 20, 1 << 20);

        disk4 = take_path(&f, 3);
        run_op(&f, REPAIR_RECOVER, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_VOLUME_NOT_HEALTHY);
        g_assert_nonnull(strstr(res.remaining, "Mirror-03"));
        put_back_path(&f, 3, disk4);

        recover_ok(&f, &res);
        assert_scrub_clean(&f);
        judge_ok(&f);
        g_assert_cmpuint(res.bytes_repaired, >=, 16u << 20);
        fixture_done(&f);
}

/* ---- a power cut inside the database sync of a two-disk pack ---- */

static void edit_delete_simple(LdmPack *p, LdmTxn *t) {
        LdmVolume *v = find_volume(p, "S");
        LdmPlex *pl = v->plexes[0];

        g_assert_cmpint(ldm_txn_delete(t, pl->columns[0].extents[0]->id), ==, 0);
        g_assert_cmpint(ldm_txn_delete(t, pl->id), ==, 0);
        g_assert_cmpint(ldm_txn_delete(t, v->id), ==, 0);
}

/* Disk 2 of two missed a transaction that deleted a volume; the sync of its copy (body
 * first, VMDB sector last) lost power after the body: old VMDB, new records, which the
 * reader rejects, so 1 of 2 disks is present and the pack has no quorum. With the sync
 * journal written before the body (as write_copy() does) the next Recover counts the disk
 * and finishes the sync; without it nothing is written (which copy is newest is unknown). */
static void torn_sync_fixture(Fixture *f, LdmGuid *ret_disk1, LdmGuid *ret_disk2, uint64_t *ret_seq) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        const char *build = g_getenv("LDM_BUILD_ROOT");
        g_autofree char *out = NULL;
        const LdmDevice *a = NULL, *b = NULL;
        LdmPack *p;

        *f = (Fixture) { .dir = fixture_dir() };
        f->state = g_build_filename(f->dir, "state", NULL);
        g_assert_cmpint(g_mkdir(f->state, 0700), ==, 0);
        for (int i = 0; i < 2; i++)
                f->paths[f->n_paths++] = g_strdup_printf("%s/disk%d.img", f->dir, i + 1);
        g_assert_cmpint(test_run(&out, "%s/tools/mkldm --name TornSync --create 64M --volume mirror:16M:M@1,2 "
                                 "--volume simple:8M:S@1 '%s' '%s' 2>&1", build, f->paths[0], f->paths[1]), ==, 0);
        g_assert_cmpint(ldm_scan_paths(f->paths, f->n_paths, &scan), ==, 0);
        f->guid = scan->packs[0]->guid;
        scan = ldm_scan_free(scan);
        transact(f, edit_delete_simple, 0, "disk2.img");

        p = scan_pack(f, &scan);
        for (size_t i = 0; i < p->n_devices; i++) {
                if (g_str_has_suffix(p->devices[i]->path, "disk1.img"))
                        a = p->devices[i];
                else
                        b = p->devices[i];
        }
        g_assert_nonnull(a);
        g_assert_nonnull(b);
        g_assert_cmpuint(b->effective_committed, <, a->effective_committed);
        g_assert_cmpint(ldm_io_open(b->path, LDM_IO_WRITE, &io), ==, 0);
        g_assert_cmpint(ldm_io_pwrite(io, a->db->log, a->db->log_size,
                                      (b->privhead.priv_start + b->toc.regions[1].start) * 512), ==, 0);
        g_assert_cmpint(ldm_io_pwrite(io, a->db->config + 512, a->db->config_size - 512,
                                      (b->privhead.priv_start + b->toc.regions[0].start) * 512 + 512), ==, 0);
        *ret_disk1 = a->privhead.disk_guid;
        *ret_disk2 = b->privhead.disk_guid;
        *ret_seq = a->effective_committed;
        scan = ldm_scan_free(scan);

        /* The reader now rejects disk 2's copy: 1 of 2 disks. */
        g_assert_cmpint(ldm_scan_paths(f->paths, f->n_paths, &scan), ==, 0);
        g_assert_cmpuint(scan->n_invalid, ==, 1);
}

static void test_torn_sync_journal(void) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        RepairResult res;
        LdmGuid disk1, disk2;
        uint64_t seq;
        LdmPack *p;
        Fixture f;

        torn_sync_fixture(&f, &disk1, &disk2, &seq);
        g_assert_cmpint(sync_journal_begin(f.state, &f.guid, &disk2, seq), ==, 0);
        recover_ok(&f, &res);
        g_assert_cmpuint(res.disks_synced, ==, 1);
        g_assert_false(sync_journal_pending(f.state, &f.guid, &disk2, UINT64_MAX));
        p = scan_pack(&f, &scan);
        g_assert_cmpuint(p->n_devices, ==, 2);
        g_assert_cmpuint(scan->n_invalid, ==, 0);
        g_assert_cmpuint(p->n_volumes, ==, 1);      /* S is gone on both disks */
        g_assert_cmpint(find_volume(p, "M")->health, ==, VDS_H_HEALTHY);
        judge_ok(&f);
        fixture_done(&f);
}

static void test_torn_sync_no_journal(void) {
        RepairResult res;
        LdmGuid disk1, disk2;
        uint64_t seq;
        Fixture f;
        char *before[2];

        torn_sync_fixture(&f, &disk1, &disk2, &seq);
        /* A note for the disk whose copy reads is stale: it counts for nothing and goes. */
        g_assert_cmpint(sync_journal_begin(f.state, &f.guid, &disk1, seq), ==, 0);
        for (size_t i = 0; i < 2; i++)
                g_assert_cmpint(test_run(&before[i], "sha256sum '%s'", f.paths[i]), ==, 0);
        run_op(&f, REPAIR_RECOVER, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_PACK_OFFLINE);
        g_assert_false(sync_journal_pending(f.state, &f.guid, &disk1, UINT64_MAX));
        g_assert_false(sync_journal_pending(f.state, &f.guid, &disk1, UINT64_MAX));
        for (size_t i = 0; i < 2; i++) {
                g_autofree char *after = NULL;
                g_assert_cmpint(test_run(&after, "sha256sum '%s'", f.paths[i]), ==, 0);
                g_assert_cmpstr(after, ==, before[i]);
                g_free(before[i]);
        }
        fixture_done(&f);
}

/* ---- the 2003 R2 pack: 10 MBR disks, records split over two VBLK fragments, four
 * TOCBLOCKs per disk (two current, two older). ---- */

static const char *const images_2003[] = {
        "ldm-2003r2-simple-1.img", "ldm-2003r2-spanned-1.img", "ldm-2003r2-spanned-2.img",
        "ldm-2003r2-striped-1.img", "ldm-2003r2-striped-2.img", "ldm-2003r2-mirrored-1.img",
        "ldm-2003r2-mirrored-2.img", "ldm-2003r2-raid5-1.img", "ldm-2003r2-raid5-2.img",
        "ldm-2003r2-raid5-3.img",
};

static const struct {
        const char *name, *sha256;
} gold_2003[] = {
        { "Volume1", "6b5398dca1f9671f6e483ceb2491a76a74aa33dc2e3f30147efe2720ffe7bb3a" },
        { "Volume2", "125be910bcd26819400f505323d777d2a7d06d7017237adf61848bafd5c55278" },
        { "Stripe1", "4d09261ddb47c1ad0625326032b6a1e86f9a24192cecab10c59dc7c4ee673ddb" },
        { "Volume3", "b0aec653c2eb833d937b58bbf1d52fad836465faa771225e7d5be8f8e542763b" },
        { "Raid1", "4f9ff1f8e6e7684c6e2f7856ae38c76212f4090eded9c3af8b652be55c718f97" },
        { "Volume4", "0610313ce7e5c74dc12685195570231838db1bc72c26f07bef246338ef0e4263" },
};

/* A private copy of the 2003 R2 pack, with a state directory. */
static void fixture_2003(Fixture *f) {
        g_assert_cmpint(guid_from_string("03c0c4fc-8b6f-402b-9431-4be2e5823b1c", &f->guid), ==, 0);
        f->state = g_build_filename(f->dir, "state", NULL);
        g_assert_cmpint(g_mkdir(f->state, 0700), ==, 0);
        for (size_t i = 0; i < ELEMENTSOF(images_2003); i++) {
                g_autofree char *src = test_real_image(images_2003[i]);
                f->paths[f->n_paths] = g_build_filename(f->dir, images_2003[i], NULL);
                test_copy_file(src, f->paths[f->n_paths++]);
        }
}

static void edit_flag_2003(LdmPack *p, LdmTxn *t) {
        set_partition_flag(p, t, "Disk7-01", LDM_PARTITION_FLAG_RECOVER);
        set_partition_flag(p, t, "Disk9-01", LDM_PARTITION_FLAG_RECOVER);
}

static void test_pack_2003(void) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        Fixture f = { .dir = fixture_dir() };
        RepairResult res;
        LdmPack *p;

        fixture_2003(&f);

        /* Disk1 misses a transaction; the mirror's second plex and RAID-5 column 1 are
         * marked stale and overwritten. */
        transact(&f, edit_touch_volume1, 0, "simple-1.img");
        transact(&f, edit_flag_2003, 0, "simple-1.img");
        scribble_extent(&f, "Disk7-01", 0, 2 << 20);
        scribble_extent(&f, "Disk9-01", 10 << 20, 2 << 20);

        recover_ok(&f, &res);
        g_assert_cmpuint(res.disks_synced, ==, 1);
        g_assert_cmpuint(res.volumes_touched, ==, 2);
        g_assert_cmpuint(res.bytes_repaired, ==, 2 * 96256u * 512u);
        judge_ok(&f);

        p = scan_pack(&f, &scan);
        g_assert_nonnull(p);
        g_assert_cmpuint(p->n_devices, ==, ELEMENTSOF(images_2003));
        for (size_t i = 0; i < ELEMENTSOF(gold_2003); i++) {
                g_autofree char *sum = volume_sha256(find_volume(p, gold_2003[i].name));
                g_assert_cmpstr(sum, ==, gold_2003[i].sha256);
        }
        fixture_done(&f);
}

/* A record of two fragments in different sectors, edited by a transaction that reached its
 * commit point (VMDB status 3; the old version status 1, the new one status 2); then a power
 * cut inside step 5 (one flush for the whole phase, so any of its sectors may have landed)
 * kept the clearing of the old version's second fragment on every disk, not of its first.
 * Every copy then held an incomplete fragment group, and the reader rejected them all: no
 * pack left. The parse drops such a group (it is not part of the database the VMDB rolls to)
 * and Recover rewrites the copies without it. */
static uint32_t split_record_id;

static void edit_split_record(LdmPack *p, LdmTxn *t) {
        LdmRecord *r = ldm_txn_edit(t, split_record_id);

        g_assert_nonnull(r);
        r->dirty = true;
}

static void test_cut_inside_phase_2003(void) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        Fixture f = { .dir = fixture_dir() };
        uint32_t old_slot = 0;
        RepairResult res;
        LdmPack *p;

        fixture_2003(&f);
        p = scan_pack(&f, &scan);
        split_record_id = 0;
        for (size_t i = 0; i < p->db->n_records && !split_record_id; i++) {
                const LdmRecord *r = &p->db->records[i];
                if (r->n_fragments == 2 && r->slots[0] / 4 != r->slots[1] / 4) {
                        split_record_id = r->id;
                        old_slot = r->slots[1];
                }
        }
        g_assert_cmpuint(split_record_id, !=, 0);
        scan = ldm_scan_free(scan);

        transact(&f, edit_split_record, LDM_TXN_STEP_COMMIT, NULL);
        p = scan_pack(&f, &scan);
        for (size_t i = 0; i < p->n_devices; i++) {
                const LdmDevice *d = p->devices[i];
                _cleanup_(ldm_io_closep) LdmIo *io = NULL;
                uint8_t slot[128] = { 'V', 'B', 'L', 'K' };

                unaligned_write_be32(slot + 4, old_slot);
                g_assert_cmpint(ldm_io_open(d->path, LDM_IO_WRITE, &io), ==, 0);
                g_assert_cmpint(ldm_io_pwrite(io, slot, sizeof slot,
                                              (d->privhead.priv_start + d->toc.regions[0].start) * 512 + old_slot * 128), ==, 0);
        }
        scan = ldm_scan_free(scan);

        /* Every copy still reads, in flight, with the group dropped and said so; strict
         * validation reports it (the kernel and libldm reject such a copy). */
        p = scan_pack(&f, &scan);
        g_assert_nonnull(p);
        {
                _cleanup_(ldm_diag_list_clear) LdmDiagList strict = {};
                bool k9 = false;

                g_assert_cmpint(ldm_validate_strict(scan, &strict), >, 0);
                for (size_t k = 0; k < strict.n_items; k++)
                        k9 = k9 || strstr(strict.items[k].structure, "K9") != NULL;
                g_assert_true(k9);
        }
        g_assert_cmpuint(p->n_devices, ==, ELEMENTSOF(images_2003));
        for (size_t i = 0; i < p->n_devices; i++) {
                const LdmDevice *d = p->devices[i];
                bool said = false;

                g_assert_true(d->in_flight);
                g_assert_cmpuint(d->db->n_dropped_groups, ==, 1);
                for (size_t k = 0; k < d->diags.n_items; k++)
                        said = said || strstr(d->diags.items[k].message, "incomplete record") != NULL;
                g_assert_true(said);
        }
        scan = ldm_scan_free(scan);

        recover_ok(&f, &res);
        judge_ok(&f);
        p = scan_pack(&f, &scan);
        g_assert_cmpuint(p->n_devices, ==, ELEMENTSOF(images_2003));
        for (size_t i = 0; i < p->n_devices; i++) {
                g_assert_false(p->devices[i]->in_flight);
                g_assert_cmpuint(p->devices[i]->db->n_dropped_groups, ==, 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(gold_2003); i++) {
                g_autofree char *sum = volume_sha256(find_volume(p, gold_2003[i].name));
                g_assert_cmpstr(sum, ==, gold_2003[i].sha256);
        }
        fixture_done(&f);
}

/* ---- the shared damage library (tests/lib/ldm-damage.h): every way it breaks a pack,
 * Recover must undo. ---- */

typedef enum DamageKind {
        DAMAGE_STALE_PLEX,
        DAMAGE_STALE_COLUMN,
        DAMAGE_ROLLBACK,
        DAMAGE_CORRUPT,
        DAMAGE_IN_FLIGHT,
} DamageKind;

typedef struct DamageCase {
        const char *name;
        DamageKind kind;
        unsigned arg;          /* plex, column, LdmDamageTarget or LdmTxnStep */
        size_t disk;           /* image index for ROLLBACK / CORRUPT */
        const char *volume;    /* the volume whose data was touched (judge extract) */
} DamageCase;

static const DamageCase damage_cases[] = {
        { "stale-plex-0", DAMAGE_STALE_PLEX, 0, 0, "Volume3" },
        { "stale-plex-1", DAMAGE_STALE_PLEX, 1, 0, "Volume3" },
        { "stale-column-0", DAMAGE_STALE_COLUMN, 0, 0, "Volume4" },
        { "stale-column-1", DAMAGE_STALE_COLUMN, 1, 0, "Volume4" },
        { "stale-column-2", DAMAGE_STALE_COLUMN, 2, 0, "Volume4" },
        { "rollback-mbr", DAMAGE_ROLLBACK, 0, 4, "Volume3" },
        { "rollback-gpt", DAMAGE_ROLLBACK, 0, 7, "Volume4" },
        { "corrupt-privhead-lba6", DAMAGE_CORRUPT, LDM_DAMAGE_PRIVHEAD_LBA6, 4, NULL },
        { "corrupt-privhead-1856", DAMAGE_CORRUPT, LDM_DAMAGE_PRIVHEAD_1856, 5, NULL },
        { "corrupt-privhead-2047", DAMAGE_CORRUPT, LDM_DAMAGE_PRIVHEAD_2047, 2, NULL },
        { "corrupt-toc-primary", DAMAGE_CORRUPT, LDM_DAMAGE_TOC_PRIMARY, 6, NULL },
        { "corrupt-toc-secondary", DAMAGE_CORRUPT, LDM_DAMAGE_TOC_SECONDARY, 8, NULL },
        { "corrupt-vmdb", DAMAGE_CORRUPT, LDM_DAMAGE_VMDB, 5, "Volume3" },
        { "in-flight-1", DAMAGE_IN_FLIGHT, LDM_TXN_STEP_RECORDS, 0, NULL },
        { "in-flight-2", DAMAGE_IN_FLIGHT, LDM_TXN_STEP_CHANGE, 0, NULL },
        { "in-flight-3", DAMAGE_IN_FLIGHT, LDM_TXN_STEP_LOG, 0, NULL },
        { "in-flight-4", DAMAGE_IN_FLIGHT, LDM_TXN_STEP_COMMIT, 0, NULL },
        { "in-flight-5", DAMAGE_IN_FLIGHT, LDM_TXN_STEP_CLEANUP, 0, NULL },
};

static void test_damage(gconstpointer data) {
        const DamageCase *dc = data;
        LdmDamageSnapshot *snap = NULL;
        Fixture f;
        RepairResult res;

        fixture_init(&f, true);
        switch (dc->kind) {
        case DAMAGE_STALE_PLEX:
                g_assert_cmpint(ldm_damage_stale_plex(f.paths, f.n_paths, "Volume3", dc->arg, true), ==, 0);
                break;
        case DAMAGE_STALE_COLUMN:
                g_assert_cmpint(ldm_damage_stale_column(f.paths, f.n_paths, "Volume4", dc->arg, true), ==, 0);
                break;
        case DAMAGE_ROLLBACK:
                /* The disk keeps its old copy while the others move on; its data may have
                 * missed writes too. */
                g_assert_cmpint(ldm_damage_snapshot(f.paths[dc->disk], &snap), ==, 0);
                g_assert_cmpint(ldm_damage_touch(f.paths, f.n_paths), ==, 0);
                g_assert_cmpint(ldm_damage_restore(snap), ==, 0);
                ldm_damage_snapshot_free(snap);
                break;
        case DAMAGE_CORRUPT:
                g_assert_cmpint(ldm_damage_corrupt(f.paths[dc->disk], dc->arg), ==, 0);
                break;
        case DAMAGE_IN_FLIGHT:
                g_assert_cmpint(ldm_damage_in_flight(f.paths, f.n_paths, dc->arg), ==, 0);
                break;
        }

        recover_ok(&f, &res);
        assert_healthy(&f, dc->volume);
        /* A second Recover finds nothing left to do. */
        recover_ok(&f, &res);
        g_assert_cmpuint(res.bytes_repaired, ==, 0);
        g_assert_cmpuint(res.disks_synced, ==, 0);
        fixture_done(&f);
}

static void test_bad_request(void) {
        RepairRequest req = {};
        RepairResult res;

        g_assert_cmpint(repair_run(&req, &res), ==, -EINVAL);
        g_assert_cmpint(repair_run(NULL, &res), ==, -EINVAL);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        if (!test_require_program("python3"))
                return 77;
        g_test_add_func("/repair/quick/bad-request", test_bad_request);
        g_test_add_func("/repair/quick/clean", test_clean);
        g_test_add_func("/repair/quick/mirror-stale", test_mirror_stale);
        g_test_add_func("/repair/quick/raid5-column-stale", test_raid5_column_stale);
        g_test_add_func("/repair/quick/raid5-column-stale-dirty", test_raid5_column_stale_dirty);
        g_test_add_func("/repair/quick/disks-back", test_disks_back);
        g_test_add_func("/repair/slow/raid5-parity-stale", test_raid5_parity_stale);
        g_test_add_func("/repair/slow/db-rolled-back", test_db_rolled_back);
        g_test_add_func("/repair/slow/header-copies", test_header_copies);
        g_test_add_func("/repair/slow/vmdb-copy-corrupt", test_vmdb_copy_corrupt);
        g_test_add_data_func("/repair/slow/in-flight-roll-back", GINT_TO_POINTER(LDM_TXN_STEP_LOG), test_in_flight);
        g_test_add_data_func("/repair/quick/in-flight-roll-forward", GINT_TO_POINTER(LDM_TXN_STEP_COMMIT), test_in_flight);
        g_test_add_func("/repair/quick/missing-disk", test_missing_disk);
        g_test_add_func("/repair/quick/no-quorum", test_no_quorum);
        g_test_add_func("/repair/quick/extent-past-public-region", test_extent_past_public_region);
        g_test_add_func("/repair/quick/rejected-extent-keeps-disk-mark", test_rejected_extent_keeps_disk_mark);
        g_test_add_func("/repair/quick/extents-over-column-limit", test_extents_over_column_limit);
        g_test_add_func("/repair/quick/swapped-disk-refused", test_swapped_disk_refused);
        g_test_add_func("/repair/quick/torn-sync-journal", test_torn_sync_journal);
        g_test_add_func("/repair/quick/torn-sync-no-journal", test_torn_sync_no_journal);
        g_test_add_func("/repair/quick/public-region-over-private", test_public_region_over_private);
        g_test_add_func("/repair/quick/extents-overlap", test_extents_overlap);
        g_test_add_data_func("/repair/quick/copy-of-other-geometry", GINT_TO_POINTER(false), test_copy_of_other_geometry);
        g_test_add_data_func("/repair/quick/copy-of-other-geometry-behind", GINT_TO_POINTER(true), test_copy_of_other_geometry);
        g_test_add_func("/repair/quick/write-guard", test_write_guard);
        g_test_add_func("/repair/quick/verify-missing-disk", test_verify_missing_disk);
        g_test_add_func("/repair/quick/verify-hostile-stripe", test_verify_hostile_stripe);
        g_test_add_func("/repair/quick/mirror-larger-than-plexes", test_mirror_larger_than_plexes);
        g_test_add_func("/repair/quick/cancel-then-resume", test_cancel_then_resume);
        g_test_add_func("/repair/quick/resume-after-windows", test_resume_after_windows);
        g_test_add_func("/repair/slow/fault-then-resume", test_fault_then_resume);
        g_test_add_func("/repair/slow/verify-counts", test_verify_counts);
        g_test_add_func("/repair/slow/power-cut", test_power_cut);
        for (size_t i = 0; i < ELEMENTSOF(damage_cases); i++) {
                g_autofree char *name = g_strdup_printf("/repair/slow/damage-%s", damage_cases[i].name);
                g_test_add_data_func(name, &damage_cases[i], test_damage);
        }
        g_test_add_func("/repair/slow/klog-dirty", test_klog_dirty);
        g_test_add_func("/repair/slow/klog-dirty-behind", test_klog_dirty_behind);
        g_test_add_func("/repair/quick/klog-dirty-one-copy", test_klog_dirty_one_copy);
        g_test_add_func("/repair/slow/pack-2003", test_pack_2003);
        g_test_add_func("/repair/slow/cut-inside-phase-2003", test_cut_inside_phase_2003);
        g_test_add_data_func("/repair/slow/mkldm-mbr", GINT_TO_POINTER(false), test_mkldm);
        g_test_add_data_func("/repair/quick/mkldm-gpt", GINT_TO_POINTER(true), test_mkldm);
        g_test_add_func("/repair/quick/mirror-resume-other-source", test_mirror_resume_other_source);
        g_test_add_func("/repair/quick/mirror-dirty-plex-missing", test_mirror_dirty_plex_missing);
        g_test_add_func("/repair/quick/split-same-sequence", test_split_same_sequence);
        g_test_add_func("/repair/quick/split-even", test_split_even);
        return g_test_run();
}
