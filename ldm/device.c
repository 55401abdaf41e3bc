/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* device.c: probing one LDM disk: partition table, every PRIVHEAD and TOCBLOCK copy, the copy
 * chosen by §10.2 rule 1 (PRIVHEAD 2047 → 1856 → LBA 6; TOC named by the PRIVHEAD, else any
 * valid one with the right regions), then the config and log regions and the in-flight state
 * of rule 2. Never stops at the first bad copy: every problem goes to device->diags and the
 * next copy is tried. Read-only. */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cursor.h"
#include "device.h"

/* The page size of x86-64 and most hosts: the unit in which the page cache, and its readahead,
 * count (see ldm_device_prefetch_label()). */
#define LDM_LABEL_HINT_PAGE 4096u

static const uint64_t toc_rel[_LDM_TOC_SLOT_MAX] = { 1, 2, 2045, 2046 };
static const char *const privhead_copy_names[_LDM_PRIVHEAD_COPY_MAX] = {
        [LDM_PRIVHEAD_COPY_2047] = "rel 2047",
        [LDM_PRIVHEAD_COPY_1856] = "rel 1856",
        [LDM_PRIVHEAD_COPY_LBA6] = "LBA 6",
};

LdmDevice *ldm_device_free(LdmDevice *d) {
        if (!d)
                return NULL;
        ldm_database_free(d->db);
        ldm_label_done(&d->label);
        ldm_diag_list_clear(&d->diags);
        free(d->copies);
        free(d->path);
        free(d);
        return NULL;
}

/* A place that overflows 64 bits is on no device: UINT64_MAX fails every bounds check the
 * readers make, where a wrapped-around offset would pass them and read the wrong sectors. */
static uint64_t priv_offset(const LdmDevice *d, uint64_t priv_start, uint64_t rel) {
        uint64_t lba, off;

        if (add_u64_overflow(priv_start, rel, &lba) || mul_u64_overflow(lba, d->sector_size, &off))
                return UINT64_MAX;
        return off;
}

uint64_t ldm_device_rel_offset(const LdmDevice *d, uint64_t rel_sector) {
        return priv_offset(d, d->privhead.priv_start, rel_sector);
}

/* A diagnosis names where a structure is or should be; a place past the end of a cut-short
 * device is no place on it. */
static uint64_t in_device(const LdmDevice *d, uint64_t offset) {
        return offset < d->size ? offset : LDM_DIAG_NO_OFFSET;
}

static void add_diag(LdmDevice *d, const LdmDiag *diag) {
        (void) ldm_diag_list_add(&d->diags, diag);
}

/* Reads one 512-byte structure; -ENOENT when it lies beyond the end of the device. */
static int read_sector(LdmIo *io, LdmDevice *d, uint64_t offset, uint8_t buf[static 512]) {
        if (offset > d->size || d->size - offset < 512)
                return -ENOENT;
        return ldm_io_pread(io, buf, 512, offset);
}

/* Every private-region structure is placed from priv_start (all LDM_PRIV_SIZE sectors are
 * looked for, whatever priv_size says): a copy whose region no byte offset can reach is no
 * guide to where the region is. */
static int privhead_check_private(const LdmDevice *d, const LdmPrivhead *ph, uint64_t offset,
                                  LdmDiag *err) {
        if (priv_offset(d, ph->priv_start, MAX(ph->priv_size, (uint64_t) LDM_PRIV_SIZE)) == UINT64_MAX)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", d->path, offset + 0x12B,
                                    "private region start %" PRIu64 " in %" PRIu32 "-byte sectors overflows a 64-bit byte offset",
                                    ph->priv_start, d->sector_size);
        return 0;
}

