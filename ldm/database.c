/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* database.c: one disk's copy of the LDM database (§6–§8): the VMDB, the VBLK slots of the
 * config region assembled into records (fragments in any slot order, by group number), the
 * KLOG pages of the log region; and the inverse, laying records back into slots. */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cursor.h"
#include "database.h"
#include "hash64.h"
#include "unaligned.h"

#define VBLK_MAGIC "VBLK"
#define SLOT_HEADER 16u

static void *memdup(const void *p, size_t n) {
        void *q = malloc(n);
        return q ? memcpy(q, p, n) : NULL;
}

typedef struct SlotRef {
        uint32_t group;
        uint16_t index, count;
        uint32_t slot;
} SlotRef;

static int slotref_compare(const void *a, const void *b) {
        const SlotRef *x = a, *y = b;

        if (x->group != y->group)
                return x->group < y->group ? -1 : 1;
        if (x->index != y->index)
                return x->index < y->index ? -1 : 1;
        return x->slot < y->slot ? -1 : x->slot > y->slot;
}

static int record_slot_compare(const void *a, const void *b) {
        const LdmRecord *x = a, *y = b;
        return x->slots[0] < y->slots[0] ? -1 : x->slots[0] > y->slots[0];
}

static void records_release(LdmDatabase *db) {
        if (db->records_users && atomic_fetch_sub(db->records_users, 1) > 1)
                return; /* another database still reads them */
        free(db->records_users);
        free(db->records);
}

/* The comparisons here and in ldm_database_share() are of bytes, padding included: the parsers
 * fill zeroed structures (calloc, `= {}`), so equal fields mean equal bytes, and a difference
 * in padding would only cost a share. (The daemon's valgrind scenario in test-bus-abuse runs
 * them on a pack: no read of an uninitialised byte.) */
bool ldm_database_share_records(LdmDatabase *owner, LdmDatabase *db) {
        if (owner == db || owner->config || db->config || db->records_users)
                return false;
        if (owner->n_records != db->n_records || owner->config_hash != db->config_hash ||
            owner->config_hashed != db->config_hashed)
                return false;
        if (memcmp(owner->records, db->records, db->n_records * sizeof(LdmRecord)) != 0)
                return false;
        if (!owner->records_users) {
                owner->records_users = malloc(sizeof(*owner->records_users));
                if (!owner->records_users)
                        return false;
                atomic_init(owner->records_users, 1);
        }
        atomic_fetch_add(owner->records_users, 1);
        free(db->records);
        db->records = owner->records;
        db->records_users = owner->records_users;
        return true;
}

LdmDatabase *ldm_database_share(LdmDatabase *owner, LdmDatabase *db) {
        if (owner == db || !db->records_users || owner->records != db->records)
                return db;
        if (owner->n_dropped_groups > 0 || db->n_dropped_groups > 0)
                return db;
        for (size_t i = 0; i < ELEMENTSOF(db->klog); i++) {
                int state = db->klog_state[i];

                if (owner->klog_state[i] != state || (state != 0 && state != -ENOENT))
                        return db; /* an invalid page's diagnosis names its disk */
        }
        if (owner->config_size != db->config_size || owner->log_size != db->log_size ||
            memcmp(&owner->vmdb, &db->vmdb, sizeof(db->vmdb)) != 0 ||
            memcmp(owner->klog, db->klog, sizeof(db->klog)) != 0)
                return db;
        atomic_fetch_add(&owner->more_users, 1);
        ldm_database_free(db);
        return owner;
}

LdmDatabase *ldm_database_free(LdmDatabase *db) {
        if (!db)
                return NULL;
        if (atomic_fetch_sub(&db->more_users, 1) > 0)
                return NULL; /* another holder still reads it */
        records_release(db);
        free(db->config);
        free(db->log);
        free(db);
        return NULL;
}

static uint64_t slot_offset(const LdmDatabase *db, uint64_t config_offset, uint32_t slot) {
        return config_offset + (uint64_t) slot * db->vmdb.vblk_size;
}

/* Reads the slot headers below limit (every slot, except in a head parse); used slots go to
 * refs[]. */
