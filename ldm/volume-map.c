/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* volume-map.c: the address arithmetic of §9. Every layout reduces to "which column, which
 * offset in it"; a column is a list of extents ordered by offset-in-column. */

#include <errno.h>

#include "macro.h"
#include "privhead.h"
#include "record.h"
#include "volume-map.h"

void ldm_stripe_locate(uint64_t offset, uint64_t stripe, uint32_t n_columns, LdmStripePos *ret) {
        uint64_t d = offset / stripe, o = offset % stripe;

        *ret = (LdmStripePos) {
                .row = d / n_columns,
                .column = (uint32_t) (d % n_columns),
                .parity_column = LDM_NO_COLUMN,
                .column_offset = (d / n_columns) * stripe + o,
                .chunk_left = stripe - o,
        };
}

uint32_t ldm_raid5_parity_column(uint64_t row, uint32_t n_columns) {
        return (n_columns - 1) - (uint32_t) (row % n_columns);
}

void ldm_raid5_locate(uint64_t offset, uint64_t stripe, uint32_t n_columns, LdmStripePos *ret) {
        uint64_t d = offset / stripe, o = offset % stripe;
        uint64_t r = d / (n_columns - 1), k = d % (n_columns - 1);
        uint32_t p = ldm_raid5_parity_column(r, n_columns);

        *ret = (LdmStripePos) {
                .row = r,
                .column = (uint32_t) ((p + 1 + k) % n_columns),
                .parity_column = p,
                .column_offset = r * stripe + o,
                .chunk_left = stripe - o,
        };
}

uint64_t ldm_raid5_chunk_offset(uint64_t row, uint32_t column, uint64_t stripe, uint32_t n_columns) {
        uint32_t p = ldm_raid5_parity_column(row, n_columns);
        uint64_t k;

        if (column == p || column >= n_columns)
                return UINT64_MAX;
        /* c = (p + 1 + k) mod n  ⇒  k = (c − p − 1) mod n */
        k = (column + 2 * (uint64_t) n_columns - p - 1) % n_columns;
        return (row * (n_columns - 1) + k) * stripe;
}

static bool plex_striped(const LdmPlex *plex) {
        return plex->layout == LDM_LAYOUT_STRIPE || plex->layout == LDM_LAYOUT_RAID5;
}

uint64_t ldm_plex_stripe_bytes(const LdmPlex *plex) {
        return plex_striped(plex) ? plex->stripe_size * LDM_SECTOR : 0;
}

uint64_t ldm_plex_column_bytes(const LdmPlex *plex, uint32_t column) {
        if (column >= plex->n_columns)
                return 0;
        return plex->columns[column].size * LDM_SECTOR;
}

uint64_t ldm_plex_capacity(const LdmPlex *plex) {
        uint64_t col = ldm_plex_column_bytes(plex, 0);

        switch (plex->layout) {
        case LDM_LAYOUT_STRIPE:
                return col * plex->n_columns;
        case LDM_LAYOUT_RAID5:
                return plex->n_columns > 1 ? col * (plex->n_columns - 1) : 0;
        default:
                return col;
        }
}

uint64_t ldm_plex_n_rows(const LdmPlex *plex) {
        uint64_t s = ldm_plex_stripe_bytes(plex);

        return s > 0 ? ldm_plex_column_bytes(plex, 0) / s : 0;
}

static int column_check(const LdmColumn *col) {
        uint64_t next = 0, bytes;

        if (col->n_extents == 0 || !col->extents)
                return -EBADMSG;
        for (size_t i = 0; i < col->n_extents; i++) {
                const LdmExtent *e = col->extents[i];
                uint64_t end;

                if (!e || e->size == 0 || e->offset_in_column != next)
                        return -EBADMSG;          /* gap, overlap or unsorted */
                if (add_u64_overflow(next, e->size, &end))
                        return -EBADMSG;
                if (mul_u64_overflow(e->start + e->size, LDM_SECTOR, &bytes) ||
                    e->start + e->size < e->start)
                        return -EBADMSG;
                next = end;
        }
        if (next != col->size || mul_u64_overflow(col->size, LDM_SECTOR, &bytes))
                return -EBADMSG;
        return 0;
}