/* Reads copy `copy` into *ph (left as it was when the sector does not parse). */
static int read_privhead(LdmIo *io, LdmDevice *d, LdmPrivheadCopy copy, uint64_t offset,
                         uint64_t expected_priv_start, LdmPrivhead *ph) {
        uint8_t s[512];
        LdmDiag err;
        int r;

        r = read_sector(io, d, offset, s);
        if (r < 0)
                return (d->privhead_state[copy] = r == -ENOENT ? -ENOENT : r);
        r = ldm_privhead_parse(s, d->path, offset, ph, &err);
        if (r == 0 && copy != LDM_PRIVHEAD_COPY_LBA6 && ph->priv_start != expected_priv_start)
                r = ldm_diag_set(&err, LDM_DIAG_ERROR, "PRIVHEAD", d->path, offset + 0x12B,
                                 "%s copy names private region start %" PRIu64 " but was found at %" PRIu64,
                                 privhead_copy_names[copy], ph->priv_start, expected_priv_start);
        if (r == 0)
                r = privhead_check_private(d, ph, offset, &err);
        if (r == -EBADMSG)
                add_diag(d, &err);
        return (d->privhead_state[copy] = r);
}

/* Where is the private region? GPT: the metadata partition. MBR: what the LBA-6 copy says,
 * else what a copy in the disk's last sector says (D's order), else the last 1 MiB. */
static uint64_t locate_private_region(LdmIo *io, LdmDevice *d) {
        uint64_t n_sectors = d->size / d->sector_size, last;
        LdmPrivhead ph;
        uint8_t s[512];

        if (d->label.type == LDM_LABEL_GPT)
                return d->label.meta_first;
        /* Kept in d->privhead until ldm_device_probe_finish() has somewhere to put it. */
        (void) read_privhead(io, d, LDM_PRIVHEAD_COPY_LBA6,
                             (uint64_t) LDM_PRIVHEAD_MBR_LBA * d->sector_size, 0, &d->privhead);
        if (d->privhead_state[LDM_PRIVHEAD_COPY_LBA6] == 0)
                return d->privhead.priv_start;
        last = n_sectors - 1;
        if (read_sector(io, d, last * d->sector_size, s) == 0 &&
            ldm_privhead_parse(s, d->path, last * d->sector_size, &ph, NULL) == 0 &&
            ph.priv_start + LDM_PRIVHEAD_REL_A == last)
                return ph.priv_start;
        return n_sectors >= LDM_PRIV_SIZE ? n_sectors - LDM_PRIV_SIZE : 0;
}

static bool privheads_agree(const LdmPrivhead *a, const LdmPrivhead *b) {
        return guid_equal(&a->disk_guid, &b->disk_guid) && guid_equal(&a->group_guid, &b->group_guid) &&
               strcmp(a->group_name, b->group_name) == 0 && a->update_seq == b->update_seq &&
               a->pub_start == b->pub_start && a->pub_size == b->pub_size &&
               a->priv_start == b->priv_start && a->priv_size == b->priv_size &&
               a->toc_lba[0] == b->toc_lba[0] && a->toc_lba[1] == b->toc_lba[1] &&
               a->config_size == b->config_size && a->log_size == b->log_size;
}

/* What a light probe reads at the private region's start: the TOCBLOCKs, the VMDB and the
 * head of the config region after them (where Windows and mkldm put them). */
static uint64_t config_head_hint_len(uint32_t sector_size) {
        return 32 * (uint64_t) sector_size + LDM_DEVICE_CONFIG_HEAD_FIRST;
}

/* Names to the I/O layer what the rest of a probe reads near the private region's ends, so
 * that it reaches the disk in one round trip rather than one after the other: the head of
 * the config region, the KLOG pages at the start of the log region where Windows puts it
 * (spec §12: rel 1498; the TOCBLOCK that says so is only read after this round trip), and
 * the PRIVHEAD and TOCBLOCK copies at the end. Hints only: other layouts are read all the
 * same, one round trip later. */
