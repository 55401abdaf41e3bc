/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* label.c: the partition table around an LDM disk (§2): an MBR with a 0x42 entry in any slot,
 * or a protective MBR with a GPT holding the LDM metadata and data partitions. The GPT is
 * validated the way libblkid does (magic → header size → CRC → self-location → ranges →
 * entry sizes → entries CRC); a corrupt primary header falls back to the backup. */

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "crc32.h"
#include "cursor.h"
#include "label.h"
#include "unaligned.h"

#define GPT_MAGIC "EFI PART"
#define GPT_MAX_ENTRIES 1024u
#define GPT_MAX_ENTRY_SIZE 1024u

static const char *const label_type_names[_LDM_LABEL_TYPE_MAX] = {
        [LDM_LABEL_MBR] = "MBR",
        [LDM_LABEL_GPT] = "GPT",
};

const char *ldm_label_type_to_string(LdmLabelType t) {
        if (t < 0 || t >= _LDM_LABEL_TYPE_MAX)
                return NULL;
        return label_type_names[t];
}

static bool mbr_has_type(const uint8_t mbr[static 512], uint8_t type) {
        for (size_t i = 0; i < 4; i++)
                if (mbr[0x1BE + 16 * i + 4] == type)
                        return true;
        return false;
}

static void fold_name(const uint8_t *utf16, size_t units, char *out, size_t size) {
        size_t o = 0;

        for (size_t i = 0; i < units && o + 1 < size; i++) {
                uint16_t ch = unaligned_read_le16(utf16 + 2 * i);
                if (ch == 0)
                        break;
                out[o++] = ch < 0x80 && ch >= 0x20 ? (char) ch : '?';
        }
        out[o] = '\0';
}

/* The used entries of a checked entry array, into an array of their own: allocated to size,
 * as most GPT disks use 3 or 4 of 128 entries and a daemon keeps a label per disk. */
static int gpt_parse_entries(LdmLabel *l, const uint8_t *arr, uint32_t n_entries, uint32_t esize,
                             uint64_t arr_offset, uint64_t n_sectors, const char *disk, LdmDiag *err) {
        size_t used = 0;

        for (uint32_t i = 0; i < n_entries; i++)
                used += !ldm_is_zero(arr + (size_t) i * esize, 16);
        /* A backup read after a primary rejected for an entry replaces what that one kept. */
        l->parts = mfree(l->parts);
        l->n_parts = 0;
        if (used > 0) {
                l->parts = calloc(used, sizeof(LdmGptPartition));
                if (!l->parts)
                        return -ENOMEM;
        }
        for (uint32_t i = 0; i < n_entries; i++) {
                const uint8_t *e = arr + (size_t) i * esize;
                LdmGptPartition *p = &l->parts[l->n_parts];

                if (ldm_is_zero(e, 16))
                        continue;
                guid_from_gpt(e, &p->type);
                guid_from_gpt(e + 16, &p->unique);
                p->first_lba = unaligned_read_le64(e + 32);
                p->last_lba = unaligned_read_le64(e + 40);
                p->attributes = unaligned_read_le64(e + 48);
                fold_name(e + 56, 36, p->name, sizeof(p->name));
                if (p->last_lba < p->first_lba || p->last_lba >= n_sectors)
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "GPT", disk,
                                            arr_offset + (uint64_t) i * esize + 32,
                                            "entry %" PRIu32 " spans LBA %" PRIu64 "…%" PRIu64 " outside the disk",
                                            i, p->first_lba, p->last_lba);
                l->n_parts++;
        }
        return 0;
}

