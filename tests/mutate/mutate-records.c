/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* mutate-records.c: hostile VBLK slots and records. Slot headers (magic, group, fragment
 * index and count), every byte of every record of both packs, records re-encoded with
 * dangling, looping and duplicate references and with huge counts and sizes, and the
 * fragments of multi-fragment records swapped, duplicated, lost or mixed with others. */

#include <inttypes.h>
#include <string.h>

#include "mutate-util.h"
#include "pack.h"
#include "unaligned.h"

static uint32_t rnd(MCtx *c, uint32_t n) {
        return n ? (uint32_t) g_rand_int_range(c->rand, 0, (gint32) n) : 0;
}

/* The images of one pack: W03 are images 0…9, W08 10…18 (see mutate-util.c). */
static MImage *pack_image(MCtx *c, bool w08, size_t j) {
        size_t first = w08 ? 10 : 0, n = w08 ? 9 : 10;
        return &c->img[first + j % n];
}

static uint64_t rec_offset(const MImage *img, const LdmRecord *rec) {
        return m_slot(img, rec->slots[0]) + 16;
}

/* Absolute offset of byte p of an assembled record. */
static uint64_t rec_byte(const MImage *img, const LdmRecord *rec, size_t p) {
        return m_slot(img, rec->slots[p / LDM_VBLK_PAYLOAD]) + 16 + p % LDM_VBLK_PAYLOAD;
}

/* The bytes of rec as db's config region holds them (the mutators' databases keep it). */
static const uint8_t *rec_bytes(const LdmDatabase *db, const LdmRecord *rec, uint8_t buf[static LDM_RECORD_MAX_SIZE]) {
        g_assert_cmpint(ldm_database_record_bytes(db, rec, buf), ==, (int) rec->raw_size);
        return buf;
}

static bool counted(const LdmRecord *rec) {
        return rec->type != LDM_RECORD_DISK_GROUP;
}

/* ---- slot headers ---- */

