/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* volume-io.c: an open volume: the LdmIo of each present device, which columns are usable,
 * and scratch buffers for RAID-5 parity work. The mapping itself is volume-map.c. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "record.h"
#include "volume-io.h"
#include "volume-map.h"
#include "xor.h"

/* Largest piece of a column moved at once during parity work: big enough for efficient
 * I/O, small enough that n of them stay in cache while being XORed. */
#define SCRATCH_BYTES (128u * 1024u)

enum {
        COL_READABLE = 1 << 0,
        COL_FRESH    = 1 << 1,
        COL_EXCLUDED = 1 << 2,
};

typedef struct DevSlot {
        const LdmDevice *device;
        LdmIo *io;
        bool owned;
} DevSlot;

struct LdmVolumeIo {
        LdmVolume *vol;
        LdmIoFlags flags;
        uint64_t size;
        bool mirror;

        DevSlot *devs;
        size_t n_devs;

        uint8_t *col_state;        /* COL_* per (plex, column) */
        size_t *col_base;          /* index of plex i's first column in col_state */

        uint8_t *scratch;          /* n_scratch × SCRATCH_BYTES */
        size_t n_scratch;
        const void **srcs;         /* n_scratch + 1 pointers for xor_blocks() */
};

static LdmIo *dev_io(const LdmVolumeIo *v, const LdmDisk *disk) {
        if (!disk || !disk->device)
                return NULL;
        for (size_t i = 0; i < v->n_devs; i++)
                if (v->devs[i].device == disk->device)
                        return v->devs[i].io;
        return NULL;
}

static uint8_t *scratch(LdmVolumeIo *v, size_t i) {
        return v->scratch + i * SCRATCH_BYTES;
}

static LdmPlex *plex_at(const LdmVolumeIo *v, size_t p) {
        return p < v->vol->n_plexes ? v->vol->plexes[p] : NULL;
}

static uint8_t col_state(const LdmVolumeIo *v, size_t p, uint32_t c) {
        return v->col_state[v->col_base[p] + c];
}

static void col_state_update(LdmVolumeIo *v, size_t p, uint32_t c) {
        const LdmColumn *col = &plex_at(v, p)->columns[c];
        uint8_t *st = &v->col_state[v->col_base[p] + c];
        bool readable = !(*st & COL_EXCLUDED);

        for (size_t i = 0; readable && i < col->n_extents; i++)
                readable = dev_io(v, col->extents[i]->disk) != NULL;

        *st &= COL_EXCLUDED;
        if (readable)
                *st |= COL_READABLE | (col->stale ? 0 : COL_FRESH);
}

bool ldm_volume_io_column_readable(const LdmVolumeIo *v, size_t p, uint32_t c) {
        const LdmPlex *plex = plex_at(v, p);
        return plex && c < plex->n_columns && (col_state(v, p, c) & COL_READABLE);
}

bool ldm_volume_io_column_fresh(const LdmVolumeIo *v, size_t p, uint32_t c) {
        const LdmPlex *plex = plex_at(v, p);
        return plex && c < plex->n_columns && (col_state(v, p, c) & COL_FRESH);
}

int ldm_volume_io_exclude(LdmVolumeIo *v, size_t p, uint32_t c, bool exclude) {
        const LdmPlex *plex = plex_at(v, p);

        if (!plex || c >= plex->n_columns)
                return -EINVAL;
        if (exclude)
                v->col_state[v->col_base[p] + c] |= COL_EXCLUDED;
        else
                v->col_state[v->col_base[p] + c] &= (uint8_t) ~COL_EXCLUDED;
        col_state_update(v, p, c);
        return 0;
}

LdmVolume *ldm_volume_io_volume(const LdmVolumeIo *v) {
        return v->vol;
}

uint64_t ldm_volume_io_size(const LdmVolumeIo *v) {
        return v->size;
}

LdmVolumeIo *ldm_volume_io_close(LdmVolumeIo *v) {
        if (!v)
                return NULL;
        for (size_t i = 0; i < v->n_devs; i++)
                if (v->devs[i].owned)
                        ldm_io_close(v->devs[i].io);
        free(v->devs);
        free(v->col_state);
        free(v->col_base);
        free(v->scratch);
        free(v->srcs);
        free(v);
        return NULL;
}

