/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-database: config regions of the real images parse into records and serialize back
 * byte for byte (also from a wiped buffer); fragments in any order; broken fragment groups
 * are errors naming the slot; dirty and new records are laid out and read back. Also the
 * partition-table reader (MBR 0x42, GPT with backup fall-back). */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "database.h"
#include "io.h"
#include "label.h"
#include "test-util.h"
#include "unaligned.h"

#define CONFIG_BYTES (1481u * 512u)
#define LOG_BYTES (224u * 512u)

static const char *const images[] = {
        "ldm-2003r2-mirrored-1.img", "ldm-2003r2-mirrored-2.img", "ldm-2003r2-raid5-1.img",
        "ldm-2003r2-raid5-2.img",    "ldm-2003r2-raid5-3.img",    "ldm-2003r2-simple-1.img",
        "ldm-2003r2-spanned-1.img",  "ldm-2003r2-spanned-2.img",  "ldm-2003r2-striped-1.img",
        "ldm-2003r2-striped-2.img",  "ldm-2008r2-mirrored-1.img", "ldm-2008r2-mirrored-2.img",
        "ldm-2008r2-raid5-1.img",    "ldm-2008r2-raid5-2.img",    "ldm-2008r2-raid5-3.img",
        "ldm-2008r2-spanned-1.img",  "ldm-2008r2-spanned-2.img",  "ldm-2008r2-striped-1.img",
        "ldm-2008r2-striped-2.img",
};

static void read_regions(const char *name, uint8_t **config, uint8_t **log, uint64_t *ret_priv) {
        g_autofree char *path = test_real_image(name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        uint64_t priv = strstr(name, "2003") || strstr(name, "-1.img") ? 100352 : 34;

        g_assert_cmpint(fd, >=, 0);
        g_free(*config);
        g_free(*log);
        *config = g_malloc(CONFIG_BYTES);
        *log = g_malloc(LOG_BYTES);
        g_assert_cmpint(pread(fd, *config, CONFIG_BYTES, (priv + 17) * 512), ==, CONFIG_BYTES);
        g_assert_cmpint(pread(fd, *log, LOG_BYTES, (priv + 1498) * 512), ==, LOG_BYTES);
        close(fd);
        *ret_priv = priv;
}

static LdmDatabase *parse(const uint8_t *config, const uint8_t *log, LdmDiag *err) {
        LdmDatabase *db = NULL;
        int r = ldm_database_parse(config, CONFIG_BYTES, log, LOG_BYTES, "img", 0x1000, 0x2000, &db, err);
        return r < 0 ? NULL : db;
}

/* Fills every slot of the region that no record uses (the VMDB's too) with junk. */
static void wipe_all_but_records(LdmDatabase *db) {
        g_autofree bool *used = g_new0(bool, db->vmdb.n_slots);

        for (size_t i = 0; i < db->n_records; i++)
                for (uint16_t f = 0; f < db->records[i].n_fragments; f++)
                        used[db->records[i].slots[f]] = true;
        for (uint32_t k = 0; k < db->vmdb.n_slots; k++)
                if (!used[k])
                        memset(db->config + (size_t) k * db->vmdb.vblk_size, 0xEE, db->vmdb.vblk_size);
}

static void test_real_roundtrip(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(images); i++) {
                g_autofree uint8_t *config = NULL, *log = NULL;
                _cleanup_(ldm_database_freep) LdmDatabase *db = NULL;
                LdmDiag err = {};
                uint64_t priv;
                bool w03 = strstr(images[i], "2003");

                read_regions(images[i], &config, &log, &priv);
                db = parse(config, log, &err);
                if (!db)
                        g_error("%s: %s at 0x%" G_GINT64_MODIFIER "x: %s", images[i], err.structure, err.offset, err.message);
                g_assert_cmpuint(db->n_records, ==, w03 ? 36 : 33);
                g_assert_cmpuint(db->vmdb.committed_seq, ==, w03 ? 1133 : 39);
                g_assert_cmpint(db->klog_state[0], ==, 0);
                g_assert_cmpint(db->klog_state[1], ==, 0);
                g_assert_false(ldm_database_in_flight(db));
                g_assert_cmpuint(ldm_database_effective_committed(db), ==, db->vmdb.committed_seq);

                /* serialize(parse(config)) == config, also when everything but the records'
                 * slots was wiped: the VMDB, the unused slots and the KLOG pages are rebuilt
                 * from the model (a clean record's bytes are those of its slots). */
                g_assert_cmpint(ldm_database_serialize(db), ==, 0);
                g_assert_cmpmem(db->config, CONFIG_BYTES, config, CONFIG_BYTES);
                g_assert_cmpmem(db->log, LOG_BYTES, log, LOG_BYTES);
                wipe_all_but_records(db);
                memset(db->log, 0, 1024);
                g_assert_cmpint(ldm_database_serialize(db), ==, 0);
                g_assert_cmpmem(db->config, CONFIG_BYTES, config, CONFIG_BYTES);
                g_assert_cmpmem(db->log, 1024, log, 1024);

                /* Every record re-encoded from its fields lands on the same bytes. */
                for (size_t j = 0; j < db->n_records; j++)
                        db->records[j].dirty = true;
                g_assert_cmpint(ldm_database_serialize(db), ==, 0);
                g_assert_cmpmem(db->config, CONFIG_BYTES, config, CONFIG_BYTES);
        }
}

