/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* verify.c: Verify, the read-only scrub: mirror plexes compared in 64 KiB regions (a region
 * counts once however many plexes differ in it), RAID-5 rows checked to XOR to zero. Reads
 * go through the job's fixed buffers, a chunk at a time; nothing is written. A plex or
 * column on a missing disk cannot be checked: it is named in res->remaining and counted, the
 * rest is still scrubbed, and the job ends with a failing HRESULT (repair.c). */

#include <errno.h>
#include <stdio.h>

#include "context.h"
#include "volume-map.h"
#include "xor.h"

#define VERIFY_REGION (64u * 1024u)

static bool column_present(const LdmColumn *col) {
        return !col->missing;
}

static bool all_zero(const uint8_t *p, size_t len) {
        /* memcmp against itself shifted: zero iff first byte zero and every byte equals the
         * one before it. */
        return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/* The name of a disk that a column misses, or NULL when the column is whole. */
static const char *column_missing_disk(const LdmColumn *col) {
        for (size_t i = 0; i < col->n_extents; i++) {
                const LdmDisk *d = col->extents[i]->disk;
                if (!d || !d->device)
                        return d && d->name ? d->name : "?";
        }
        return NULL;
}

static bool plex_checkable(const LdmPlex *p) {
        return p->n_columns == 1 && column_present(&p->columns[0]);
}

/* A mirror can be scrubbed when two plexes are readable; a RAID-5 when all its columns are
 * (parity needs every one). What cannot be checked is left out of the progress total. */
static bool volume_checkable(const LdmVolume *v) {
        size_t n = 0;

        if (ldm_volume_extent_rejected(v) || !repair_volume_consistent(v))
                return false;
        if (v->type == LDM_VOLUME_MIRROR) {
                for (size_t i = 0; i < v->n_plexes; i++)
                        n += plex_checkable(v->plexes[i]);
                return n >= 2;
        }
        if (v->type == LDM_VOLUME_RAID5) {
                if (v->n_plexes != 1 || v->plexes[0]->n_columns < 3)
                        return false;
                for (size_t i = 0; i < v->plexes[0]->n_columns; i++)
                        if (!column_present(&v->plexes[0]->columns[i]))
                                return false;
                return true;
        }
        return false;
}

/* Notes every plex of mirror v that cannot take part in the scrub. */
static void note_unchecked_plexes(RepairContext *c, const LdmVolume *v, unsigned *unverified) {
        for (size_t i = 0; i < v->n_plexes; i++) {
                const LdmPlex *p = v->plexes[i];

                if (plex_checkable(p))
                        continue;
                if (p->n_columns == 1)
                        repair_remaining_add(c, "%s plex %s: disk %s missing, not verified", v->name,
                                             p->name, column_missing_disk(&p->columns[0]));
                else
                        repair_remaining_add(c, "%s plex %s: %zu columns, not verified", v->name,
                                             p->name, p->n_columns);
                (*unverified)++;
        }
}

static int verify_mirror(RepairContext *c, LdmVolume *v, unsigned *unverified) {
        size_t chunk = copy_engine_chunk(c->engine);
        uint8_t *a = copy_engine_buffer(c->engine, 0), *b = copy_engine_buffer(c->engine, 1);
        bool region_bad[REPAIR_BUFFER_SIZE_MAX / VERIFY_REGION];
        const LdmPlex *first = NULL, *second = NULL;
        uint64_t size;
        int r;

        if (v->n_plexes < 2)
                return 0; /* nothing to compare with: not a failure of the scrub */
        note_unchecked_plexes(c, v, unverified);
        if (!volume_checkable(v))
                return 0;
        for (size_t i = 0; i < v->n_plexes && !first; i++)
                if (plex_checkable(v->plexes[i]))
                        first = v->plexes[i];
        if (mul_u64_overflow(v->size, LDM_SECTOR, &size))
                return -EBADMSG;

        for (size_t i = 0; i < v->n_plexes && !second; i++)
                if (v->plexes[i] != first && plex_checkable(v->plexes[i]))
                        second = v->plexes[i];

        for (uint64_t off = 0; off < size; off += chunk) {
                size_t len = (size_t) MIN((uint64_t) chunk, size - off);
                size_t n_regions = DIV_ROUND_UP(len, VERIFY_REGION);
                const LdmColumn *pair[2] = { &first->columns[0], &second->columns[0] };
                uint8_t *pair_dst[2] = { a, b };

                memset(region_bad, 0, sizeof(region_bad));
                /* The first two plexes at once (their disks work in parallel), any further
                 * one after them into b. */
                r = repair_read_columns(c, pair, pair_dst, 2, off, len);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < v->n_plexes; i++) {
                        if (v->plexes[i] == first || !plex_checkable(v->plexes[i]))
                                continue;
                        if (v->plexes[i] != second) {
                                r = repair_column_io(c, &v->plexes[i]->columns[0], false, off, b, len);
                                if (r < 0)
                                        return r;
                        }
                        for (size_t k = 0; k < n_regions; k++) {
                                size_t o = k * VERIFY_REGION, l = MIN((size_t) VERIFY_REGION, len - o);
                                if (memcmp(a + o, b + o, l) != 0)
                                        region_bad[k] = true;
                        }
                }
                for (size_t k = 0; k < n_regions; k++)
                        c->res->mirror_mismatches += region_bad[k];
                c->bytes_done += len;
                repair_progress(c);
                if (repair_cancelled(c))
                        return -ECANCELED;
        }
        return 0;
}