static void prefetch_private_region(LdmIo *io, const LdmDevice *d, uint64_t priv) {
        /* A GPT disk's config head where Windows puts it came with the label's hint. */
        if (!(d->label.type == LDM_LABEL_GPT && priv == LDM_GPT_META_START))
                ldm_io_prefetch(io, priv_offset(d, priv, 0), config_head_hint_len(d->sector_size));
        ldm_io_prefetch(io, priv_offset(d, priv, LDM_DEVICE_LOG_REL), LDM_DATABASE_LOG_PARSED);
        ldm_io_prefetch(io, priv_offset(d, priv, LDM_PRIVHEAD_REL_B), d->sector_size);
        ldm_io_prefetch(io, priv_offset(d, priv, toc_rel[2]), (LDM_PRIV_SIZE - toc_rel[2]) * (uint64_t) d->sector_size);
}

/* Where copy c of the private region starting at priv lies. */
static uint64_t privhead_copy_offset(const LdmDevice *d, uint64_t priv, LdmPrivheadCopy c) {
        if (c == LDM_PRIVHEAD_COPY_LBA6)
                return (uint64_t) LDM_PRIVHEAD_MBR_LBA * d->sector_size;
        return priv_offset(d, priv, c == LDM_PRIVHEAD_COPY_2047 ? LDM_PRIVHEAD_REL_A : LDM_PRIVHEAD_REL_B);
}

/* Volume extents are placed from pub_start: a public region past the end of the device would
 * have them read what is not there. Diagnoses each valid copy whose region does not fit. */
static bool privhead_public_fits(LdmDevice *d, uint64_t priv, LdmPrivheadCopy c) {
        const LdmPrivhead *ph = &d->copies->privheads[c];
        uint64_t n_sectors = d->size / d->sector_size;

        if (ph->pub_size <= n_sectors && ph->pub_start <= n_sectors - ph->pub_size)
                return true;
        (void) ldm_diag_list_addf(&d->diags, LDM_DIAG_ERROR, "PRIVHEAD", d->path,
                                  privhead_copy_offset(d, priv, c) + 0x11B,
                                  "%s copy's public region %" PRIu64 "+%" PRIu64 " leaves the %" PRIu64 "-sector device",
                                  privhead_copy_names[c], ph->pub_start, ph->pub_size, n_sectors);
        return false;
}

/* The first valid copy in rule 1's order (2047 → 1856 → LBA 6) whose public region fits the
 * device. Else the first valid one all the same, as it still says which disk of which pack
 * this is (a disk cut short), and -EBADMSG: its database must not be used. -ENOENT: none. */
static int choose_privhead(LdmDevice *d, uint64_t priv) {
        static const LdmPrivheadCopy order[] = {
                LDM_PRIVHEAD_COPY_2047, LDM_PRIVHEAD_COPY_1856, LDM_PRIVHEAD_COPY_LBA6,
        };
        bool fits = false;

        d->privhead_used = _LDM_PRIVHEAD_COPY_MAX;
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                LdmPrivheadCopy c = order[i];
                bool f;

                if (d->privhead_state[c] != 0)
                        continue;
                f = privhead_public_fits(d, priv, c);
                if (d->privhead_used == _LDM_PRIVHEAD_COPY_MAX || (f && !fits)) {
                        d->privhead_used = c;
                        fits = f;
                }
        }
        if (d->privhead_used == _LDM_PRIVHEAD_COPY_MAX)
                return -ENOENT;
        return fits ? 0 : -EBADMSG;
}