static int add_device(LdmVolumeIo *v, const LdmDevice *d, LdmDevice *const *devices,
                      LdmIo *const *ios, size_t n) {
        DevSlot slot = { .device = d };
        int r;

        for (size_t i = 0; i < v->n_devs; i++)
                if (v->devs[i].device == d)
                        return 0;

        for (size_t i = 0; i < n; i++)
                if (devices[i] == d)
                        slot.io = ios[i];
        if (!slot.io) {
                r = ldm_io_open(d->path, v->flags, &slot.io);
                if (r < 0)
                        return r;
                slot.owned = true;
        }

        DevSlot *a = realloc(v->devs, (v->n_devs + 1) * sizeof(*a));
        if (!a) {
                if (slot.owned)
                        ldm_io_close(slot.io);
                return -ENOMEM;
        }
        v->devs = a;
        v->devs[v->n_devs++] = slot;
        return 0;
}

/* Checks every plex and sets up column bookkeeping; returns the number of columns. */
static int volume_check(LdmVolumeIo *v, size_t *ret_n_columns) {
        LdmVolume *vol = v->vol;
        uint64_t min_cap = UINT64_MAX;
        size_t n = 0;

        if (vol->n_plexes == 0 || !vol->plexes)
                return -EBADMSG;
        for (size_t p = 0; p < vol->n_plexes; p++) {
                LdmPlex *plex = vol->plexes[p];
                int r = ldm_plex_check(plex);

                if (r < 0)
                        return r;
                /* RAID-5 and striped plexes cannot be mirrored in LDM (§7.10, [D]). */
                if (vol->n_plexes > 1 && plex->layout != LDM_LAYOUT_CONCAT)
                        return -EBADMSG;
                min_cap = MIN(min_cap, ldm_plex_capacity(plex));
                n += plex->n_columns;
        }

        if (vol->size == 0)
                v->size = min_cap;
        else if (mul_u64_overflow(vol->size, 512, &v->size) || v->size > min_cap)
                return -EBADMSG;
        v->mirror = vol->n_plexes > 1 || vol->type == LDM_VOLUME_MIRROR;
        *ret_n_columns = n;
        return 0;
}