static void test_vblk(void) {
        MCtx *c = m_ctx();
        unsigned n0 = c->n_mutations;

        for (size_t i = 0; i < c->n_img; i++) {
                MImage *img = &c->img[i];
                const LdmDatabase *db = m_db(img);

                /* Every record of the pack, on every other image (the slots are the same). */
                for (size_t j = i % 2; j < db->n_records; j += 2) {
                        const LdmRecord *rec = &db->records[j];
                        uint64_t so = m_slot(img, rec->slots[0]);
                        MResult *r;

                        m_begin(c, "%s record %s: slot %u magic bit flip", img->name, rec->name, rec->slots[0]);
                        m_flip_bit(c, img, so + rnd(c, 4), rnd(c, 8));
                        r = m_probe1(c, img);
                        m_expect(c, r, "VBLK", img, so, so + 1, "magic");
                        m_result_free(r);

                        static const struct { const char *what; uint8_t at, width; uint32_t v; } hdr[] = {
                                { "group 0", 8, 4, 0 },
                                { "fragment count 5", 14, 2, 5 },
                                { "fragment count 0xFFFF", 14, 2, 0xFFFF },
                                { "fragment index 0xFFFF", 12, 2, 0xFFFF },
                        };
                        for (size_t k = 0; k < ELEMENTSOF(hdr); k++) {
                                m_begin(c, "%s record %s: slot %u %s", img->name, rec->name, rec->slots[0], hdr[k].what);
                                if (hdr[k].width == 4)
                                        m_write_be32(c, img, so + hdr[k].at, hdr[k].v);
                                else
                                        m_write_be16(c, img, so + hdr[k].at, (uint16_t) hdr[k].v);
                                r = m_probe1(c, img);
                                m_expect(c, r, "VBLK", img, so + 8, so + 9, NULL);
                                m_result_free(r);
                        }

                        m_begin(c, "%s record %s: slot %u fragment index = count", img->name, rec->name, rec->slots[0]);
                        m_write_be16(c, img, so + 12, rec->n_fragments);
                        r = m_probe1(c, img);
                        m_expect(c, r, "VBLK", img, so + 8, so + 9, "index");
                        m_result_free(r);

                        /* Count 0 turns the slot into an "unused" one with stale contents. */
                        m_begin(c, "%s record %s: slot %u fragment count 0", img->name, rec->name, rec->slots[0]);
                        m_write_be16(c, img, so + 14, 0);
                        r = m_probe1(c, img);
                        if (rec->n_fragments > 1)
                                m_expect(c, r, "VBLK", img, 0, 0, NULL);
                        else if (counted(rec))
                                m_expect(c, r, "VMDB", img, m_config(img) + 0x85, m_config(img) + 0x99, "record count");
                        m_result_free(r);

                        m_begin(c, "%s record %s: slot %u sequence number 0xFFFFFFFF", img->name, rec->name, rec->slots[0]);
                        m_write_be32(c, img, so + 4, 0xFFFFFFFF);
                        m_result_free(m_probe1(c, img));
                }

                /* Unused slots brought to life. */
                for (unsigned k = 0; k < 12; k++) {
                        uint32_t slot = 100 + rnd(c, db->vmdb.n_slots - 100);
                        uint64_t so = m_slot(img, slot);
                        const LdmRecord *src = &db->records[rnd(c, (uint32_t) db->n_records)];
                        MResult *r;

                        m_begin(c, "%s unused slot %u: count 1, zero payload", img->name, slot);
                        m_write_be32(c, img, so + 8, 0xFFFFFFF0);
                        m_write_be16(c, img, so + 14, 1);
                        r = m_probe1(c, img);
                        m_expect(c, r, "record", img, so + 16, so + 16 + 8, "record type");
                        m_result_free(r);

                        uint8_t bytes[LDM_RECORD_MAX_SIZE];
                        if (src->n_fragments != 1)
                                continue;
                        m_begin(c, "%s unused slot %u: a second copy of %s under a new group", img->name, slot, src->name);
                        m_write_be32(c, img, so + 8, 0xFFFFFFF0);
                        m_write_be16(c, img, so + 14, 1);
                        m_write(c, img, so + 16, rec_bytes(db, src, bytes), LDM_VBLK_PAYLOAD);
                        r = m_probe1(c, img);
                        m_expect(c, r, "record", img, 0, 0, "already used");
                        m_result_free(r);
                }
        }
        m_report(c, "vblk");
        g_test_message("vblk: %u mutations", c->n_mutations - n0);
}

/* ---- every byte of every record ---- */

