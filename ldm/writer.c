/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* writer.c: writes whole private regions and partition tables: a new pack onto blank disks,
 * a parsed disk back from its model, and the per-disk PRIVHEAD/TOCBLOCK update. The
 * database transaction lives in transaction.c. */

#include <inttypes.h>
#include <string.h>

#include "label-write.h"
#include "writer.h"

static const uint64_t toc_slot_rel[_LDM_TOC_SLOT_MAX] = { 1, 2, 2045, 2046 };

static int check_io(LdmIo *io, LdmDiag *err) {
        if (ldm_io_logical_sector_size(io) != LDM_SECTOR)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "device", ldm_io_path(io), LDM_DIAG_NO_OFFSET,
                                    "logical sector size %u: only 512-byte sectors can be written "
                                    "(no 4Kn LDM sample exists)",
                                    ldm_io_logical_sector_size(io)), -EOPNOTSUPP;
        if (!ldm_io_writable(io))
                return ldm_diag_set(err, LDM_DIAG_ERROR, "device", ldm_io_path(io), LDM_DIAG_NO_OFFSET,
                                    "not opened for writing"), -EBADF;
        return 0;
}

static int write_at(LdmIo *io, const void *buf, size_t len, uint64_t sector, const char *what,
                    LdmDiag *err) {
        int r = ldm_io_pwrite(io, buf, len, sector * LDM_SECTOR);
        if (r < 0)
                ldm_diag_set(err, LDM_DIAG_ERROR, what, ldm_io_path(io), sector * LDM_SECTOR,
                             "write of %zu bytes failed: %s", len, strerror(-r));
        return r;
}

static int flush(LdmIo *io, LdmDiag *err) {
        int r = ldm_io_flush(io);
        if (r < 0)
                ldm_diag_set(err, LDM_DIAG_ERROR, "device", ldm_io_path(io), LDM_DIAG_NO_OFFSET,
                             "flush failed: %s", strerror(-r));
        return r;
}

/* Private region of a new disk, PRIVHEAD copies zero (they follow, §12 write order). */
static int write_new_private(LdmIo *io, const LdmNewPack *pack, const LdmNewDisk *d, LdmDiag *err) {
        const LdmDatabase *db = pack->db;
        uint64_t priv = d->privhead.priv_start;
        _cleanup_free_ uint8_t *img = NULL;
        int r;

        img = calloc(LDM_PRIV_SIZE, LDM_SECTOR);
        if (!img)
                return -ENOMEM;
        memcpy(img + 2 * LDM_SECTOR, d->toc.raw, LDM_SECTOR);
        memcpy(img + 2045 * LDM_SECTOR, d->toc.raw, LDM_SECTOR);
        memcpy(img + LDM_CONFIG_START * LDM_SECTOR, db->config, db->config_size);
        memcpy(img + LDM_LOG_START * LDM_SECTOR, db->log, db->log_size);
        r = write_at(io, img, (size_t) LDM_PRIV_SIZE * LDM_SECTOR, priv, "private region", err);
        if (r < 0)
                return r;
        r = write_at(io, d->privhead.raw, LDM_SECTOR, priv + LDM_PRIVHEAD_REL_B, "PRIVHEAD", err);
        if (r < 0)
                return r;
        return write_at(io, d->privhead.raw, LDM_SECTOR, priv + LDM_PRIVHEAD_REL_A, "PRIVHEAD", err);
}

static int write_new_label(LdmIo *io, const LdmNewDisk *d, LdmDiag *err) {
        int r;

        if (d->label.type == LDM_LABEL_MBR) {
                /* Sectors 1…62 are zero on a Windows MBR disk (§1.1); clear what a previous
                 * label (say a primary GPT) left there. LBA 6 is written with sector 0. */
                uint8_t zero[62 * LDM_SECTOR] = {};
                r = write_at(io, zero, sizeof(zero), 1, "MBR gap", err);
                if (r < 0)
                        return r;
        }
        r = ldm_label_write(io, &d->label,
                            d->label.type == LDM_LABEL_MBR ? d->privhead.raw : NULL);
        if (r < 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, d->label.type == LDM_LABEL_GPT ? "GPT" : "MBR",
                                    ldm_io_path(io), 0, "writing the partition table failed: %s",
                                    strerror(-r)), r;
        return 0;
}

