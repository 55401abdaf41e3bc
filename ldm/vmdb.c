/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vmdb.c: the VMDB header at the start of the config region (§6). */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cursor.h"
#include "unaligned.h"
#include "vmdb.h"

#define VMDB_MAGIC "VMDB"

int ldm_vmdb_parse(const uint8_t sector[static 512], const char *disk, uint64_t offset,
                   LdmVmdb *ret, LdmDiag *err) {
        LdmVmdb v = {};

        if (memcmp(sector, VMDB_MAGIC, 4) != 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", disk, offset,
                                    "magic is not \"VMDB\"");
        v.n_slots = unaligned_read_be32(sector + 0x04);
        v.vblk_size = unaligned_read_be32(sector + 0x08);
        v.header_size = unaligned_read_be32(sector + 0x0C);
        v.status = unaligned_read_be16(sector + 0x10);
        v.version_major = unaligned_read_be16(sector + 0x12);
        v.version_minor = unaligned_read_be16(sector + 0x14);
        if (v.version_major != 4 || (v.version_minor != 10 && v.version_minor != 12))
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", disk, offset + 0x12,
                                    "version %u.%u (expected 4.10 or 4.12)",
                                    v.version_major, v.version_minor);
        /* Every Windows writes 128-byte VBLKs; records are at most 4 × 112 bytes of them. */
        if (v.vblk_size != 128)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", disk, offset + 0x08,
                                    "VBLK size %u (only 128 is supported)", v.vblk_size);
        if (v.header_size < 512 || v.header_size % v.vblk_size != 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", disk, offset + 0x0C,
                                    "header size %u (expected a multiple of %u, at least 512)",
                                    v.header_size, v.vblk_size);
        if (v.n_slots < v.header_size / v.vblk_size)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", disk, offset + 0x04,
                                    "%u VBLK slots do not cover the %u-byte header",
                                    v.n_slots, v.header_size);
        if (v.status < LDM_VMDB_CLEAN || v.status > LDM_VMDB_OFFLINE)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", disk, offset + 0x10,
                                    "unknown update status %u", v.status);

        ldm_text_field_get(sector + 0x16, 31, v.group_name);
        if (guid_from_field(sector + 0x35, 64, &v.group_guid) < 0)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "VMDB", disk, offset + 0x35,
                                    "disk group GUID is not 36 GUID characters padded with NUL");
        v.committed_seq = unaligned_read_be64(sector + 0x75);
        v.pending_seq = unaligned_read_be64(sector + 0x7D);
        for (size_t i = 0; i < _LDM_COUNT_MAX; i++) {
                v.committed_counts[i] = unaligned_read_be32(sector + 0x85 + 4 * i);
                v.pending_counts[i] = unaligned_read_be32(sector + 0xA1 + 4 * i);
        }
        v.timestamp = unaligned_read_be64(sector + 0xBD);

        memcpy(v.raw, sector, 512);
        *ret = v;
        return 0;
}

void ldm_vmdb_encode(const LdmVmdb *v, uint8_t out[static 512]) {
        uint8_t s[512];

        memcpy(s, v->raw, 512);
        memcpy(s, VMDB_MAGIC, 4);
        unaligned_write_be32(s + 0x04, v->n_slots);
        unaligned_write_be32(s + 0x08, v->vblk_size);
        unaligned_write_be32(s + 0x0C, v->header_size);
        unaligned_write_be16(s + 0x10, v->status);
        unaligned_write_be16(s + 0x12, v->version_major);
        unaligned_write_be16(s + 0x14, v->version_minor);
        ldm_text_field_set(s + 0x16, 31, v->group_name);
        ldm_guid_field_set(s + 0x35, 64, &v->group_guid);
        unaligned_write_be64(s + 0x75, v->committed_seq);
        unaligned_write_be64(s + 0x7D, v->pending_seq);
        for (size_t i = 0; i < _LDM_COUNT_MAX; i++) {
                unaligned_write_be32(s + 0x85 + 4 * i, v->committed_counts[i]);
                unaligned_write_be32(s + 0xA1 + 4 * i, v->pending_counts[i]);
        }
        unaligned_write_be64(s + 0xBD, v->timestamp);
        memcpy(out, s, 512);
}
