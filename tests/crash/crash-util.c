/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* crash-util.c: see crash-util.h. */

#include <fcntl.h>
#include <stdio.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <sys/random.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "crash-util.h"
#include "create.h"
#include "health.h"
#include "ldm-damage.h"
#include "test-util.h"
#include "vds.h"
#include "volume-io.h"
#include "writer.h"

#define CREATE_DISK_SIZE (64ull << 20) /* GPT: a 31 MiB MSR comes first */
#define MIB (1ull << 20)

static GPtrArray *shm_dirs;

static void remove_shm_dirs(void) {
        for (guint i = 0; shm_dirs && i < shm_dirs->len; i++)
                (void) test_run(NULL, "rm -rf '%s'", (char *) shm_dirs->pdata[i]);
}

/* A run killed by a timeout leaves its directories behind: remove those of dead processes
 * (tmpfs is memory). */
static void remove_stale_shm_dirs(void) {
        g_autoptr(GDir) d = g_dir_open("/dev/shm", 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
                g_autofree char *proc = NULL;
                int pid;

                if (sscanf(name, "ldmd-crash-%d-", &pid) != 1 || pid <= 0)
                        continue;
                proc = g_strdup_printf("/proc/%d", pid);
                if (access(proc, F_OK) == 0)
                        continue;
                (void) test_run(NULL, "rm -rf '/dev/shm/%s'", name);
        }
}

char *crash_tmpdir(void) {
        struct statfs sfs;
        char *d;

        /* Every Recover flushes dozens of times and fsyncs its checkpoints: on a disk file
         * system that is seconds per run. The crash model replays writes itself, so tmpfs,
         * where a flush costs nothing, loses nothing. */
        if (statfs("/dev/shm", &sfs) < 0 || sfs.f_type != TMPFS_MAGIC)
                return test_tmpdir();
        d = g_strdup_printf("/dev/shm/ldmd-crash-%d-XXXXXX", (int) getpid());
        g_assert_nonnull(g_mkdtemp(d));
        if (!shm_dirs) {
                remove_stale_shm_dirs();
                shm_dirs = g_ptr_array_new_with_free_func(g_free);
                atexit(remove_shm_dirs);
        }
        g_ptr_array_add(shm_dirs, g_strdup(d));
        return d;
}

static void fill_volume(LdmVolume *v, unsigned salt) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *vio = NULL;
        g_autofree uint8_t *buf = g_malloc(MIB);
        uint64_t size;

        g_assert_cmpint(ldm_volume_io_open(v, LDM_IO_WRITE, &vio), ==, 0);
        size = ldm_volume_io_size(vio);
        for (uint64_t off = 0; off < size; off += MIB) {
                for (size_t i = 0; i < MIB; i += 8) {
                        uint64_t x = (off + i) * 0x9E3779B97F4A7C15ull + salt;
                        memcpy(buf + i, &x, 8);
                }
                g_assert_cmpint(ldm_volume_write(vio, off, buf, (size_t) MIN(MIB, size - off)), ==, 0);
        }
        g_assert_cmpint(ldm_volume_flush(vio), ==, 0);
}