/* Volume bytes held by the first column_off bytes of every column of RAID-5 v. */
static uint64_t raid5_volume_bytes(const LdmVolume *v, uint64_t column_off) {
        uint64_t data_columns = v->plexes[0]->n_columns - 1, b;

        if (mul_u64_overflow(column_off, data_columns, &b))
                b = UINT64_MAX;
        return MIN(b, v->size * LDM_SECTOR);
}

/* a[0…len) = the XOR of every column of p at column offset off (zero where parity holds).
 * All columns are read at once, column 0 into a and each other one into its slice of b, so
 * a chunk costs the slowest disk's read rather than the sum of them; with more columns than
 * b can give O_DIRECT-aligned slices (a small buffer), one column after the other. */
static int raid5_xor_chunk(RepairContext *c, const LdmPlex *p, uint64_t off, uint8_t *a,
                           uint8_t *b, size_t len) {
        size_t n = p->n_columns, slice = (copy_engine_chunk(c->engine) / (n - 1)) & ~(size_t) 4095;
        const LdmColumn *cols[LDM_PLEX_MAX_COLUMNS];
        uint8_t *dst[LDM_PLEX_MAX_COLUMNS];
        const void *srcs[LDM_PLEX_MAX_COLUMNS];
        int r;

        if (n > LDM_PLEX_MAX_COLUMNS)
                return -EBADMSG;
        if (slice == 0) {
                r = repair_column_io(c, &p->columns[0], false, off, a, len);
                for (size_t i = 1; i < n && r >= 0; i++) {
                        r = repair_column_io(c, &p->columns[i], false, off, b, len);
                        if (r >= 0)
                                xor_into(a, b, len);
                }
                return r;
        }
        for (size_t i = 0; i < n; i++)
                cols[i] = &p->columns[i];
        for (size_t done = 0; done < len;) {
                size_t m = MIN(slice, len - done);

                dst[0] = a + done;
                for (size_t i = 1; i < n; i++)
                        dst[i] = b + (i - 1) * slice;
                r = repair_read_columns(c, cols, dst, n, off + done, m);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++)
                        srcs[i] = dst[i];
                xor_blocks(a + done, srcs, n, m);
                done += m;
        }
        return 0;
}

