/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-repair-root.c: Recover on block devices. The real 2008 R2 pack with its two mirror
 * disks on loop devices (O_DIRECT, O_EXCL for real): while another program holds one of them
 * exclusively, Recover must stop naming that device with VDS_E_DEVICE_IN_USE and write
 * nothing; once it is released, Recover repairs the stale plex through the block devices. */

#include <fcntl.h>
#include <unistd.h>

#include "io.h"
#include "repair.h"
#include "scan.h"
#include "vds.h"
#include "writer.h"
#include "test-util.h"

#define PACK_GUID "06495a84-fbfd-11e1-8cf9-52540061f5db"

static const char *const images[] = {
        "ldm-2008r2-spanned-1.img", "ldm-2008r2-spanned-2.img", "ldm-2008r2-striped-1.img",
        "ldm-2008r2-striped-2.img", "ldm-2008r2-mirrored-1.img", "ldm-2008r2-mirrored-2.img",
        "ldm-2008r2-raid5-1.img", "ldm-2008r2-raid5-2.img", "ldm-2008r2-raid5-3.img",
};
#define N ELEMENTSOF(images)

static char *loops[2];

static void detach_loops(void) {
        for (size_t i = 0; i < ELEMENTSOF(loops); i++)
                if (loops[i])
                        (void) test_run(NULL, "losetup -d '%s'", loops[i]);
}

static char *sha_of(const char *path) {
        char *out = NULL;

        g_assert_cmpint(test_run(&out, "sha256sum < '%s'", path), ==, 0);
        return out;
}

static void run(char **paths, RepairResult *res) {
        RepairRequest req = {
                .paths = paths,
                .n_paths = N,
                .operation = REPAIR_RECOVER,
        };

        g_assert_cmpint(guid_from_string(PACK_GUID, &req.pack_guid), ==, 0);
        g_assert_cmpint(repair_run(&req, res), ==, 0);
        g_test_message("hresult 0x%08x: %s", res->hresult, res->message);
}

static void test_held_device(void) {
        g_autofree char *dir = NULL;
        char *paths[N + 1];          /* NULL-terminated for g_strjoinv() */
        char *before[N];
        RepairResult res;
        int holder;

        if (!test_require_root() || !test_require_program("losetup"))
                return;
        dir = test_tmpdir();
        atexit(detach_loops);
        for (size_t i = 0; i < N; i++) {
                g_autofree char *src = test_real_image(images[i]);
                paths[i] = g_build_filename(dir, images[i], NULL);
                test_copy_file(src, paths[i]);
        }
        paths[N] = NULL;
        /* The mirror disks become block devices. */
        for (size_t k = 0; k < 2; k++) {
                char *out = NULL;
                g_assert_cmpint(test_run(&out, "losetup --find --show '%s'", paths[4 + k]), ==, 0);
                loops[k] = g_strdup(g_strstrip(out));
                g_free(out);
                g_free(paths[4 + k]);
                paths[4 + k] = g_strdup(loops[k]);
        }

        /* Mark Disk6's plex stale and overwrite part of it. */
        {
                _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;
                _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
                LdmIo *ios[N];
                LdmDevice *devs[N];
                LdmDiag diag = {};
                LdmGuid g;
                LdmPack *p;
                LdmExtent *e = NULL;

                g_assert_cmpint(guid_from_string(PACK_GUID, &g), ==, 0);
                g_assert_cmpint(ldm_scan_paths(paths, N, &scan), ==, 0);
                p = ldm_scan_find_pack(scan, &g);
                g_assert_nonnull(p);
                g_assert_cmpuint(p->n_devices, ==, N);
                for (size_t i = 0; i < p->n_extents; i++)
                        if (strcmp(p->extents[i].name, "Disk6-01") == 0)
                                e = &p->extents[i];
                g_assert_nonnull(e);
                g_assert_cmpint(ldm_txn_begin(p->db, &t), ==, 0);
                LdmRecord *r = ldm_txn_edit(t, e->id);
                g_assert_nonnull(r);
                r->partition.flags |= LDM_PARTITION_FLAG_RECOVER;
                r->dirty = true;
                for (size_t i = 0; i < N; i++) {
                        g_assert_cmpint(ldm_io_open(p->devices[i]->path, LDM_IO_WRITE, &ios[i]), ==, 0);
                        devs[i] = p->devices[i];
                }
                g_assert_cmpint(ldm_txn_commit(t, ios, devs, N, &diag), ==, 0);
                g_autofree uint8_t *junk = g_malloc(1 << 20);
                memset(junk, 0xEE, 1 << 20);
                for (size_t i = 0; i < N; i++) {
                        if (strcmp(ldm_io_path(ios[i]), e->disk->device->path) == 0)
                                g_assert_cmpint(ldm_io_pwrite(ios[i], junk, 1 << 20, ldm_extent_disk_offset(e)), ==, 0);
                        g_assert_cmpint(ldm_io_flush(ios[i]), ==, 0);
                        ldm_io_close(ios[i]);
                }
        }

        for (size_t i = 0; i < N; i++)
                before[i] = sha_of(paths[i]);

        /* Someone else holds Disk6's device exclusively. */
        holder = open(loops[1], O_RDONLY | O_EXCL | O_CLOEXEC);
        g_assert_cmpint(holder, >=, 0);
        run(paths, &res);
        g_assert_cmphex(res.hresult, ==, VDS_E_DEVICE_IN_USE);
        g_assert_nonnull(strstr(res.message, loops[1]));
        g_assert_cmpuint(res.bytes_repaired, ==, 0);
        for (size_t i = 0; i < N; i++) {
                g_autofree char *after = sha_of(paths[i]);
                g_assert_cmpstr(after, ==, before[i]);
        }
        close(holder);

        run(paths, &res);
        g_assert_cmphex(res.hresult, ==, VDS_S_OK);
        g_assert_cmpuint(res.bytes_repaired, ==, 16u << 20);

        g_autofree char *out = NULL, *list = g_strjoinv("' '", paths);
        if (test_run(&out, "%s/tools/ldmcheck --data --strict '%s' 2>&1", test_shared_dir(), list) != 0) {
                g_test_message("%s", out);
                g_assert_not_reached();
        }
        for (size_t i = 0; i < N; i++) {
                g_free(before[i]);
                g_free(paths[i]);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/repair/root/held-device", test_held_device);
        return g_test_run();
}
