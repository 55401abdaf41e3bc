/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-faults.c: Recover under failing hardware, through the I/O fault hook: a source plex
 * whose reads fail, a target whose writes fail, a database write failing on one disk, a disk
 * that vanishes mid-job (every operation -ENXIO from some point on), and a disk that comes
 * back with another size. Each job must end with a clear HRESULT and a message naming the
 * disk; nothing may be worse than before (every byte outside the plexes/columns under repair
 * — and outside the private regions where the database step may legitimately write — equals
 * the pre-job copy); and a later Recover without faults must succeed with the data the
 * volumes held before the damage. */

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crash-util.h"
#include "ldm-damage.h"
#include "test-util.h"
#include "vds.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

/* ---- byte ranges of a pack ---- */

typedef struct Extents {
        CrashRange r[64];
        size_t n;
} Extents;

/* Every extent of the pack on its image (disk = index in paths). */
static void pack_extents(const CrashPack *p, Extents *ret) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *pack = crash_scan(p->paths, p->n, &p->guid, &scan);

        *ret = (Extents) {};
        for (size_t i = 0; i < pack->n_extents && ret->n < ELEMENTSOF(ret->r); i++) {
                const LdmExtent *e = &pack->extents[i];
                for (size_t d = 0; d < p->n; d++)
                        if (e->disk->device && strcmp(e->disk->device->path, p->paths[d]) == 0)
                                ret->r[ret->n++] = (CrashRange) { (unsigned) d, ldm_extent_disk_offset(e), e->size * 512 };
        }
}

/* The extents of one plex's column (what a repair of it may write). */
static void column_extents(const CrashPack *p, const char *volume, unsigned plex, unsigned column, Extents *ret) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmVolume *v = crash_find_volume(crash_scan(p->paths, p->n, &p->guid, &scan), volume);
        const LdmColumn *col = &v->plexes[plex]->columns[column];

        for (size_t i = 0; i < col->n_extents; i++)
                for (size_t d = 0; d < p->n; d++)
                        if (strcmp(col->extents[i]->disk->device->path, p->paths[d]) == 0)
                                ret->r[ret->n++] = (CrashRange) { (unsigned) d, ldm_extent_disk_offset(col->extents[i]),
                                                                  col->extents[i]->size * 512 };
}

static bool in_ranges(const Extents *x, unsigned disk, uint64_t off, uint64_t len) {
        for (size_t i = 0; i < x->n; i++)
                if (x->r[i].disk == disk && off < x->r[i].off + x->r[i].len && x->r[i].off < off + len)
                        return true;
        return false;
}

/* ---- the fault hook ---- */

typedef enum Where {
        WHERE_ANY,
        WHERE_DATA,               /* inside an extent */
        WHERE_META,               /* outside every extent: labels and private region */
} Where;

typedef struct Fault {
        const CrashPack *p;
        const Extents *extents;
        unsigned disk;
        LdmIoOp op;               /* _LDM_IO_OP_MAX: reads and writes */
        Where where;
        unsigned skip;            /* matching operations let through first */
        int error;
        bool vanish;              /* once hit, every operation on the disk fails */
        atomic_uint seen;
        atomic_uint hits;
        atomic_bool gone;
} Fault;

static int fault_hook(void *userdata, LdmIo *io, LdmIoOp op, uint64_t offset, const void *buf, size_t len) {
        Fault *f = userdata;

        if (strcmp(ldm_io_path(io), f->p->paths[f->disk]) != 0)
                return 0;
        if (atomic_load(&f->gone)) {
                atomic_fetch_add(&f->hits, 1);
                return f->error;
        }
        if (op == LDM_IO_OP_FLUSH || (f->op != _LDM_IO_OP_MAX && op != f->op))
                return 0;
        if (f->where != WHERE_ANY && in_ranges(f->extents, f->disk, offset, len) != (f->where == WHERE_DATA))
                return 0;
        if (atomic_fetch_add(&f->seen, 1) < f->skip)
                return 0;
        atomic_fetch_add(&f->hits, 1);
        if (f->vanish)
                atomic_store(&f->gone, true);
        return f->error;
}

/* ---- one case ---- */

typedef struct FaultCase {
        const char *name;
        void (*damage)(CrashPack *p, Extents *targets);
        unsigned disk;
        LdmIoOp op;
        Where where;
        unsigned skip;
        int error;
        bool vanish;
        bool meta_may_change;     /* the database step may have run on some disks */
        bool resume;              /* the second Recover uses the first one's checkpoints */
} FaultCase;