/* The copies at the ends of the private region ldm_device_probe_begin() located. */
static int probe_privheads(LdmIo *io, LdmDevice *d) {
        uint64_t priv = d->located_priv;
        int r, chosen;

        r = read_privhead(io, d, LDM_PRIVHEAD_COPY_2047, priv_offset(d, priv, LDM_PRIVHEAD_REL_A), priv,
                          &d->copies->privheads[LDM_PRIVHEAD_COPY_2047]);
        if (r < 0 && r != -EBADMSG && r != -ENOENT)
                return r;
        r = read_privhead(io, d, LDM_PRIVHEAD_COPY_1856, priv_offset(d, priv, LDM_PRIVHEAD_REL_B), priv,
                          &d->copies->privheads[LDM_PRIVHEAD_COPY_1856]);
        if (r < 0 && r != -EBADMSG && r != -ENOENT)
                return r;

        chosen = choose_privhead(d, priv);
        if (chosen == -ENOENT) {
                d->privhead_used = LDM_PRIVHEAD_COPY_2047;
                /* Each invalid copy has its own diagnosis; when every copy is absent (a
                 * device cut short) say so once. */
                for (size_t i = 0; i < _LDM_PRIVHEAD_COPY_MAX; i++)
                        if (d->privhead_state[i] == -EBADMSG)
                                return -EBADMSG;
                return ldm_diag_list_addf(&d->diags, LDM_DIAG_ERROR, "PRIVHEAD", d->path,
                                          in_device(d, priv_offset(d, priv, LDM_PRIVHEAD_REL_A)),
                                          "no PRIVHEAD copy on the device (rel 2047, rel 1856%s are absent)",
                                          d->label.type == LDM_LABEL_MBR ? ", LBA 6" : "") ?: -EBADMSG;
        }
        d->privhead = d->copies->privheads[d->privhead_used];

        for (size_t i = 0; i < _LDM_PRIVHEAD_COPY_MAX; i++)
                if (i != d->privhead_used && d->privhead_state[i] == 0 &&
                    !privheads_agree(&d->copies->privheads[i], &d->privhead))
                        (void) ldm_diag_list_addf(&d->diags, LDM_DIAG_ERROR, "PRIVHEAD", d->path,
                                                  privhead_copy_offset(d, priv, i),
                                                  "%s copy differs from the %s copy in use",
                                                  privhead_copy_names[i], privhead_copy_names[d->privhead_used]);
        if (d->label.type == LDM_LABEL_GPT &&
            (d->label.meta_last < d->privhead.priv_start + d->privhead.priv_size - 1 ||
             d->label.meta_first != d->privhead.priv_start))
                (void) ldm_diag_list_addf(&d->diags, LDM_DIAG_ERROR, "GPT", d->path, LDM_DIAG_NO_OFFSET,
                                          "LDM metadata partition %" PRIu64 "…%" PRIu64 " is not the private region %" PRIu64 "+%" PRIu64,
                                          d->label.meta_first, d->label.meta_last,
                                          d->privhead.priv_start, d->privhead.priv_size);
        return chosen; /* -EBADMSG: the copy in use puts the volumes off the device */
}

static bool toc_matches(const LdmDevice *d, const LdmTocblock *t) {
        return t->regions[0].size == d->privhead.config_size && t->regions[1].size == d->privhead.log_size &&
               t->regions[0].start + t->regions[0].size <= d->privhead.priv_size &&
               t->regions[1].start + t->regions[1].size <= d->privhead.priv_size;
}

