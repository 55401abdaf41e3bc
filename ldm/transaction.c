/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* transaction.c: the §11.1 update protocol. The transaction computes, in memory, the config
 * and log images after each of the six steps, starting from the old committed images; each
 * step then writes only the sectors that differ from the previous image, on every disk,
 * and flushes every disk before the next step starts. Under the in-flight recovery of
 * §10.2 rule 2 each intermediate image reads as the old database (steps 1–3: status-2
 * records are not yet active, status-1 records still are) or as the new one (steps 4–6). */

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "unaligned.h"
#include "writer.h"

#define VBLK_HEADER 16u

typedef enum TxnState {
        TXN_UNCHANGED,
        TXN_EDITED,
        TXN_ADDED,
        TXN_DELETED,
} TxnState;

typedef struct TxnRecord {
        LdmRecord *rec;       /* working copy */
        const LdmRecord *old; /* in the starting database (NULL when added) */
        TxnState state;
        uint32_t new_slots[LDM_RECORD_MAX_FRAGMENTS];
        uint16_t n_new_slots;
} TxnRecord;

struct LdmTxn {
        const LdmDatabase *db;
        TxnRecord *recs;
        size_t n_recs, allocated;
        uint32_t next_id;
        uint64_t base_id;
        size_t n_changes;
        LdmTxnStep stop_after;
};

LdmTxn *ldm_txn_free(LdmTxn *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_recs; i++)
                free(t->recs[i].rec);
        free(t->recs);
        free(t);
        return NULL;
}

int ldm_txn_begin(const LdmDatabase *db, LdmTxn **ret) {
        _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
        uint64_t max_id;

        if (!db->config || db->config_size < 512 || !db->log)
                return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->db = db;
        t->allocated = db->n_records + 16;
        t->recs = calloc(t->allocated, sizeof(TxnRecord));
        if (!t->recs)
                return -ENOMEM;
        max_id = db->vmdb.committed_seq;
        for (size_t i = 0; i < db->n_records; i++) {
                max_id = MAX(max_id, (uint64_t) db->records[i].id);
                t->recs[i].old = &db->records[i];
        }
        t->n_recs = db->n_records;
        /* New IDs come after every ID and transaction number in use (§11.1, D's model). */
        if (max_id >= UINT32_MAX - 1024)
                return -EOVERFLOW;
        t->base_id = max_id;
        t->next_id = (uint32_t) max_id + 1;
        *ret = TAKE_PTR(t);
        return 0;
}

void ldm_txn_set_stop_after(LdmTxn *t, LdmTxnStep step) {
        t->stop_after = step;
}

uint64_t ldm_txn_id(const LdmTxn *t) {
        return t->base_id + t->n_changes + 1;
}

static TxnRecord *find(LdmTxn *t, uint32_t id) {
        for (size_t i = 0; i < t->n_recs; i++) {
                const LdmRecord *r = t->recs[i].rec ?: t->recs[i].old;
                if (r && r->id == id && t->recs[i].state != TXN_DELETED)
                        return &t->recs[i];
        }
        return NULL;
}

LdmRecord *ldm_txn_edit(LdmTxn *t, uint32_t id) {
        TxnRecord *tr = find(t, id);

        if (!tr)
                return NULL;
        if (!tr->rec) {
                tr->rec = malloc(sizeof(LdmRecord));
                if (!tr->rec)
                        return NULL;
                *tr->rec = *tr->old;
                tr->state = TXN_EDITED;
                t->n_changes++;
        }
        return tr->rec;
}

