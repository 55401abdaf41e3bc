/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-txn: the §11.1 transaction (a committed change is seen by our reader and judged
 * clean by ldmcheck), stopping after each step, a power cut after every single write (each
 * disk's copy must read as the old or the new database), and the PRIVHEAD/TOCBLOCK update. */

#include <stdio.h>
#include <unistd.h>

#include "create.h"
#include "device.h"
#include "test-util.h"
#include "writer.h"

#define MAX_DISKS 4

typedef struct Fixture {
        char *dir;
        char *paths[MAX_DISKS];
        size_t n;
        LdmIo *ios[MAX_DISKS];
        LdmDevice *devs[MAX_DISKS];
} Fixture;

static void fixture_close(Fixture *f) {
        for (size_t i = 0; i < f->n; i++) {
                f->ios[i] = ldm_io_close(f->ios[i]);
                f->devs[i] = ldm_device_free(f->devs[i]);
        }
}

static void fixture_free(Fixture *f) {
        fixture_close(f);
        for (size_t i = 0; i < f->n; i++)
                g_free(f->paths[i]);
        g_free(f->dir);
}

static void fixture_open(Fixture *f) {
        fixture_close(f);
        for (size_t i = 0; i < f->n; i++) {
                g_assert_cmpint(ldm_io_open(f->paths[i], LDM_IO_WRITE, &f->ios[i]), ==, 0);
                g_assert_cmpint(ldm_device_probe_io(f->ios[i], &f->devs[i]), ==, 1);
                g_assert_nonnull(f->devs[i]->db);
        }
}

/* Three disks (MBR, GPT, MBR): a mirror on 1+2 and a RAID-5 on all. */
static void fixture_make(Fixture *f) {
        LdmCreateDisk disks[3] = {
                { 64u << 20, LDM_LABEL_MBR }, { 96u << 20, LDM_LABEL_GPT }, { 64u << 20, LDM_LABEL_MBR },
        };
        LdmCreateVolume vols[] = {
                { .type = LDM_VOLUME_MIRROR, .size = 2u << 20, .disks = { 0, 1 }, .n_disks = 2 },
                { .type = LDM_VOLUME_RAID5, .size = 4u << 20, .disks = { 0, 1, 2 }, .n_disks = 3 },
        };
        _cleanup_(ldm_new_pack_freep) LdmNewPack *p = NULL;
        LdmDiag err = {};

        *f = (Fixture) { .dir = test_tmpdir(), .n = 3 };
        for (size_t i = 0; i < f->n; i++) {
                f->paths[i] = g_strdup_printf("%s/disk%zu.img", f->dir, i + 1);
                g_assert_cmpint(test_run(NULL, "truncate -s %" G_GUINT64_FORMAT " '%s'",
                                         disks[i].size, f->paths[i]), ==, 0);
                g_assert_cmpint(ldm_io_open(f->paths[i], LDM_IO_WRITE, &f->ios[i]), ==, 0);
        }
        g_assert_cmpint(ldm_create_pack(&(LdmCreateRequest) {
                        .group_name = "Txn-Dg0", .disks = disks, .n_disks = 3,
                        .volumes = vols, .n_volumes = 2 }, &p, &err), ==, 0);
        g_assert_cmpint(ldm_writer_write_new(p, f->ios, 3, &err), ==, 0);
        fixture_open(f);
}

static int ldmcheck_status(const Fixture *f, const char *want_code) {
        g_autofree char *chk = g_build_filename(test_shared_dir(), "tools", "ldmcheck", NULL);
        g_autofree char *out = NULL;
        int r = test_run(&out, "'%s' --strict --json '%s' '%s' '%s'", chk, f->paths[0],
                         f->paths[1], f->paths[2]);
        if (want_code)
                g_assert_nonnull(strstr(out, want_code));
        else if (r != 0)
                g_test_message("ldmcheck: %s", out);
        return r;
}

static LdmRecord *find_by_name(const LdmDatabase *db, const char *name) {
        for (size_t i = 0; i < db->n_records; i++)
                if (g_str_equal(db->records[i].name, name) &&
                    ldm_database_record_effective(db, &db->records[i]))
                        return &db->records[i];
        return NULL;
}

/* Marks plex Volume1-02 "recover" (component flag 0x02) in one transaction. */
static LdmTxn *txn_mark_plex(const LdmDatabase *db, uint32_t flags) {
        LdmTxn *t = NULL;
        const LdmRecord *old = find_by_name(db, "Volume1-02");
        LdmRecord *r;

        g_assert_nonnull(old);
        g_assert_cmpint(ldm_txn_begin(db, &t), ==, 0);
        r = ldm_txn_edit(t, old->id);
        g_assert_nonnull(r);
        r->component.flags = flags;
        return t;
}

static void test_commit(void) {
        Fixture f;
        _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
        uint64_t old_T, T;
        LdmDiag err = {};

        fixture_make(&f);
        old_T = f.devs[0]->db->vmdb.committed_seq;
        t = txn_mark_plex(f.devs[0]->db, LDM_COMPONENT_FLAG_RECOVER);
        T = ldm_txn_id(t);
        g_assert_cmpuint(T, ==, old_T + 2);  /* committed + 1 record + 1 */
        g_assert_cmpint(ldm_txn_commit(t, f.ios, f.devs, f.n, &err), ==, 0);
        t = ldm_txn_free(t);

        fixture_open(&f);
        for (size_t i = 0; i < f.n; i++) {
                const LdmDatabase *db = f.devs[i]->db;
                g_assert_false(f.devs[i]->in_flight);
                g_assert_cmpuint(db->vmdb.committed_seq, ==, T);
                g_assert_cmpuint(find_by_name(db, "Volume1-02")->component.flags, ==, 2);
                g_assert_cmpuint(find_by_name(db, "Volume1-02")->component.commit_id, ==, T);
                g_assert_cmpmem(db->config, db->config_size, f.devs[0]->db->config,
                                f.devs[0]->db->config_size);
        }
        /* ldmcheck sees the marker (a degraded plex), and nothing else wrong. */
        g_assert_cmpint(ldmcheck_status(&f, "COMPONENT_STATE"), ==, 1);

        /* Clearing the flag in a second transaction gives a strictly clean pack again. */
        t = txn_mark_plex(f.devs[0]->db, 0);
        g_assert_cmpint(ldm_txn_commit(t, f.ios, f.devs, f.n, &err), ==, 0);
        fixture_close(&f);
        g_assert_cmpint(ldmcheck_status(&f, NULL), ==, 0);
        fixture_free(&f);
}

/* Adding and deleting records keeps the counts and references right. */
static void test_add_delete(void) {
        Fixture f;
        _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
        const LdmRecord *d1;
        LdmRecord *nr;
        LdmDiag err = {};

        fixture_make(&f);
        d1 = find_by_name(f.devs[0]->db, "Disk1");
        g_assert_cmpint(ldm_txn_begin(f.devs[0]->db, &t), ==, 0);
        /* A simple volume on Disk3 after the RAID-5 column: volume, component, partition. */
        nr = ldm_txn_add(t, LDM_RECORD_VOLUME, "Volume3");
        uint32_t vid = nr->id;
        nr->volume = (LdmVolumeRecord) { .type_name = "gen", .state = "ACTIVE", .read_policy = 3,
                                         .volume_number = 3, .volume_flags = 0x11,
                                         .n_components = 1, .size = 2048, .partition_type = 6 };
        g_assert_cmpint(guid_random(&nr->volume.guid), ==, 0);
        nr = ldm_txn_add(t, LDM_RECORD_COMPONENT, "Volume3-01");
        uint32_t cid = nr->id;
        nr->component = (LdmComponentRecord) { .state = "ACTIVE", .layout = LDM_LAYOUT_CONCAT,
                                                .n_partitions = 1, .parent_volume_id = vid };
        nr = ldm_txn_add(t, LDM_RECORD_PARTITION, "Disk3-02");
        nr->record_flags = 0x40;
        nr->partition = (LdmPartitionRecord) { .start = 1985 + 2 * 2048, .size = 2048,
                                                .parent_component_id = cid,
                                                .disk_id = find_by_name(f.devs[0]->db, "Disk3")->id };
        /* … and an edited record keeps its ID (Windows "touches" Disk records like this). */
        nr = ldm_txn_edit(t, d1->id);
        g_assert_cmpuint(nr->id, ==, d1->id);
        snprintf(nr->name, sizeof(nr->name), "Disk1");
        g_assert_cmpint(ldm_txn_commit(t, f.ios, f.devs, f.n, &err), ==, 0);
        fixture_open(&f);
        g_assert_cmpuint(f.devs[2]->db->vmdb.committed_counts[LDM_COUNT_VOLUME], ==, 3);
        g_assert_cmpuint(f.devs[2]->db->vmdb.committed_counts[LDM_COUNT_PARTITION], ==, 6);
        g_assert_nonnull(find_by_name(f.devs[2]->db, "Volume3-01"));
        fixture_close(&f);
        g_assert_cmpint(ldmcheck_status(&f, NULL), ==, 0);

        /* Delete the new volume again. */
        fixture_open(&f);
        t = ldm_txn_free(t);
        g_assert_cmpint(ldm_txn_begin(f.devs[0]->db, &t), ==, 0);
        g_assert_cmpint(ldm_txn_delete(t, find_by_name(f.devs[0]->db, "Disk3-02")->id), ==, 0);
        g_assert_cmpint(ldm_txn_delete(t, find_by_name(f.devs[0]->db, "Volume3-01")->id), ==, 0);
        g_assert_cmpint(ldm_txn_delete(t, find_by_name(f.devs[0]->db, "Volume3")->id), ==, 0);
        g_assert_cmpint(ldm_txn_delete(t, 999999), ==, -ENOENT);
        g_assert_cmpint(ldm_txn_commit(t, f.ios, f.devs, f.n, &err), ==, 0);
        fixture_open(&f);
        g_assert_cmpuint(f.devs[1]->db->vmdb.committed_counts[LDM_COUNT_VOLUME], ==, 2);
        g_assert_null(find_by_name(f.devs[1]->db, "Volume3"));
        fixture_close(&f);
        g_assert_cmpint(ldmcheck_status(&f, NULL), ==, 0);
        fixture_free(&f);
}

/* Stopping after step k leaves a copy in flight that the reader recovers per §10.2 rule 2. */
static void test_stop_after(void) {
        static const uint16_t status[] = { 0, 1, 2, 2, 3, 3 };
        for (LdmTxnStep s = LDM_TXN_STEP_RECORDS; s < LDM_TXN_STEP_CLEAN; s++) {
                Fixture f;
                _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
                uint64_t old_T, T;
                LdmDiag err = {};

                fixture_make(&f);
                old_T = f.devs[0]->db->vmdb.committed_seq;
                t = txn_mark_plex(f.devs[0]->db, LDM_COMPONENT_FLAG_RECOVER);
                T = ldm_txn_id(t);
                ldm_txn_set_stop_after(t, s);
                g_assert_cmpint(ldm_txn_commit(t, f.ios, f.devs, f.n, &err), ==, 0);
                fixture_open(&f);
                for (size_t i = 0; i < f.n; i++) {
                        const LdmDatabase *db = f.devs[i]->db;
                        g_assert_cmpuint(db->vmdb.status, ==, status[s]);
                        g_assert_cmpuint(f.devs[i]->effective_committed, ==,
                                         s >= LDM_TXN_STEP_COMMIT ? T : old_T);
                        g_assert_cmpuint(find_by_name(db, "Volume1-02")->component.flags, ==,
                                         s >= LDM_TXN_STEP_COMMIT ? 2 : 0);
                }
                fixture_close(&f);
                /* An interrupted transaction is never a clean pack for ldmcheck: records
                 * pending activation (step 1) or a VMDB not clean (steps 2–5). */
                g_assert_cmpint(ldmcheck_status(&f, s == LDM_TXN_STEP_RECORDS ? "RECORD_STATUS" :
                                                "VMDB_STATUS"), ==, 1);
                fixture_free(&f);
        }
}

/* Power cut: writes after the k-th are lost, for every k. */
typedef struct Cut {
        unsigned writes, limit;
} Cut;

static int cut_hook(void *userdata, LdmIo *io, LdmIoOp op, uint64_t offset, const void *buf,
                    size_t len) {
        Cut *c = userdata;
        if (op != LDM_IO_OP_WRITE)
                return 0;
        return ++c->writes > c->limit ? LDM_IO_FAULT_DROP : 0;
}

static char *signature(const LdmDatabase *db) {
        GString *s = g_string_new(NULL);
        for (size_t i = 0; i < db->n_records; i++) {
                const LdmRecord *r = &db->records[i];
                if (!ldm_database_record_effective(db, r))
                        continue;
                g_string_append_printf(s, "%u:%u:%s:%u;", r->id, r->type, r->name,
                                       r->type == LDM_RECORD_COMPONENT ? r->component.flags : 0);
        }
        return g_string_free(s, FALSE);
}

static void test_power_cut(void) {
        Fixture f;
        g_autofree char *old_sig = NULL, *new_sig = NULL;
        g_autofree char *orig = NULL;
        uint64_t old_T, T = 0;
        unsigned total;
        Cut cut = { .limit = UINT_MAX };
        LdmDiag err = {};

        fixture_make(&f);
        fixture_close(&f);
        orig = g_build_filename(f.dir, "orig", NULL);
        g_assert_cmpint(test_run(NULL, "mkdir '%s' && cp --sparse=always '%s'/disk*.img '%s'",
                                 orig, f.dir, orig), ==, 0);

        /* A full run counts the writes and gives the new signature. */
        fixture_open(&f);
        old_T = f.devs[0]->db->vmdb.committed_seq;
        old_sig = signature(f.devs[0]->db);
        {
                _cleanup_(ldm_txn_freep) LdmTxn *t = txn_mark_plex(f.devs[0]->db, 2);
                ldm_io_set_fault_hook(cut_hook, &cut);
                g_assert_cmpint(ldm_txn_commit(t, f.ios, f.devs, f.n, &err), ==, 0);
                ldm_io_set_fault_hook(NULL, NULL);
                T = ldm_txn_id(t);
        }
        total = cut.writes;
        g_assert_cmpuint(total, >=, 8 * f.n);
        fixture_open(&f);
        new_sig = signature(f.devs[0]->db);
        g_assert_cmpstr(old_sig, !=, new_sig);

        for (unsigned k = 0; k < total; k++) {
                fixture_close(&f);
                g_assert_cmpint(test_run(NULL, "cp --sparse=always '%s'/disk*.img '%s'", orig, f.dir), ==, 0);
                fixture_open(&f);
                _cleanup_(ldm_txn_freep) LdmTxn *t = txn_mark_plex(f.devs[0]->db, 2);
                cut = (Cut) { .limit = k };
                ldm_io_set_fault_hook(cut_hook, &cut);
                g_assert_cmpint(ldm_txn_commit(t, f.ios, f.devs, f.n, &err), ==, 0);
                ldm_io_set_fault_hook(NULL, NULL);

                fixture_open(&f);
                for (size_t i = 0; i < f.n; i++) {
                        g_autofree char *sig = signature(f.devs[i]->db);
                        uint64_t eff = f.devs[i]->effective_committed;
                        if (eff == old_T)
                                g_assert_cmpstr(sig, ==, old_sig);
                        else if (eff == T)
                                g_assert_cmpstr(sig, ==, new_sig);
                        else
                                g_error("cut after write %u: disk %zu reads as committed %" G_GUINT64_FORMAT,
                                        k, i + 1, eff);
                }
        }
        fixture_free(&f);
}

static void test_privhead_update(void) {
        Fixture f;
        LdmDiag err = {};

        fixture_make(&f);
        for (size_t i = 0; i < f.n; i++)
                g_assert_cmpint(ldm_writer_update_privhead(f.ios[i], f.devs[i], NULL, &err), ==, 0);
        fixture_open(&f);
        for (size_t i = 0; i < f.n; i++) {
                const LdmDevice *d = f.devs[i];
                g_assert_cmpuint(d->privhead.update_seq, ==, 2);
                g_assert_cmpuint(d->privhead.toc_lba[0], ==, 1);
                g_assert_cmpuint(d->privhead.toc_lba[1], ==, 2046);
                g_assert_cmpuint(d->toc.update_seq, ==, 2);
                for (LdmPrivheadCopy c = 0; c < _LDM_PRIVHEAD_COPY_MAX; c++)
                        if (d->privhead_state[c] == 0)
                                g_assert_cmpmem(d->copies->privheads[c].raw, 512, d->privhead.raw, 512);
        }
        fixture_close(&f);
        g_assert_cmpint(ldmcheck_status(&f, NULL), ==, 0);
        fixture_free(&f);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/txn/commit", test_commit);
        g_test_add_func("/txn/add-delete", test_add_delete);
        g_test_add_func("/txn/stop-after", test_stop_after);
        g_test_add_func("/txn/power-cut", test_power_cut);
        g_test_add_func("/txn/privhead-update", test_privhead_update);
        return g_test_run();
}