void crash_pack_create(CrashPack *p, const char *labels) {
        const LdmCreateVolume vols[] = {
                { .type = LDM_VOLUME_MIRROR, .size = 8 * MIB, .name = "Mirror", .disks = { 0, 1 }, .n_disks = 2 },
                { .type = LDM_VOLUME_RAID5, .size = 8 * MIB, .name = "Parity", .disks = { 1, 2, 3 }, .n_disks = 3 },
                { .type = LDM_VOLUME_SPAN, .size = 4 * MIB, .name = "Span", .disks = { 0, 3 }, .n_disks = 2 },
        };
        _cleanup_(ldm_new_pack_freep) LdmNewPack *np = NULL;
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmCreateDisk disks[CRASH_MAX_DISKS];
        LdmIo *ios[CRASH_MAX_DISKS];
        LdmDiag err = {};

        *p = (CrashPack) { .dir = crash_tmpdir(), .n = strlen(labels) };
        g_assert_cmpuint(p->n, >=, 4);
        g_assert_cmpuint(p->n, <=, CRASH_MAX_DISKS);
        for (size_t i = 0; i < p->n; i++) {
                int fd;

                p->paths[i] = g_strdup_printf("%s/disk%zu-%s.img", p->dir, i + 1, labels[i] == 'g' ? "gpt" : "mbr");
                fd = open(p->paths[i], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                g_assert_cmpint(fd, >=, 0);
                g_assert_cmpint(ftruncate(fd, (off_t) CREATE_DISK_SIZE), ==, 0);
                close(fd);
                g_assert_cmpint(ldm_io_open(p->paths[i], LDM_IO_WRITE, &ios[i]), ==, 0);
                disks[i] = (LdmCreateDisk) { CREATE_DISK_SIZE, labels[i] == 'g' ? LDM_LABEL_GPT : LDM_LABEL_MBR };
        }
        g_assert_cmpint(ldm_create_pack(&(LdmCreateRequest) {
                                .group_name = "Crash-Dg0", .disks = disks, .n_disks = p->n,
                                .volumes = vols, .n_volumes = ELEMENTSOF(vols),
                        }, &np, &err), ==, 0);
        g_assert_cmpint(ldm_writer_write_new(np, ios, p->n, &err), ==, 0);
        for (size_t i = 0; i < p->n; i++)
                ldm_io_close(ios[i]);

        g_assert_cmpint(ldm_scan_paths(p->paths, p->n, &scan), ==, 0);
        g_assert_cmpuint(scan->n_packs, ==, 1);
        p->guid = scan->packs[0]->guid;
        for (size_t v = 0; v < scan->packs[0]->n_volumes; v++)
                fill_volume(&scan->packs[0]->volumes[v], (unsigned) v);
}

void crash_pack_real(CrashPack *p, const char *which) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        g_autofree char *pattern = g_strdup_printf("ldm-%sr2-", which);
        g_autoptr(GDir) d = g_dir_open(test_real_images(), 0, NULL);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *name;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d)))
                if (g_str_has_prefix(name, pattern) && g_str_has_suffix(name, ".img"))
                        g_ptr_array_add(names, g_strdup(name));
        g_ptr_array_sort(names, (GCompareFunc) g_strcmp0);
        g_assert_cmpuint(names->len, >=, 9);

        *p = (CrashPack) { .dir = crash_tmpdir() };
        for (guint i = 0; i < names->len && p->n < CRASH_MAX_DISKS; i++) {
                g_autofree char *src = test_real_image(names->pdata[i]);

                p->paths[p->n] = g_build_filename(p->dir, names->pdata[i], NULL);
                test_copy_file(src, p->paths[p->n++]);
        }
        g_assert_cmpint(ldm_scan_paths(p->paths, p->n, &scan), ==, 0);
        g_assert_cmpuint(scan->n_packs, ==, 1);
        p->guid = scan->packs[0]->guid;
}

void crash_pack_reference(CrashPack *p) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *pack = crash_scan(p->paths, p->n, &p->guid, &scan);

        g_assert_cmpuint(pack->n_volumes, <=, CRASH_MAX_VOLUMES);
        for (size_t i = 0; i < pack->n_volumes; i++) {
                _cleanup_(ldm_volume_io_closep) LdmVolumeIo *vio = NULL;

                p->vol_names[i] = g_strdup(pack->volumes[i].name);
                g_assert_cmpint(ldm_volume_io_open(&pack->volumes[i], 0, &vio), ==, 0);
                p->vol_size[i] = ldm_volume_io_size(vio);
                p->vol_data[i] = g_malloc(p->vol_size[i]);
                g_assert_cmpint(ldm_volume_read(vio, 0, p->vol_data[i], p->vol_size[i]), ==, 0);
                p->vol_sums[i] = test_sha256(p->vol_data[i], p->vol_size[i]);
        }
        p->n_vols = pack->n_volumes;
}

void crash_pack_done(CrashPack *p) {
        for (size_t i = 0; i < p->n; i++)
                g_free(p->paths[i]);
        for (size_t i = 0; i < p->n_vols; i++) {
                g_free(p->vol_names[i]);
                g_free(p->vol_sums[i]);
                g_free(p->vol_data[i]);
        }
        (void) test_run(NULL, "rm -rf '%s'", p->dir); /* tmpfs is memory: free it now */
        g_free(p->dir);
        *p = (CrashPack) {};
}

LdmPack *crash_scan(char *const *paths, size_t n, const LdmGuid *guid, LdmScan **ret_scan) {
        LdmPack *p;

        g_assert_cmpint(ldm_scan_paths(paths, n, ret_scan), ==, 0);
        p = ldm_scan_find_pack(*ret_scan, guid);
        g_assert_nonnull(p);
        return p;
}