static int verify_raid5(RepairContext *c, LdmVolume *v, unsigned *unverified) {
        size_t chunk = copy_engine_chunk(c->engine);
        uint8_t *a = copy_engine_buffer(c->engine, 0), *b = copy_engine_buffer(c->engine, 1);
        uint64_t size = UINT64_MAX, stripe, last_bad = UINT64_MAX;
        const LdmPlex *p;
        int r;

        if (v->n_plexes != 1)
                return -EBADMSG;
        p = v->plexes[0];
        if (p->n_columns < 3 || p->stripe_size == 0)
                return -EBADMSG;
        stripe = p->stripe_size * LDM_SECTOR;
        for (size_t i = 0; i < p->n_columns; i++) {
                if (!column_present(&p->columns[i])) {
                        repair_remaining_add(c, "%s column %zu: disk %s missing, parity not verified",
                                             v->name, i, column_missing_disk(&p->columns[i]));
                        (*unverified)++;
                        return 0;
                }
                size = MIN(size, p->columns[i].size * LDM_SECTOR);
        }

        for (uint64_t off = 0; off < size; off += chunk) {
                size_t len = (size_t) MIN((uint64_t) chunk, size - off);

                r = raid5_xor_chunk(c, p, off, a, b, len);
                if (r < 0)
                        return r;
                /* Rows may straddle chunks: count each bad row once. */
                for (size_t o = 0; o < len;) {
                        uint64_t row = (off + o) / stripe;
                        size_t l = (size_t) MIN((uint64_t) (len - o), (row + 1) * stripe - (off + o));
                        if (!all_zero(a + o, l) && row != last_bad) {
                                c->res->parity_mismatches++;
                                last_bad = row;
                        }
                        o += l;
                }
                /* Progress counts volume bytes: a column offset covers n - 1 data chunks. */
                c->bytes_done += raid5_volume_bytes(v, off + len) - raid5_volume_bytes(v, off);
                repair_progress(c);
                if (repair_cancelled(c))
                        return -ECANCELED;
        }
        return 0;
}

/* What the scrub of v adds to bytes_done when it ends: its size in volume bytes, or, for a
 * RAID-5 whose columns hold less than the record says, what the columns cover. The total
 * and the progress are counted alike, so a finished scrub ends at done == total. */
static uint64_t verify_volume_bytes(const LdmVolume *v) {
        uint64_t col = UINT64_MAX;
        const LdmPlex *p;

        if (!volume_checkable(v))
                return 0;
        if (v->type == LDM_VOLUME_MIRROR)
                return v->size * LDM_SECTOR;
        p = v->plexes[0];
        for (size_t i = 0; i < p->n_columns; i++)
                col = MIN(col, p->columns[i].size * LDM_SECTOR);
        return raid5_volume_bytes(v, col);
}

static uint64_t repair_verify_bytes(RepairContext *c) {
        uint64_t total = 0;

        for (size_t i = 0; i < c->pack->n_volumes; i++)
                total += verify_volume_bytes(&c->pack->volumes[i]);
        return total;
}

int repair_verify(RepairContext *c, unsigned *ret_unverified) {
        unsigned unverified = 0;
        int r = 0;

        c->bytes_total = repair_verify_bytes(c);
        for (size_t i = 0; i < c->pack->n_volumes && r >= 0; i++) {
                LdmVolume *v = &c->pack->volumes[i];

                snprintf(c->detail_buf, sizeof(c->detail_buf), "%s", v->name);
                c->detail = c->detail_buf;
                /* Its plexes or columns lack sectors (pack.c left an extent out): reading
                 * them would only fail, and the volume is Failed anyway. */
                if (ldm_volume_extent_rejected(v)) {
                        repair_remaining_add(c, "%s: the reader rejected an extent record of it (a bad range or disk, "
                                             "outside the public region, an overlap, over the per-column limit), not verified",
                                             v->name);
                        unverified++;
                } else if (!repair_volume_consistent(v)) {
                        /* Rows and chunks computed from such a layout mean nothing (a stripe
                         * size in bytes that wraps to 0 divides by zero): Recover leaves the
                         * volume alone for the same reason. */
                        repair_remaining_add(c, "%s: inconsistent layout, not verified", v->name);
                        unverified++;
                } else if (v->type == LDM_VOLUME_MIRROR)
                        r = verify_mirror(c, v, &unverified);
                else if (v->type == LDM_VOLUME_RAID5)
                        r = verify_raid5(c, v, &unverified);
        }
        if (r < 0)
                return r;
        *ret_unverified = unverified;
        return 0;
}
