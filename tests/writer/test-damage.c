/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-damage: every helper of tests/lib/ldm-damage.h really breaks what it claims to, as
 * the independent judge ldmcheck sees it (and, for the stale copy, as our reader sees it). */

#include "ldm-damage.h"
#include "scan.h"
#include "test-util.h"

typedef struct Pack {
        char *dir;
        char *paths[4];
} Pack;

/* Three MBR disks: mirror "Mirror" on 1+2, RAID-5 "Parity" on 1+2+3. */
static void pack_make(Pack *p) {
        LdmCreateDisk disks[3];
        LdmCreateVolume vols[] = {
                { .type = LDM_VOLUME_MIRROR, .size = 2u << 20, .name = "Mirror", .disks = { 0, 1 }, .n_disks = 2 },
                { .type = LDM_VOLUME_RAID5, .size = 4u << 20, .name = "Parity", .disks = { 0, 1, 2 }, .n_disks = 3 },
        };
        _cleanup_(ldm_new_pack_freep) LdmNewPack *np = NULL;
        LdmIo *ios[3];
        LdmDiag err = {};

        *p = (Pack) { .dir = test_tmpdir() };
        for (size_t i = 0; i < 3; i++) {
                p->paths[i] = g_strdup_printf("%s/disk%zu.img", p->dir, i + 1);
                g_assert_cmpint(test_run(NULL, "truncate -s 64M '%s'", p->paths[i]), ==, 0);
                g_assert_cmpint(ldm_io_open(p->paths[i], LDM_IO_WRITE, &ios[i]), ==, 0);
                disks[i] = (LdmCreateDisk) { 64u << 20, LDM_LABEL_MBR };
        }
        g_assert_cmpint(ldm_create_pack(&(LdmCreateRequest) { .group_name = "Damage-Dg0",
                        .disks = disks, .n_disks = 3, .volumes = vols, .n_volumes = 2 }, &np, &err), ==, 0);
        g_assert_cmpint(ldm_writer_write_new(np, ios, 3, &err), ==, 0);
        for (size_t i = 0; i < 3; i++)
                ldm_io_close(ios[i]);
}

static void pack_free(Pack *p) {
        for (size_t i = 0; i < 3; i++)
                g_free(p->paths[i]);
        g_free(p->dir);
}

/* ldmcheck --json --data on the pack: its exit status, and whether `code` is reported. */
static int judge(const Pack *p, const char *code) {
        g_autofree char *chk = g_build_filename(test_shared_dir(), "tools", "ldmcheck", NULL);
        g_autofree char *out = NULL, *needle = g_strdup_printf("\"%s\"", code);
        int r = test_run(&out, "'%s' --json --data '%s' '%s' '%s'", chk, p->paths[0], p->paths[1],
                         p->paths[2]);
        if (!strstr(out, needle))
                g_error("ldmcheck does not report %s:\n%s", code, out);
        return r;
}

static void test_healthy(void) {
        Pack p;
        g_autofree char *chk = g_build_filename(test_shared_dir(), "tools", "ldmcheck", NULL);

        pack_make(&p);
        g_assert_cmpint(test_run(NULL, "'%s' --strict --data '%s' '%s' '%s' >&2", chk, p.paths[0],
                                 p.paths[1], p.paths[2]), ==, 0);
        pack_free(&p);
}

static void test_stale_plex(void) {
        Pack p;

        pack_make(&p);
        g_assert_cmpint(ldm_damage_stale_plex(p.paths, 3, "Mirror", 1, true), ==, 0);
        g_assert_cmpint(judge(&p, "COMPONENT_STATE"), ==, 1);
        g_assert_cmpint(judge(&p, "MIRROR_MISMATCH"), ==, 1);
        g_assert_cmpint(ldm_damage_stale_plex(p.paths, 3, "Nothing", 0, false), ==, -ENOENT);
        pack_free(&p);
}

static void test_stale_column(void) {
        Pack p;

        pack_make(&p);
        g_assert_cmpint(ldm_damage_stale_column(p.paths, 3, "Parity", 2, true), ==, 0);
        g_assert_cmpint(judge(&p, "PARTITION_FLAGS"), ==, 1);
        g_assert_cmpint(judge(&p, "RAID5_PARITY"), ==, 1);
        pack_free(&p);
}

/* Disk 2 keeps the database of before two transactions: a stale copy. */
static void test_rollback(void) {
        Pack p;
        LdmDamageSnapshot *s = NULL;
        _cleanup_(ldm_scan_freep) LdmScan *scan = NULL;

        pack_make(&p);
        g_assert_cmpint(ldm_damage_snapshot(p.paths[1], &s), ==, 0);
        g_assert_cmpint(ldm_damage_touch(p.paths, 3), ==, 0);
        g_assert_cmpint(ldm_damage_restore(s), ==, 0);
        s = ldm_damage_snapshot_free(s);
        g_assert_cmpint(judge(&p, "CONFIG_MISMATCH"), ==, 1);

        g_assert_cmpint(ldm_scan_paths(p.paths, 3, &scan), ==, 0);
        g_assert_cmpuint(scan->n_packs, ==, 1);
        for (size_t i = 0; i < scan->packs[0]->n_disks; i++) {
                const LdmDisk *d = &scan->packs[0]->disks[i];
                g_assert_cmpint(d->db_stale, ==, g_str_equal(d->name, "Disk2"));
        }
        pack_free(&p);
}

static void test_corrupt(void) {
        static const char *const codes[_LDM_DAMAGE_TARGET_MAX] = {
                "PRIVHEAD_CHECKSUM", "PRIVHEAD_CHECKSUM", "PRIVHEAD_CHECKSUM",
                "TOC_CHECKSUM", "TOC_CHECKSUM", "VMDB_MAGIC",
        };
        Pack p;

        pack_make(&p);
        for (LdmDamageTarget t = 0; t < _LDM_DAMAGE_TARGET_MAX; t++) {
                LdmDamageSnapshot *s = NULL;

                g_assert_cmpint(ldm_damage_snapshot(p.paths[2], &s), ==, 0);
                g_assert_cmpint(ldm_damage_corrupt(p.paths[2], t), ==, 0);
                g_assert_cmpint(judge(&p, codes[t]), ==, 1);
                g_assert_cmpint(ldm_damage_restore(s), ==, 0);
                ldm_damage_snapshot_free(s);
        }
        pack_free(&p);
}

static void test_in_flight(void) {
        for (LdmTxnStep k = LDM_TXN_STEP_RECORDS; k < LDM_TXN_STEP_CLEAN; k++) {
                Pack p;

                pack_make(&p);
                g_assert_cmpint(ldm_damage_in_flight(p.paths, 3, k), ==, 0);
                g_assert_cmpint(judge(&p, k == LDM_TXN_STEP_RECORDS ? "RECORD_STATUS" : "VMDB_STATUS"), ==, 1);
                pack_free(&p);
        }
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/damage/healthy", test_healthy);
        g_test_add_func("/damage/stale-plex", test_stale_plex);
        g_test_add_func("/damage/stale-column", test_stale_column);
        g_test_add_func("/damage/rollback", test_rollback);
        g_test_add_func("/damage/corrupt", test_corrupt);
        g_test_add_func("/damage/in-flight", test_in_flight);
        return g_test_run();
}