static int probe_tocs(LdmIo *io, LdmDevice *d) {
        bool found = false;
        int r;

        for (size_t i = 0; i < _LDM_TOC_SLOT_MAX; i++) {
                uint64_t off = ldm_device_rel_offset(d, toc_rel[i]);
                uint8_t s[512];
                LdmDiag err;

                r = read_sector(io, d, off, s);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (r == -ENOENT || ldm_is_zero(s, 512)) {
                        d->toc_state[i] = -ENOENT; /* never written (W08 uses 2 of 4) */
                        continue;
                }
                d->toc_state[i] = ldm_tocblock_parse(s, d->path, off, &d->copies->tocs[i], &err);
                if (d->toc_state[i] < 0)
                        add_diag(d, &err);
                else if (!toc_matches(d, &d->copies->tocs[i]))
                        (void) ldm_diag_list_addf(&d->diags, LDM_DIAG_ERROR, "TOCBLOCK", d->path, off,
                                                  "regions (config %" PRIu64 "+%" PRIu64 ", log %" PRIu64 "+%" PRIu64 ") do not match the PRIVHEAD sizes %" PRIu64 "/%" PRIu64,
                                                  d->copies->tocs[i].regions[0].start, d->copies->tocs[i].regions[0].size,
                                                  d->copies->tocs[i].regions[1].start, d->copies->tocs[i].regions[1].size,
                                                  d->privhead.config_size, d->privhead.log_size);
        }

        /* The copies the PRIVHEAD names first (primary, secondary)… */
        for (size_t p = 0; p < 2 && !found; p++)
                for (size_t i = 0; i < _LDM_TOC_SLOT_MAX; i++)
                        if (toc_rel[i] == d->privhead.toc_lba[p] && d->toc_state[i] == 0 &&
                            toc_matches(d, &d->copies->tocs[i])) {
                                d->toc_used = (LdmTocSlot) i;
                                found = true;
                                break;
                        }
        /* …else the newest valid one with the right regions. */
        for (size_t i = 0; i < _LDM_TOC_SLOT_MAX && !found; i++)
                if (d->toc_state[i] == 0 && toc_matches(d, &d->copies->tocs[i])) {
                        size_t best = i;
                        for (size_t j = i + 1; j < _LDM_TOC_SLOT_MAX; j++)
                                if (d->toc_state[j] == 0 && toc_matches(d, &d->copies->tocs[j]) &&
                                    d->copies->tocs[j].update_seq > d->copies->tocs[best].update_seq)
                                        best = j;
                        d->toc_used = (LdmTocSlot) best;
                        found = true;
                        (void) ldm_diag_list_addf(&d->diags, LDM_DIAG_ERROR, "TOCBLOCK", d->path,
                                                  in_device(d, ldm_device_rel_offset(d, d->privhead.toc_lba[0])),
                                                  "no valid TOCBLOCK at the rel sectors %" PRIu64 "/%" PRIu64 " the PRIVHEAD names; using rel %" PRIu64,
                                                  d->privhead.toc_lba[0], d->privhead.toc_lba[1], toc_rel[best]);
                }
        if (!found)
                return ldm_diag_list_addf(&d->diags, LDM_DIAG_ERROR, "TOCBLOCK", d->path,
                                          in_device(d, ldm_device_rel_offset(d, d->privhead.toc_lba[0])),
                                          "no valid TOCBLOCK with the PRIVHEAD's region sizes at rel 1, 2, 2045 or 2046") ?: -EBADMSG;
        d->toc = d->copies->tocs[d->toc_used];
        return 0;
}

/* Where a region the TOCBLOCK names lies: byte offset and size; it must lie on the device. */
static int region_place(LdmDevice *d, const LdmTocRegion *rg, uint64_t *ret_offset, uint64_t *ret_size) {
        uint64_t off = ldm_device_rel_offset(d, rg->start), len;

        if (mul_u64_overflow(rg->size, d->sector_size, &len) || len > SIZE_MAX ||
            off > d->size || d->size - off < len)
                /* Named at the TOCBLOCK entry that places the region (read, so on the device). */
                return ldm_diag_list_addf(&d->diags, LDM_DIAG_ERROR, "TOCBLOCK", d->path,
                                          ldm_device_rel_offset(d, toc_rel[d->toc_used]) + 0x24 + 34 * (rg - d->toc.regions) + 0x0A,
                                          "region \"%s\" (%" PRIu64 "+%" PRIu64 " sectors) leaves the device", rg->name, rg->start, rg->size) ?: -EBADMSG;
        *ret_offset = off;
        *ret_size = len;
        return 0;
}

/* Reads the first MIN(region size, max_read) bytes of a region that must lie on the device;
 * *ret_size is the size of the whole region. */
