/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* label-write.c: builds and writes the MBR or GPT around a new LDM disk (§2, §12). */

#include <stdio.h>
#include <string.h>

#include "crc32.h"
#include "label-write.h"
#include "privhead.h"
#include "unaligned.h"

#define MBR_ENTRY0 0x1BEu
#define CHS_HEADS 255u
#define CHS_SECTORS 63u
#define GPT_HEADER_SIZE 92u
#define GPT_REVISION 0x00010000u
#define MIB_SECTORS 2048u

static const char *const gpt_names[3] = {
        "LDM metadata partition",
        "Microsoft reserved partition",
        "LDM data partition",
};

uint64_t ldm_gpt_default_msr_sectors(uint64_t n_sectors) {
        /* Windows: 32 MiB MSR below 16 GiB, 128 MiB above; conversion carves 1 MiB out. */
        if (n_sectors < (UINT64_C(16) << 30) / LDM_SECTOR)
                return 32 * MIB_SECTORS - LDM_PRIV_SIZE;
        return 128 * MIB_SECTORS - LDM_PRIV_SIZE;
}

void ldm_mbr_chs(uint64_t lba, uint8_t out[static 3]) {
        uint64_t c = lba / (CHS_HEADS * CHS_SECTORS);

        if (c > 1023) {
                out[0] = 0xfe;
                out[1] = 0xff;
                out[2] = 0xff;
                return;
        }
        out[0] = (uint8_t) ((lba / CHS_SECTORS) % CHS_HEADS);
        out[1] = (uint8_t) ((lba % CHS_SECTORS + 1) | ((c >> 2) & 0xc0));
        out[2] = (uint8_t) (c & 0xff);
}

static void mbr_entry(uint8_t *e, uint8_t type, uint64_t start, uint64_t size, bool protective) {
        e[0] = 0x00; /* not active */
        if (protective) {
                /* What Windows writes: CHS 00 02 00 … ff ff ff, whatever the disk size. */
                e[1] = 0x00, e[2] = 0x02, e[3] = 0x00;
                e[5] = 0xff, e[6] = 0xff, e[7] = 0xff;
        } else {
                ldm_mbr_chs(start, e + 1);
                ldm_mbr_chs(start + size - 1, e + 5);
        }
        e[4] = type;
        unaligned_write_le32(e + 8, (uint32_t) start);
        unaligned_write_le32(e + 12, (uint32_t) size);
}

int ldm_label_new_mbr(uint64_t n_sectors, uint32_t signature, LdmLabel *ret) {
        LdmLabel l = { .type = LDM_LABEL_MBR, .metadata_index = -1, .data_index = -1 };
        uint64_t pub_size;

        if (signature == 0)
                return -EINVAL;
        /* Public region [63, N−2048) must hold at least one aligned MiB. */
        if (n_sectors < LDM_PRIV_SIZE + 2 * MIB_SECTORS)
                return -ENOSPC;
        pub_size = n_sectors - LDM_PRIV_SIZE - LDM_MBR_PUB_START;
        if (pub_size > UINT32_MAX)
                return -EFBIG;

        unaligned_write_le32(l.mbr + 0x1B8, signature);
        mbr_entry(l.mbr + MBR_ENTRY0, LDM_MBR_TYPE_LDM, LDM_MBR_PUB_START, pub_size, false);
        l.mbr[510] = 0x55;
        l.mbr[511] = 0xAA;
        *ret = l;
        return 0;
}

static void gpt_part(LdmGptPartition *p, const char *type, const LdmGuid *unique,
                     uint64_t first, uint64_t last, const char *name) {
        *p = (LdmGptPartition) { .unique = *unique, .first_lba = first, .last_lba = last };
        (void) guid_from_string(type, &p->type);
        snprintf(p->name, sizeof(p->name), "%s", name);
}

int ldm_label_new_gpt(uint64_t n_sectors, uint64_t msr_sectors, const LdmGuid guids[static 4],
                      LdmLabel *ret) {
        LdmLabel l = { .type = LDM_LABEL_GPT, .metadata_index = 0, .data_index = 2 };
        uint64_t last_usable, data_first;

        if (n_sectors < LDM_GPT_MSR_START + msr_sectors + 2 * MIB_SECTORS + 34)
                return -ENOSPC;
        last_usable = n_sectors - 34;
        data_first = LDM_GPT_MSR_START + msr_sectors;

        mbr_entry(l.mbr + MBR_ENTRY0, LDM_MBR_TYPE_GPT, 1, UINT32_MAX, true);
        l.mbr[510] = 0x55;
        l.mbr[511] = 0xAA;

        l.gpt_disk_guid = guids[0];
        l.gpt_first_usable = LDM_GPT_META_START;
        l.gpt_last_usable = last_usable;
        l.gpt_n_entries = LDM_GPT_N_ENTRIES;
        l.gpt_entry_size = LDM_GPT_ENTRY_SIZE;
        l.parts = calloc(3, sizeof(LdmGptPartition));
        if (!l.parts)
                return -ENOMEM;
        gpt_part(&l.parts[0], LDM_GPT_TYPE_METADATA, &guids[1], LDM_GPT_META_START,
                 LDM_GPT_MSR_START - 1, gpt_names[0]);
        gpt_part(&l.parts[1], LDM_GPT_TYPE_MSR, &guids[2], LDM_GPT_MSR_START, data_first - 1,
                 gpt_names[1]);
        gpt_part(&l.parts[2], LDM_GPT_TYPE_DATA, &guids[3], data_first, last_usable,
                 gpt_names[2]);
        l.n_parts = 3;
        l.meta_first = LDM_GPT_META_START;
        l.meta_last = LDM_GPT_MSR_START - 1;
        l.data_first = data_first;
        l.data_last = last_usable;
        *ret = l;
        return 0;
}