static int collect_slots(LdmDatabase *db, uint32_t limit, const char *disk, uint64_t config_offset,
                         SlotRef **ret, size_t *ret_n, LdmDiag *err) {
        uint32_t first = db->vmdb.header_size / db->vmdb.vblk_size;
        _cleanup_free_ SlotRef *refs = NULL;
        size_t n = 0;

        /* Only refs[0…n) are ever read: no need to zero the rest. */
        refs = malloc(sizeof(*refs) * MAX(limit, 1u));
        if (!refs)
                return -ENOMEM;
        for (uint32_t k = first; k < limit; k++) {
                const uint8_t *s = db->config + (size_t) k * db->vmdb.vblk_size;
                SlotRef ref = {
                        .group = unaligned_read_be32(s + 8),
                        .index = unaligned_read_be16(s + 12),
                        .count = unaligned_read_be16(s + 14),
                        .slot = k,
                };

                if (memcmp(s, VBLK_MAGIC, 4) != 0)
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "VBLK", disk,
                                            slot_offset(db, config_offset, k),
                                            "slot %" PRIu32 " has no \"VBLK\" magic", k);
                if (ref.count == 0)
                        continue;
                if (ref.count > LDM_RECORD_MAX_FRAGMENTS || ref.index >= ref.count || ref.group == 0)
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "VBLK", disk,
                                            slot_offset(db, config_offset, k) + 8,
                                            "slot %" PRIu32 ": group %" PRIu32 " fragment %u of %u (count must be 1…4, index below it, group non-zero)",
                                            k, ref.group, ref.index, ref.count);
                refs[n++] = ref;
        }
        if (n > LDM_MAX_RECORDS)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", disk, config_offset,
                                    "%zu used slots exceed the limit of %u", n, LDM_MAX_RECORDS);
        qsort_safe(refs, n, sizeof(*refs), slotref_compare);
        *ret = TAKE_PTR(refs);
        *ret_n = n;
        return 0;
}

/* Assembles the fragments refs[0…count−1] of one group and parses the record. */
static int assemble_record(LdmDatabase *db, const SlotRef *refs, size_t n_refs, const char *disk,
                           uint64_t config_offset, LdmRecord *ret, LdmDiag *err) {
        uint8_t buf[LDM_RECORD_MAX_SIZE] = {};
        uint16_t count = refs[0].count;
        int r;

        for (size_t i = 0; i < n_refs; i++) {
                if (refs[i].count != count || refs[i].index != i)
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "VBLK", disk,
                                            slot_offset(db, config_offset, refs[i].slot) + 12,
                                            "slot %" PRIu32 ": group %" PRIu32 " fragment %u of %u is %s",
                                            refs[i].slot, refs[i].group, refs[i].index, refs[i].count,
                                            refs[i].count != count ? "of a different count" :
                                            refs[i].index < i ? "a duplicate" : "out of sequence");
        }
        if (n_refs != count)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VBLK", disk,
                                    slot_offset(db, config_offset, refs[0].slot) + 12,
                                    "group %" PRIu32 " (slot %" PRIu32 ") has %zu of its %u fragments",
                                    refs[0].group, refs[0].slot, n_refs, count);

        for (size_t i = 0; i < n_refs; i++)
                memcpy(buf + i * LDM_VBLK_PAYLOAD,
                       db->config + (size_t) refs[i].slot * db->vmdb.vblk_size + SLOT_HEADER,
                       LDM_VBLK_PAYLOAD);
        r = ldm_record_parse(buf, count * LDM_VBLK_PAYLOAD, disk,
                             slot_offset(db, config_offset, refs[0].slot) + SLOT_HEADER, ret, err);
        if (r < 0)
                return r;
        ret->group = refs[0].group;
        ret->n_fragments = count;
        for (size_t i = 0; i < n_refs; i++)
                ret->slots[i] = refs[i].slot;
        return 0;
}

/* Whether refs[0…n_refs) is a group a transaction cut inside a phase left incomplete: §11.1
 * steps 1 and 5 write a record's slots a sector at a time and flush once per phase, so a power
 * cut can keep any of them. What that leaves is a new record (update status 2) partly
 * written, or an old one (status 1) partly cleared: the fragments there are distinct and in
 * order, some are missing, and fragment 0, when present, says status 1 or 2. Neither belongs
 * to the database the VMDB resolves to. A group with duplicates, or whose fragment 0 says
 * status 0, is damage. */
