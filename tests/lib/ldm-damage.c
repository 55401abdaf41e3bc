/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ldm-damage.c: see ldm-damage.h. Built on the project's own scanner (to find volumes and
 * extents) and writer (transactions), so a marker is written exactly as ldmd would. */

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "ldm-damage.h"
#include "scan.h"

#define CHUNK (1024u * 1024u)

/* The pack on paths, with every present disk open for writing. */
typedef struct Opened {
        LdmScan *scan;
        LdmPack *pack;
        LdmIo **ios;
        size_t n;
} Opened;

static void opened_done(Opened *o) {
        for (size_t i = 0; i < o->n; i++)
                ldm_io_close(o->ios[i]);
        free(o->ios);
        ldm_scan_free(o->scan);
        *o = (Opened) {};
}

static int opened_init(Opened *o, char *const *paths, size_t n) {
        char **copy = calloc(n + 1, sizeof(char *));
        int r;

        *o = (Opened) {};
        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                copy[i] = (char *) paths[i];
        r = ldm_scan_paths(copy, n, &o->scan);
        free(copy);
        if (r < 0)
                return r;
        if (o->scan->n_packs != 1)
                return -ENOENT;
        o->pack = o->scan->packs[0];
        o->ios = calloc(o->pack->n_devices, sizeof(LdmIo *));
        if (!o->ios)
                return -ENOMEM;
        for (size_t i = 0; i < o->pack->n_devices; i++) {
                r = ldm_io_open(o->pack->devices[i]->path, LDM_IO_WRITE, &o->ios[i]);
                if (r < 0)
                        return r;
                o->n++;
        }
        return 0;
}

static LdmIo *io_of(const Opened *o, const LdmDevice *d) {
        for (size_t i = 0; i < o->pack->n_devices; i++)
                if (o->pack->devices[i] == d)
                        return o->ios[i];
        return NULL;
}

static LdmVolume *find_volume(const LdmPack *p, const char *name) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (strcmp(p->volumes[i].name, name) == 0)
                        return &p->volumes[i];
        return NULL;
}

static int garbage_extent(const Opened *o, const LdmExtent *e) {
        _cleanup_free_ uint8_t *buf = malloc(CHUNK);
        LdmIo *io;
        uint64_t off, left;
        int r;

        if (!buf)
                return -ENOMEM;
        if (!e->disk->device || !(io = io_of(o, e->disk->device)))
                return -ENODEV;
        off = ldm_extent_disk_offset(e);
        left = e->size * 512;
        while (left > 0) {
                size_t len = (size_t) MIN(left, (uint64_t) CHUNK);
                if (getrandom(buf, len, 0) != (ssize_t) len)
                        return -EIO;
                r = ldm_io_pwrite(io, buf, len, off);
                if (r < 0)
                        return r;
                off += len;
                left -= len;
        }
        return ldm_io_flush(io);
}

static int commit(const Opened *o, LdmTxn *t) {
        return ldm_txn_commit(t, o->ios, o->pack->devices, o->n, NULL);
}

int ldm_damage_stale_plex(char *const *paths, size_t n, const char *volume, unsigned plex,
                          bool garbage) {
        _cleanup_(opened_done) Opened o = {};
        _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
        LdmVolume *v;
        LdmPlex *p;
        LdmRecord *r;
        int k;

        k = opened_init(&o, paths, n);
        if (k < 0)
                return k;
        v = find_volume(o.pack, volume);
        if (!v || plex >= v->n_plexes)
                return -ENOENT;
        p = v->plexes[plex];
        k = ldm_txn_begin(o.pack->db, &t);
        if (k < 0)
                return k;
        r = ldm_txn_edit(t, p->id);
        if (!r)
                return -ENOENT;
        r->component.flags |= LDM_COMPONENT_FLAG_RECOVER;
        k = commit(&o, t);
        if (k < 0 || !garbage)
                return k;
        for (size_t c = 0; c < p->n_columns; c++)
                for (size_t e = 0; e < p->columns[c].n_extents; e++) {
                        k = garbage_extent(&o, p->columns[c].extents[e]);
                        if (k < 0)
                                return k;
                }
        return 0;
}

/* Marks the partition records of extents stale (LDM_PARTITION_FLAG_RECOVER) in one
 * transaction, then, with garbage, overwrites their data. */
static int mark_extents_stale(const Opened *o, LdmExtent *const *extents, size_t n, bool garbage) {
        _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
        int k;

        k = ldm_txn_begin(o->pack->db, &t);
        if (k < 0)
                return k;
        for (size_t e = 0; e < n; e++) {
                LdmRecord *r = ldm_txn_edit(t, extents[e]->id);
                if (!r)
                        return -ENOENT;
                r->partition.flags |= LDM_PARTITION_FLAG_RECOVER;
        }
        k = commit(o, t);
        for (size_t e = 0; k >= 0 && garbage && e < n; e++)
                k = garbage_extent(o, extents[e]);
        return k < 0 ? k : 0;
}

