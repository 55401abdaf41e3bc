/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* validate.c: the strict validator (§14): what the Linux kernel (K), libldm (L) and FreeBSD
 * (F) check, applied to every device of a scan. Works on the parsed structures the device
 * layer kept (every PRIVHEAD/TOCBLOCK copy and the database with its raw bytes). */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "unaligned.h"
#include "validate.h"

typedef struct Ctx {
        LdmDiagList *out;
        const LdmDevice *d;
        int n;
        int error;
} Ctx;

static void violation(Ctx *c, const char *rule, uint64_t offset, const char *fmt, ...) _printf_(4, 5);
static void violation(Ctx *c, const char *rule, uint64_t offset, const char *fmt, ...) {
        char structure[LDM_DIAG_STRUCTURE_MAX], msg[LDM_DIAG_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(structure, sizeof(structure), "rule %s", rule);
        /* A copy missing because the device ends early has no offset on it. */
        if (offset != LDM_DIAG_NO_OFFSET && offset >= c->d->size)
                offset = LDM_DIAG_NO_OFFSET;
        c->n++;
        if (ldm_diag_list_addf(c->out, LDM_DIAG_ERROR, structure, c->d->path, offset, "%s", msg) < 0)
                c->error = -ENOMEM;
}

static uint64_t copy_offset(const LdmDevice *d, LdmPrivheadCopy i) {
        if (i == LDM_PRIVHEAD_COPY_LBA6)
                return LDM_PRIVHEAD_MBR_LBA * 512ULL;
        return ldm_device_rel_offset(d, i == LDM_PRIVHEAD_COPY_2047 ? LDM_PRIVHEAD_REL_A : LDM_PRIVHEAD_REL_B);
}

static const uint64_t toc_rel[_LDM_TOC_SLOT_MAX] = { 1, 2, 2045, 2046 };

static bool toc_regions_equal(const LdmTocblock *a, const LdmTocblock *b) {
        for (size_t i = 0; i < LDM_TOC_REGIONS; i++)
                if (a->regions[i].start != b->regions[i].start || a->regions[i].size != b->regions[i].size ||
                    strcmp(a->regions[i].name, b->regions[i].name) != 0)
                        return false;
        return true;
}

static uint64_t record_offset(const LdmDevice *d, const LdmRecord *r) {
        return ldm_device_rel_offset(d, d->toc.regions[0].start) + (uint64_t) r->slots[0] * 128 + 16;
}

/* Record-level rules shared by K10 (what the kernel's fixed-offset parser needs). */
static void check_records_k(Ctx *c) {
        const LdmDatabase *db = c->d->db;

        for (size_t i = 0; i < db->n_records; i++) {
                const LdmRecord *r = &db->records[i];

                if (r->type == LDM_RECORD_VOLUME && (r->volume.volume_number == 0 || r->volume.volume_number > 255))
                        violation(c, "K10", record_offset(c->d, r), "volume \"%s\": volume number %" PRIu32 " is not 1…255 (encoded 01 nn)",
                                  r->name, r->volume.volume_number);
                if (r->type == LDM_RECORD_COMPONENT && r->component.log_sd != 0)
                        violation(c, "K10", record_offset(c->d, r), "component \"%s\": LogSD %" PRIu64 " (the kernel reads a fixed 00 byte)",
                                  r->name, r->component.log_sd);
                if (r->type == LDM_RECORD_DISK && r->revision == 4 && r->disk.device_name[0])
                        violation(c, "K10", record_offset(c->d, r), "rev-4 disk \"%s\" has a device name (the kernel needs it empty)", r->name);
                if (r->type == LDM_RECORD_DISK_GROUP && (r->record_flags & 0x10))
                        violation(c, "K10", record_offset(c->d, r), "disk group record has flag 0x10, unknown to the kernel");
        }
}

static void check_kernel(Ctx *c) {
        const LdmDevice *d = c->d;
        const LdmDeviceCopies *cp = d->copies;
        const LdmPrivhead *p6 = &cp->privheads[LDM_PRIVHEAD_COPY_LBA6], *pb = &cp->privheads[LDM_PRIVHEAD_COPY_1856];
        uint64_t n_sectors = d->size / 512;
        const LdmTocblock *first = NULL;
        bool found = false;

        for (LdmPrivheadCopy i = LDM_PRIVHEAD_COPY_1856; i <= LDM_PRIVHEAD_COPY_LBA6; i++) {
                const LdmPrivhead *ph = &cp->privheads[i];
                if (d->privhead_state[i] != 0) {
                        violation(c, "K2", copy_offset(d, i), "PRIVHEAD copy %s is missing or invalid",
                                  i == LDM_PRIVHEAD_COPY_LBA6 ? "at LBA 6" : "at rel 1856");
                        continue;
                }
                if (ph->pub_start + ph->pub_size > ph->priv_start)
                        violation(c, "K4", copy_offset(d, i) + 0x11B, "public region %" PRIu64 "+%" PRIu64 " runs past the private region start %" PRIu64,
                                  ph->pub_start, ph->pub_size, ph->priv_start);
                if (ph->priv_start + ph->priv_size > n_sectors)
                        violation(c, "K4", copy_offset(d, i) + 0x12B, "private region %" PRIu64 "+%" PRIu64 " leaves the %" PRIu64 "-sector disk",
                                  ph->priv_start, ph->priv_size, n_sectors);
        }
        if (d->privhead_state[LDM_PRIVHEAD_COPY_LBA6] == 0 && d->privhead_state[LDM_PRIVHEAD_COPY_1856] == 0 &&
            (p6->version_minor != pb->version_minor || p6->pub_start != pb->pub_start || p6->pub_size != pb->pub_size ||
             p6->priv_start != pb->priv_start || p6->priv_size != pb->priv_size || !guid_equal(&p6->disk_guid, &pb->disk_guid)))
                violation(c, "K5", copy_offset(d, LDM_PRIVHEAD_COPY_1856), "PRIVHEAD copies at LBA 6 and rel 1856 differ");

        for (size_t i = 0; i < _LDM_TOC_SLOT_MAX; i++) {
                if (d->toc_state[i] != 0)
                        continue;
                found = true;
                if (!first)
                        first = &cp->tocs[i];
                else if (!toc_regions_equal(first, &cp->tocs[i]))
                        violation(c, "K6", ldm_device_rel_offset(d, toc_rel[i]), "TOCBLOCK at rel %" PRIu64 " names other regions than the first valid copy", toc_rel[i]);
        }
        if (!found)
                violation(c, "K6", ldm_device_rel_offset(d, 1), "no valid TOCBLOCK at rel 1, 2, 2045 or 2046");
        else
                for (size_t i = 0; i < LDM_TOC_REGIONS; i++)
                        if (first->regions[i].start + first->regions[i].size > d->privhead.priv_size)
                                violation(c, "K6", ldm_device_rel_offset(d, 1), "region \"%s\" ends past the private region", first->regions[i].name);

        if (!d->db) {
                violation(c, "K7", ldm_device_rel_offset(d, 17), "no readable database");
                return;
        }
        if (d->toc.regions[0].start != 17)
                violation(c, "K7", ldm_device_rel_offset(d, 17), "config region starts at rel %" PRIu64 ", the kernel reads the VMDB at rel 17", d->toc.regions[0].start);
        if (d->db->vmdb.version_minor != 10 || d->db->vmdb.status != LDM_VMDB_CLEAN)
                violation(c, "K7", ldm_device_rel_offset(d, 17) + 0x10, "VMDB version 4.%u status %u (kernel needs 4.10, status 1)",
                          d->db->vmdb.version_minor, d->db->vmdb.status);
        check_records_k(c);
        /* Groups the parse dropped as a cut transaction's leftovers (database.c): the kernel
         * and libldm reject the whole copy for them. */
        if (d->db->n_dropped_groups > 0) {
                violation(c, "K9", d->db->dropped_group.offset, "%u incomplete fragment group(s): %s",
                          d->db->n_dropped_groups, d->db->dropped_group.message);
                violation(c, "L6", d->db->dropped_group.offset, "%u incomplete fragment group(s)",
                          d->db->n_dropped_groups);
        }

        bool own = false;
        for (size_t i = 0; i < d->db->n_records; i++)
                if (d->db->records[i].type == LDM_RECORD_DISK &&
                    guid_equal(&d->db->records[i].disk.guid, &p6->disk_guid))
                        own = true;
        if (!own)
                violation(c, "K11", ldm_device_rel_offset(d, 17), "no Disk record for this disk's GUID %s", GUID_TO_STRING(&p6->disk_guid));
}

/* L10's per-type consistency (libldm rejects the whole group copy otherwise). */
static void check_records_l(Ctx *c, const LdmPack *pack) {
        const LdmDatabase *db = c->d->db;
        uint32_t counts[_LDM_COUNT_MAX] = {};

        for (size_t i = 0; i < db->n_records; i++) {
                const LdmRecord *r = &db->records[i];
                switch (r->type) {
                case LDM_RECORD_VOLUME:    counts[LDM_COUNT_VOLUME]++; break;
                case LDM_RECORD_COMPONENT: counts[LDM_COUNT_COMPONENT]++; break;
                case LDM_RECORD_PARTITION: counts[LDM_COUNT_PARTITION]++; break;
                case LDM_RECORD_DISK:      counts[LDM_COUNT_DISK]++; break;
                default: break;
                }
                if (r->type == LDM_RECORD_VOLUME && r->volume.read_policy != 3 && r->volume.read_policy != 4)
                        violation(c, "L8", record_offset(c->d, r), "volume \"%s\": read policy %u (libldm accepts 3 or 4)", r->name, r->volume.read_policy);
        }
        for (size_t i = 0; i < LDM_COUNT_DISK_ACCESS; i++)
                if (counts[i] != db->vmdb.committed_counts[i])
                        violation(c, "L9", ldm_device_rel_offset(c->d, 17) + 0x85 + 4 * i,
                                  "committed count %zu is %" PRIu32 ", %" PRIu32 " records are in use", i, db->vmdb.committed_counts[i], counts[i]);

        if (!pack || pack->authority != c->d)
                return;
        for (size_t i = 0; i < pack->n_plexes; i++) {
                const LdmPlex *pl = &pack->plexes[i];
                const LdmRecord *vr = pl->volume->record;
                uint8_t policy = vr->volume.read_policy;
                size_t n_ext = 0;

                for (size_t k = 0; k < pl->n_columns; k++)
                        n_ext += pl->columns[k].n_extents;
                if ((pl->layout == LDM_LAYOUT_RAID5) != (policy == 4))
                        violation(c, "L10", record_offset(c->d, pl->record), "component \"%s\": layout %u with volume read policy %u", pl->name, pl->layout, policy);
                if (pl->layout != LDM_LAYOUT_CONCAT && pl->volume->n_plexes != 1)
                        violation(c, "L10", record_offset(c->d, pl->record), "striped/RAID-5 volume \"%s\" has %zu components", pl->volume->name, pl->volume->n_plexes);
                if (pl->record->component.n_columns > 0 && pl->record->component.n_columns != n_ext)
                        violation(c, "L10", record_offset(c->d, pl->record), "component \"%s\": %" PRIu32 " columns but %zu partitions",
                                  pl->name, pl->record->component.n_columns, n_ext);
        }
        /* Every finding of the model (pack.c): dangling references, counts over the limits,
         * and extents that leave their disk's public region or overlap another (§7.10: an
         * extent lives on its disk's public region). */
        for (size_t i = 0; i < pack->diags.n_items; i++)
                violation(c, "L10", pack->diags.items[i].offset, "%s", pack->diags.items[i].message);
}

static void check_libldm(Ctx *c, const LdmPack *pack) {
        const LdmDevice *d = c->d;
        uint8_t t0 = d->label.mbr[0x1BE + 4];

        if (t0 != LDM_MBR_TYPE_LDM && t0 != LDM_MBR_TYPE_GPT)
                violation(c, "L1", 0x1BE + 4, "MBR entry 0 has type 0x%02x (libldm needs 0x42 or 0xEE)", t0);
        if (d->label.type == LDM_LABEL_GPT && d->label.gpt_backup_used)
                violation(c, "L2", 512, "primary GPT header invalid: %s", d->label.gpt_primary_diag.message);
        if (d->toc_state[LDM_TOC_SLOT_2] != 0)
                violation(c, "L4", ldm_device_rel_offset(d, 2), "no valid TOCBLOCK at rel 2 (the only copy libldm reads)");
        else if (!toc_regions_equal(&d->copies->tocs[LDM_TOC_SLOT_2], &d->toc))
                violation(c, "L4", ldm_device_rel_offset(d, 2), "TOCBLOCK at rel 2 names other regions than the current one");
        if (!d->db)
                return;
        check_records_l(c, pack);
        if (pack && d->effective_committed != pack->committed_seq)
                violation(c, "L11", ldm_device_rel_offset(d, 17) + 0x75, "committed ID %" PRIu64 " differs from the group's %" PRIu64,
                          d->effective_committed, pack->committed_seq);
}

static void check_freebsd(Ctx *c) {
        const LdmDevice *d = c->d;
        const LdmDeviceCopies *cp = d->copies;
        const LdmPrivhead *ph = &d->privhead;

        if (d->sector_size != 512)
                violation(c, "F1", LDM_DIAG_NO_OFFSET, "%u-byte sectors (FreeBSD needs 512)", d->sector_size);
        if (d->label.type == LDM_LABEL_MBR && d->privhead_state[LDM_PRIVHEAD_COPY_LBA6] != 0)
                violation(c, "F1", 6 * 512ULL, "no valid PRIVHEAD at LBA 6");
        if (d->label.type == LDM_LABEL_GPT &&
            (d->label.meta_first != ph->priv_start || d->label.meta_last != ph->priv_start + LDM_PRIV_SIZE - 1 ||
             d->label.data_index < 0 || d->label.data_first != ph->pub_start ||
             d->label.data_last + 1 != ph->pub_start + ph->pub_size))
                violation(c, "F2", 512, "GPT LDM partitions differ from the PRIVHEAD regions");
        for (LdmPrivheadCopy i = 0; i < _LDM_PRIVHEAD_COPY_MAX; i++) {
                const LdmPrivhead *p = &cp->privheads[i];
                if (d->privhead_state[i] != 0)
                        continue;
                if (p->priv_size != LDM_PRIV_SIZE || p->config_size + p->log_size >= LDM_PRIV_SIZE)
                        violation(c, "F3", copy_offset(d, i) + 0x133, "private region of %" PRIu64 " sectors, config+log %" PRIu64,
                                  p->priv_size, p->config_size + p->log_size);
                if (i != d->privhead_used && i != LDM_PRIVHEAD_COPY_LBA6 &&
                    (p->pub_start != ph->pub_start || p->pub_size != ph->pub_size || p->priv_start != ph->priv_start ||
                     p->toc_lba[0] != ph->toc_lba[0] || p->toc_lba[1] != ph->toc_lba[1] ||
                     !guid_equal(&p->disk_guid, &ph->disk_guid) || !guid_equal(&p->group_guid, &ph->group_guid)))
                        violation(c, "F3", copy_offset(d, i), "PRIVHEAD copy differs from the one in use");
        }
        for (size_t k = 0; k < 2; k++) {
                bool ok = false;
                for (size_t i = 0; i < _LDM_TOC_SLOT_MAX; i++)
                        if (toc_rel[i] == ph->toc_lba[k] && d->toc_state[i] == 0 &&
                            cp->tocs[i].regions[0].size == ph->config_size && cp->tocs[i].regions[1].size == ph->log_size)
                                ok = true;
                if (!ok)
                        violation(c, "F4", ldm_device_rel_offset(d, ph->toc_lba[k]), "no valid TOCBLOCK at rel %" PRIu64 " named by the PRIVHEAD", ph->toc_lba[k]);
        }
        if (!d->db)
                return;
        const LdmVmdb *v = &d->db->vmdb;
        uint64_t voff = ldm_device_rel_offset(d, d->toc.regions[0].start);
        if (v->version_minor != 10 || v->status != LDM_VMDB_CLEAN)
                violation(c, "F5", voff + 0x10, "VMDB version 4.%u status %u (FreeBSD needs 4.10, status 1)", v->version_minor, v->status);
        if (!guid_equal(&v->group_guid, &ph->group_guid) || strncmp(v->group_name, ph->group_name, 31) != 0)
                violation(c, "F5", voff + 0x16, "VMDB group name/GUID differ from the PRIVHEAD's");
        for (uint32_t k = v->header_size / v->vblk_size; k < v->n_slots; k++) {
                const uint8_t *s = d->db->config + (size_t) k * v->vblk_size;
                if (unaligned_read_be16(s + 14) == 0 && unaligned_read_be32(s + 8) != 0)
                        violation(c, "F6", voff + (uint64_t) k * v->vblk_size + 8, "unused slot %" PRIu32 " has a non-zero group number", k);
        }
}

static const LdmPack *pack_of(const LdmScan *s, const LdmDevice *d) {
        for (size_t i = 0; i < s->n_packs; i++)
                for (size_t j = 0; j < s->packs[i]->n_devices; j++)
                        if (s->packs[i]->devices[j] == d)
                                return s->packs[i];
        return NULL;
}

int ldm_validate_strict(const LdmScan *s, LdmDiagList *out) {
        int n = 0;

        /* The slot rules read the raw config region, and the copy rules every PRIVHEAD and
         * TOCBLOCK copy, which a light probe does not keep. */
        for (size_t i = 0; i < s->n_devices; i++)
                if (!s->devices[i]->copies || (s->devices[i]->db && !s->devices[i]->db->config))
                        return -ENODATA;

        for (size_t i = 0; i < s->n_devices; i++) {
                Ctx c = { .out = out, .d = s->devices[i] };
                const LdmPack *pack = pack_of(s, c.d);

                if (c.d->privhead_state[c.d->privhead_used] != 0) {
                        violation(&c, "F3", LDM_DIAG_NO_OFFSET, "no valid PRIVHEAD copy at all");
                        n += c.n;
                        continue;
                }
                if (c.d->label.type == LDM_LABEL_MBR)
                        check_kernel(&c);
                check_libldm(&c, pack);
                check_freebsd(&c);
                if (c.error < 0)
                        return c.error;
                n += c.n;
        }
        return n;
}