static bool group_cut_by_transaction(const LdmDatabase *db, const SlotRef *refs, size_t n_refs) {
        uint16_t status;

        if (n_refs >= refs[0].count)
                return false;
        for (size_t i = 1; i < n_refs; i++)
                if (refs[i].count != refs[0].count || refs[i].index <= refs[i - 1].index)
                        return false;
        if (refs[0].index != 0)
                return true;
        status = unaligned_read_be16(db->config + (size_t) refs[0].slot * db->vmdb.vblk_size + SLOT_HEADER);
        return status == 1 || status == 2;
}

static int assemble_records(LdmDatabase *db, uint32_t limit, bool drop_cut_groups, const char *disk,
                            uint64_t config_offset, LdmDiag *err) {
        _cleanup_free_ SlotRef *refs = NULL;
        size_t n_refs = 0;
        int r;

        r = collect_slots(db, limit, disk, config_offset, &refs, &n_refs, err);
        if (r < 0)
                return r;
        db->records = calloc(MAX(n_refs, (size_t) 1), sizeof(LdmRecord));
        if (!db->records)
                return -ENOMEM;
        for (size_t i = 0, j; i < n_refs; i = j) {
                for (j = i + 1; j < n_refs && refs[j].group == refs[i].group; j++)
                        ;
                if (j - i > LDM_RECORD_MAX_FRAGMENTS) {
                        /* more fragments than any count allows: name the first surplus one */
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "VBLK", disk,
                                            slot_offset(db, config_offset, refs[i + LDM_RECORD_MAX_FRAGMENTS].slot) + 8,
                                            "group %" PRIu32 " has more than %u fragments",
                                            refs[i].group, LDM_RECORD_MAX_FRAGMENTS);
                }
                if (drop_cut_groups && group_cut_by_transaction(db, refs + i, j - i)) {
                        LdmDiag *d = &db->dropped_group;

                        if (db->n_dropped_groups++ == 0)
                                (void) assemble_record(db, refs + i, j - i, disk, config_offset,
                                                       &db->records[db->n_records], d);
                        continue;
                }
                r = assemble_record(db, refs + i, j - i, disk, config_offset,
                                    &db->records[db->n_records], err);
                if (r < 0)
                        return r;
                db->n_records++;
        }
        qsort_safe(db->records, db->n_records, sizeof(LdmRecord), record_slot_compare);
        return 0;
}

bool ldm_database_rolls_forward(const LdmDatabase *db) {
        return db->vmdb.status == LDM_VMDB_COMMIT;
}

bool ldm_database_in_flight(const LdmDatabase *db) {
        return db->vmdb.status != LDM_VMDB_CLEAN || db->vmdb.pending_seq != db->vmdb.committed_seq;
}

bool ldm_database_settled(const LdmDatabase *db) {
        if (ldm_database_in_flight(db) || db->n_dropped_groups > 0)
                return false;
        for (size_t i = 0; i < db->n_records; i++)
                if (db->records[i].update_status != 0)
                        return false;
        return true;
}

uint64_t ldm_database_effective_committed(const LdmDatabase *db) {
        return ldm_database_rolls_forward(db) ? db->vmdb.pending_seq : db->vmdb.committed_seq;
}

bool ldm_database_record_effective(const LdmDatabase *db, const LdmRecord *r) {
        if (ldm_database_rolls_forward(db))
                return r->update_status != 1;
        return r->update_status != 2;
}

/* Where fragment f of r lies in db->config; NULL outside the region. */
static uint8_t *record_payload(const LdmDatabase *db, const LdmRecord *r, uint16_t f) {
        uint32_t k = r->slots[f];

        if (!db->config || db->vmdb.vblk_size <= SLOT_HEADER ||
            (uint64_t) k + 1 > db->config_size / db->vmdb.vblk_size)
                return NULL;
        return db->config + (size_t) k * db->vmdb.vblk_size + SLOT_HEADER;
}