LdmVolume *crash_find_volume(LdmPack *p, const char *name) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (strcmp(p->volumes[i].name, name) == 0)
                        return &p->volumes[i];
        g_error("no volume %s", name);
}

char *crash_volume_sha256(LdmVolume *v) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *vio = NULL;
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        g_autofree uint8_t *buf = g_malloc(MIB);
        uint64_t size;
        int r;

        r = ldm_volume_io_open(v, 0, &vio);
        if (r < 0)
                return g_strdup_printf("(cannot open: %s)", g_strerror(-r));
        size = ldm_volume_io_size(vio);
        for (uint64_t off = 0; off < size; off += MIB) {
                size_t len = (size_t) MIN(MIB, size - off);

                r = ldm_volume_read(vio, off, buf, len);
                if (r < 0)
                        return g_strdup_printf("(read error at %" G_GUINT64_FORMAT ": %s)", off, g_strerror(-r));
                g_checksum_update(sum, buf, len);
        }
        return g_strdup(g_checksum_get_string(sum));
}

void crash_garbage_column(char *const *paths, size_t n, const LdmGuid *guid, const char *volume,
                          unsigned plex, unsigned column, uint64_t at, uint64_t len) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *p = crash_scan(paths, n, guid, &scan);
        LdmVolume *v = crash_find_volume(p, volume);
        LdmColumn *col;
        g_autofree uint8_t *buf = g_malloc(MIB);

        g_assert_cmpuint(plex, <, v->n_plexes);
        g_assert_cmpuint(column, <, v->plexes[plex]->n_columns);
        col = &v->plexes[plex]->columns[column];
        for (size_t i = 0; i < col->n_extents; i++) {
                const LdmExtent *e = col->extents[i];
                _cleanup_(ldm_io_closep) LdmIo *io = NULL;
                uint64_t lo = e->offset_in_column * 512, hi = lo + e->size * 512;
                uint64_t from = MAX(lo, at), to = MIN(hi, len > UINT64_MAX - at ? UINT64_MAX : at + len);

                if (from >= to)
                        continue;
                g_assert_cmpint(ldm_io_open(e->disk->device->path, LDM_IO_WRITE, &io), ==, 0);
                for (uint64_t o = from; o < to; o += MIB) {
                        size_t l = (size_t) MIN(MIB, to - o);
                        g_assert_cmpint(getrandom(buf, l, 0), ==, (ssize_t) l);
                        g_assert_cmpint(ldm_io_pwrite(io, buf, l, ldm_extent_disk_offset(e) + (o - lo)), ==, 0);
                }
                g_assert_cmpint(ldm_io_flush(io), ==, 0);
        }
}

void crash_roll_back(char *const *paths, size_t n, size_t disk) {
        LdmDamageSnapshot *s = NULL;

        g_assert_cmpint(ldm_damage_snapshot(paths[disk], &s), ==, 0);
        g_assert_cmpint(ldm_damage_touch(paths, n), ==, 0);
        g_assert_cmpint(ldm_damage_restore(s), ==, 0);
        ldm_damage_snapshot_free(s);
}

/* ---- CrashWork ---- */

void crash_work_init(CrashWork *w, const CrashPack *base) {
        *w = (CrashWork) { .base = base, .dir = crash_tmpdir() };
        g_mutex_init(&w->lock);
        w->dirty = g_array_new(false, false, sizeof(CrashRange));
        for (size_t i = 0; i < base->n; i++) {
                g_autofree char *name = g_path_get_basename(base->paths[i]);

                w->paths[i] = g_build_filename(w->dir, name, NULL);
                test_copy_file(base->paths[i], w->paths[i]);
                w->fds[i] = open(w->paths[i], O_RDWR | O_CLOEXEC);
                w->base_fds[i] = open(base->paths[i], O_RDONLY | O_CLOEXEC);
                g_assert_cmpint(w->fds[i], >=, 0);
                g_assert_cmpint(w->base_fds[i], >=, 0);
        }
}

void crash_work_done(CrashWork *w) {
        for (size_t i = 0; i < w->base->n; i++) {
                close(w->fds[i]);
                close(w->base_fds[i]);
                g_free(w->paths[i]);
        }
        g_array_unref(w->dirty);
        g_mutex_clear(&w->lock);
        (void) test_run(NULL, "rm -rf '%s'", w->dir);
        g_free(w->dir);
}

