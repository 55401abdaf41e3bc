/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* resync.c: the data step of Recover and the Verify scrub. A volume's redundancy is repaired
 * through "targets": a stale mirror plex (copied from a healthy plex), a stale RAID-5 column
 * (XOR of the other columns at the same column offset — right for data and parity chunks
 * alike), or a RAID-5 volume's parity (each row's parity chunk recomputed from its data
 * chunks). Sources are only plexes/columns that are neither stale nor on a missing disk. */

#include <stdio.h>

#include "checkpoint.h"
#include "context.h"
#include "crc32.h"
#include "volume-map.h"
#include "xor.h"
#include "vds.h"

/* The last check before volume data is written: whatever the model says, the bytes land
 * inside the extent's disk's public region (recover.md "Nothing outside the pack"). The
 * first extent refused is kept for the job's message. */
static int write_offset(RepairContext *c, const LdmExtent *e, uint64_t in, uint64_t n, uint64_t *ret) {
        const LdmExtent *none = NULL;
        int r;

        r = ldm_extent_write_offset(e, in, n, ret);
        if (r == -EINVAL)
                atomic_compare_exchange_strong(&c->refused_extent, &none, e);
        return r;
}

int repair_column_io(RepairContext *c, const LdmColumn *col, bool write, uint64_t off,
                     uint8_t *buf, size_t len) {
        while (len > 0) {
                const LdmExtent *e;
                uint64_t in, n, at;
                LdmIo *io;
                int r;

                r = ldm_column_map(col, off, len, &e, &in, &n);
                if (r < 0)
                        return r;
                io = repair_disk_io(c, e->disk);
                at = ldm_extent_byte_offset(e, in);
                if (!io || at == LDM_NO_DISK_OFFSET)
                        return -ENXIO;
                if (write) {
                        r = write_offset(c, e, in, n, &at);
                        if (r < 0)
                                return r;
                        r = ldm_io_pwrite(io, buf, (size_t) n, at);
                } else
                        r = ldm_io_pread(io, buf, (size_t) n, at);
                if (r < 0) {
                        const char *none = NULL;
                        /* ldm_io_path() lives as long as the io: copy it out before the
                         * disks are closed (repair.c does, into the message). */
                        atomic_compare_exchange_strong(&c->io_error_path, &none, ldm_io_path(io));
                        return r;
                }
                off += n;
                buf += n;
                len -= (size_t) n;
        }
        return 0;
}