LdmRecord *ldm_txn_add(LdmTxn *t, LdmRecordType type, const char *name) {
        TxnRecord *tr;

        if (t->n_recs >= t->allocated) {
                size_t n = t->allocated * 2;
                TxnRecord *a = reallocarray(t->recs, n, sizeof(TxnRecord));
                if (!a)
                        return NULL;
                memset(a + t->allocated, 0, (n - t->allocated) * sizeof(TxnRecord));
                t->recs = a;
                t->allocated = n;
        }
        tr = &t->recs[t->n_recs];
        tr->rec = calloc(1, sizeof(LdmRecord));
        if (!tr->rec)
                return NULL;
        t->n_recs++;
        tr->state = TXN_ADDED;
        tr->rec->type = (uint8_t) type;
        tr->rec->revision = type == LDM_RECORD_VOLUME ? 5 : 3;
        tr->rec->id = t->next_id++;
        snprintf(tr->rec->name, sizeof(tr->rec->name), "%s", name);
        t->n_changes++;
        return tr->rec;
}

int ldm_txn_delete(LdmTxn *t, uint32_t id) {
        TxnRecord *tr = find(t, id);

        if (!tr)
                return -ENOENT;
        if (tr->state == TXN_ADDED) {
                /* Never written: forget it. */
                tr->rec = mfree(tr->rec);
                t->n_changes--;
        } else if (tr->state == TXN_UNCHANGED)
                t->n_changes++;
        tr->state = TXN_DELETED;
        return 0;
}

static void set_commit_id(LdmRecord *r, uint64_t T) {
        switch (r->type) {
        case LDM_RECORD_VOLUME:     r->volume.commit_id = T; break;
        case LDM_RECORD_COMPONENT:  r->component.commit_id = T; break;
        case LDM_RECORD_PARTITION:  r->partition.commit_id = T; break;
        case LDM_RECORD_DISK:       r->disk.commit_id = T; break;
        case LDM_RECORD_DISK_GROUP: r->disk_group.commit_id = T; break;
        }
}

static int count_index(uint8_t type) {
        switch (type) {
        case LDM_RECORD_VOLUME:    return LDM_COUNT_VOLUME;
        case LDM_RECORD_COMPONENT: return LDM_COUNT_COMPONENT;
        case LDM_RECORD_PARTITION: return LDM_COUNT_PARTITION;
        case LDM_RECORD_DISK:      return LDM_COUNT_DISK;
        default:                   return -1;
        }
}

/* The in-memory images a transaction writes: phase 0 is the old committed state, every
 * later phase belongs to one §11.1 step (steps 1 and 5 have two phases each). */
#define N_PHASES 9
static const LdmTxnStep phase_step[N_PHASES] = {
        0,
        LDM_TXN_STEP_RECORDS, LDM_TXN_STEP_RECORDS,
        LDM_TXN_STEP_CHANGE,
        LDM_TXN_STEP_LOG,
        LDM_TXN_STEP_COMMIT,
        LDM_TXN_STEP_CLEANUP, LDM_TXN_STEP_CLEANUP,
        LDM_TXN_STEP_CLEAN,
};

typedef struct Images {
        uint8_t *config[N_PHASES];
        uint8_t *log[N_PHASES];
        size_t config_size, log_size;
} Images;

static void images_free(Images *im) {
        for (size_t i = 0; i < N_PHASES; i++) {
                free(im->config[i]);
                free(im->log[i]);
        }
}

static uint8_t *slot_ptr(uint8_t *config, const LdmVmdb *v, uint32_t slot) {
        return config + (size_t) slot * v->vblk_size;
}

static void slot_clear(uint8_t *config, const LdmVmdb *v, uint32_t slot) {
        uint8_t *s = slot_ptr(config, v, slot);
        memset(s, 0, v->vblk_size);
        memcpy(s, "VBLK", 4);
        unaligned_write_be32(s + 4, slot);
}

/* Step 1a: the records being replaced or deleted are marked pending deletion (status 1).
 * This comes before their replacements exist, so that no disk ever holds an active record
 * and a pending one with the same object ID. */
static void step_mark(LdmTxn *t, uint8_t *c) {
        const LdmVmdb *v = &t->db->vmdb;

        for (size_t i = 0; i < t->n_recs; i++) {
                TxnRecord *tr = &t->recs[i];
                if (tr->old && (tr->state == TXN_EDITED || tr->state == TXN_DELETED))
                        unaligned_write_be16(slot_ptr(c, v, tr->old->slots[0]) + VBLK_HEADER, 1);
        }
}