int ldm_database_record_bytes(const LdmDatabase *db, const LdmRecord *r,
                              uint8_t out[static LDM_RECORD_MAX_SIZE]) {
        size_t payload = db->vmdb.vblk_size - SLOT_HEADER;

        if (!db->config || r->n_fragments == 0)
                return -ENODATA;
        if (r->n_fragments > LDM_RECORD_MAX_FRAGMENTS || db->vmdb.vblk_size <= SLOT_HEADER ||
            r->n_fragments * payload > LDM_RECORD_MAX_SIZE)
                return -EINVAL;
        memset(out, 0, LDM_RECORD_MAX_SIZE);
        for (uint16_t f = 0; f < r->n_fragments; f++) {
                const uint8_t *p = record_payload(db, r, f);

                if (!p)
                        return -EINVAL;
                memcpy(out + f * payload, p, payload);
        }
        return (int) r->raw_size;
}

void ldm_database_record_set_active(LdmDatabase *db, LdmRecord *r) {
        uint8_t *p = r->n_fragments > 0 && !r->dirty ? record_payload(db, r, 0) : NULL;

        r->update_status = 0;
        if (p)
                p[0] = p[1] = 0; /* the header's status, big-endian */
        else
                r->dirty = true;
}

LdmRecord *ldm_database_find(const LdmDatabase *db, uint32_t id) {
        LdmRecord *found = NULL;

        for (size_t i = 0; db && i < db->n_records; i++)
                if (db->records[i].id == id) {
                        if (ldm_database_record_effective(db, &db->records[i]))
                                return &db->records[i];
                        found = found ?: &db->records[i];
                }
        return found;
}

static bool has_disk_group(const LdmDatabase *db) {
        for (size_t i = 0; i < db->n_records; i++)
                if (db->records[i].type == LDM_RECORD_DISK_GROUP)
                        return true;
        return false;
}

/* Object IDs are unique, except that a transaction replaces a record by a pending-activation
 * copy with the same ID while the old one is pending deletion. */
static int check_ids_and_counts(const LdmDatabase *db, const char *disk, uint64_t config_offset,
                                LdmDiag *err) {
        uint32_t counts[_LDM_COUNT_MAX] = {};
        const uint32_t *expected;

        for (size_t i = 0; i < db->n_records; i++) {
                const LdmRecord *a = &db->records[i];

                for (size_t j = i + 1; j < db->n_records; j++) {
                        const LdmRecord *b = &db->records[j];
                        if (a->id == b->id && (a->update_status == b->update_status ||
                                               a->update_status == 0 || b->update_status == 0))
                                return ldm_diag_set(err, LDM_DIAG_ERROR, "record", disk,
                                                    slot_offset(db, config_offset, b->slots[0]) + SLOT_HEADER,
                                                    "object ID %" PRIu32 " of \"%s\" (slot %" PRIu32 ") is already used by \"%s\" (slot %" PRIu32 ")",
                                                    b->id, b->name, b->slots[0], a->name, a->slots[0]);
                }
                if (!ldm_database_record_effective(db, a))
                        continue;
                switch (a->type) {
                case LDM_RECORD_VOLUME:    counts[LDM_COUNT_VOLUME]++; break;
                case LDM_RECORD_COMPONENT: counts[LDM_COUNT_COMPONENT]++; break;
                case LDM_RECORD_PARTITION: counts[LDM_COUNT_PARTITION]++; break;
                case LDM_RECORD_DISK:      counts[LDM_COUNT_DISK]++; break;
                default: break;
                }
        }

        expected = ldm_database_rolls_forward(db) ? db->vmdb.pending_counts : db->vmdb.committed_counts;
        for (size_t i = 0; i < LDM_COUNT_DISK_ACCESS; i++)
                if (counts[i] != expected[i])
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", disk,
                                            config_offset + (ldm_database_rolls_forward(db) ? 0xA1 : 0x85) + 4 * i,
                                            "record count %zu is %" PRIu32 " but %" PRIu32 " such records are in the config region",
                                            i, expected[i], counts[i]);
        return 0;
}