static void test_fragments_any_order(void) {
        g_autofree uint8_t *config = NULL, *log = NULL;
        _cleanup_(ldm_database_freep) LdmDatabase *db = NULL, *db2 = NULL;
        LdmDiag err = {};
        uint64_t priv;
        uint8_t tmp[128];

        read_regions("ldm-2003r2-simple-1.img", &config, &log, &priv);
        /* Disk2's record: group 20, fragment 0 in slot 7, fragment 1 in slot 27. Swap the two
         * payload slots so fragment 1 comes first, then fix the sequence numbers. */
        memcpy(tmp, config + 7 * 128, 128);
        memcpy(config + 7 * 128, config + 27 * 128, 128);
        memcpy(config + 27 * 128, tmp, 128);
        unaligned_write_be32(config + 7 * 128 + 4, 7);
        unaligned_write_be32(config + 27 * 128 + 4, 27);
        db = parse(config, log, &err);
        g_assert_nonnull(db);
        LdmRecord *r = ldm_database_find(db, 1030);
        g_assert_nonnull(r);
        g_assert_cmpstr(r->name, ==, "Disk2");
        g_assert_cmpuint(r->n_fragments, ==, 2);
        g_assert_cmpuint(r->slots[0], ==, 27);
        g_assert_cmpuint(r->slots[1], ==, 7);
        g_assert_cmpint(ldm_database_serialize(db), ==, 0);
        g_assert_cmpmem(db->config, CONFIG_BYTES, config, CONFIG_BYTES);

        /* Duplicate fragment: slot 7 now also claims index 0. */
        unaligned_write_be16(config + 7 * 128 + 12, 0);
        g_assert_null(parse(config, log, &err));
        g_assert_cmpstr(err.structure, ==, "VBLK");
        g_assert_true(err.offset == 0x1000 + 7 * 128 + 12 || err.offset == 0x1000 + 27 * 128 + 12);
        g_assert_nonnull(strstr(err.message, "duplicate"));

        /* Missing fragment: slot 7 is unused. */
        memset(config + 7 * 128 + 8, 0, 120);
        g_assert_null(parse(config, log, &err));
        g_assert_cmpuint(err.offset, ==, 0x1000 + 27 * 128 + 12);

        /* Bad VBLK magic. */
        read_regions("ldm-2003r2-simple-1.img", &config, &log, &priv);
        config[100 * 128] = 'X';
        g_assert_null(parse(config, log, &err));
        g_assert_cmpuint(err.offset, ==, 0x1000 + 100 * 128);

        /* Fragment count 5. */
        config[100 * 128] = 'V';
        unaligned_write_be16(config + 6 * 128 + 14, 5);
        g_assert_null(parse(config, log, &err));
        g_assert_cmpuint(err.offset, ==, 0x1000 + 6 * 128 + 8);

        /* Count mismatch with the VMDB. */
        read_regions("ldm-2003r2-simple-1.img", &config, &log, &priv);
        unaligned_write_be32(config + 0x85, 7);
        g_assert_null(parse(config, log, &err));
        g_assert_cmpstr(err.structure, ==, "VMDB");
        g_assert_cmpuint(err.offset, ==, 0x1000 + 0x85);
        (void) db2;
}