int crash_work_disk(const CrashWork *w, const char *path) {
        for (size_t i = 0; i < w->base->n; i++)
                if (strcmp(w->paths[i], path) == 0)
                        return (int) i;
        return -1;
}

void crash_work_mark(CrashWork *w, unsigned disk, uint64_t off, uint64_t len) {
        g_mutex_lock(&w->lock);
        g_array_append_val(w->dirty, ((CrashRange) { disk, off, len }));
        g_mutex_unlock(&w->lock);
}

void crash_work_write(CrashWork *w, unsigned disk, uint64_t off, const void *buf, size_t len) {
        crash_work_mark(w, disk, off, len);
        g_assert_cmpint(pwrite(w->fds[disk], buf, len, (off_t) off), ==, (ssize_t) len);
}

static int range_cmp(const void *a, const void *b) {
        const CrashRange *x = a, *y = b;

        if (x->disk != y->disk)
                return x->disk < y->disk ? -1 : 1;
        return x->off < y->off ? -1 : x->off > y->off;
}

void crash_work_reset(CrashWork *w) {
        g_autofree uint8_t *buf = g_malloc(MIB);
        CrashRange cur = { .len = 0 };

        /* Sorted and merged: the engine rewrites the same VMDB and KLOG sectors many times. */
        g_array_sort(w->dirty, range_cmp);
        for (guint i = 0; i <= w->dirty->len; i++) {
                const CrashRange *r = i < w->dirty->len ? &g_array_index(w->dirty, CrashRange, i) : NULL;

                if (r && cur.len > 0 && r->disk == cur.disk && r->off <= cur.off + cur.len) {
                        cur.len = MAX(cur.len, r->off + r->len - cur.off);
                        continue;
                }
                for (uint64_t o = cur.off; o < cur.off + cur.len; o += MIB) {
                        size_t l = (size_t) MIN(MIB, cur.off + cur.len - o);
                        g_assert_cmpint(pread(w->base_fds[cur.disk], buf, l, (off_t) o), ==, (ssize_t) l);
                        g_assert_cmpint(pwrite(w->fds[cur.disk], buf, l, (off_t) o), ==, (ssize_t) l);
                }
                if (r)
                        cur = *r;
        }
        g_array_set_size(w->dirty, 0);
}

void crash_work_assert_pristine(CrashWork *w) {
        for (size_t i = 0; i < w->base->n; i++)
                g_assert_cmpint(test_run(NULL, "cmp -s '%s' '%s'", w->base->paths[i], w->paths[i]), ==, 0);
}

int crash_track_hook(void *userdata, LdmIo *io, LdmIoOp op, uint64_t offset, const void *buf,
                     size_t len) {
        CrashWork *w = userdata;
        int disk;

        if (op != LDM_IO_OP_WRITE)
                return 0;
        disk = crash_work_disk(w, ldm_io_path(io));
        if (disk < 0)
                g_error("the engine wrote to %s, which is not a disk of the pack", ldm_io_path(io));
        crash_work_mark(w, (unsigned) disk, offset, len);
        return 0;
}

void crash_recover(char *const *paths, size_t n, const LdmGuid *guid, const char *state_dir,
                   size_t buffer_size, uint64_t checkpoint_interval,
                   LdmIoFaultHook hook, void *userdata, RepairResult *res) {
        RepairRequest req = {
                .pack_guid = *guid,
                .paths = paths,
                .n_paths = n,
                .operation = REPAIR_RECOVER,
                .state_dir = state_dir,
                .buffer_size = buffer_size,
                .checkpoint_interval = checkpoint_interval,
        };

        ldm_io_set_fault_hook(hook, userdata);
        g_assert_cmpint(repair_run(&req, res), ==, 0);
        ldm_io_set_fault_hook(NULL, NULL);
}

/* ---- the verdict ---- */