int ldm_plex_check(const LdmPlex *plex) {
        uint64_t bytes;
        int r;

        /* A plex that lost an extent record (pack.c) may still look whole here. */
        if (!plex || plex->n_columns == 0 || !plex->columns || plex->extent_rejected)
                return -EBADMSG;
        for (size_t c = 0; c < plex->n_columns; c++) {
                r = column_check(&plex->columns[c]);
                if (r < 0)
                        return r;
        }
        if (!plex_striped(plex))
                return plex->n_columns == 1 ? 0 : -EBADMSG;

        if (plex->stripe_size == 0 || mul_u64_overflow(plex->stripe_size, LDM_SECTOR, &bytes))
                return -EBADMSG;
        if (plex->layout == LDM_LAYOUT_RAID5 && plex->n_columns < 3)
                return -EBADMSG;
        for (size_t c = 0; c < plex->n_columns; c++)
                if (plex->columns[c].size != plex->columns[0].size ||
                    plex->columns[c].size % plex->stripe_size != 0)
                        return -EBADMSG;  /* §9 size rules (D: Windows fails such RAID-5) */
        if (mul_u64_overflow(plex->columns[0].size * LDM_SECTOR, plex->n_columns, &bytes))
                return -EBADMSG;
        return 0;
}

int ldm_column_map(const LdmColumn *col, uint64_t column_offset, uint64_t len,
                   const LdmExtent **ret_extent, uint64_t *ret_extent_offset, uint64_t *ret_len) {
        size_t lo = 0, hi = col->n_extents;

        /* Binary search: extents are sorted by offset_in_column and contiguous. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const LdmExtent *e = col->extents[mid];
                uint64_t start = e->offset_in_column * LDM_SECTOR, end = start + e->size * LDM_SECTOR;

                if (column_offset < start)
                        hi = mid;
                else if (column_offset >= end)
                        lo = mid + 1;
                else {
                        *ret_extent = e;
                        *ret_extent_offset = column_offset - start;
                        *ret_len = MIN(len, end - column_offset);
                        return 0;
                }
        }
        return -ENXIO;
}

uint64_t ldm_extent_byte_offset(const LdmExtent *e, uint64_t extent_offset) {
        const LdmDevice *d = e->disk ? e->disk->device : NULL;

        if (!d)
                return LDM_NO_DISK_OFFSET;
        /* §13: PRIVHEAD geometry counts device sectors, extent numbers 512-byte units (the
         * same as ldm_extent_disk_offset()); a model without a sector size means 512. */
        return d->privhead.pub_start * (d->sector_size ? d->sector_size : LDM_SECTOR) +
               e->start * LDM_SECTOR + extent_offset;
}

int ldm_extent_write_offset(const LdmExtent *e, uint64_t extent_offset, uint64_t len, uint64_t *ret) {
        uint64_t lo, hi, at, end, bytes;

        if (!e->disk || !e->disk->device)
                return -ENODEV;
        if (ldm_disk_public_bytes(e->disk, &lo, &hi) < 0)
                return -EINVAL;
        /* The range stays inside the extent… */
        if (add_u64_overflow(extent_offset, len, &end) || mul_u64_overflow(e->size, LDM_SECTOR, &bytes) ||
            end > bytes)
                return -EINVAL;
        /* …and the extent's bytes inside the public region: extent numbers are 512-byte units
         * from its start (§9, §13). */
        if (mul_u64_overflow(e->start, LDM_SECTOR, &at) || add_u64_overflow(at, lo, &at) ||
            add_u64_overflow(at, extent_offset, &at) || add_u64_overflow(at, len, &end) || end > hi)
                return -EINVAL;
        *ret = at;
        return 0;
}

int ldm_plex_map(const LdmPlex *plex, uint64_t offset, uint64_t len, LdmPlexPos *ret) {
        LdmStripePos sp = {
                .column = 0,
                .parity_column = LDM_NO_COLUMN,
                .column_offset = offset,
                .chunk_left = UINT64_MAX,
        };
        const LdmExtent *e;
        uint64_t eoff, elen;
        int r;

        if (len == 0)
                return -EINVAL;
        if (offset >= ldm_plex_capacity(plex))
                return -ENXIO;

        if (plex->layout == LDM_LAYOUT_STRIPE)
                ldm_stripe_locate(offset, ldm_plex_stripe_bytes(plex), plex->n_columns, &sp);
        else if (plex->layout == LDM_LAYOUT_RAID5)
                ldm_raid5_locate(offset, ldm_plex_stripe_bytes(plex), plex->n_columns, &sp);

        r = ldm_column_map(&plex->columns[sp.column], sp.column_offset, MIN(len, sp.chunk_left),
                           &e, &eoff, &elen);
        if (r < 0)
                return r;

        *ret = (LdmPlexPos) {
                .column = sp.column,
                .parity_column = sp.parity_column,
                .row = sp.row,
                .column_offset = sp.column_offset,
                .length = elen,
                .extent = e,
                .extent_offset = eoff,
                .disk_offset = ldm_extent_byte_offset(e, eoff),
        };
        return 0;
}