static void test_dirty_and_new(void) {
        g_autofree uint8_t *config = NULL, *log = NULL;
        _cleanup_(ldm_database_freep) LdmDatabase *db = NULL, *back = NULL;
        LdmDiag err = {};
        uint64_t priv;

        read_regions("ldm-2008r2-spanned-1.img", &config, &log, &priv);
        db = parse(config, log, &err);
        g_assert_nonnull(db);

        /* Grow a volume's name so its record needs 2 fragments: it must move. */
        LdmRecord *v = ldm_database_find(db, 4);
        g_assert_nonnull(v);
        uint32_t old_group = v->group;
        snprintf(v->name, sizeof(v->name), "%s", "AVeryLongVolumeNameThatDoesNotFitIntoOneSlotAnyMore01234567");
        v->volume.commit_id = 40;
        v->dirty = true;
        /* Change a partition in place. */
        LdmRecord *p = ldm_database_find(db, 6);
        g_assert_nonnull(p);
        uint32_t p_slot = p->slots[0];
        p->partition.flags = 0x08;
        p->dirty = true;
        /* And add a new disk record (n_fragments 0). */
        LdmRecord *nr = realloc(db->records, (db->n_records + 1) * sizeof(LdmRecord));
        g_assert_nonnull(nr);
        db->records = nr;
        LdmRecord *d = &db->records[db->n_records++];
        *d = (LdmRecord) { .type = LDM_RECORD_DISK, .revision = 3, .id = 100, .name = "Disk10" };
        d->disk.guid.bytes[3] = 7;
        d->dirty = true;
        db->vmdb.committed_counts[LDM_COUNT_DISK]++;
        db->vmdb.pending_counts[LDM_COUNT_DISK]++;

        g_assert_cmpint(ldm_database_serialize(db), ==, 0);
        v = ldm_database_find(db, 4);
        g_assert_cmpuint(v->n_fragments, ==, 2);
        g_assert_cmpuint(v->group, ==, old_group);
        g_assert_cmpuint(ldm_database_find(db, 6)->slots[0], ==, p_slot);
        d = ldm_database_find(db, 100);
        g_assert_cmpuint(d->n_fragments, ==, 1);
        g_assert_cmpuint(d->group, >, 51);
        /* Lowest free slots: its own old slot 11 and slot 28 (a hole W08 left). */
        g_assert_cmpuint(v->slots[0], ==, 11);
        g_assert_cmpuint(v->slots[1], ==, 28);
        g_assert_cmpuint(unaligned_read_be16(db->config + 28 * 128 + 12), ==, 1);

        back = NULL;
        g_assert_cmpint(ldm_database_parse(db->config, db->config_size, db->log, db->log_size, "x", 0, 0, &back, &err), ==, 0);
        g_assert_cmpuint(back->n_records, ==, db->n_records);
        for (size_t i = 0; i < db->n_records; i++) {
                const LdmRecord *a = &db->records[i];
                const LdmRecord *b = ldm_database_find(back, a->id);
                g_assert_nonnull(b);
                g_assert_cmpstr(a->name, ==, b->name);
                g_assert_cmpuint(a->group, ==, b->group);
                g_assert_cmpuint(a->n_fragments, ==, b->n_fragments);
                g_assert_cmpmem(a->slots, sizeof(a->slots), b->slots, sizeof(b->slots));
                uint8_t ab[LDM_RECORD_MAX_SIZE], bb[LDM_RECORD_MAX_SIZE];
                g_assert_cmpuint(a->raw_size, ==, b->raw_size);
                g_assert_cmpint(ldm_database_record_bytes(db, a, ab), ==, (int) a->raw_size);
                g_assert_cmpint(ldm_database_record_bytes(back, b, bb), ==, (int) b->raw_size);
                g_assert_cmpmem(ab, sizeof(ab), bb, sizeof(bb));
                g_assert_cmpmem(&a->volume, sizeof(a->volume), &b->volume, sizeof(b->volume));
        }
        g_assert_cmpuint(ldm_database_find(back, 6)->partition.flags, ==, 0x08);
}