static void copy_images(const CrashPack *p, char *out[static CRASH_MAX_DISKS]) {
        g_autofree char *dir = crash_tmpdir();

        for (size_t i = 0; i < p->n; i++) {
                g_autofree char *name = g_path_get_basename(p->paths[i]);
                out[i] = g_build_filename(dir, name, NULL);
                test_copy_file(p->paths[i], out[i]);
        }
}

/* Every byte of every image equals the pre-job copy, except inside `allowed` (plexes and
 * columns under repair) and, with meta, outside every extent. */
static void assert_nothing_worse(const CrashPack *p, char *const *before, const Extents *allowed,
                                 const Extents *all, bool meta) {
        g_autofree uint8_t *a = g_malloc(64 * KIB), *b = g_malloc(64 * KIB);

        for (unsigned d = 0; d < p->n; d++) {
                int fa = open(before[d], O_RDONLY | O_CLOEXEC), fb = open(p->paths[d], O_RDONLY | O_CLOEXEC);
                off_t size = lseek(fa, 0, SEEK_END);

                g_assert_cmpint(fa, >=, 0);
                g_assert_cmpint(fb, >=, 0);
                g_assert_cmpint(lseek(fb, 0, SEEK_END), ==, size);
                for (uint64_t off = 0; off < (uint64_t) size; off += 64 * KIB) {
                        size_t len = (size_t) MIN(64 * KIB, (uint64_t) size - off);

                        g_assert_cmpint(pread(fa, a, len, (off_t) off), ==, (ssize_t) len);
                        g_assert_cmpint(pread(fb, b, len, (off_t) off), ==, (ssize_t) len);
                        if (memcmp(a, b, len) == 0 || in_ranges(allowed, d, off, len))
                                continue;
                        if (meta && !in_ranges(all, d, off, len))
                                continue;
                        g_error("%s changed at byte %" G_GUINT64_FORMAT " (outside what the job may write)",
                                p->paths[d], off);
                }
                close(fa);
                close(fb);
        }
}

static char *disk_name(const CrashPack *p, unsigned disk) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *pack = crash_scan(p->paths, p->n, &p->guid, &scan);

        for (size_t i = 0; i < pack->n_disks; i++)
                if (pack->disks[i].device && strcmp(pack->disks[i].device->path, p->paths[disk]) == 0)
                        return g_strdup(pack->disks[i].name);
        for (size_t i = 0; i < scan->n_invalid; i++)
                if (strcmp(scan->invalid[i]->path, p->paths[disk]) == 0)
                        return g_path_get_basename(p->paths[disk]);
        g_error("%s is not in the pack", p->paths[disk]);
}

/* The job's message (or its list of what remains) names the disk: by its LDM name or path. */
static void assert_names_disk(const RepairResult *res, const CrashPack *p, unsigned disk, const char *name) {
        g_autofree char *base = g_path_get_basename(p->paths[disk]);
        g_autofree char *word = g_strdup_printf("%s ", name), *word2 = g_strdup_printf("%s:", name);
        g_autofree char *text = g_strdup_printf("%s %s ", res->message, res->remaining);

        if (strstr(text, base) || strstr(text, word) || strstr(text, word2))
                return;
        g_error("the job's message does not name disk %s (%s): \"%s\" [remaining: %s]", name, base,
                res->message, res->remaining);
}

static void run_fault(gconstpointer data) {
        const FaultCase *fc = data;
        CrashPack p;
        Extents all, targets = {};
        char *before[CRASH_MAX_DISKS] = {};
        g_autofree char *state = NULL, *why = NULL, *name = NULL;
        RepairResult res;
        Fault f;

        crash_pack_create(&p, "mgmm");
        crash_pack_reference(&p);
        fc->damage(&p, &targets);
        pack_extents(&p, &all);
        name = disk_name(&p, fc->disk);
        copy_images(&p, before);
        state = g_build_filename(p.dir, "state", NULL);
        crash_empty_dir(state);

        f = (Fault) {
                .p = &p, .extents = &all, .disk = fc->disk, .op = fc->op, .where = fc->where,
                .skip = fc->skip, .error = fc->error, .vanish = fc->vanish,
        };
        crash_recover(p.paths, p.n, &p.guid, state, 64 * KIB, 1 * MIB, fault_hook, &f, &res);
        g_test_message("%s: hresult 0x%08x: %s [remaining: %s], %u fault(s) injected", fc->name,
                       res.hresult, res.message, res.remaining, atomic_load(&f.hits));
        g_assert_cmpuint(atomic_load(&f.hits), >, 0);
        g_assert_cmphex(res.hresult, ==, VDS_E_DISK_IO_FAILING);
        g_assert_cmpint(res.error, ==, -fc->error);
        g_assert_false(res.database_committed);
        assert_names_disk(&res, &p, fc->disk, name);
        assert_nothing_worse(&p, before, &targets, &all, fc->meta_may_change);

        /* The disk is back (or works again): the pack is at least as recoverable. */
        if (!fc->resume)
                crash_empty_dir(state);
        crash_recover(p.paths, p.n, &p.guid, state, 64 * KIB, 1 * MIB, NULL, NULL, &res);
        g_test_message("%s: then: hresult 0x%08x: %s, %" G_GUINT64_FORMAT " bytes resumed", fc->name,
                       res.hresult, res.message, res.bytes_resumed);
        g_assert_cmphex(res.hresult, ==, VDS_S_OK);
        if (!crash_pack_ok(&p, p.paths, p.n, true, &why))
                g_error("%s: after the second Recover: %s", fc->name, why);

        for (size_t i = 0; i < p.n; i++)
                g_free(before[i]);
        crash_pack_done(&p);
}