static int read_region(LdmIo *io, LdmDevice *d, const LdmTocRegion *rg, uint64_t max_read,
                       uint8_t **ret, size_t *ret_size, uint64_t *ret_offset) {
        _cleanup_free_ uint8_t *buf = NULL;
        uint64_t off, len, n;
        int r;

        r = region_place(d, rg, &off, &len);
        if (r < 0)
                return r;
        n = MIN(len, max_read);
        buf = malloc(n ? n : 1);
        if (!buf)
                return -ENOMEM;
        r = ldm_io_pread(io, buf, n, off);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        *ret_size = len;
        *ret_offset = off;
        return 0;
}

/* How far a light probe reads into the config region before it gives up on the head and
 * reads the whole region: the records of most packs sit in the first 16 KiB (~120 slots), a
 * big pack's in the first 64 KiB; each step is one more round trip, the whole region ~740 KiB. */
static const size_t config_head_steps[] = { LDM_DEVICE_CONFIG_HEAD_FIRST, LDM_DEVICE_CONFIG_HEAD };

/* A light probe first reads only a head of the config region (see ldm_database_parse_head()),
 * in the steps above; 0 when a head was the whole database, -EAGAIN to read it all. */
static int probe_database_head(LdmIo *io, LdmDevice *d, uint64_t *ret_config_off) {
        _cleanup_free_ uint8_t *config = NULL;
        uint8_t log[LDM_DATABASE_LOG_PARSED];
        uint64_t config_size, log_off, log_size, log_read;
        size_t have = 0;
        int r;

        r = region_place(d, &d->toc.regions[0], ret_config_off, &config_size);
        if (r < 0)
                return r;
        if (config_size <= LDM_DEVICE_CONFIG_HEAD)
                return -EAGAIN; /* a region this small is simply parsed whole */
        r = region_place(d, &d->toc.regions[1], &log_off, &log_size);
        if (r < 0)
                return r;
        log_read = MIN(log_size, (uint64_t) sizeof(log));
        /* Where Windows puts it, the KLOG is in flight already (prefetch_private_region()). */
        if (d->toc.regions[1].start != LDM_DEVICE_LOG_REL)
                ldm_io_prefetch(io, log_off, log_read);
        for (size_t i = 0; i < ELEMENTSOF(config_head_steps); i++) {
                size_t step = config_head_steps[i];
                uint8_t *grown = realloc(config, step);

                if (!grown)
                        return -ENOMEM;
                config = grown;
                r = ldm_io_pread(io, config + have, step - have, *ret_config_off + have);
                if (r < 0)
                        return r;
                have = step;
                if (i == 0) {
                        r = ldm_io_pread(io, log, log_read, log_off);
                        if (r < 0)
                                return r;
                }
                r = ldm_database_parse_head(config, have, config_size, log, log_size, d->path,
                                            *ret_config_off, log_off, &d->db);
                if (r != -EAGAIN)
                        return r;
        }
        return -EAGAIN;
}