int ldm_writer_write_new(const LdmNewPack *pack, LdmIo *const *ios, size_t n, LdmDiag *err) {
        int r;

        if (n != pack->n_disks)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "request", "", LDM_DIAG_NO_OFFSET,
                                    "%zu devices for a pack of %zu disks", n, pack->n_disks), -EINVAL;
        for (size_t i = 0; i < n; i++) {
                r = check_io(ios[i], err);
                if (r < 0)
                        return r;
                if (ldm_io_size(ios[i]) / LDM_SECTOR != pack->disks[i].n_sectors)
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "device", ldm_io_path(ios[i]),
                                            LDM_DIAG_NO_OFFSET,
                                            "has %" PRIu64 " sectors, the pack was planned for %" PRIu64,
                                            ldm_io_size(ios[i]) / LDM_SECTOR,
                                            pack->disks[i].n_sectors), -EINVAL;
        }

        for (size_t i = 0; i < n; i++) {
                r = write_new_private(ios[i], pack, &pack->disks[i], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                r = flush(ios[i], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                r = write_new_label(ios[i], &pack->disks[i], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                r = flush(ios[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A private copy of db whose config can be re-serialised without touching the original. */
static int database_dup(const LdmDatabase *db, LdmDatabase **ret) {
        _cleanup_(ldm_database_freep) LdmDatabase *c = NULL;

        /* A light probe dropped the raw regions: nothing byte-exact to write back from. */
        if (!db->config || !db->log)
                return -ENODATA;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->vmdb = db->vmdb;
        memcpy(c->klog, db->klog, sizeof(c->klog));
        c->records = malloc(MAX(db->n_records, 1u) * sizeof(LdmRecord));
        c->config = malloc(MAX(db->config_size, 1u));
        c->log = malloc(MAX(db->log_size, 1u));
        if (!c->records || !c->config || !c->log)
                return -ENOMEM;
        if (db->n_records > 0)
                memcpy(c->records, db->records, db->n_records * sizeof(LdmRecord));
        c->n_records = db->n_records;
        if (db->config_size > 0)
                memcpy(c->config, db->config, db->config_size);
        c->config_size = db->config_size;
        if (db->log_size > 0)
                memcpy(c->log, db->log, db->log_size);
        c->log_size = db->log_size;
        *ret = TAKE_PTR(c);
        return 0;
}

static int rewrite_database(LdmIo *io, const LdmDevice *dev, LdmDiag *err) {
        _cleanup_(ldm_database_freep) LdmDatabase *db = NULL;
        uint64_t priv = dev->privhead.priv_start;
        int r;

        r = database_dup(dev->db, &db);
        if (r < 0)
                return r;
        r = ldm_database_serialize(db);
        if (r < 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VBLK", dev->path, LDM_DIAG_NO_OFFSET,
                                    "cannot serialise the config region: %s", strerror(-r)), r;
        for (size_t i = 0; i < 2 && (i + 1) * LDM_SECTOR <= db->log_size; i++)
                if (memcmp(db->log + i * LDM_SECTOR, "KLOG", 4) == 0)
                        ldm_klog_encode(&db->klog[i], db->log + i * LDM_SECTOR);

        r = write_at(io, db->config, db->config_size, priv + dev->toc.regions[0].start,
                     "config", err);
        if (r < 0)
                return r;
        return write_at(io, db->log, db->log_size, priv + dev->toc.regions[1].start, "log", err);
}

int ldm_writer_rewrite_device(LdmIo *io, const LdmDevice *dev, bool with_label, LdmDiag *err) {
        uint64_t priv = dev->privhead.priv_start;
        uint8_t sector[LDM_SECTOR];
        int r;

        r = check_io(io, err);
        if (r < 0)
                return r;
        if (!dev->db)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", dev->path, LDM_DIAG_NO_OFFSET,
                                    "no parsed database to write back"), -ENODATA;
        if (!dev->copies)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", dev->path, LDM_DIAG_NO_OFFSET,
                                    "probed light: the PRIVHEAD and TOCBLOCK copies were not kept"), -ENODATA;

        r = rewrite_database(io, dev, err);
        if (r < 0)
                return r;
        for (LdmTocSlot s = 0; s < _LDM_TOC_SLOT_MAX; s++) {
                if (dev->toc_state[s] != 0)
                        continue;
                ldm_tocblock_encode(&dev->copies->tocs[s], sector);
                r = write_at(io, sector, LDM_SECTOR, priv + toc_slot_rel[s], "TOCBLOCK", err);
                if (r < 0)
                        return r;
        }
        for (LdmPrivheadCopy c = 0; c < _LDM_PRIVHEAD_COPY_MAX; c++) {
                uint64_t lba = c == LDM_PRIVHEAD_COPY_LBA6 ? LDM_PRIVHEAD_MBR_LBA :
                               priv + (c == LDM_PRIVHEAD_COPY_2047 ? LDM_PRIVHEAD_REL_A : LDM_PRIVHEAD_REL_B);
                if (dev->privhead_state[c] != 0)
                        continue;
                ldm_privhead_encode(&dev->copies->privheads[c], sector);
                r = write_at(io, sector, LDM_SECTOR, lba, "PRIVHEAD", err);
                if (r < 0)
                        return r;
        }
        if (with_label) {
                r = ldm_label_write(io, &dev->label, NULL);
                if (r < 0)
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "label", dev->path, 0,
                                            "writing the partition table failed: %s",
                                            strerror(-r)), r;
        }
        return flush(io, err);
}

static uint64_t other_toc_slot(uint64_t rel) {
        switch (rel) {
        case 1: return 2;
        case 2: return 1;
        case 2045: return 2046;
        case 2046: return 2045;
        default: return 0;
        }
}

int ldm_writer_update_privhead(LdmIo *io, const LdmDevice *dev, const LdmPrivhead *ph,
                               LdmDiag *err) {
        LdmPrivhead nph = ph ? *ph : dev->privhead;
        LdmTocblock toc = dev->toc;
        uint64_t priv = nph.priv_start, slots[2];
        uint8_t sector[LDM_SECTOR];
        int r;

        r = check_io(io, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < 2; i++) {
                slots[i] = other_toc_slot(dev->privhead.toc_lba[i]);
                if (slots[i] == 0)
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", dev->path,
                                            LDM_DIAG_NO_OFFSET, "TOC LBA %" PRIu64 " is not 1, 2, 2045 or 2046",
                                            dev->privhead.toc_lba[i]), -EBADMSG;
        }

        /* The new TOCBLOCKs go to the unused slots; the current ones stay valid until the
         * PRIVHEADs point away from them. */
        toc.update_seq = nph.update_seq + 1;
        ldm_tocblock_encode(&toc, sector);
        for (size_t i = 0; i < 2; i++) {
                r = write_at(io, sector, LDM_SECTOR, priv + slots[i], "TOCBLOCK", err);
                if (r < 0)
                        return r;
        }
        r = flush(io, err);
        if (r < 0)
                return r;

        nph.toc_lba[0] = slots[0];
        nph.toc_lba[1] = slots[1];
        nph.update_seq++;
        nph.timestamp = ldm_filetime_now();
        ldm_privhead_encode(&nph, sector);
        r = write_at(io, sector, LDM_SECTOR, priv + nph.copy_lba_a, "PRIVHEAD", err);
        if (r < 0)
                return r;
        r = write_at(io, sector, LDM_SECTOR, priv + nph.copy_lba_b, "PRIVHEAD", err);
        if (r < 0)
                return r;
        if (dev->label.type == LDM_LABEL_MBR) {
                r = write_at(io, sector, LDM_SECTOR, LDM_PRIVHEAD_MBR_LBA, "PRIVHEAD", err);
                if (r < 0)
                        return r;
        }
        return flush(io, err);
}
