/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* privhead.c: PRIVHEAD, the per-disk private header (ldm-format.md §4): parse one 512-byte
 * copy (validating before trusting) and encode it back from its raw bytes plus fields. */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cursor.h"
#include "privhead.h"
#include "unaligned.h"

#define PH_MAGIC "PRIVHEAD"

uint32_t ldm_header_checksum(const uint8_t sector[static 512]) {
        uint32_t sum = 0;

        /* Every byte but the checksum field itself (bytes 8–11). Summed whole and then
         * taken back out, the loop has no branch and the compiler vectorises it: every
         * probe sums up to seven of these sectors. */
        for (size_t i = 0; i < 512; i++)
                sum += sector[i];
        return sum - sector[8] - sector[9] - sector[10] - sector[11];
}

/* Region sanity every reader needs before it computes an offset from these numbers. */
static int privhead_check_ranges(const LdmPrivhead *ph, const char *disk, uint64_t offset,
                                 LdmDiag *err) {
        uint64_t end;

        if (ph->priv_size == 0 || add_u64_overflow(ph->priv_start, ph->priv_size, &end) ||
            mul_u64_overflow(end, LDM_SECTOR, &end))
                return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", disk, offset,
                                    "private region %" PRIu64 "+%" PRIu64 " is empty or overflows",
                                    ph->priv_start, ph->priv_size);
        if (ph->pub_size == 0 || add_u64_overflow(ph->pub_start, ph->pub_size, &end) ||
            mul_u64_overflow(end, LDM_SECTOR, &end))
                return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", disk, offset + 0x11B,
                                    "public region %" PRIu64 "+%" PRIu64 " is empty or overflows",
                                    ph->pub_start, ph->pub_size);
        for (size_t i = 0; i < 2; i++)
                if (ph->toc_lba[i] >= ph->priv_size)
                        return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", disk,
                                            offset + 0x13B + 8 * i,
                                            "TOC LBA %" PRIu64 " outside the %" PRIu64 "-sector private region",
                                            ph->toc_lba[i], ph->priv_size);
        if (ph->config_size > ph->priv_size || ph->log_size > ph->priv_size - ph->config_size)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", disk, offset + 0x153,
                                    "config size %" PRIu64 " + log size %" PRIu64 " exceed the private region",
                                    ph->config_size, ph->log_size);
        return 0;
}

int ldm_privhead_parse(const uint8_t sector[static 512], const char *disk, uint64_t offset,
                       LdmPrivhead *ret, LdmDiag *err) {
        LdmPrivhead ph = {};
        uint32_t stored, computed;
        int r;

        if (memcmp(sector, PH_MAGIC, 8) != 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", disk, offset,
                                    "magic is not \"PRIVHEAD\"");
        stored = unaligned_read_be32(sector + 0x08);
        computed = ldm_header_checksum(sector);
        if (stored != computed)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", disk, offset + 0x08,
                                    "bad checksum (expected 0x%08x, found 0x%08x)", computed, stored);

        ph.version_major = unaligned_read_be16(sector + 0x0C);
        ph.version_minor = unaligned_read_be16(sector + 0x0E);
        if (ph.version_major != 2 || (ph.version_minor != 11 && ph.version_minor != 12))
                return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", disk, offset + 0x0C,
                                    "version %u.%u (expected 2.11 or 2.12)",
                                    ph.version_major, ph.version_minor);
        ph.timestamp = unaligned_read_be64(sector + 0x10);
        ph.update_seq = unaligned_read_be64(sector + 0x18);
        ph.copy_lba_a = unaligned_read_be64(sector + 0x20);
        ph.copy_lba_b = unaligned_read_be64(sector + 0x28);

        if (guid_from_field(sector + 0x30, 64, &ph.disk_guid) < 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", disk, offset + 0x30,
                                    "disk GUID is not 36 GUID characters padded with NUL");
        /* The host GUID is a constant nobody checks; a bad one is kept as null. */
        if (guid_from_field(sector + 0x70, 64, &ph.host_guid) < 0)
                ph.host_guid = GUID_NULL;
        if (guid_from_field(sector + 0xB0, 64, &ph.group_guid) < 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", disk, offset + 0xB0,
                                    "disk group GUID is not 36 GUID characters padded with NUL");
        ldm_text_field_get(sector + 0xF0, 31, ph.group_name);

        ph.bytes_per_sector = unaligned_read_be32(sector + 0x10F);
        ph.flags = unaligned_read_be32(sector + 0x113);
        ph.pub_slice = unaligned_read_be16(sector + 0x117);
        ph.priv_slice = unaligned_read_be16(sector + 0x119);
        ph.pub_start = unaligned_read_be64(sector + 0x11B);
        ph.pub_size = unaligned_read_be64(sector + 0x123);
        ph.priv_start = unaligned_read_be64(sector + 0x12B);
        ph.priv_size = unaligned_read_be64(sector + 0x133);
        ph.toc_lba[0] = unaligned_read_be64(sector + 0x13B);
        ph.toc_lba[1] = unaligned_read_be64(sector + 0x143);
        ph.n_configs = unaligned_read_be32(sector + 0x14B);
        ph.n_logs = unaligned_read_be32(sector + 0x14F);
        ph.config_size = unaligned_read_be64(sector + 0x153);
        ph.log_size = unaligned_read_be64(sector + 0x15B);
        ph.disk_signature = unaligned_read_be32(sector + 0x163);
        memcpy(ph.diskset_guid, sector + 0x167, 16);
        memcpy(ph.diskset_guid2, sector + 0x177, 16);

        if (ph.bytes_per_sector != 512 && ph.bytes_per_sector != 4096)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "PRIVHEAD", disk, offset + 0x10F,
                                    "bytes per sector %u (expected 512 or 4096)", ph.bytes_per_sector);
        r = privhead_check_ranges(&ph, disk, offset, err);
        if (r < 0)
                return r;

        memcpy(ph.raw, sector, 512);
        *ret = ph;
        return 0;
}