void ldm_gpt_encode_entries(const LdmLabel *label, uint8_t out[static LDM_GPT_ENTRY_SECTORS * 512]) {
        memset(out, 0, LDM_GPT_ENTRY_SECTORS * 512);
        for (size_t i = 0; i < label->n_parts && i < LDM_GPT_N_ENTRIES; i++) {
                const LdmGptPartition *p = &label->parts[i];
                uint8_t *e = out + i * LDM_GPT_ENTRY_SIZE;

                if (guid_is_null(&p->type))
                        continue;
                guid_to_gpt(&p->type, e);
                guid_to_gpt(&p->unique, e + 16);
                unaligned_write_le64(e + 32, p->first_lba);
                unaligned_write_le64(e + 40, p->last_lba);
                unaligned_write_le64(e + 48, p->attributes);
                /* Name: UTF-16LE, 36 code units; our names are ASCII. */
                for (size_t k = 0; k < 36 && p->name[k]; k++)
                        unaligned_write_le16(e + 56 + 2 * k, (uint8_t) p->name[k]);
        }
}

void ldm_gpt_encode_header(const LdmLabel *label, uint64_t n_sectors, bool backup,
                           uint8_t out[static 512]) {
        uint8_t entries[LDM_GPT_ENTRY_SECTORS * 512];

        ldm_gpt_encode_entries(label, entries);
        memset(out, 0, 512);
        memcpy(out, "EFI PART", 8);
        unaligned_write_le32(out + 8, GPT_REVISION);
        unaligned_write_le32(out + 12, GPT_HEADER_SIZE);
        unaligned_write_le64(out + 24, backup ? n_sectors - 1 : 1);
        unaligned_write_le64(out + 32, backup ? 1 : n_sectors - 1);
        unaligned_write_le64(out + 40, label->gpt_first_usable);
        unaligned_write_le64(out + 48, label->gpt_last_usable);
        guid_to_gpt(&label->gpt_disk_guid, out + 56);
        unaligned_write_le64(out + 72, backup ? n_sectors - 1 - LDM_GPT_ENTRY_SECTORS : 2);
        unaligned_write_le32(out + 80, LDM_GPT_N_ENTRIES);
        unaligned_write_le32(out + 84, LDM_GPT_ENTRY_SIZE);
        unaligned_write_le32(out + 88, crc32_ieee(entries, sizeof(entries)));
        unaligned_write_le32(out + 16, crc32_ieee(out, GPT_HEADER_SIZE));
}

int ldm_label_write(LdmIo *io, const LdmLabel *label, const uint8_t *lba6) {
        uint64_t n_sectors = ldm_io_size(io) / LDM_SECTOR;
        int r;

        if (ldm_io_logical_sector_size(io) != LDM_SECTOR)
                return -EOPNOTSUPP;

        if (label->type == LDM_LABEL_GPT) {
                uint8_t entries[LDM_GPT_ENTRY_SECTORS * 512], hdr[512];

                if (n_sectors < 2 * (LDM_GPT_ENTRY_SECTORS + 1) + 2)
                        return -ENOSPC;
                ldm_gpt_encode_entries(label, entries);
                /* Backup first: a crash leaves an old or absent primary, never a primary
                 * that points at entries not yet written. */
                r = ldm_io_pwrite(io, entries, sizeof(entries),
                                  (n_sectors - 1 - LDM_GPT_ENTRY_SECTORS) * LDM_SECTOR);
                if (r < 0)
                        return r;
                ldm_gpt_encode_header(label, n_sectors, true, hdr);
                r = ldm_io_pwrite(io, hdr, sizeof(hdr), (n_sectors - 1) * LDM_SECTOR);
                if (r < 0)
                        return r;
                r = ldm_io_pwrite(io, entries, sizeof(entries), 2 * LDM_SECTOR);
                if (r < 0)
                        return r;
                ldm_gpt_encode_header(label, n_sectors, false, hdr);
                r = ldm_io_pwrite(io, hdr, sizeof(hdr), LDM_SECTOR);
                if (r < 0)
                        return r;
        }

        if (lba6) {
                r = ldm_io_pwrite(io, lba6, LDM_SECTOR, LDM_PRIVHEAD_MBR_LBA * LDM_SECTOR);
                if (r < 0)
                        return r;
        }
        return ldm_io_pwrite(io, label->mbr, sizeof(label->mbr), 0);
}