/* ---- damage ---- */

static unsigned plex_on(CrashPack *p, const char *volume, size_t disk) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmVolume *v = crash_find_volume(crash_scan(p->paths, p->n, &p->guid, &scan), volume);

        for (size_t k = 0; k < v->n_plexes; k++)
                if (strcmp(v->plexes[k]->columns[0].extents[0]->disk->device->path, p->paths[disk]) == 0)
                        return (unsigned) k;
        g_error("%s has no plex on %s", volume, p->paths[disk]);
}

static unsigned column_on(CrashPack *p, const char *volume, size_t disk) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmVolume *v = crash_find_volume(crash_scan(p->paths, p->n, &p->guid, &scan), volume);

        for (size_t c = 0; c < v->plexes[0]->n_columns; c++)
                if (strcmp(v->plexes[0]->columns[c].extents[0]->disk->device->path, p->paths[disk]) == 0)
                        return (unsigned) c;
        g_error("%s has no column on %s", volume, p->paths[disk]);
}

/* The mirror's plex on disk 2 stale and overwritten. */
static void damage_mirror(CrashPack *p, Extents *targets) {
        unsigned k = plex_on(p, "Mirror", 1);

        g_assert_cmpint(ldm_damage_stale_plex(p->paths, p->n, "Mirror", k, true), ==, 0);
        column_extents(p, "Mirror", k, 0, targets);
}

/* The RAID-5 column on disk 4 stale and overwritten. */
static void damage_column(CrashPack *p, Extents *targets) {
        unsigned c = column_on(p, "Parity", 3);

        g_assert_cmpint(ldm_damage_stale_column(p->paths, p->n, "Parity", c, true), ==, 0);
        column_extents(p, "Parity", 0, c, targets);
}

static void damage_both(CrashPack *p, Extents *targets) {
        damage_mirror(p, targets);
        damage_column(p, targets);
}

/* Disk 3 missed a transaction (its copy is replaced by the database step); the mirror is
 * stale too. */
static void damage_rolled_back(CrashPack *p, Extents *targets) {
        damage_mirror(p, targets);
        crash_roll_back(p->paths, p->n, 2);
}

static const FaultCase fault_cases[] = {
        /* Mirror source (disk 1) reads fail in the middle of the copy. */
        { "source-read-eio", damage_mirror, 0, LDM_IO_OP_READ, WHERE_DATA, 40, -EIO, false, false, false },
        /* The stale plex's own disk fails a write; the next run resumes from the checkpoint. */
        { "target-write-eio", damage_mirror, 1, LDM_IO_OP_WRITE, WHERE_DATA, 50, -EIO, false, false, true },
        /* A RAID-5 rebuild whose source column (disk 3) fails to read. */
        { "column-source-read-eio", damage_column, 2, LDM_IO_OP_READ, WHERE_DATA, 20, -EIO, false, false, false },
        /* The database copy of disk 3 cannot be written. */
        { "database-write-eio", damage_rolled_back, 2, LDM_IO_OP_WRITE, WHERE_META, 0, -EIO, false, true, false },
        /* The final transaction fails on disk 4 after every target was copied and
         * checkpointed: the next run resumes with nothing left to copy. */
        { "commit-write-eio", damage_mirror, 3, LDM_IO_OP_WRITE, WHERE_META, 0, -EIO, false, true, true },
        /* Disk 2 (mirror target, a RAID-5 column) vanishes in the middle of the data step. */
        { "vanish-mid-copy", damage_both, 1, LDM_IO_OP_WRITE, WHERE_DATA, 30, -ENXIO, true, false, true },
        /* Disk 3 vanishes while its database copy is replaced. */
        { "vanish-database-sync", damage_rolled_back, 2, LDM_IO_OP_WRITE, WHERE_META, 1, -ENXIO, true, true, false },
        /* Disk 1 vanishes on a read (the mirror source) and every later operation fails. */
        { "vanish-on-read", damage_both, 0, LDM_IO_OP_READ, WHERE_DATA, 5, -ENXIO, true, false, true },
};