void ldm_privhead_encode(const LdmPrivhead *ph, uint8_t out[static 512]) {
        uint8_t s[512];

        memcpy(s, ph->raw, 512);
        memcpy(s, PH_MAGIC, 8);
        unaligned_write_be16(s + 0x0C, ph->version_major);
        unaligned_write_be16(s + 0x0E, ph->version_minor);
        unaligned_write_be64(s + 0x10, ph->timestamp);
        unaligned_write_be64(s + 0x18, ph->update_seq);
        unaligned_write_be64(s + 0x20, ph->copy_lba_a);
        unaligned_write_be64(s + 0x28, ph->copy_lba_b);
        ldm_guid_field_set(s + 0x30, 64, &ph->disk_guid);
        if (!guid_is_null(&ph->host_guid))
                ldm_guid_field_set(s + 0x70, 64, &ph->host_guid);
        ldm_guid_field_set(s + 0xB0, 64, &ph->group_guid);
        ldm_text_field_set(s + 0xF0, 31, ph->group_name);
        unaligned_write_be32(s + 0x10F, ph->bytes_per_sector);
        unaligned_write_be32(s + 0x113, ph->flags);
        unaligned_write_be16(s + 0x117, ph->pub_slice);
        unaligned_write_be16(s + 0x119, ph->priv_slice);
        unaligned_write_be64(s + 0x11B, ph->pub_start);
        unaligned_write_be64(s + 0x123, ph->pub_size);
        unaligned_write_be64(s + 0x12B, ph->priv_start);
        unaligned_write_be64(s + 0x133, ph->priv_size);
        unaligned_write_be64(s + 0x13B, ph->toc_lba[0]);
        unaligned_write_be64(s + 0x143, ph->toc_lba[1]);
        unaligned_write_be32(s + 0x14B, ph->n_configs);
        unaligned_write_be32(s + 0x14F, ph->n_logs);
        unaligned_write_be64(s + 0x153, ph->config_size);
        unaligned_write_be64(s + 0x15B, ph->log_size);
        unaligned_write_be32(s + 0x163, ph->disk_signature);
        memcpy(s + 0x167, ph->diskset_guid, 16);
        memcpy(s + 0x177, ph->diskset_guid2, 16);
        unaligned_write_be32(s + 0x08, ldm_header_checksum(s));
        memcpy(out, s, 512);
}