static int probe_database(LdmIo *io, LdmDevice *d, LdmProbeFlags flags) {
        _cleanup_free_ uint8_t *config = NULL, *log = NULL;
        size_t config_size, log_size;
        uint64_t config_off, log_off;
        LdmDiag err;
        int r;

        r = -EAGAIN;
        if (flags & LDM_PROBE_NO_RAW)
                r = probe_database_head(io, d, &config_off);
        if (r == -EAGAIN) {
                r = read_region(io, d, &d->toc.regions[0], UINT64_MAX, &config, &config_size, &config_off);
                if (r < 0)
                        return r;
                /* Parsing reads only the KLOG pages; the rest of the log is kept for the writer. */
                r = read_region(io, d, &d->toc.regions[1],
                                flags & LDM_PROBE_NO_RAW ? LDM_DATABASE_LOG_PARSED : UINT64_MAX,
                                &log, &log_size, &log_off);
                if (r < 0)
                        return r;
                /* The database takes the buffers as they are: no second copy of ~850 KiB. */
                r = ldm_database_parse_take(TAKE_PTR(config), config_size, TAKE_PTR(log), log_size,
                                            d->path, config_off, log_off,
                                            flags & LDM_PROBE_NO_RAW ? LDM_DATABASE_NO_RAW : 0,
                                            &d->db, &err);
                if (r == -EBADMSG)
                        add_diag(d, &err);
        }
        /* The head's own rejections (a region off the device) are in d->diags already. */
        if (r < 0)
                return r;

        if (d->db->n_dropped_groups > 0) {
                const LdmDiag *g = &d->db->dropped_group;

                (void) ldm_diag_list_addf(&d->diags, LDM_DIAG_WARNING, g->structure, d->path, g->offset,
                                          "%u incomplete record(s) left by a cut transaction, not part of the database; the first: %.150s",
                                          d->db->n_dropped_groups, g->message);
        }
        for (size_t i = 0; i < 2; i++)
                if (d->db->klog_state[i] == -EBADMSG) {
                        LdmDiag k = d->db->klog_diag[i];
                        k.severity = LDM_DIAG_WARNING;
                        add_diag(d, &k);
                }
        if (!guid_equal(&d->db->vmdb.group_guid, &d->privhead.group_guid) ||
            strcmp(d->db->vmdb.group_name, d->privhead.group_name) != 0)
                (void) ldm_diag_list_addf(&d->diags, LDM_DIAG_ERROR, "VMDB", d->path, config_off + 0x16,
                                          "disk group \"%s\" %s differs from the PRIVHEAD's \"%s\" %s",
                                          d->db->vmdb.group_name, GUID_TO_STRING(&d->db->vmdb.group_guid),
                                          d->privhead.group_name, GUID_TO_STRING(&d->privhead.group_guid));
        d->in_flight = ldm_database_in_flight(d->db);
        d->effective_committed = ldm_database_effective_committed(d->db);
        if (d->in_flight)
                (void) ldm_diag_list_addf(&d->diags, LDM_DIAG_WARNING, "VMDB", d->path, config_off + 0x10,
                                          "transaction in flight (status %u, committed %" PRIu64 ", pending %" PRIu64 "): rolled %s",
                                          d->db->vmdb.status, d->db->vmdb.committed_seq, d->db->vmdb.pending_seq,
                                          ldm_database_rolls_forward(d->db) ? "forward" : "back");
        return 0;
}

int ldm_device_probe_begin(LdmIo *io, LdmDevice **ret, LdmDiag *err) {
        _cleanup_(ldm_device_freep) LdmDevice *d = NULL;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->path = strdup(ldm_io_path(io));
        if (!d->path)
                return -ENOMEM;
        d->size = ldm_io_size(io);
        d->sector_size = ldm_io_logical_sector_size(io);
        d->devnum = ldm_io_devnum(io);
        d->db_state = -ENODATA;

        /* No device for a disk whose GPT cannot be read: nothing says it is LDM at all, so
         * the diagnosis goes to the caller alone. */
        r = ldm_label_read(io, &d->label, err);
        if (r <= 0)
                return r;
        if (d->label.gpt_backup_used)
                add_diag(d, &d->label.gpt_primary_diag);

        /* locate_private_region() reads an MBR disk's LBA-6 copy; finish reads the rest. */
        for (size_t i = 0; i < _LDM_PRIVHEAD_COPY_MAX; i++)
                d->privhead_state[i] = -ENOENT;
        d->located_priv = locate_private_region(io, d);
        prefetch_private_region(io, d, d->located_priv);

        *ret = TAKE_PTR(d);
        return 1;
}

/* The copies are allocated here, not by ldm_device_probe_begin(): a batch begins all its disks
 * before it finishes any, and a light probe frees them when it is done, so that the next
 * disk on the thread reuses the same memory (new pages are what a probe pays most for on
 * some machines: bench/machine-costs). begin left the LBA-6 copy in d->privhead. */