/* ---- a disk that comes back with another size ---- */

static uint64_t file_size(const char *path) {
        struct stat st;

        g_assert_cmpint(stat(path, &st), ==, 0);
        return (uint64_t) st.st_size;
}

static void set_size(const char *path, uint64_t size) {
        g_assert_cmpint(truncate(path, (off_t) size), ==, 0);
}

/* Disk 1 (MBR: the mirror's healthy plex, half of the span; its private region is the last
 * MiB) comes back 4 MiB smaller after a job that failed on it. Its private region is gone:
 * Recover must not take it for the disk it was, must say what is wrong, and must write
 * nothing that makes things worse; once the disk is back at its size, Recover succeeds. */
static void test_shrunk(void) {
        CrashPack p;
        Extents all, targets = {};
        char *before[CRASH_MAX_DISKS] = {};
        g_autofree char *state = NULL, *why = NULL, *tail = NULL;
        uint64_t size, cut = 4 * MIB;
        RepairResult res;
        int fd;

        crash_pack_create(&p, "mgmm");
        crash_pack_reference(&p);
        damage_mirror(&p, &targets);
        pack_extents(&p, &all);
        copy_images(&p, before);
        state = g_build_filename(p.dir, "state", NULL);
        crash_empty_dir(state);

        size = file_size(p.paths[0]);
        tail = g_malloc(cut);
        fd = open(p.paths[0], O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(pread(fd, tail, cut, (off_t) (size - cut)), ==, (ssize_t) cut);
        close(fd);
        set_size(p.paths[0], size - cut);

        crash_recover(p.paths, p.n, &p.guid, state, 64 * KIB, 1 * MIB, NULL, NULL, &res);
        g_test_message("shrunk: hresult 0x%08x: %s [remaining: %s]", res.hresult, res.message, res.remaining);
        g_assert_cmphex(res.hresult, !=, VDS_S_OK);
        g_assert_cmpuint(res.bytes_repaired, ==, 0);
        g_assert_false(res.database_committed);
        /* Disk 1's pack name is the only thing left to name it by: the Disk record. */
        g_assert_true(strstr(res.message, "Disk1") || strstr(res.remaining, "Disk1") ||
                      strstr(res.message, "disk1-mbr.img") || strstr(res.remaining, "disk1-mbr.img"));

        /* Back at its size, with its private region: as recoverable as before. */
        set_size(p.paths[0], size);
        fd = open(p.paths[0], O_WRONLY | O_CLOEXEC);
        g_assert_cmpint(pwrite(fd, tail, cut, (off_t) (size - cut)), ==, (ssize_t) cut);
        close(fd);
        assert_nothing_worse(&p, before, &targets, &all, false);
        crash_recover(p.paths, p.n, &p.guid, state, 64 * KIB, 1 * MIB, NULL, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_S_OK);
        if (!crash_pack_ok(&p, p.paths, p.n, true, &why))
                g_error("shrunk: after the second Recover: %s", why);
        for (size_t i = 0; i < p.n; i++)
                g_free(before[i]);
        crash_pack_done(&p);
}

/* Disk 2 (GPT: the stale mirror plex, a RAID-5 column) comes back 16 MiB larger: everything
 * LDM owns is where it was. Either Recover accepts it and repairs (the data must then be
 * right), or it refuses with a clear error naming it and writes nothing. */
static void test_grown(void) {
        CrashPack p;
        Extents all, targets = {};
        char *before[CRASH_MAX_DISKS] = {};
        g_autofree char *state = NULL, *why = NULL;
        uint64_t size;
        RepairResult res;

        crash_pack_create(&p, "mgmm");
        crash_pack_reference(&p);
        damage_mirror(&p, &targets);
        pack_extents(&p, &all);
        copy_images(&p, before);
        state = g_build_filename(p.dir, "state", NULL);
        crash_empty_dir(state);
        size = file_size(p.paths[1]);
        set_size(p.paths[1], size + 16 * MIB);

        crash_recover(p.paths, p.n, &p.guid, state, 64 * KIB, 1 * MIB, NULL, NULL, &res);
        g_test_message("grown: hresult 0x%08x: %s [remaining: %s]", res.hresult, res.message, res.remaining);
        if (res.hresult == VDS_S_OK) {
                g_assert_true(crash_pack_ok(&p, p.paths, p.n, false, &why));
        } else {
                g_assert_true(strstr(res.message, "Disk2") || strstr(res.remaining, "Disk2") ||
                              strstr(res.message, "disk2-gpt.img") || strstr(res.remaining, "disk2-gpt.img"));
                set_size(p.paths[1], size);
                assert_nothing_worse(&p, before, &targets, &all, false);
                crash_recover(p.paths, p.n, &p.guid, state, 64 * KIB, 1 * MIB, NULL, NULL, &res);
                g_assert_cmphex(res.hresult, ==, VDS_S_OK);
                if (!crash_pack_ok(&p, p.paths, p.n, true, &why))
                        g_error("grown: after the second Recover: %s", why);
        }
        for (size_t i = 0; i < p.n; i++)
                g_free(before[i]);
        crash_pack_done(&p);
}

/* Disk 2 shrinks under the job (a block device resized while open): from its 10th data
 * write on, every operation past 2 MiB into its first extent fails with -ENXIO. */
typedef struct Shrink {
        const CrashPack *p;
        unsigned disk;
        uint64_t limit;
        atomic_uint writes;
        atomic_uint hits;
} Shrink;

static int shrink_hook(void *userdata, LdmIo *io, LdmIoOp op, uint64_t offset, const void *buf, size_t len) {
        Shrink *s = userdata;

        if (strcmp(ldm_io_path(io), s->p->paths[s->disk]) != 0 || op == LDM_IO_OP_FLUSH)
                return 0;
        if (op == LDM_IO_OP_WRITE && atomic_fetch_add(&s->writes, 1) < 10)
                return 0;
        if (atomic_load(&s->writes) < 10 || offset + len <= s->limit)
                return 0;
        atomic_fetch_add(&s->hits, 1);
        return -ENXIO;
}

static void test_shrinks_mid_job(void) {
        CrashPack p;
        Extents all, targets = {};
        char *before[CRASH_MAX_DISKS] = {};
        g_autofree char *state = NULL, *why = NULL;
        RepairResult res;
        Shrink s;

        crash_pack_create(&p, "mgmm");
        crash_pack_reference(&p);
        damage_both(&p, &targets);
        pack_extents(&p, &all);
        copy_images(&p, before);
        state = g_build_filename(p.dir, "state", NULL);
        crash_empty_dir(state);
        g_assert_cmpuint(targets.r[0].disk, ==, 1);
        s = (Shrink) { .p = &p, .disk = 1, .limit = targets.r[0].off + 2 * MIB };

        crash_recover(p.paths, p.n, &p.guid, state, 64 * KIB, 1 * MIB, shrink_hook, &s, &res);
        g_test_message("shrinks mid-job: hresult 0x%08x: %s [remaining: %s]", res.hresult, res.message, res.remaining);
        g_assert_cmpuint(atomic_load(&s.hits), >, 0);
        g_assert_cmphex(res.hresult, ==, VDS_E_DISK_IO_FAILING);
        g_assert_nonnull(strstr(res.message, "disk2-gpt.img"));
        g_assert_false(res.database_committed);
        assert_nothing_worse(&p, before, &targets, &all, false);

        crash_recover(p.paths, p.n, &p.guid, state, 64 * KIB, 1 * MIB, NULL, NULL, &res);
        g_assert_cmphex(res.hresult, ==, VDS_S_OK);
        g_assert_cmpuint(res.bytes_resumed, >, 0);
        if (!crash_pack_ok(&p, p.paths, p.n, true, &why))
                g_error("shrinks mid-job: after the second Recover: %s", why);
        for (size_t i = 0; i < p.n; i++)
                g_free(before[i]);
        crash_pack_done(&p);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        for (size_t i = 0; i < ELEMENTSOF(fault_cases); i++) {
                g_autofree char *path = g_strdup_printf("/faults/%s", fault_cases[i].name);
                g_test_add_data_func(path, &fault_cases[i], run_fault);
        }
        g_test_add_func("/faults/resized/shrunk", test_shrunk);
        g_test_add_func("/faults/resized/grown", test_grown);
        g_test_add_func("/faults/resized/shrinks-mid-job", test_shrinks_mid_job);
        return g_test_run();
}