/* Reads and checks the GPT header at `lba`; on success fills the table fields of *l. */
static int gpt_read(LdmIo *io, uint64_t lba, uint32_t ss, LdmLabel *l, LdmDiag *err) {
        const char *disk = ldm_io_path(io);
        uint64_t off = lba * ss, n_sectors = ldm_io_size(io) / ss, arr_lba, arr_bytes;
        _cleanup_free_ uint8_t *hdr = NULL, *arr = NULL;
        uint32_t hsize, crc, n_entries, esize;
        int r;

        hdr = malloc(ss);
        if (!hdr)
                return -ENOMEM;
        r = ldm_io_pread(io, hdr, ss, off);
        if (r < 0)
                return r;
        if (memcmp(hdr, GPT_MAGIC, 8) != 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "GPT", disk, off, "no \"EFI PART\" signature");
        hsize = unaligned_read_le32(hdr + 12);
        if (hsize < 92 || hsize > ss)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "GPT", disk, off + 12,
                                    "header size %" PRIu32 " (expected 92…%" PRIu32 ")", hsize, ss);
        crc = unaligned_read_le32(hdr + 16);
        memset(hdr + 16, 0, 4);
        if (crc32_ieee(hdr, hsize) != crc)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "GPT", disk, off + 16, "bad header CRC32");
        if (unaligned_read_le64(hdr + 24) != lba)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "GPT", disk, off + 24,
                                    "header claims to be at LBA %" PRIu64, unaligned_read_le64(hdr + 24));
        l->gpt_first_usable = unaligned_read_le64(hdr + 40);
        l->gpt_last_usable = unaligned_read_le64(hdr + 48);
        guid_from_gpt(hdr + 56, &l->gpt_disk_guid);
        arr_lba = unaligned_read_le64(hdr + 72);
        n_entries = unaligned_read_le32(hdr + 80);
        esize = unaligned_read_le32(hdr + 84);
        if (n_entries == 0 || n_entries > GPT_MAX_ENTRIES || esize < 128 ||
            esize > GPT_MAX_ENTRY_SIZE || esize % 8 != 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "GPT", disk, off + 80,
                                    "%" PRIu32 " entries of %" PRIu32 " bytes (at most %u of 128…%u)",
                                    n_entries, esize, GPT_MAX_ENTRIES, GPT_MAX_ENTRY_SIZE);
        arr_bytes = (uint64_t) n_entries * esize;
        if (arr_lba >= n_sectors || DIV_ROUND_UP(arr_bytes, ss) > n_sectors - arr_lba)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "GPT", disk, off + 72,
                                    "entry array at LBA %" PRIu64 " leaves the disk", arr_lba);
        arr = malloc(arr_bytes);
        if (!arr)
                return -ENOMEM;
        r = ldm_io_pread(io, arr, arr_bytes, arr_lba * ss);
        if (r < 0)
                return r;
        if (crc32_ieee(arr, arr_bytes) != unaligned_read_le32(hdr + 88))
                return ldm_diag_set(err, LDM_DIAG_ERROR, "GPT", disk, arr_lba * ss,
                                    "bad entry-array CRC32");

        l->gpt_n_entries = n_entries;
        l->gpt_entry_size = esize;
        return gpt_parse_entries(l, arr, n_entries, esize, arr_lba * ss, n_sectors, disk, err);
}

static void gpt_find_ldm(LdmLabel *l) {
        LdmGuid meta, data;

        (void) guid_from_string(LDM_GPT_TYPE_METADATA, &meta);
        (void) guid_from_string(LDM_GPT_TYPE_DATA, &data);
        for (size_t i = 0; i < l->n_parts; i++) {
                if (l->metadata_index < 0 && guid_equal(&l->parts[i].type, &meta)) {
                        l->metadata_index = (int) i;
                        l->meta_first = l->parts[i].first_lba;
                        l->meta_last = l->parts[i].last_lba;
                }
                if (l->data_index < 0 && guid_equal(&l->parts[i].type, &data)) {
                        l->data_index = (int) i;
                        l->data_first = l->parts[i].first_lba;
                        l->data_last = l->parts[i].last_lba;
                }
        }
}

/* Both headers bad: the diagnosis names the primary (where a reader looks first) and says
 * why the backup failed too, so nobody goes looking for a good copy. */
static int gpt_both_bad(const LdmDiag *primary, const LdmDiag *backup, LdmDiag *err) {
        return ldm_diag_set(err, LDM_DIAG_ERROR, "GPT", primary->disk, primary->offset,
                            "%s; the backup header is bad too (byte %" PRIu64 ": %s)",
                            primary->message, backup->offset, backup->message);
}

void ldm_label_done(LdmLabel *l) {
        if (!l)
                return;
        l->parts = mfree(l->parts);
        l->n_parts = 0;
}

int ldm_label_read(LdmIo *io, LdmLabel *ret, LdmDiag *err) {
        uint32_t ss = ldm_io_logical_sector_size(io);
        LdmLabel *l = ret;
        LdmDiag primary_err = {}, backup_err = {};
        uint64_t n_sectors;
        int r;

        *l = (LdmLabel) { .metadata_index = -1, .data_index = -1 };
        if (ss < 512 || ldm_io_size(io) < 2 * (uint64_t) ss)
                return 0;
        n_sectors = ldm_io_size(io) / ss;
        r = ldm_io_pread(io, l->mbr, 512, 0);
        if (r < 0)
                return r;
        if (l->mbr[510] != 0x55 || l->mbr[511] != 0xAA)
                return 0;

        if (mbr_has_type(l->mbr, LDM_MBR_TYPE_LDM)) {
                l->type = LDM_LABEL_MBR;
                return 1;
        }
        if (!mbr_has_type(l->mbr, LDM_MBR_TYPE_GPT))
                return 0;

        l->type = LDM_LABEL_GPT;
        r = gpt_read(io, 1, ss, l, &primary_err);
        if (r == -EBADMSG) {
                l->gpt_backup_used = true;
                l->gpt_primary_diag = primary_err;
                r = gpt_read(io, n_sectors - 1, ss, l, &backup_err);
        }
        if (r == -EBADMSG)
                return gpt_both_bad(&primary_err, &backup_err, err);
        if (r < 0)
                return r;
        gpt_find_ldm(l);
        if (l->metadata_index < 0)
                return 0;
        return 1;
}