static void parse_log(LdmDatabase *db, const char *disk, uint64_t log_offset) {
        _Static_assert(LDM_DATABASE_LOG_PARSED == 2 * 512, "parse_log() reads two 512-byte KLOG pages");
        for (size_t i = 0; i < 2; i++) {
                if (db->log_size < (i + 1) * 512) {
                        db->klog_state[i] = -ENOENT;
                        continue;
                }
                db->klog_state[i] = ldm_klog_parse(db->log + i * 512, disk, log_offset + i * 512,
                                                   &db->klog[i], &db->klog_diag[i]);
        }
}

void ldm_database_drop_raw(LdmDatabase *db) {
        free(db->config);
        free(db->log);
        db->config = db->log = NULL;
}

/* Whether the VMDB's slots lie inside a config region of config_size bytes. */
static bool slots_fit(const LdmVmdb *v, size_t config_size) {
        uint64_t need;

        return !mul_u64_overflow(v->n_slots, v->vblk_size, &need) && need <= config_size;
}

int ldm_database_parse_take(uint8_t *config, size_t config_size, uint8_t *log, size_t log_size,
                            const char *disk, uint64_t config_offset, uint64_t log_offset,
                            LdmDatabaseFlags flags, LdmDatabase **ret, LdmDiag *err) {
        _cleanup_free_ uint8_t *config_owned = config, *log_owned = log;
        _cleanup_(ldm_database_freep) LdmDatabase *db = NULL;
        int r;

        if (config_size < 512)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", disk, config_offset,
                                    "config region of %zu bytes cannot hold the VMDB", config_size);
        db = calloc(1, sizeof(*db));
        if (!db)
                return -ENOMEM;
        r = ldm_vmdb_parse(config, disk, config_offset, &db->vmdb, err);
        if (r < 0)
                return r;
        if (!slots_fit(&db->vmdb, config_size))
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", disk, config_offset + 4,
                                    "%" PRIu32 " slots of %" PRIu32 " bytes exceed the %zu-byte config region",
                                    db->vmdb.n_slots, db->vmdb.vblk_size, config_size);

        /* An empty log region still gets a buffer: users of db->log expect one. */
        if (!log_owned && !(log_owned = calloc(1, 1)))
                return -ENOMEM;
        db->config = TAKE_PTR(config_owned);
        db->log = TAKE_PTR(log_owned);
        db->config_size = config_size;
        db->log_size = log_size;

        r = assemble_records(db, db->vmdb.n_slots, true, disk, config_offset, err);
        if (r < 0)
                return r;
        r = check_ids_and_counts(db, disk, config_offset, err);
        /* Dropped groups are a cut transaction's only if the rest is whole without them: a
         * committed record that lost a fragment shows as a wrong count (or, for the group's
         * own record, none), and then the incomplete group is what is wrong. */
        if (db->n_dropped_groups > 0 && (r < 0 || !has_disk_group(db))) {
                *err = db->dropped_group;
                return -EBADMSG;
        }
        if (r < 0)
                return r;
        parse_log(db, disk, log_offset);
        db->config_hashed = db->config_size;
        db->config_hash = hash64(db->config, db->config_size);
        if (flags & LDM_DATABASE_NO_RAW)
                ldm_database_drop_raw(db);

        *ret = TAKE_PTR(db);
        return 0;
}

/* assemble_records() and parse_log() read db->config and db->log; here they are the
 * caller's buffers, lent for the call and never freed by the database. */
static int parse_head_lent(LdmDatabase *db, const uint8_t *config, size_t have, size_t config_size,
                           const uint8_t *log, size_t log_size, const char *disk,
                           uint64_t config_offset, uint64_t log_offset) {
        static const uint8_t no_log[1];
        LdmDiag ignored;
        uint32_t limit;
        int r;

        /* The same VMDB checks as the full parse (vblk_size is 128 once parsed), so that the
         * head never accepts a region the full parse rejects for its header. */
        if (ldm_vmdb_parse(config, disk, config_offset, &db->vmdb, &ignored) < 0 ||
            !slots_fit(&db->vmdb, config_size) || ldm_database_in_flight(db))
                return -EAGAIN;
        limit = (uint32_t) MIN((uint64_t) db->vmdb.n_slots, have / db->vmdb.vblk_size);
        db->config = (uint8_t *) config;
        db->config_size = config_size;
        r = assemble_records(db, limit, false, disk, config_offset, &ignored);
        if (r == -ENOMEM)
                return r;
        /* Complete: the counts the VMDB commits to are all here, and so is the group's own
         * record; a fragment whose siblings lie further on failed assembly above. */
        if (r < 0 || check_ids_and_counts(db, disk, config_offset, &ignored) < 0 || !has_disk_group(db))
                return -EAGAIN;

        db->log = (uint8_t *) (log ?: no_log);
        db->log_size = log ? log_size : 0; /* parse_log() reads at most LDM_DATABASE_LOG_PARSED */
        parse_log(db, disk, log_offset);
        db->config_hashed = have;
        db->config_hash = hash64(config, have);
        return 0;
}