/* Step 1b: new and changed records into free slots, pending activation (status 2). */
static int step_records(LdmTxn *t, uint8_t *c, uint64_t T) {
        const LdmVmdb *v = &t->db->vmdb;
        uint32_t first = v->header_size / v->vblk_size, group = 0, next_free;
        size_t payload = v->vblk_size - VBLK_HEADER;

        for (uint32_t k = first; k < v->n_slots; k++)
                group = MAX(group, unaligned_read_be32(slot_ptr(c, v, k) + 8));
        next_free = first;

        for (size_t i = 0; i < t->n_recs; i++) {
                TxnRecord *tr = &t->recs[i];
                uint8_t buf[LDM_RECORD_MAX_SIZE] = {};
                int size;

                if (tr->state != TXN_EDITED && tr->state != TXN_ADDED)
                        continue;
                tr->rec->update_status = 2;
                tr->rec->dirty = true;
                set_commit_id(tr->rec, T);
                size = ldm_record_encode(tr->rec, buf);
                if (size < 0)
                        return size;
                tr->n_new_slots = (uint16_t) DIV_ROUND_UP((size_t) size, payload);
                group++;
                for (uint16_t f = 0; f < tr->n_new_slots; f++) {
                        uint8_t *s;
                        while (next_free < v->n_slots &&
                               unaligned_read_be16(slot_ptr(c, v, next_free) + 14) != 0)
                                next_free++;
                        if (next_free >= v->n_slots)
                                return -ENOSPC;
                        s = slot_ptr(c, v, next_free);
                        memset(s, 0, v->vblk_size);
                        memcpy(s, "VBLK", 4);
                        unaligned_write_be32(s + 4, next_free);
                        unaligned_write_be32(s + 8, group);
                        unaligned_write_be16(s + 12, f);
                        unaligned_write_be16(s + 14, tr->n_new_slots);
                        memcpy(s + VBLK_HEADER, buf + (size_t) f * payload,
                               MIN(payload, (size_t) size - (size_t) f * payload));
                        tr->new_slots[f] = next_free;
                }
        }
        return 0;
}

/* Step 5a: the replaced records' slots become unused. */
static void step_clear(LdmTxn *t, uint8_t *c) {
        const LdmVmdb *v = &t->db->vmdb;

        for (size_t i = 0; i < t->n_recs; i++) {
                TxnRecord *tr = &t->recs[i];
                if (tr->old && (tr->state == TXN_EDITED || tr->state == TXN_DELETED))
                        for (uint16_t f = 0; f < tr->old->n_fragments; f++)
                                slot_clear(c, v, tr->old->slots[f]);
        }
}

/* Step 5b: the new records become plainly active (status 0), once no old copy is left. */
static void step_activate(LdmTxn *t, uint8_t *c) {
        const LdmVmdb *v = &t->db->vmdb;

        for (size_t i = 0; i < t->n_recs; i++) {
                TxnRecord *tr = &t->recs[i];
                if (tr->n_new_slots > 0)
                        unaligned_write_be16(slot_ptr(c, v, tr->new_slots[0]) + VBLK_HEADER, 0);
        }
}

static void put_vmdb(uint8_t *c, const LdmVmdb *v) {
        uint8_t sector[512];
        ldm_vmdb_encode(v, sector);
        memcpy(c, sector, sizeof(sector));
}

static bool klog_marks_state(uint8_t status) {
        return status == 1 || status == 2 || status == 4 || status == 5;
}

/* §11.1 step 3: the commit entry replaces the page's last entry (D). A detach or dirty entry
 * is state, though (§10.2 rule 5: it marks a plex stale or a volume for resync until that is
 * repaired), so it is never the one replaced: the commit entry goes after it, or in the last
 * plain entry when the page is full. A page of nothing but marks gets no commit entry: no
 * reader needs it, every reader needs the marks. Returns whether page changed. */