static void test_record_bytes(void) {
        static const uint8_t values[] = { 0x00, 0xFF, 0x80, 0x7F, 0x09, 0x05, 0x40, 0x01 };
        MCtx *c = m_ctx();
        unsigned n0 = c->n_mutations;

        for (int w08 = 0; w08 <= 1; w08++) {
                const LdmDatabase *db = m_db(pack_image(c, w08, 0));

                for (size_t j = 0; j < db->n_records; j++) {
                        MImage *img = pack_image(c, w08, j);
                        const LdmRecord *rec = &db->records[j];
                        uint64_t ro = rec_offset(img, rec), end = ro + rec->n_fragments * 128;
                        uint8_t bytes[LDM_RECORD_MAX_SIZE];
                        const uint8_t *raw = rec_bytes(db, rec, bytes);
                        MResult *r;

                        for (size_t p = 0; p < rec->raw_size; p++) {
                                uint8_t v = values[rnd(c, ELEMENTSOF(values))];
                                if (v == raw[p])
                                        v ^= 0x10;
                                m_begin(c, "%s record %s: byte %zu 0x%02x → 0x%02x", img->name, rec->name, p, raw[p], v);
                                m_write_u8(c, img, rec_byte(img, rec, p), v);
                                m_result_free(m_probe1(c, img));
                        }

                        static const uint32_t lengths[] = { 0xFFFFFFFF, 0x80000000, 0 };
                        for (size_t k = 0; k < ELEMENTSOF(lengths) + 1; k++) {
                                uint32_t len = k < ELEMENTSOF(lengths) ? lengths[k] :
                                               rec->n_fragments * LDM_VBLK_PAYLOAD - 8 + 1;
                                m_begin(c, "%s record %s: data length 0x%x", img->name, rec->name, len);
                                m_write_be32(c, img, ro + 4, len);
                                r = m_probe1(c, img);
                                if (len != 0)
                                        m_expect(c, r, "record", img, ro + 4, ro + 5, "data length");
                                else
                                        m_expect(c, r, "record", img, ro, end, "object ID");
                                m_result_free(r);
                        }

                        /* The first var int and var string: lengths past what they may be. */
                        static const uint8_t id_lengths[] = { 5, 8, 9, 0x80, 0xFF };
                        for (size_t k = 0; k < ELEMENTSOF(id_lengths); k++) {
                                m_begin(c, "%s record %s: object ID length byte %u", img->name, rec->name, id_lengths[k]);
                                m_write_u8(c, img, ro + 8, id_lengths[k]);
                                r = m_probe1(c, img);
                                m_expect(c, r, "record", img, ro, end, "object ID");
                                m_result_free(r);
                        }
                        m_begin(c, "%s record %s: name length byte 0xFF", img->name, rec->name);
                        m_write_u8(c, img, ro + 9 + raw[8], 0xFF);
                        r = m_probe1(c, img);
                        m_expect(c, r, "record", img, ro, end, "name");
                        m_result_free(r);

                        static const uint8_t types[] = { 0x00, 0x0F, 0x61, 0x15, 0x52, 0x24 };
                        for (size_t k = 0; k < ELEMENTSOF(types); k++) {
                                m_begin(c, "%s record %s: type byte 0x%02x", img->name, rec->name, types[k]);
                                m_write_u8(c, img, ro + 3, types[k]);
                                r = m_probe1(c, img);
                                m_expect(c, r, "record", img, ro + 3, ro + 4, "record type");
                                m_result_free(r);
                        }
                        m_begin(c, "%s record %s: update status 3", img->name, rec->name);
                        m_write_be16(c, img, ro, 3);
                        r = m_probe1(c, img);
                        m_expect(c, r, "record", img, ro, ro + 1, "update status");
                        m_result_free(r);
                }
        }
        m_report(c, "record-bytes");
        g_test_message("record-bytes: %u mutations", c->n_mutations - n0);
}

/* ---- references and counts, through re-encoded records ---- */

typedef struct Edit {
        const char *what;
        const char *structure;   /* expected diagnosis, NULL: none asserted */
        const char *substr;
} Edit;

/* Writes the edited record, probes, checks the expected diagnosis at the record. Returns
 * false when the edit does not fit the record's slots (nothing probed). */
static bool run_edit(MCtx *c, MImage *img, const LdmRecord *orig, const LdmRecord *edited,
                     const Edit *e) {
        MResult *r;

        m_begin(c, "%s record %s (ID %" PRIu32 "): %s", img->name, orig->name, orig->id, e->what);
        if (!m_write_record(c, img, edited)) {
                m_restore(c);
                return false;
        }
        r = m_probe1(c, img);
        if (e->structure) {
                uint64_t ro = rec_offset(img, orig);
                /* A duplicate ID is named at whichever of the two comes later. */
                bool at_record = strcmp(e->structure, "record") == 0 && !strstr(e->substr, "already used");
                m_expect(c, r, e->structure, img, at_record ? ro : 0, at_record ? ro + 1 : 0, e->substr);
        }
        m_result_free(r);
        return true;
}

static uint32_t some_id(const LdmDatabase *db, LdmRecordType t) {
        for (size_t i = 0; i < db->n_records; i++)
                if (db->records[i].type == t)
                        return db->records[i].id;
        g_assert_not_reached();
}

static bool plex_is_concat(const LdmDatabase *db, uint32_t component_id) {
        const LdmRecord *p = ldm_database_find(db, component_id);
        return !p || p->component.layout == LDM_LAYOUT_CONCAT;
}

/* Whether the Partition record places its extent on the probed image's own disk (the only
 * one whose public region a single-image probe knows). */
static bool on_own_disk(const MImage *img, const LdmDatabase *db, const LdmRecord *part) {
        const LdmRecord *d = ldm_database_find(db, part->partition.disk_id);
        return d && d->type == LDM_RECORD_DISK && guid_equal(&d->disk.guid, &img->dev->privhead.disk_guid);
}