static int copies_new(LdmDevice *d) {
        d->copies = calloc(1, sizeof(*d->copies));
        if (!d->copies)
                return -ENOMEM;
        d->copies->privheads[LDM_PRIVHEAD_COPY_LBA6] = d->privhead; /* zero when never parsed */
        d->privhead = (LdmPrivhead) {};
        return 0;
}

int ldm_device_probe_finish(LdmIo *io, LdmDevice *d, LdmProbeFlags flags) {
        int r;

        r = copies_new(d);
        if (r < 0)
                return r;
        r = probe_privheads(io, d);
        if (r == 0)
                r = probe_tocs(io, d);
        if (r == 0)
                r = probe_database(io, d, flags);
        if (r < 0 && r != -EBADMSG && r != -ENOENT)
                return r; /* an I/O error (the device cannot be read) or -ENOMEM */
        d->db_state = r;
        if (flags & LDM_PROBE_NO_RAW)
                d->copies = mfree(d->copies);
        return 0;
}

void ldm_device_prefetch_label(LdmIo *io) {
        uint32_t ss = ldm_io_logical_sector_size(io);
        uint64_t gpt_head_end = LDM_GPT_META_START * (uint64_t) ss + config_head_hint_len(ss);

        /* One round trip for the MBR, the MBR disks' PRIVHEAD at LBA 6, the GPT header and
         * entry array and, right after them where Windows puts it, a GPT disk's config head.
         * The first page comes last. A loop device reads its image file through the host's
         * page cache, whose readahead takes a read at a file's start, and every read right
         * after one, for a stream, and ramps its window up to the host disk's read_ahead_kb:
         * hinted from the start, these 49 KiB of a GPT image cost 256 KiB (in one hint) to
         * 640 KiB (label, then config head), with read_ahead_kb 8192. The rest, hinted
         * first, starts away from the file's start and follows no read: it is read alone;
         * the first page then finds its neighbours cached and is read alone too (52 KiB). */
        ldm_io_prefetch(io, LDM_LABEL_HINT_PAGE, gpt_head_end - LDM_LABEL_HINT_PAGE);
        ldm_io_prefetch(io, 0, LDM_LABEL_HINT_PAGE);
}

int ldm_device_probe_io_diag(LdmIo *io, LdmProbeFlags flags, LdmDevice **ret, LdmDiag *err) {
        _cleanup_(ldm_device_freep) LdmDevice *d = NULL;
        int r;

        ldm_device_prefetch_label(io);
        r = ldm_device_probe_begin(io, &d, err);
        if (r <= 0)
                return r;
        r = ldm_device_probe_finish(io, d, flags);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 1;
}

int ldm_device_probe_io_flags(LdmIo *io, LdmProbeFlags flags, LdmDevice **ret) {
        return ldm_device_probe_io_diag(io, flags, ret, NULL);
}

int ldm_device_probe_io(LdmIo *io, LdmDevice **ret) {
        return ldm_device_probe_io_flags(io, 0, ret);
}

int ldm_device_probe_diag(const char *path, LdmProbeFlags flags, LdmDevice **ret, LdmDiag *err) {
        _cleanup_(ldm_io_closep) LdmIo *io = NULL;
        int r;

        r = ldm_io_open(path, 0, &io);
        if (r < 0)
                return r;
        /* The probe names each place it reads (ldm_io_prefetch()); readahead would only add
         * ~128 KiB of nothing around each of them. Only on a handle of its own: a caller's
         * handle keeps its readahead for what the caller reads next. */
        ldm_io_no_readahead(io);
        return ldm_device_probe_io_diag(io, flags, ret, err);
}

int ldm_device_probe_flags(const char *path, LdmProbeFlags flags, LdmDevice **ret) {
        return ldm_device_probe_diag(path, flags, ret, NULL);
}

int ldm_device_probe(const char *path, LdmDevice **ret) {
        return ldm_device_probe_flags(path, 0, ret);
}