static bool klog_add_commit(LdmKlogPage *page, uint64_t committed, uint64_t pending) {
        LdmKlogEntry commit = { .status = 3, .committed = committed, .pending = pending };
        size_t n = MIN(page->n_entries, (size_t) LDM_KLOG_MAX_ENTRIES);

        if (n == 0 || !klog_marks_state(page->entries[n - 1].status)) {
                page->entries[n > 0 ? n - 1 : 0] = commit;
                page->n_entries = MAX(n, (size_t) 1);
                return true;
        }
        if (n < LDM_KLOG_MAX_ENTRIES) {
                page->entries[n] = commit;
                page->n_entries = n + 1;
                return true;
        }
        for (size_t i = n; i > 0; i--)
                if (!klog_marks_state(page->entries[i - 1].status)) {
                        page->entries[i - 1] = commit;
                        return true;
                }
        return false;
}

static int build_images(LdmTxn *t, Images *im) {
        const LdmDatabase *db = t->db;
        uint64_t T = ldm_txn_id(t);
        LdmVmdb v = db->vmdb;
        uint32_t counts[_LDM_COUNT_MAX];
        LdmKlogPage page;
        size_t ph = 0;
        int r;

        im->config_size = db->config_size;
        im->log_size = db->log_size;
        for (size_t i = 0; i < N_PHASES; i++) {
                im->config[i] = malloc(db->config_size);
                im->log[i] = malloc(MAX(db->log_size, 512u));
                if (!im->config[i] || !im->log[i])
                        return -ENOMEM;
        }
        memcpy(im->config[0], db->config, db->config_size);
        memcpy(im->log[0], db->log, db->log_size);

        memcpy(counts, v.committed_counts, sizeof(counts));
        for (size_t i = 0; i < t->n_recs; i++) {
                const TxnRecord *tr = &t->recs[i];
                const LdmRecord *rec = tr->rec ?: tr->old;
                int ci = rec ? count_index(rec->type) : -1;
                if (ci < 0)
                        continue;
                if (tr->state == TXN_ADDED)
                        counts[ci]++;
                else if (tr->state == TXN_DELETED && tr->old && counts[ci] > 0)
                        counts[ci]--;
        }

#define NEXT() do { ph++;                                                               \
                    memcpy(im->config[ph], im->config[ph - 1], im->config_size);        \
                    memcpy(im->log[ph], im->log[ph - 1], im->log_size); } while (0)
        NEXT();
        step_mark(t, im->config[ph]);
        NEXT();
        r = step_records(t, im->config[ph], T);
        if (r < 0)
                return r;

        NEXT();
        v.status = LDM_VMDB_CHANGE;
        v.pending_seq = T;
        memcpy(v.pending_counts, counts, sizeof(counts));
        put_vmdb(im->config[ph], &v);

        NEXT();
        page = db->klog[0];
        if (klog_add_commit(&page, v.committed_seq, T))
                ldm_klog_encode(&page, im->log[ph]);

        NEXT();
        v.status = LDM_VMDB_COMMIT;
        put_vmdb(im->config[ph], &v);

        NEXT();
        step_clear(t, im->config[ph]);
        NEXT();
        step_activate(t, im->config[ph]);

        NEXT();
        v.status = LDM_VMDB_CLEAN;
        v.committed_seq = T;
        memcpy(v.committed_counts, counts, sizeof(counts));
        v.timestamp = ldm_filetime_now();
        put_vmdb(im->config[ph], &v);
#undef NEXT
        assert(ph == N_PHASES - 1);
        return 0;
}

/* Writes the sectors of cur that differ from prev, in runs, at byte offset base. */
static int write_diff(LdmIo *io, const uint8_t *prev, const uint8_t *cur, size_t size,
                      uint64_t base, LdmDiag *err) {
        for (size_t s = 0; s < size; ) {
                size_t e;
                int r;

                if (memcmp(prev + s, cur + s, LDM_SECTOR) == 0) {
                        s += LDM_SECTOR;
                        continue;
                }
                for (e = s + LDM_SECTOR; e < size && memcmp(prev + e, cur + e, LDM_SECTOR) != 0; )
                        e += LDM_SECTOR;
                r = ldm_io_pwrite(io, cur + s, e - s, base + s);
                if (r < 0)
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "VBLK", ldm_io_path(io), base + s,
                                            "transaction write failed: %s", strerror(-r)), r;
                s = e;
        }
        return 0;
}