/* Another Partition record on the same disk, or NULL. */
static const LdmRecord *neighbour(const LdmDatabase *db, const LdmRecord *part) {
        for (size_t i = 0; i < db->n_records; i++) {
                const LdmRecord *r = &db->records[i];
                if (r->type == LDM_RECORD_PARTITION && r->id != part->id &&
                    r->partition.disk_id == part->partition.disk_id)
                        return r;
        }
        return NULL;
}

static unsigned edit_partition(MCtx *c, MImage *img, const LdmDatabase *db, const LdmRecord *orig) {
        const uint32_t vol = some_id(db, LDM_RECORD_VOLUME);
        const bool own = on_own_disk(img, db, orig);
        const LdmRecord *next = neighbour(db, orig);
        unsigned skipped = 0;
        LdmRecord e;

#define EDIT(stmt, ...) do { e = *orig; e.dirty = true; stmt; skipped += !run_edit(c, img, orig, &e, &(Edit) { __VA_ARGS__ }); } while (0)
        EDIT(e.partition.parent_component_id = 0xDEAD0001, "component → 0xDEAD0001", "record", "component that does not exist");
        EDIT(e.partition.parent_component_id = orig->id, "component → itself (loop)", "record", "component that does not exist");
        EDIT(e.partition.parent_component_id = vol, "component → a volume", "record", "component that does not exist");
        EDIT(e.partition.disk_id = vol, "disk → a volume record", "record", "disk that does not exist");
        EDIT(e.partition.disk_id = 0, "disk → 0", "record", "disk that does not exist");
        EDIT(e.partition.size = 0, "size 0", "record", "empty or overflowing");
        EDIT(e.partition.start = UINT64_MAX - 1, "start UINT64_MAX - 1", "record", "empty or overflowing");
        EDIT(e.partition.offset_in_column = UINT64_MAX, "offset in column UINT64_MAX", "record", "empty or overflowing");
        EDIT(e.partition.size = UINT64_MAX / 256, "size UINT64_MAX / 256", "record", "empty or overflowing");
        EDIT(e.partition.start = 1ull << 40, "start 2^40 sectors (beyond the disk)", own ? "record" : NULL, "public region");
        EDIT(e.partition.start = img->dev->privhead.pub_size - 1, "start at the public region's last sector",
             own ? "record" : NULL, "public region");
        if (next)
                EDIT(e.partition.start = next->partition.start, "start = another extent's on its disk", "record", "overlap");
        EDIT((e.record_flags |= 0x08, e.partition.column_index = 31), "column index 31", NULL, NULL);
        if (!plex_is_concat(db, orig->partition.parent_component_id))
                EDIT((e.record_flags |= 0x08, e.partition.column_index = 1000), "column index 1000", "record", "column index beyond");
        EDIT(e.id = vol, "ID = a volume's ID", "record", "already used");
        EDIT(e.partition.flags = 0xFFFFFFFF, "flags 0xFFFFFFFF", NULL, NULL);
        EDIT(e.update_status = 2, "pending activation", NULL, NULL);
        return skipped;
}