int ldm_database_parse_head(const uint8_t *config, size_t have, size_t config_size,
                            const uint8_t *log, size_t log_size, const char *disk,
                            uint64_t config_offset, uint64_t log_offset, LdmDatabase **ret) {
        _cleanup_(ldm_database_freep) LdmDatabase *db = NULL;
        int r;

        /* Every way this can fail is "read more of the region": the full parse then finds
         * and names whatever is wrong, with the same words as for any other reader. */
        if (have < 512 || have > config_size)
                return -EAGAIN;
        db = calloc(1, sizeof(*db));
        if (!db)
                return -ENOMEM;
        r = parse_head_lent(db, config, have, config_size, log, log_size, disk, config_offset,
                            log_offset);
        /* Not ours to free, on any path. */
        db->config = db->log = NULL;
        if (r < 0)
                return r;

        *ret = TAKE_PTR(db);
        return 0;
}

int ldm_database_parse(const uint8_t *config, size_t config_size, const uint8_t *log,
                       size_t log_size, const char *disk, uint64_t config_offset,
                       uint64_t log_offset, LdmDatabase **ret, LdmDiag *err) {
        uint8_t *c = NULL, *l = NULL;

        /* Checked first so that a too small region is a diagnosis, not an allocation. */
        if (config_size < 512)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", disk, config_offset,
                                    "config region of %zu bytes cannot hold the VMDB", config_size);
        c = memdup(config, config_size);
        l = log_size > 0 ? memdup(log, log_size) : calloc(1, 1);
        if (!c || !l) {
                free(c);
                free(l);
                return -ENOMEM;
        }
        return ldm_database_parse_take(c, config_size, l, log_size, disk, config_offset,
                                       log_offset, 0, ret, err);
}

/* ---- laying records back into slots ---- */

typedef struct Placement {
        uint8_t bytes[LDM_RECORD_MAX_SIZE]; /* what goes into the payloads, zero padded */
        uint16_t n_fragments;
} Placement;

static void write_slot(LdmDatabase *db, uint32_t k, uint32_t group, uint16_t index,
                       uint16_t count, const uint8_t *payload) {
        uint8_t *s = db->config + (size_t) k * db->vmdb.vblk_size;

        memset(s, 0, db->vmdb.vblk_size);
        memcpy(s, VBLK_MAGIC, 4);
        unaligned_write_be32(s + 4, k);
        if (count == 0)
                return;
        unaligned_write_be32(s + 8, group);
        unaligned_write_be16(s + 12, index);
        unaligned_write_be16(s + 14, count);
        memcpy(s + SLOT_HEADER, payload, LDM_VBLK_PAYLOAD);
}

/* Takes n free slots, lowest first. */
static int allocate_slots(int32_t *owner, uint32_t first, uint32_t n_slots, int32_t who,
                          uint16_t n, uint32_t ret[static LDM_RECORD_MAX_FRAGMENTS]) {
        uint16_t got = 0;

        for (uint32_t k = first; k < n_slots && got < n; k++)
                if (owner[k] < 0)
                        ret[got++] = k;
        if (got < n)
                return -ENOSPC;
        for (uint16_t i = 0; i < n; i++)
                owner[ret[i]] = who;
        return 0;
}