int ldm_volume_io_open_with(LdmVolume *vol, LdmIoFlags flags, LdmDevice *const *devices,
                            LdmIo *const *ios, size_t n, LdmVolumeIo **ret) {
        _cleanup_(ldm_volume_io_closep) LdmVolumeIo *v = NULL;
        size_t n_columns = 0, k = 0;
        int r;

        if (!vol || !ret)
                return -EINVAL;
        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->vol = vol;
        v->flags = flags;

        r = volume_check(v, &n_columns);
        if (r < 0)
                return r;

        v->col_state = calloc(n_columns, 1);
        v->col_base = calloc(vol->n_plexes, sizeof(size_t));
        if (!v->col_state || !v->col_base)
                return -ENOMEM;

        for (size_t p = 0; p < vol->n_plexes; p++) {
                LdmPlex *plex = vol->plexes[p];

                v->col_base[p] = k;
                k += plex->n_columns;
                for (size_t c = 0; c < plex->n_columns; c++)
                        for (size_t i = 0; i < plex->columns[c].n_extents; i++) {
                                const LdmDisk *d = plex->columns[c].extents[i]->disk;

                                if (d && d->device) {
                                        r = add_device(v, d->device, devices, ios, n);
                                        if (r < 0)
                                                return r;
                                }
                        }
                for (uint32_t c = 0; c < plex->n_columns; c++)
                        col_state_update(v, p, c);
        }

        /* RAID-5 parity work needs one scratch piece per column. */
        if (vol->plexes[0]->layout == LDM_LAYOUT_RAID5) {
                v->n_scratch = vol->plexes[0]->n_columns;
                v->scratch = ldm_io_alloc_aligned(v->n_scratch * SCRATCH_BYTES);
                v->srcs = calloc(v->n_scratch + 1, sizeof(void *));
                if (!v->scratch || !v->srcs)
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(v);
        return 0;
}

int ldm_volume_io_open(LdmVolume *vol, LdmIoFlags flags, LdmVolumeIo **ret) {
        return ldm_volume_io_open_with(vol, flags, NULL, NULL, 0, ret);
}

/* Raw transfer of [column_offset, +len) of one column, split at extent boundaries. */
static int column_xfer(LdmVolumeIo *v, size_t p, uint32_t c, uint64_t off, void *buf,
                       size_t len, bool write) {
        const LdmColumn *col = &plex_at(v, p)->columns[c];
        uint8_t *b = buf;

        while (len > 0) {
                const LdmExtent *e;
                uint64_t eoff, elen, at;
                LdmIo *io;
                int r;

                r = ldm_column_map(col, off, len, &e, &eoff, &elen);
                if (r < 0)
                        return r;
                io = dev_io(v, e->disk);
                if (!io)
                        return -ENODEV;
                if (write) {
                        /* Last line of defence: whatever the model says, volume data stays
                         * inside the disk's public region. */
                        r = ldm_extent_write_offset(e, eoff, elen, &at);
                        if (r >= 0)
                                r = ldm_io_pwrite(io, b, elen, at);
                } else
                        r = ldm_io_pread(io, b, elen, ldm_extent_byte_offset(e, eoff));
                if (r < 0)
                        return r;
                b += elen;
                off += elen;
                len -= elen;
        }
        return 0;
}

static int check_column(const LdmVolumeIo *v, size_t p, uint32_t c, uint64_t off, size_t len) {
        const LdmPlex *plex = plex_at(v, p);
        uint64_t end;

        if (!plex || c >= plex->n_columns)
                return -EINVAL;
        if (add_u64_overflow(off, len, &end) || end > ldm_plex_column_bytes(plex, c))
                return -ENXIO;
        return (col_state(v, p, c) & COL_READABLE) ? 0 : -ENODEV;
}

int ldm_volume_read_column(LdmVolumeIo *v, size_t p, uint32_t c, uint64_t off, void *buf,
                           size_t len) {
        int r = check_column(v, p, c, off, len);
        return r < 0 ? r : column_xfer(v, p, c, off, buf, len, false);
}

int ldm_volume_write_column(LdmVolumeIo *v, size_t p, uint32_t c, uint64_t off,
                            const void *buf, size_t len) {
        int r;

        if (!(v->flags & LDM_IO_WRITE))
                return -EBADF;
        r = check_column(v, p, c, off, len);
        return r < 0 ? r : column_xfer(v, p, c, off, (void *) buf, len, true);
}

/* buf = XOR of every column of the RAID-5 plex except `skip` and `also_skip`, plus `extra`
 * (new data) when given; len ≤ SCRATCH_BYTES. Needs every column used to be usable with
 * `need` (COL_FRESH or COL_READABLE). */
static int xor_columns(LdmVolumeIo *v, size_t p, uint32_t skip, uint32_t also_skip,
                       const void *extra, uint64_t off, void *buf, size_t len, uint8_t need) {
        const LdmPlex *plex = plex_at(v, p);
        size_t n = 0;
        int r;

        for (uint32_t k = 0; k < plex->n_columns; k++) {
                if (k == skip || k == also_skip)
                        continue;
                if (!(col_state(v, p, k) & need))
                        return -ENODEV;
                r = column_xfer(v, p, k, off, scratch(v, n), len, false);
                if (r < 0)
                        return r;
                v->srcs[n] = scratch(v, n);
                n++;
        }
        if (extra)
                v->srcs[n++] = extra;
        xor_blocks(buf, v->srcs, n, len);
        return 0;
}

static int rebuild(LdmVolumeIo *v, size_t p, uint32_t c, uint64_t off, void *buf, size_t len,
                   uint8_t need) {
        uint8_t *b = buf;

        while (len > 0) {
                size_t l = MIN(len, (size_t) SCRATCH_BYTES);
                int r = xor_columns(v, p, c, LDM_NO_COLUMN, NULL, off, b, l, need);

                if (r < 0)
                        return r;
                b += l;
                off += l;
                len -= l;
        }
        return 0;
}

int ldm_volume_rebuild_column(LdmVolumeIo *v, size_t p, uint32_t c, uint64_t off, void *buf,
                              size_t len) {
        const LdmPlex *plex = plex_at(v, p);
        uint64_t end;

        if (!plex || c >= plex->n_columns || plex->layout != LDM_LAYOUT_RAID5)
                return -EINVAL;
        if (add_u64_overflow(off, len, &end) || end > ldm_plex_column_bytes(plex, c))
                return -ENXIO;
        return rebuild(v, p, c, off, buf, len, COL_READABLE);
}

int ldm_volume_verify_row(LdmVolumeIo *v, size_t p, uint64_t row, bool *ret_ok) {
        const LdmPlex *plex = plex_at(v, p);
        uint64_t s, off;
        int r;

        if (!plex || plex->layout != LDM_LAYOUT_RAID5 || !ret_ok)
                return -EINVAL;
        if (row >= ldm_plex_n_rows(plex))
                return -ENXIO;
        s = ldm_plex_stripe_bytes(plex);

        for (off = 0; off < s; off += SCRATCH_BYTES) {
                size_t l = (size_t) MIN(s - off, (uint64_t) SCRATCH_BYTES);

                /* XOR of all columns but column 0, compared with column 0. */
                r = xor_columns(v, p, 0, LDM_NO_COLUMN, NULL, row * s + off, scratch(v, plex->n_columns - 1), l,
                                COL_READABLE);
                if (r < 0)
                        return r;
                if (!(col_state(v, p, 0) & COL_READABLE))
                        return -ENODEV;
                r = column_xfer(v, p, 0, row * s + off, scratch(v, 0), l, false);
                if (r < 0)
                        return r;
                if (memcmp(scratch(v, 0), scratch(v, plex->n_columns - 1), l) != 0) {
                        *ret_ok = false;
                        return 0;
                }
        }
        *ret_ok = true;
        return 0;
}

/* One piece of a RAID-5 read inside one chunk. */
static int raid5_read_piece(LdmVolumeIo *v, size_t p, const LdmPlexPos *pos, void *buf) {
        uint8_t st = col_state(v, p, pos->column);
        int r;

        if (st & COL_FRESH)
                return column_xfer(v, p, pos->column, pos->column_offset, buf, pos->length, false);
        r = rebuild(v, p, pos->column, pos->column_offset, buf, pos->length, COL_FRESH);
        if (r == -ENODEV && (st & COL_READABLE))
                /* Two columns unavailable: best effort, the stale column as it is. */
                return column_xfer(v, p, pos->column, pos->column_offset, buf, pos->length, false);
        return r;
}

static int check_range(const LdmVolumeIo *v, uint64_t offset, size_t len) {
        uint64_t end;

        if (add_u64_overflow(offset, len, &end) || end > v->size)
                return -ENXIO;
        return 0;
}

static int plex_read(LdmVolumeIo *v, size_t p, uint64_t offset, void *buf, size_t len) {
        const LdmPlex *plex = plex_at(v, p);
        uint8_t *b = buf;
        int r;

        while (len > 0) {
                LdmPlexPos pos;

                r = ldm_plex_map(plex, offset, len, &pos);
                if (r < 0)
                        return r;
                if (plex->layout == LDM_LAYOUT_RAID5)
                        r = raid5_read_piece(v, p, &pos, b);
                else if (!(col_state(v, p, pos.column) & COL_READABLE))
                        r = -ENODEV;
                else
                        r = column_xfer(v, p, pos.column, pos.column_offset, b, pos.length, false);
                if (r < 0)
                        return r;
                b += pos.length;
                offset += pos.length;
                len -= pos.length;
        }
        return 0;
}

static bool plex_all(const LdmVolumeIo *v, size_t p, uint8_t need) {
        for (uint32_t c = 0; c < plex_at(v, p)->n_columns; c++)
                if (!(col_state(v, p, c) & need))
                        return false;
        return true;
}

int ldm_volume_read(LdmVolumeIo *v, uint64_t offset, void *buf, size_t len) {
        int r = check_range(v, offset, len);

        if (r < 0 || len == 0)
                return r;
        if (!v->mirror)
                return plex_read(v, 0, offset, buf, len);

        for (size_t p = 0; p < v->vol->n_plexes; p++)
                if (plex_all(v, p, COL_FRESH))
                        return plex_read(v, p, offset, buf, len);
        for (size_t p = 0; p < v->vol->n_plexes; p++)
                if (plex_all(v, p, COL_READABLE))
                        return plex_read(v, p, offset, buf, len);
        return -ENODEV;
}

int ldm_volume_read_plex(LdmVolumeIo *v, size_t p, uint64_t offset, void *buf, size_t len) {
        int r;

        if (!plex_at(v, p))
                return -EINVAL;
        r = check_range(v, offset, len);
        return r < 0 || len == 0 ? r : plex_read(v, p, offset, buf, len);
}

/* RAID-5 write of one piece inside one chunk of data column c (parity column p). */
static int raid5_write_piece(LdmVolumeIo *v, size_t pi, const LdmPlexPos *pos, const uint8_t *buf) {
        uint32_t c = pos->column, p = pos->parity_column;
        bool fc = col_state(v, pi, c) & COL_FRESH, fp = col_state(v, pi, p) & COL_FRESH;
        uint64_t off = pos->column_offset;
        size_t len = pos->length;
        int r;

        if (!fc && !fp)
                return -ENODEV;
        if (!fp)        /* parity unavailable: nothing to keep consistent */
                return column_xfer(v, pi, c, off, (void *) buf, len, true);

        while (len > 0) {
                size_t l = MIN(len, (size_t) SCRATCH_BYTES);
                uint8_t *parity = scratch(v, v->n_scratch - 1);

                if (fc) {
                        /* Read-modify-write: P' = P ^ D ^ D'. */
                        r = column_xfer(v, pi, c, off, scratch(v, 0), l, false);
                        if (r >= 0)
                                r = column_xfer(v, pi, p, off, parity, l, false);
                        if (r < 0)
                                return r;
                        v->srcs[0] = parity;
                        v->srcs[1] = scratch(v, 0);
                        v->srcs[2] = buf;
                        xor_blocks(parity, v->srcs, 3, l);
                        r = column_xfer(v, pi, c, off, (void *) buf, l, true);
                } else
                        /* Data column gone: P' = D' ^ (every other data column). */
                        r = xor_columns(v, pi, c, p, buf, off, parity, l, COL_FRESH);
                if (r >= 0)
                        r = column_xfer(v, pi, p, off, parity, l, true);
                if (r < 0)
                        return r;
                buf += l;
                off += l;
                len -= l;
        }
        return 0;
}

/* A whole stripe row from the caller's buffer: parity straight from the new data. */
static int raid5_write_row(LdmVolumeIo *v, size_t pi, uint64_t row, const uint8_t *buf) {
        const LdmPlex *plex = plex_at(v, pi);
        uint32_t n = (uint32_t) plex->n_columns, p = ldm_raid5_parity_column(row, n);
        uint64_t s = ldm_plex_stripe_bytes(plex);
        int r;

        for (uint32_t k = 0; k + 1 < n; k++) {
                r = column_xfer(v, pi, (p + 1 + k) % n, row * s, (void *) (buf + k * s), s, true);
                if (r < 0)
                        return r;
        }
        for (uint64_t o = 0; o < s; o += SCRATCH_BYTES) {
                size_t l = (size_t) MIN(s - o, (uint64_t) SCRATCH_BYTES);

                for (uint32_t k = 0; k + 1 < n; k++)
                        v->srcs[k] = buf + k * s + o;
                xor_blocks(scratch(v, 0), v->srcs, n - 1, l);
                r = column_xfer(v, pi, p, row * s + o, scratch(v, 0), l, true);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int plex_write(LdmVolumeIo *v, size_t pi, uint64_t offset, const uint8_t *buf, size_t len) {
        const LdmPlex *plex = plex_at(v, pi);
        bool raid5 = plex->layout == LDM_LAYOUT_RAID5;
        uint64_t row_bytes = raid5 ? ldm_plex_stripe_bytes(plex) * (plex->n_columns - 1) : 0;
        int r;

        while (len > 0) {
                LdmPlexPos pos;

                if (raid5 && offset % row_bytes == 0 && len >= row_bytes && plex_all(v, pi, COL_FRESH)) {
                        r = raid5_write_row(v, pi, offset / row_bytes, buf);
                        if (r < 0)
                                return r;
                        buf += row_bytes;
                        offset += row_bytes;
                        len -= row_bytes;
                        continue;
                }

                r = ldm_plex_map(plex, offset, len, &pos);
                if (r < 0)
                        return r;
                if (raid5)
                        r = raid5_write_piece(v, pi, &pos, buf);
                else if (!(col_state(v, pi, pos.column) & COL_READABLE))
                        r = -ENODEV;
                else
                        r = column_xfer(v, pi, pos.column, pos.column_offset, (void *) buf, pos.length, true);
                if (r < 0)
                        return r;
                buf += pos.length;
                offset += pos.length;
                len -= pos.length;
        }
        return 0;
}

int ldm_volume_write(LdmVolumeIo *v, uint64_t offset, const void *buf, size_t len) {
        size_t n_written = 0;
        int r;

        if (!(v->flags & LDM_IO_WRITE))
                return -EBADF;
        r = check_range(v, offset, len);
        if (r < 0 || len == 0)
                return r;
        if (!v->mirror)
                return plex_write(v, 0, offset, buf, len);

        /* Every plex that can take it; a stale plex too, so a resync never loses a write. */
        for (size_t p = 0; p < v->vol->n_plexes; p++) {
                if (!plex_all(v, p, COL_READABLE))
                        continue;
                r = plex_write(v, p, offset, buf, len);
                if (r < 0)
                        return r;
                n_written++;
        }
        return n_written > 0 ? 0 : -ENODEV;
}

int ldm_volume_write_plex(LdmVolumeIo *v, size_t p, uint64_t offset, const void *buf, size_t len) {
        int r;

        if (!(v->flags & LDM_IO_WRITE))
                return -EBADF;
        if (!plex_at(v, p))
                return -EINVAL;
        r = check_range(v, offset, len);
        return r < 0 || len == 0 ? r : plex_write(v, p, offset, buf, len);
}

int ldm_volume_flush(LdmVolumeIo *v) {
        int ret = 0;

        if (!(v->flags & LDM_IO_WRITE))
                return 0;
        for (size_t i = 0; i < v->n_devs; i++) {
                int r = ldm_io_flush(v->devs[i].io);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}