static unsigned edit_component(MCtx *c, MImage *img, const LdmDatabase *db, const LdmRecord *orig) {
        const uint32_t part = some_id(db, LDM_RECORD_PARTITION), disk = some_id(db, LDM_RECORD_DISK);
        const bool striped = orig->component.layout != LDM_LAYOUT_CONCAT;
        unsigned skipped = 0;
        LdmRecord e;

        EDIT(e.component.parent_volume_id = 0xDEAD, "volume → 0xDEAD", "record", "volume that does not exist");
        EDIT(e.component.parent_volume_id = orig->id, "volume → itself (loop)", "record", "volume that does not exist");
        EDIT(e.component.parent_volume_id = part, "volume → a partition", "record", "volume that does not exist");
        EDIT(e.component.layout = 0, "layout 0", "record", "unknown layout");
        EDIT(e.component.layout = 4, "layout 4", "record", "unknown layout");
        EDIT(e.component.layout = 0xFF, "layout 0xFF", "record", "unknown layout");
        EDIT(e.component.n_partitions = 0xFFFFFFFF, "partition count 0xFFFFFFFF", "record", "different number of extents");
        EDIT(e.id = disk, "ID = a disk's ID", "record", "already used");
        EDIT((e.record_flags |= 0x10, e.component.stripe_size = 0), "stripe size 0", NULL, NULL);
        EDIT((e.record_flags |= 0x10, e.component.stripe_size = UINT64_MAX), "stripe size UINT64_MAX", NULL, NULL);
        EDIT((e.record_flags |= 0x10, e.component.n_columns = 0), "column count 0", NULL, NULL);
        EDIT((e.record_flags |= 0x10, e.component.n_columns = 1), "column count 1", NULL, NULL);
        EDIT((e.record_flags |= 0x10, e.component.n_columns = 1000), "column count 1000",
             striped ? "record" : NULL, "more columns than the limit");
        EDIT((e.record_flags |= 0x10, e.component.n_columns = 0xFFFFFFFF), "column count 0xFFFFFFFF",
             striped ? "record" : NULL, "more columns than the limit");
        EDIT((e.record_flags |= 0x10, e.component.layout = LDM_LAYOUT_STRIPE, e.component.stripe_size = 128,
              e.component.n_columns = 7), "concatenated ↔ striped, 7 columns", NULL, NULL);
        EDIT(e.component.layout = LDM_LAYOUT_RAID5, "layout RAID-5", NULL, NULL);
        EDIT(e.component.flags = 0xFFFFFFFF, "flags 0xFFFFFFFF", NULL, NULL);
        EDIT(g_strlcpy(e.component.state, "DETACHED", sizeof(e.component.state)), "state DETACHED", NULL, NULL);
        return skipped;
}

static unsigned edit_volume(MCtx *c, MImage *img, const LdmDatabase *db, const LdmRecord *orig) {
        const uint32_t part = some_id(db, LDM_RECORD_PARTITION);
        unsigned skipped = 0;
        LdmRecord e;

        EDIT(e.volume.n_components = 0xFFFFFFFF, "component count 0xFFFFFFFF", "record", "components");
        EDIT(e.volume.n_components = 0, "component count 0", "record", "components");
        EDIT(e.volume.size = UINT64_MAX, "size UINT64_MAX", NULL, NULL);
        EDIT(e.volume.size = 0, "size 0", NULL, NULL);
        EDIT(e.volume.read_policy = 9, "read policy 9", "rule L8", NULL);
        EDIT(e.volume.volume_number = 0, "volume number 0", NULL, NULL);
        EDIT(e.volume.volume_number = 0x10000, "volume number 0x10000", NULL, NULL);
        EDIT(e.id = part, "ID = a partition's ID", "record", "already used");
        EDIT(e.volume.volume_flags = 0xFFFFFFFF, "flags 0xFFFFFFFF", NULL, NULL);
        EDIT(g_strlcpy(e.volume.state, "SYNC", sizeof(e.volume.state)), "state SYNC", NULL, NULL);
        EDIT(g_strlcpy(e.volume.type_name, "raid5", sizeof(e.volume.type_name)), "type raid5", NULL, NULL);
        return skipped;
}

static unsigned edit_disk(MCtx *c, MImage *img, const LdmDatabase *db, const LdmRecord *orig) {
        const uint32_t vol = some_id(db, LDM_RECORD_VOLUME);
        unsigned skipped = 0;
        LdmRecord e;

        EDIT(e.disk.guid.bytes[15] ^= 0x5A, "GUID changed",
             guid_equal(&orig->disk.guid, &img->dev->privhead.disk_guid) ? "PRIVHEAD" : NULL, "not among the Disk records");
        EDIT(e.id = vol, "ID = a volume's ID", "record", "already used");
        EDIT(e.disk.flags = 0xFFFFFFFF, "flags 0xFFFFFFFF", NULL, NULL);
        EDIT(e.disk.flags = LDM_DISK_FLAG_REMOVED, "flag removed", NULL, NULL);
        EDIT(e.update_status = 1, "pending deletion", NULL, NULL);
        return skipped;
}