int ldm_damage_stale_column(char *const *paths, size_t n, const char *volume, unsigned column,
                            bool garbage) {
        _cleanup_(opened_done) Opened o = {};
        LdmVolume *v;
        LdmColumn *col;
        int k;

        k = opened_init(&o, paths, n);
        if (k < 0)
                return k;
        v = find_volume(o.pack, volume);
        if (!v || v->n_plexes != 1 || column >= v->plexes[0]->n_columns)
                return -ENOENT;
        col = &v->plexes[0]->columns[column];
        return mark_extents_stale(&o, col->extents, col->n_extents, garbage);
}

static LdmExtent *find_extent(const LdmPack *p, const char *name) {
        for (size_t i = 0; i < p->n_extents; i++)
                if (strcmp(p->extents[i].name, name) == 0)
                        return &p->extents[i];
        return NULL;
}

int ldm_damage_stale_extent(char *const *paths, size_t n, const char *extent) {
        _cleanup_(opened_done) Opened o = {};
        LdmExtent *e;
        int k;

        k = opened_init(&o, paths, n);
        if (k < 0)
                return k;
        e = find_extent(o.pack, extent);
        if (!e)
                return -ENOENT;
        return mark_extents_stale(&o, &e, 1, false);
}

int ldm_damage_scribble(char *const *paths, size_t n, const char *extent, uint64_t offset,
                        uint64_t len) {
        _cleanup_(opened_done) Opened o = {};
        _cleanup_free_ uint8_t *buf = NULL;
        LdmExtent *e;
        LdmIo *io;
        uint64_t end;
        int k;

        k = opened_init(&o, paths, n);
        if (k < 0)
                return k;
        e = find_extent(o.pack, extent);
        if (!e)
                return -ENOENT;
        if (add_u64_overflow(offset, len, &end) || end > e->size * 512)
                return -ERANGE;
        if (!e->disk->device || !(io = io_of(&o, e->disk->device)))
                return -ENODEV;
        buf = malloc(CHUNK);
        if (!buf)
                return -ENOMEM;
        for (uint64_t done = 0; done < len;) {
                size_t l = (size_t) MIN((uint64_t) CHUNK, len - done);

                /* The same bytes for the same position inside the extent, every time. */
                for (size_t i = 0; i < l; i++) {
                        uint64_t at = done + i;
                        buf[i] = (uint8_t) (0xA5 ^ at ^ (at >> 9));
                }
                k = ldm_io_pwrite(io, buf, l, ldm_extent_disk_offset(e) + offset + done);
                if (k < 0)
                        return k;
                done += l;
        }
        return ldm_io_flush(io);
}

struct LdmDamageSnapshot {
        char *path;
        uint64_t priv_start;
        uint8_t *priv;          /* 2048 sectors */
        uint8_t head[7 * 512];  /* sectors 0…6: MBR and the LBA-6 PRIVHEAD */
};

LdmDamageSnapshot *ldm_damage_snapshot_free(LdmDamageSnapshot *s) {
        if (!s)
                return NULL;
        free(s->path);
        free(s->priv);
        free(s);
        return NULL;
}

int ldm_damage_snapshot(const char *path, LdmDamageSnapshot **ret) {
        _cleanup_(ldm_device_freep) LdmDevice *d = NULL;
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        LdmDamageSnapshot *s;
        int r;

        r = ldm_io_open(path, 0, &io);
        if (r < 0)
                return r;
        r = ldm_device_probe_io(io, &d);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->path = strdup(path);
        s->priv = malloc((size_t) 2048 * 512);
        s->priv_start = d->privhead.priv_start;
        if (!s->path || !s->priv)
                return ldm_damage_snapshot_free(s), -ENOMEM;
        r = ldm_io_pread(io, s->priv, (size_t) 2048 * 512, s->priv_start * 512);
        if (r >= 0)
                r = ldm_io_pread(io, s->head, sizeof(s->head), 0);
        if (r < 0)
                return ldm_damage_snapshot_free(s), r;
        *ret = s;
        return 0;
}

int ldm_damage_restore(const LdmDamageSnapshot *s) {
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        int r;

        r = ldm_io_open(s->path, LDM_IO_WRITE, &io);
        if (r < 0)
                return r;
        r = ldm_io_pwrite(io, s->priv, (size_t) 2048 * 512, s->priv_start * 512);
        if (r < 0)
                return r;
        r = ldm_io_pwrite(io, s->head, sizeof(s->head), 0);
        if (r < 0)
                return r;
        return ldm_io_flush(io);
}

