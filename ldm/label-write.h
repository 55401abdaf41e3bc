/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* label-write.h: the partition table the writer puts around a new LDM disk (ldm-format.md §2,
 * §12): an MBR whose entry 0 is type 0x42 over the public region, or a protective MBR plus a
 * primary and backup GPT holding the LDM metadata, Microsoft reserved and LDM data
 * partitions. Encoding is pure (buffers in memory); ldm_label_write() puts the result on a
 * disk in the order that makes a half-written table harmless. */

#include <stdint.h>

#include "io.h"
#include "label.h"

#define LDM_MBR_PUB_START 63u                 /* MBR public region start (W03, W08) */
#define LDM_GPT_N_ENTRIES 128u
#define LDM_GPT_ENTRY_SIZE 128u
#define LDM_GPT_ENTRY_SECTORS 32u             /* 128 × 128 bytes */
#define LDM_GPT_MSR_START (LDM_GPT_META_START + 2048u)

/* MSR length Windows leaves beside the metadata partition: its 32 MiB (disks < 16 GiB) or
 * 128 MiB MSR minus the 1 MiB carved out for the metadata partition. */
uint64_t ldm_gpt_default_msr_sectors(uint64_t n_sectors);

/* CHS triple (head, sector | cylinder high bits, cylinder low) of lba for 255 heads and 63
 * sectors per track, or fe ff ff past cylinder 1023, as Windows fills MBR entries. */
void ldm_mbr_chs(uint64_t lba, uint8_t out[static 3]);

/* Fills *ret with the MBR label of a fresh LDM disk of n_sectors: entry 0 = 0x42 covering
 * [63, N−2048), the given disk signature (non-zero), no boot code. -EINVAL for a zero
 * signature, -ENOSPC when the disk is too small, -EFBIG past 2^32 sectors of public region. */
int ldm_label_new_mbr(uint64_t n_sectors, uint32_t signature, LdmLabel *ret);

/* Fills *ret with the GPT label of a fresh LDM disk: protective MBR, entry 0 LDM metadata
 * 34…2081, entry 1 MSR of msr_sectors, entry 2 LDM data up to N−34. guids[0] is the GPT disk
 * GUID, guids[1..3] the unique GUIDs of the three entries. -ENOSPC when nothing is left for
 * the data partition, -ENOMEM. The label owns its entry array: ldm_label_done(). */
int ldm_label_new_gpt(uint64_t n_sectors, uint64_t msr_sectors, const LdmGuid guids[static 4],
                      LdmLabel *ret);

/* Encodes the GPT of label for a disk of n_sectors: header (LBA 1 when backup is false, else
 * LBA N−1) and the 32-sector entry array, CRCs included. The header keeps the label's disk
 * GUID, usable range and entries; entries beyond n_parts are zero. */
void ldm_gpt_encode_header(const LdmLabel *label, uint64_t n_sectors, bool backup,
                           uint8_t out[static 512]);
void ldm_gpt_encode_entries(const LdmLabel *label, uint8_t out[static LDM_GPT_ENTRY_SECTORS * 512]);

/* Writes the partition table of label to io: for GPT the backup entries and header first,
 * then the primary entries and header, then the protective MBR; for MBR sector 0. When
 * lba6 is non-NULL (MBR disks) that PRIVHEAD sector is written just before sector 0. Sector 0
 * goes last because its partition type is what makes every reader look at the disk. Does not
 * flush. Refuses devices whose logical sector is not 512 bytes (-EOPNOTSUPP). */
int ldm_label_write(LdmIo *io, const LdmLabel *label, const uint8_t *lba6);