static unsigned edit_disk_group(MCtx *c, MImage *img, const LdmDatabase *db, const LdmRecord *orig) {
        const uint32_t vol = some_id(db, LDM_RECORD_VOLUME);
        unsigned skipped = 0;
        LdmRecord e;

        EDIT(e.disk_group.guid.bytes[0] ^= 0xFF, "GUID changed", NULL, NULL);
        EDIT(e.id = vol, "ID = a volume's ID", "record", "already used");
        EDIT((e.record_flags |= 0x18, e.disk_group.n_config_copies = 0xFFFFFFFF, e.disk_group.minors = 0xFFFFFFFF),
             "copies and minors 0xFFFFFFFF", NULL, NULL);
#undef EDIT
        return skipped;
}

static void test_references(void) {
        MCtx *c = m_ctx();
        unsigned n0 = c->n_mutations, skipped = 0;

        for (int w08 = 0; w08 <= 1; w08++) {
                const LdmDatabase *db = m_db(pack_image(c, w08, 0));

                for (size_t j = 0; j < db->n_records; j++) {
                        MImage *img = pack_image(c, w08, j);
                        const LdmRecord *rec;

                        /* A Disk record is edited on its own disk (that disk then has none). */
                        for (size_t k = 0; db->records[j].type == LDM_RECORD_DISK && k < 10; k++)
                                if (guid_equal(&pack_image(c, w08, k)->dev->privhead.disk_guid, &db->records[j].disk.guid))
                                        img = pack_image(c, w08, k);
                        rec = &m_db(img)->records[j];
                        switch (rec->type) {
                        case LDM_RECORD_PARTITION:  skipped += edit_partition(c, img, m_db(img), rec); break;
                        case LDM_RECORD_COMPONENT:  skipped += edit_component(c, img, m_db(img), rec); break;
                        case LDM_RECORD_VOLUME:     skipped += edit_volume(c, img, m_db(img), rec); break;
                        case LDM_RECORD_DISK:       skipped += edit_disk(c, img, m_db(img), rec); break;
                        default:                    skipped += edit_disk_group(c, img, m_db(img), rec); break;
                        }
                }
        }
        m_report(c, "references");
        g_test_message("references: %u mutations (%u edits did not fit their slots)", c->n_mutations - n0, skipped);
        g_assert_cmpuint(skipped, <, 20);
}

/* ---- fragments ---- */