static int touch(char *const *paths, size_t n, LdmTxnStep step) {
        _cleanup_(opened_done) Opened o = {};
        _cleanup_(ldm_txn_freep) LdmTxn *t = NULL;
        uint32_t dg = 0;
        int k;

        k = opened_init(&o, paths, n);
        if (k < 0)
                return k;
        for (size_t i = 0; i < o.pack->db->n_records; i++)
                if (o.pack->db->records[i].type == LDM_RECORD_DISK_GROUP)
                        dg = o.pack->db->records[i].id;
        k = ldm_txn_begin(o.pack->db, &t);
        if (k < 0)
                return k;
        if (!ldm_txn_edit(t, dg))
                return -ENOENT;
        ldm_txn_set_stop_after(t, step);
        return commit(&o, t);
}

int ldm_damage_touch(char *const *paths, size_t n) {
        return touch(paths, n, 0);
}

int ldm_damage_in_flight(char *const *paths, size_t n, LdmTxnStep step) {
        if (step < LDM_TXN_STEP_RECORDS || step >= LDM_TXN_STEP_CLEAN)
                return -EINVAL;
        return touch(paths, n, step);
}

int ldm_damage_corrupt(const char *path, LdmDamageTarget what) {
        _cleanup_(ldm_device_freep) LdmDevice *d = NULL;
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        uint64_t priv, sector;
        uint8_t buf[512];
        int r;

        r = ldm_io_open(path, LDM_IO_WRITE, &io);
        if (r < 0)
                return r;
        r = ldm_device_probe_io(io, &d);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        priv = d->privhead.priv_start;
        switch (what) {
        case LDM_DAMAGE_PRIVHEAD_LBA6:
                if (d->label.type != LDM_LABEL_MBR)
                        return -ENOENT;
                sector = 6;
                break;
        case LDM_DAMAGE_PRIVHEAD_1856: sector = priv + 1856; break;
        case LDM_DAMAGE_PRIVHEAD_2047: sector = priv + 2047; break;
        case LDM_DAMAGE_TOC_PRIMARY:   sector = priv + d->privhead.toc_lba[0]; break;
        case LDM_DAMAGE_TOC_SECONDARY: sector = priv + d->privhead.toc_lba[1]; break;
        case LDM_DAMAGE_VMDB:          sector = priv + d->toc.regions[0].start; break;
        default:
                return -EINVAL;
        }
        r = ldm_io_pread(io, buf, sizeof(buf), sector * 512);
        if (r < 0)
                return r;
        if (what == LDM_DAMAGE_VMDB)
                memset(buf, 0, 4);
        else
                buf[11] ^= 0x01; /* the checksum itself: nothing but the checksum is wrong */
        r = ldm_io_pwrite(io, buf, sizeof(buf), sector * 512);
        if (r < 0)
                return r;
        return ldm_io_flush(io);
}

static bool has_record_named(const LdmDatabase *db, const char *name) {
        for (size_t i = 0; i < db->n_records; i++)
                if (strcmp(db->records[i].name, name) == 0)
                        return true;
        return false;
}

static void rename_records(LdmDatabase *db, const char *old, const char *new) {
        for (size_t i = 0; i < db->n_records; i++) {
                LdmRecord *rec = &db->records[i];
                if (strcmp(rec->name, old) != 0)
                        continue;
                snprintf(rec->name, sizeof(rec->name), "%s", new);
                rec->dirty = true;
        }
}

static void rename_group(LdmDevice *d, const char *new) {
        snprintf(d->db->vmdb.group_name, sizeof(d->db->vmdb.group_name), "%s", new);
        snprintf(d->privhead.group_name, sizeof(d->privhead.group_name), "%s", new);
        for (size_t c = 0; c < _LDM_PRIVHEAD_COPY_MAX; c++)
                snprintf(d->copies->privheads[c].group_name, sizeof(d->copies->privheads[c].group_name), "%s", new);
}

int ldm_damage_rename(char *const *paths, size_t n, const char *old, const char *new) {
        _cleanup_(opened_done) Opened o = {};
        bool group;
        int k;

        k = opened_init(&o, paths, n);
        if (k < 0)
                return k;
        group = strcmp(o.pack->name, old) == 0;
        if (strlen(new) >= (group ? sizeof(o.pack->name) : sizeof(((LdmRecord *) NULL)->name)))
                return -ENAMETOOLONG;
        if (!group && !has_record_named(o.pack->db, old))
                return -ENOENT;
        for (size_t i = 0; i < o.n; i++) {
                LdmDevice *d = o.pack->devices[i];

                rename_records(d->db, old, new);
                if (group)
                        rename_group(d, new);
                k = ldm_writer_rewrite_device(o.ios[i], d, false, NULL);
                if (k < 0)
                        return k;
        }
        return 0;
}