/* Decides what each record's payload is and which of its old slots it keeps. */
static int plan_records(LdmDatabase *db, Placement *pl, int32_t *owner, uint32_t first) {
        for (size_t i = 0; i < db->n_records; i++) {
                LdmRecord *r = &db->records[i];
                bool clean = r->n_fragments > 0 && !r->dirty;

                if (r->n_fragments > LDM_RECORD_MAX_FRAGMENTS)
                        return -EINVAL;
                if (clean) {
                        int n = ldm_database_record_bytes(db, r, pl[i].bytes);
                        if (n < 0)
                                return n;
                        pl[i].n_fragments = r->n_fragments;
                } else {
                        int n = ldm_record_encode(r, pl[i].bytes);
                        if (n < 0)
                                return n;
                        pl[i].n_fragments = (uint16_t) DIV_ROUND_UP((size_t) n, LDM_VBLK_PAYLOAD);
                }
                /* Keep the record's slots when it still fits in them (same count, as the
                 * fragment count is part of every slot header). */
                if (r->n_fragments == 0 || pl[i].n_fragments != r->n_fragments)
                        continue;
                for (uint16_t f = 0; f < r->n_fragments; f++) {
                        uint32_t k = r->slots[f];
                        if (k < first || k >= db->vmdb.n_slots || owner[k] >= 0)
                                return -EINVAL;
                        owner[k] = (int32_t) i;
                }
        }
        return 0;
}

int ldm_database_serialize(LdmDatabase *db) {
        uint32_t first, max_group = 0;
        _cleanup_free_ int32_t *owner = NULL;
        _cleanup_free_ Placement *pl = NULL;
        uint64_t need;
        int r;

        if (!db->config || !db->log)
                return -ENODATA;
        if (db->vmdb.vblk_size != 128 || db->vmdb.header_size < 512 ||
            db->vmdb.header_size % db->vmdb.vblk_size != 0 ||
            mul_u64_overflow(db->vmdb.n_slots, db->vmdb.vblk_size, &need) || need > db->config_size)
                return -EINVAL;
        first = db->vmdb.header_size / db->vmdb.vblk_size;

        owner = malloc(sizeof(*owner) * MAX(db->vmdb.n_slots, 1u));
        pl = calloc(MAX(db->n_records, (size_t) 1), sizeof(*pl));
        if (!owner || !pl)
                return -ENOMEM;
        for (uint32_t k = 0; k < db->vmdb.n_slots; k++)
                owner[k] = -1;
        for (size_t i = 0; i < db->n_records; i++)
                max_group = MAX(max_group, db->records[i].group);

        r = plan_records(db, pl, owner, first);
        if (r < 0)
                return r;

        /* Records that are new, or no longer fit in their slots, move to free ones. */
        for (size_t i = 0; i < db->n_records; i++) {
                LdmRecord *rec = &db->records[i];
                uint32_t slots[LDM_RECORD_MAX_FRAGMENTS] = {};

                if (rec->n_fragments != 0 && pl[i].n_fragments == rec->n_fragments)
                        continue;
                r = allocate_slots(owner, first, db->vmdb.n_slots, (int32_t) i, pl[i].n_fragments, slots);
                if (r < 0)
                        return r;
                memcpy(rec->slots, slots, sizeof(slots));
                if (rec->group == 0) {
                        if (max_group == UINT32_MAX)
                                return -ENOSPC;
                        rec->group = ++max_group;
                }
        }

        ldm_vmdb_encode(&db->vmdb, db->config);
        for (uint32_t k = first; k < db->vmdb.n_slots; k++)
                if (owner[k] < 0)
                        write_slot(db, k, 0, 0, 0, NULL);
        for (size_t i = 0; i < db->n_records; i++) {
                LdmRecord *rec = &db->records[i];

                rec->n_fragments = pl[i].n_fragments;
                for (uint16_t f = 0; f < rec->n_fragments; f++)
                        write_slot(db, rec->slots[f], rec->group, f, rec->n_fragments,
                                   pl[i].bytes + f * LDM_VBLK_PAYLOAD);
                if (rec->dirty) {
                        rec->raw_size = 8 + unaligned_read_be32(pl[i].bytes + 4);
                        rec->dirty = false;
                }
        }
        for (size_t i = 0; i < 2; i++)
                if (db->klog_state[i] == 0 && db->log_size >= (i + 1) * 512)
                        ldm_klog_encode(&db->klog[i], db->log + i * 512);
        db->config_hashed = db->config_size;
        db->config_hash = hash64(db->config, db->config_size);
        return 0;
}