static int column_flush(RepairContext *c, const LdmColumn *col) {
        for (size_t i = 0; i < col->n_extents; i++) {
                LdmIo *io = repair_disk_io(c, col->extents[i]->disk);
                int r;

                if (!io)
                        return -ENXIO;
                r = ldm_io_flush(io);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Column size in bytes, or 0 when it does not fit (then the volume is left alone). */
static uint64_t column_bytes(const LdmColumn *col) {
        uint64_t b;

        if (mul_u64_overflow(col->size, LDM_SECTOR, &b))
                return 0;
        return b;
}

/* The database sync made every copy's log the authority's: this is the pack's KLOG now. */
static uint32_t klog_page0_crc(const LdmDatabase *db) {
        return db && db->log && db->log_size >= LDM_SECTOR ? crc32_ieee(db->log, LDM_SECTOR) : 0;
}

static int add_target(RepairContext *c, const RepairTarget *t) {
        if (c->n_targets >= ELEMENTSOF(c->targets))
                return -E2BIG;
        c->targets[c->n_targets] = *t;
        c->targets[c->n_targets].key = (CheckpointKey) {
                .pack = c->pack->guid,
                .volume_id = t->volume->id,
                .plex_id = t->plex->id,
                .target = t->column,
                /* A dirty mirror's plexes may differ: what a checkpoint covers was copied
                 * from this source, and is no part of a copy from another one. */
                .source_id = t->source ? t->source->id : 0,
                .sequence = c->pack->committed_seq,
                .klog_crc = klog_page0_crc(c->pack->db),
        };
        c->n_targets++;
        return 0;
}

static int plan_mirror(RepairContext *c, LdmVolume *v, unsigned *unrepairable) {
        LdmPlex *source = NULL;
        bool any_stale = false;
        uint64_t size;
        int r;

        for (size_t i = 0; i < v->n_plexes; i++) {
                LdmPlex *p = v->plexes[i];
                if (p->stale)
                        any_stale = true;
                else if (!source && ldm_plex_present(p) && p->n_columns == 1)
                        source = p;
        }
        if (!any_stale && !v->needs_resync)
                return 0;
        if (!source) {
                repair_remaining_add(c, "%s: no healthy plex to copy from (volume failed)", v->name);
                (*unrepairable)++;
                return 0;
        }
        if (mul_u64_overflow(v->size, LDM_SECTOR, &size) || size > column_bytes(&source->columns[0]))
                return -EBADMSG;

        for (size_t i = 0; i < v->n_plexes; i++) {
                LdmPlex *p = v->plexes[i];

                if (p == source || (!p->stale && !v->needs_resync))
                        continue;
                if (!ldm_plex_present(p)) {
                        repair_remaining_add(c, "%s plex %s: disk missing, redundancy still failed",
                                             v->name, p->name);
                        (*unrepairable)++;
                        continue;
                }
                if (p->n_columns != 1 || column_bytes(&p->columns[0]) < size)
                        return -EBADMSG;
                r = add_target(c, &(RepairTarget) {
                        .kind = REPAIR_TARGET_MIRROR, .volume = v, .plex = p, .source = source,
                        .column = CHECKPOINT_TARGET_PLEX, .size = size,
                });
                if (r < 0)
                        return r;
        }
        return 0;
}

static int plan_raid5(RepairContext *c, LdmVolume *v, unsigned *unrepairable) {
        LdmPlex *p;
        size_t n_stale = 0, stale = 0;
        uint64_t size = UINT64_MAX;

        if (v->n_plexes != 1)
                return -EBADMSG;
        p = v->plexes[0];
        if (p->n_columns < 3 || p->stripe_size == 0)
                return -EBADMSG;
        for (size_t i = 0; i < p->n_columns; i++) {
                size = MIN(size, column_bytes(&p->columns[i]));
                if (p->columns[i].stale || p->columns[i].missing) {
                        n_stale++;
                        stale = i;
                }
        }
        if (size == 0)
                return -EBADMSG;

        if (n_stale > 1) {
                repair_remaining_add(c, "%s: %zu RAID-5 columns stale or missing (volume failed)",
                                     v->name, n_stale);
                (*unrepairable)++;
                return 0;
        }
        if (n_stale == 1) {
                if (p->columns[stale].missing) {
                        repair_remaining_add(c, "%s column %zu: disk missing, redundancy still failed",
                                             v->name, stale);
                        (*unrepairable)++;
                        return 0;
                }
                /* The other columns are all there is to rebuild from; in rows being written
                 * when the volume went dirty they may disagree with what was meant (the
                 * write hole). A degraded read returns the same bytes: the rebuild makes
                 * nothing worse, but the job says it. */
                if (v->needs_resync)
                        c->n_rebuilt_dirty++;
                return add_target(c, &(RepairTarget) {
                        .kind = REPAIR_TARGET_COLUMN, .volume = v, .plex = p,
                        .column = (uint32_t) stale, .size = size,
                });
        }
        if (v->needs_resync)
                return add_target(c, &(RepairTarget) {
                        .kind = REPAIR_TARGET_PARITY, .volume = v, .plex = p,
                        .column = CHECKPOINT_TARGET_PARITY, .size = size,
                });
        return 0;
}

static int plan_simple(RepairContext *c, LdmVolume *v, unsigned *unrepairable) {
        for (size_t i = 0; i < v->n_plexes; i++)
                if (!ldm_plex_present(v->plexes[i])) {
                        repair_remaining_add(c, "%s: a disk is missing and the volume has no redundancy (failed)",
                                             v->name);
                        (*unrepairable)++;
                        return 0;
                }
        return 0;
}

bool repair_volume_consistent(const LdmVolume *v) {
        uint64_t size;

        if (v->type != LDM_VOLUME_MIRROR && v->type != LDM_VOLUME_RAID5)
                return true;
        if (v->type == LDM_VOLUME_RAID5 && v->n_plexes != 1)
                return false;
        if (mul_u64_overflow(v->size, LDM_SECTOR, &size))
                return false;
        for (size_t k = 0; k < v->n_plexes; k++) {
                const LdmPlex *p = v->plexes[k];

                if (!ldm_plex_present(p))
                        continue;
                if (ldm_plex_check(p) < 0)
                        return false;
                /* Every plex of a mirror holds the whole volume, in one column. */
                if (v->type == LDM_VOLUME_MIRROR &&
                    (p->n_columns != 1 || column_bytes(&p->columns[0]) < size))
                        return false;
        }
        return true;
}

int repair_plan(RepairContext *c, unsigned *ret_unrepairable) {
        unsigned unrepairable = 0;
        int r = 0;

        c->n_targets = 0;
        for (size_t i = 0; i < c->pack->n_volumes && r >= 0; i++) {
                LdmVolume *v = &c->pack->volumes[i];

                if (ldm_volume_extent_rejected(v)) {
                        repair_remaining_add(c, "%s: the reader rejected an extent record of it (a bad range or disk, "
                                             "outside the public region, an overlap, over the per-column limit), not touched",
                                             v->name);
                        unrepairable++;
                        continue;
                }

                if (!repair_volume_consistent(v)) {
                        repair_remaining_add(c, "%s: inconsistent layout, not touched", v->name);
                        unrepairable++;
                        continue;
                }

                switch (v->type) {
                case LDM_VOLUME_MIRROR:
                        r = plan_mirror(c, v, &unrepairable);
                        break;
                case LDM_VOLUME_RAID5:
                        r = plan_raid5(c, v, &unrepairable);
                        break;
                default:
                        r = plan_simple(c, v, &unrepairable);
                        break;
                }
        }
        if (r < 0)
                return r;
        *ret_unrepairable = unrepairable;
        return 0;
}

uint64_t repair_data_bytes(RepairContext *c) {
        uint64_t total = 0;

        for (size_t i = 0; i < c->n_targets; i++)
                total += c->targets[i].size;
        return total;
}

/* ---- copy callbacks ---- */

typedef struct TargetRun {
        RepairContext *c;
        const RepairTarget *t;
        CheckpointKey key;
        uint64_t stripe;           /* bytes, RAID-5 */
} TargetRun;

/* The source columns of one piece of a chunk, read at once by copy_engine_parallel(). */
typedef struct XorReads {
        RepairContext *c;
        const LdmColumn *cols[LDM_PLEX_MAX_COLUMNS];
        uint8_t *dst[LDM_PLEX_MAX_COLUMNS];
        uint64_t off;
        size_t len;
} XorReads;

typedef struct ColumnReads {
        RepairContext *c;
        const LdmColumn *const *cols;
        uint8_t *const *dst;
        uint64_t off;
        size_t len;
} ColumnReads;

static int column_read_one(void *userdata, size_t i) {
        ColumnReads *x = userdata;

        return repair_column_io(x->c, x->cols[i], false, x->off, x->dst[i], x->len);
}

int repair_read_columns(RepairContext *c, const LdmColumn *const *cols, uint8_t *const *dst,
                        size_t n, uint64_t off, size_t len) {
        ColumnReads x = { .c = c, .cols = cols, .dst = dst, .off = off, .len = len };

        return copy_engine_parallel(c->engine, column_read_one, &x, n);
}

/* One column after the other, XOR-ed in place: only for layouts with so many columns that
 * the scratch buffer cannot give each source an O_DIRECT-aligned slice. */
static int xor_columns_serial(XorReads *x, size_t n, uint8_t *buf, uint8_t *scratch, size_t len) {
        for (size_t i = 0; i < n; i++) {
                int r = repair_column_io(x->c, x->cols[i], false, x->off, i == 0 ? buf : scratch, len);
                if (r < 0)
                        return r;
                if (i > 0)
                        xor_into(buf, scratch, len);
        }
        return 0;
}

/* XOR of every column except skip at [off, off+len) into buf. The sources are read at the
 * same time (the first into buf, each further one into its own slice of the chunk-sized
 * scratch), then XOR-ed in one pass, so a chunk costs the slowest column's read rather than
 * the sum of them. With more than two sources the slices are smaller than the chunk and the
 * chunk is done in pieces; memory stays the engine's fixed buffers. */
static int xor_columns(TargetRun *tr, size_t skip, uint64_t off, uint8_t *buf, uint8_t *scratch,
                       size_t len) {
        const LdmPlex *p = tr->t->plex;
        XorReads x = { .c = tr->c, .off = off };
        const void *srcs[LDM_PLEX_MAX_COLUMNS];
        size_t n = 0, slice;
        int r;

        for (size_t i = 0; i < p->n_columns && n < ELEMENTSOF(x.cols); i++)
                if (i != skip)
                        x.cols[n++] = &p->columns[i];
        if (n == 0)
                return -EINVAL;
        slice = n > 1 ? (copy_engine_chunk(tr->c->engine) / (n - 1)) & ~(size_t) 4095 : len;
        if (slice == 0) {
                x.len = len;
                return xor_columns_serial(&x, n, buf, scratch, len);
        }

        for (size_t done = 0; done < len;) {
                size_t m = MIN(slice, len - done);

                x.off = off + done;
                x.len = m;
                x.dst[0] = buf + done;
                for (size_t k = 1; k < n; k++)
                        x.dst[k] = scratch + (k - 1) * slice;
                r = repair_read_columns(tr->c, x.cols, x.dst, n, x.off, x.len);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < n; k++)
                        srcs[k] = x.dst[k];
                xor_blocks(buf + done, srcs, n, m);
                done += m;
        }
        return 0;
}

/* Splits [off, off+len) at stripe-row boundaries: each piece has one parity column. */
static size_t row_piece(const TargetRun *tr, uint64_t off, size_t len, size_t *ret_parity) {
        uint64_t row = off / tr->stripe, row_end = (row + 1) * tr->stripe;
        size_t n = tr->t->plex->n_columns;

        *ret_parity = ldm_raid5_parity_column(row, (uint32_t) n);
        return (size_t) MIN((uint64_t) len, row_end - off);
}

static int target_fill(void *userdata, uint64_t off, size_t len, uint8_t *buf, uint8_t *scratch) {
        TargetRun *tr = userdata;
        const RepairTarget *t = tr->t;
        int r;

        switch (t->kind) {
        case REPAIR_TARGET_MIRROR:
                return repair_column_io(tr->c, &t->source->columns[0], false, off, buf, len);
        case REPAIR_TARGET_COLUMN:
                return xor_columns(tr, t->column, off, buf, scratch, len);
        case REPAIR_TARGET_PARITY:
                while (len > 0) {
                        size_t parity, n = row_piece(tr, off, len, &parity);
                        /* scratch is reused whole by every piece (xor_columns needs it all) */
                        r = xor_columns(tr, parity, off, buf, scratch, n);
                        if (r < 0)
                                return r;
                        off += n;
                        buf += n;
                        len -= n;
                }
                return 0;
        }
        return -EINVAL;
}

static int target_drain(void *userdata, uint64_t off, size_t len, const uint8_t *buf) {
        TargetRun *tr = userdata;
        const RepairTarget *t = tr->t;
        size_t total = len;
        int r;

        switch (t->kind) {
        case REPAIR_TARGET_MIRROR:
                r = repair_column_io(tr->c, &t->plex->columns[0], true, off, (uint8_t *) buf, len);
                break;
        case REPAIR_TARGET_COLUMN:
                r = repair_column_io(tr->c, &t->plex->columns[t->column], true, off, (uint8_t *) buf, len);
                break;
        case REPAIR_TARGET_PARITY:
                r = 0;
                while (len > 0 && r >= 0) {
                        size_t parity, n = row_piece(tr, off, len, &parity);
                        r = repair_column_io(tr->c, &t->plex->columns[parity], true, off, (uint8_t *) buf, n);
                        off += n;
                        buf += n;
                        len -= n;
                }
                break;
        default:
                r = -EINVAL;
        }
        if (r >= 0)
                tr->c->res->bytes_repaired += total;
        return r;
}

static int target_flush(void *userdata) {
        TargetRun *tr = userdata;
        const RepairTarget *t = tr->t;

        if (t->kind == REPAIR_TARGET_MIRROR)
                return column_flush(tr->c, &t->plex->columns[0]);
        if (t->kind == REPAIR_TARGET_COLUMN)
                return column_flush(tr->c, &t->plex->columns[t->column]);
        for (size_t i = 0; i < t->plex->n_columns; i++) {
                int r = column_flush(tr->c, &t->plex->columns[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int target_checkpoint(void *userdata, uint64_t done) {
        TargetRun *tr = userdata;

        return checkpoint_save(tr->c->req->state_dir, &tr->key, tr->t->size, done);
}

static void target_progress(void *userdata, uint64_t bytes) {
        TargetRun *tr = userdata;

        tr->c->bytes_done += bytes;
        repair_progress(tr->c);
}

static const CopyOps target_ops = {
        .fill = target_fill,
        .drain = target_drain,
        .flush = target_flush,
        .checkpoint = target_checkpoint,
        .progress = target_progress,
};

static int run_target(RepairContext *c, const RepairTarget *t) {
        TargetRun tr = { .c = c, .t = t, .key = t->key, .stripe = t->plex->stripe_size * LDM_SECTOR };
        uint64_t start = 0;
        int r;

        r = checkpoint_load(c->req->state_dir, &tr.key, t->size, &start);
        if (r < 0)
                return r;
        if (r > 0) {
                c->res->bytes_resumed += start;
                c->bytes_done += start;
        }

        if (t->kind == REPAIR_TARGET_MIRROR)
                snprintf(c->detail_buf, sizeof(c->detail_buf), "%s plex %s", t->volume->name, t->plex->name);
        else if (t->kind == REPAIR_TARGET_COLUMN)
                snprintf(c->detail_buf, sizeof(c->detail_buf), "%s column %u", t->volume->name, t->column);
        else
                snprintf(c->detail_buf, sizeof(c->detail_buf), "%s parity", t->volume->name);
        c->detail = c->detail_buf;
        repair_progress(c);

        return copy_engine_run(c->engine, &target_ops, &tr, start, t->size,
                               c->req->checkpoint_interval ?: REPAIR_CHECKPOINT_INTERVAL_DEFAULT,
                               c->req->cancel, NULL);
}

int repair_data(RepairContext *c) {
        const LdmVolume *last = NULL;
        int r;

        for (size_t i = 0; i < c->n_targets; i++) {
                const RepairTarget *t = &c->targets[i];

                if (repair_cancelled(c))
                        return -ECANCELED;
                r = run_target(c, t);
                if (r < 0)
                        return r;
                if (t->volume != last)
                        c->res->volumes_touched++;
                last = t->volume;
        }
        return 0;
}

int repair_data_forget(RepairContext *c) {
        int ret = 0;

        for (size_t i = 0; i < c->n_targets; i++) {
                int r = checkpoint_remove(c->req->state_dir, &c->targets[i].key);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}