static void region_offsets(const LdmDevice *d, uint64_t *ret_config, uint64_t *ret_log) {
        *ret_config = (d->privhead.priv_start + d->toc.regions[0].start) * LDM_SECTOR;
        *ret_log = (d->privhead.priv_start + d->toc.regions[1].start) * LDM_SECTOR;
}

/* Every disk must hold exactly the starting images, or the diffs would mix copies. */
static int check_disk(LdmIo *io, const LdmDevice *d, const Images *im, LdmDiag *err) {
        _cleanup_free_ uint8_t *buf = NULL;
        uint64_t co, lo;
        int r;

        if (ldm_io_logical_sector_size(io) != LDM_SECTOR)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "device", ldm_io_path(io), LDM_DIAG_NO_OFFSET,
                                    "only 512-byte sectors can be written"), -EOPNOTSUPP;
        if (d->toc.regions[0].size * LDM_SECTOR < im->config_size ||
            d->toc.regions[1].size * LDM_SECTOR < im->log_size)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "TOCBLOCK", ldm_io_path(io), LDM_DIAG_NO_OFFSET,
                                    "config/log regions smaller than the database"), -EBADMSG;
        region_offsets(d, &co, &lo);
        buf = malloc(MAX(im->config_size, im->log_size));
        if (!buf)
                return -ENOMEM;
        r = ldm_io_pread(io, buf, im->config_size, co);
        if (r < 0)
                return r;
        if (memcmp(buf, im->config[0], im->config_size) != 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "config", ldm_io_path(io), co,
                                    "this disk's database copy differs from the one the "
                                    "transaction starts from; resynchronise it first"), -ESTALE;
        r = ldm_io_pread(io, buf, im->log_size, lo);
        if (r < 0)
                return r;
        if (memcmp(buf, im->log[0], im->log_size) != 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "log", ldm_io_path(io), lo,
                                    "this disk's log region differs from the one the "
                                    "transaction starts from; resynchronise it first"), -ESTALE;
        return 0;
}

int ldm_txn_commit(LdmTxn *t, LdmIo *const *ios, LdmDevice *const *devs, size_t n,
                   LdmDiag *err) {
        _cleanup_(images_free) Images im = {};
        int r;

        r = build_images(t, &im);
        if (r == -ENOSPC)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VBLK", "", LDM_DIAG_NO_OFFSET,
                                    "no free VBLK slots left for the transaction"), r;
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = check_disk(ios[i], devs[i], &im, err);
                if (r < 0)
                        return r;
        }

        for (size_t s = 1; s < N_PHASES; s++) {
                for (size_t i = 0; i < n; i++) {
                        uint64_t co, lo;

                        region_offsets(devs[i], &co, &lo);
                        r = write_diff(ios[i], im.config[s - 1], im.config[s], im.config_size, co, err);
                        if (r < 0)
                                return r;
                        r = write_diff(ios[i], im.log[s - 1], im.log[s], im.log_size, lo, err);
                        if (r < 0)
                                return r;
                }
                for (size_t i = 0; i < n; i++) {
                        r = ldm_io_flush(ios[i]);
                        if (r < 0)
                                return ldm_diag_set(err, LDM_DIAG_ERROR, "device", ldm_io_path(ios[i]),
                                                    LDM_DIAG_NO_OFFSET, "flush failed: %s",
                                                    strerror(-r)), r;
                }
                /* Stop after the last phase of the requested step. */
                if (t->stop_after != 0 && t->stop_after == phase_step[s] &&
                    (s + 1 == N_PHASES || phase_step[s + 1] != phase_step[s]))
                        return 0;
        }
        return 0;
}