static void test_labels(void) {
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        g_autofree char *mbr = test_real_image("ldm-2008r2-raid5-1.img");
        g_autofree char *gpt = test_real_image("ldm-2008r2-raid5-2.img");
        g_autofree char *dir = test_tmpdir();
        g_autofree char *copy = g_build_filename(dir, "gpt.img", NULL);
        _cleanup_(ldm_label_done) LdmLabel l = {};
        LdmDiag err = {};
        uint8_t junk[8] = "garbage!";
        int fd;

        g_assert_cmpint(ldm_io_open(mbr, 0, &io), ==, 0);
        g_assert_cmpint(ldm_label_read(io, &l, &err), ==, 1);
        g_assert_cmpint(l.type, ==, LDM_LABEL_MBR);
        io = ldm_io_close(io);

        g_assert_cmpint(ldm_io_open(gpt, 0, &io), ==, 0);
        ldm_label_done(&l);
        g_assert_cmpint(ldm_label_read(io, &l, &err), ==, 1);
        g_assert_cmpint(l.type, ==, LDM_LABEL_GPT);
        g_assert_false(l.gpt_backup_used);
        g_assert_cmpuint(l.meta_first, ==, 34);
        g_assert_cmpuint(l.meta_last, ==, 2081);
        g_assert_cmpuint(l.data_first, ==, 65570);
        g_assert_cmpuint(l.data_last, ==, 102366);
        g_assert_cmpuint(l.n_parts, ==, 3);
        g_assert_cmpstr(l.parts[0].name, ==, "LDM metadata partition");
        g_assert_cmpstr(l.parts[1].name, ==, "Microsoft reserved partition");
        io = ldm_io_close(io);

        /* Corrupt primary header → backup. */
        test_copy_file(gpt, copy);
        fd = open(copy, O_WRONLY | O_CLOEXEC);
        g_assert_cmpint(pwrite(fd, junk, sizeof(junk), 512 + 40), ==, sizeof(junk));
        g_assert_cmpint(ldm_io_open(copy, 0, &io), ==, 0);
        ldm_label_done(&l);
        g_assert_cmpint(ldm_label_read(io, &l, &err), ==, 1);
        g_assert_true(l.gpt_backup_used);
        g_assert_cmpstr(l.gpt_primary_diag.structure, ==, "GPT");
        g_assert_cmpuint(l.gpt_primary_diag.offset, ==, 512 + 16);
        g_assert_cmpuint(l.meta_first, ==, 34);
        io = ldm_io_close(io);

        /* Both corrupt → -EBADMSG naming the primary. */
        g_assert_cmpint(pwrite(fd, junk, sizeof(junk), 102399ULL * 512 + 40), ==, sizeof(junk));
        close(fd);
        g_assert_cmpint(ldm_io_open(copy, 0, &io), ==, 0);
        ldm_label_done(&l);
        g_assert_cmpint(ldm_label_read(io, &l, &err), ==, -EBADMSG);
        g_assert_cmpstr(err.structure, ==, "GPT");
        g_assert_cmpuint(err.offset, ==, 512 + 16);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/database/real-roundtrip", test_real_roundtrip);
        g_test_add_func("/database/fragments", test_fragments_any_order);
        g_test_add_func("/database/dirty-and-new", test_dirty_and_new);
        g_test_add_func("/label/mbr-gpt", test_labels);
        return g_test_run();
}