static bool fail(char **why, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static bool fail(char **why, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        *why = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        return false;
}

static bool model_ok(const LdmScan *scan, LdmPack *p, size_t n, char **why) {
        if (scan->n_invalid > 0)
                return fail(why, "%zu device(s) in INVALID (first %s)", scan->n_invalid, scan->invalid[0]->path);
        if (p->n_devices != n)
                return fail(why, "%zu of %zu disks joined the pack", p->n_devices, n);
        if (p->health != VDS_H_HEALTHY)
                return fail(why, "pack health %d", p->health);
        for (size_t i = 0; i < p->n_disks; i++) {
                const LdmDisk *d = &p->disks[i];
                if (!d->device || d->db_stale || d->db_damaged || d->health != VDS_H_HEALTHY)
                        return fail(why, "disk %s: present %d stale %d damaged %d health %d", d->name,
                                    d->device != NULL, d->db_stale, d->db_damaged, d->health);
        }
        for (size_t i = 0; i < p->n_volumes; i++) {
                const LdmVolume *v = &p->volumes[i];
                if (v->health != VDS_H_HEALTHY || v->needs_resync)
                        return fail(why, "volume %s: health %d resync %d", v->name, v->health, v->needs_resync);
                for (size_t k = 0; k < v->n_plexes; k++) {
                        if (v->plexes[k]->stale)
                                return fail(why, "volume %s plex %s stale", v->name, v->plexes[k]->name);
                        for (size_t c = 0; c < v->plexes[k]->n_columns; c++)
                                if (v->plexes[k]->columns[c].stale)
                                        return fail(why, "volume %s column %zu stale", v->name, c);
                }
        }
        return true;
}

/* The volume, read through the library's volume reader, against the reference bytes. */
static bool volume_equal(LdmVolume *v, const uint8_t *ref, uint64_t size, char **why) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *vio = NULL;
        g_autofree uint8_t *buf = g_malloc(MIB);
        int r;

        r = ldm_volume_io_open(v, 0, &vio);
        if (r < 0)
                return fail(why, "volume %s: cannot open: %s", v->name, g_strerror(-r));
        if (ldm_volume_io_size(vio) != size)
                return fail(why, "volume %s: %" G_GUINT64_FORMAT " bytes, expected %" G_GUINT64_FORMAT,
                            v->name, ldm_volume_io_size(vio), size);
        for (uint64_t off = 0; off < size; off += MIB) {
                size_t len = (size_t) MIN(MIB, size - off);

                r = ldm_volume_read(vio, off, buf, len);
                if (r < 0)
                        return fail(why, "volume %s: read error at %" G_GUINT64_FORMAT ": %s", v->name, off, g_strerror(-r));
                if (memcmp(buf, ref + off, len) != 0) {
                        size_t k = 0;
                        while (buf[k] == ref[off + k])
                                k++;
                        return fail(why, "volume %s: data differs from before the damage at byte %" G_GUINT64_FORMAT,
                                    v->name, off + k);
                }
        }
        return true;
}

bool crash_pack_ok(const CrashPack *ref, char *const *paths, size_t n, bool judge, char **why) {
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
        LdmPack *p;

        *why = NULL;
        if (ldm_scan_paths(paths, n, &scan) < 0)
                return fail(why, "scan failed");
        p = ldm_scan_find_pack(scan, &ref->guid);
        if (!p)
                return fail(why, "pack not found");
        if (!model_ok(scan, p, n, why))
                return false;
        if (p->n_volumes != ref->n_vols)
                return fail(why, "%zu volumes, %zu expected", p->n_volumes, ref->n_vols);
        for (size_t i = 0; i < ref->n_vols; i++)
                if (!volume_equal(crash_find_volume(p, ref->vol_names[i]), ref->vol_data[i], ref->vol_size[i], why))
                        return false;
        if (judge) {
                g_autoptr(GString) cmd = g_string_new(NULL);
                g_autofree char *out = NULL;

                g_string_printf(cmd, "%s/tools/ldmcheck --data --strict", test_shared_dir());
                for (size_t i = 0; i < n; i++)
                        g_string_append_printf(cmd, " '%s'", paths[i]);
                if (test_run(&out, "%s 2>&1", cmd->str) != 0)
                        return fail(why, "ldmcheck --data --strict:\n%s", out);
        }
        return true;
}

void crash_empty_dir(const char *dir) {
        g_autoptr(GDir) d = NULL;
        const char *name;

        if (g_mkdir_with_parents(dir, 0700) < 0)
                g_error("mkdir %s: %m", dir);
        d = g_dir_open(dir, 0, NULL);
        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d))) {
                g_autofree char *f = g_build_filename(dir, name, NULL);
                g_assert_cmpint(unlink(f), ==, 0);
        }
}