static void test_fragments(void) {
        MCtx *c = m_ctx();
        unsigned n0 = c->n_mutations, n_multi = 0;

        for (size_t i = 0; i < c->n_img; i++) {
                MImage *img = &c->img[i];
                const LdmDatabase *db = m_db(img);

                for (size_t j = 0; j < db->n_records; j++) {
                        const LdmRecord *rec = &db->records[j];
                        uint64_t s0, s1;
                        uint8_t a[128], b[128];
                        MResult *r;

                        if (rec->n_fragments < 2)
                                continue;
                        n_multi++;
                        s0 = m_slot(img, rec->slots[0]);
                        s1 = m_slot(img, rec->slots[1]);
                        m_read(img, s0, a, sizeof(a));
                        m_read(img, s1, b, sizeof(b));

                        /* Fragments in the other slot order: the same record. */
                        m_begin(c, "%s record %s: fragments swapped between slots %u and %u", img->name, rec->name,
                                rec->slots[0], rec->slots[1]);
                        m_write(c, img, s0 + 8, b + 8, 120);
                        m_write(c, img, s1 + 8, a + 8, 120);
                        r = m_probe1(c, img);
                        {
                                LdmDevice *d = m_device(r, img);
                                const LdmRecord *got = d && d->db ? ldm_database_find(d->db, rec->id) : NULL;
                                uint8_t want[LDM_RECORD_MAX_SIZE], have[LDM_RECORD_MAX_SIZE];
                                if (!got || got->raw_size != rec->raw_size ||
                                    memcmp(rec_bytes(d->db, got, have), rec_bytes(db, rec, want), sizeof(want)) != 0 ||
                                    d->db->n_records != db->n_records)
                                        m_fail(c, r, "swapped fragments do not assemble to the same record");
                        }
                        m_result_free(r);

                        m_begin(c, "%s record %s: fragment 1 claims index 0 (duplicate)", img->name, rec->name);
                        m_write_be16(c, img, s1 + 12, 0);
                        r = m_probe1(c, img);
                        m_expect(c, r, "VBLK", img, 0, 0, "duplicate");
                        m_result_free(r);

                        m_begin(c, "%s record %s: fragment 1 missing (slot %u unused)", img->name, rec->name, rec->slots[1]);
                        m_write(c, img, s1 + 8, (uint8_t[120]) {}, 120);
                        r = m_probe1(c, img);
                        m_expect(c, r, "VBLK", img, s0 + 12, s0 + 13, "fragments");
                        m_result_free(r);

                        m_begin(c, "%s record %s: fragment 1 says count 3", img->name, rec->name);
                        m_write_be16(c, img, s1 + 14, 3);
                        r = m_probe1(c, img);
                        m_expect(c, r, "VBLK", img, 0, 0, NULL);
                        m_result_free(r);

                        m_begin(c, "%s record %s: a third fragment, index 1 again, in an unused slot", img->name, rec->name);
                        m_write(c, img, m_slot(img, 5000) + 8, b + 8, 120);
                        r = m_probe1(c, img);
                        m_expect(c, r, "VBLK", img, 0, 0, "duplicate");
                        m_result_free(r);

                        m_begin(c, "%s record %s: four fragments of count 4 (index 0, 1 twice, 3)", img->name, rec->name);
                        m_write_be16(c, img, s0 + 14, 4);
                        m_write_be16(c, img, s1 + 14, 4);
                        {
                                uint8_t x[128];
                                memcpy(x, b, sizeof(x));
                                unaligned_write_be16(x + 14, 4);
                                m_write(c, img, m_slot(img, 5001) + 8, x + 8, 120);
                                unaligned_write_be16(x + 12, 3);
                                m_write(c, img, m_slot(img, 5002) + 8, x + 8, 120);
                        }
                        r = m_probe1(c, img);
                        m_expect(c, r, "VBLK", img, 0, 0, "duplicate");
                        m_result_free(r);

                        /* Another record joins this group. */
                        for (size_t k = 0; k < db->n_records; k++)
                                if (db->records[k].n_fragments == 1) {
                                        const LdmRecord *o = &db->records[k];
                                        m_begin(c, "%s record %s: group shared with %s", img->name, rec->name, o->name);
                                        m_write_be32(c, img, m_slot(img, o->slots[0]) + 8, rec->group);
                                        r = m_probe1(c, img);
                                        m_expect(c, r, "VBLK", img, 0, 0, NULL);
                                        m_result_free(r);
                                        break;
                                }
                }
                /* Single-fragment records of one group, and a record split over slots that
                 * hold another's bytes. */
                for (unsigned k = 0; k + 1 < db->n_records && k < 8; k++) {
                        const LdmRecord *x = &db->records[k], *y = &db->records[k + 1];
                        MResult *r;
                        if (x->n_fragments != 1 || y->n_fragments != 1)
                                continue;
                        m_begin(c, "%s records %s and %s: same group", img->name, x->name, y->name);
                        m_write_be32(c, img, m_slot(img, y->slots[0]) + 8, x->group);
                        r = m_probe1(c, img);
                        m_expect(c, r, "VBLK", img, 0, 0, NULL);
                        m_result_free(r);

                        m_begin(c, "%s records %s and %s: one record of 2 fragments", img->name, x->name, y->name);
                        m_write_be32(c, img, m_slot(img, y->slots[0]) + 8, x->group);
                        m_write_be16(c, img, m_slot(img, x->slots[0]) + 14, 2);
                        m_write_be16(c, img, m_slot(img, y->slots[0]) + 12, 1);
                        m_write_be16(c, img, m_slot(img, y->slots[0]) + 14, 2);
                        m_result_free(m_probe1(c, img));
                }
        }
        g_assert_cmpuint(n_multi, >, 0);
        m_report(c, "fragments");
        g_test_message("fragments: %u mutations, %u multi-fragment records", c->n_mutations - n0, n_multi);
}

void m_register_records(void) {
        g_test_add_func("/mutate/vblk", test_vblk);
        g_test_add_func("/mutate/record-bytes", test_record_bytes);
        g_test_add_func("/mutate/references", test_references);
        g_test_add_func("/mutate/fragments", test_fragments);
}
