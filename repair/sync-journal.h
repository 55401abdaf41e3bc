/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* sync-journal.h: what the database sync is rewriting, kept in the state directory. A copy is
 * replaced body first and its VMDB sector last (dbsync.c write_copy()); a power cut in between
 * leaves a copy that is neither the old one nor the new one, which the reader rejects, so the
 * disk no longer counts towards the pack's quorum. With two disks, one of them being synced,
 * that left a pack no Recover could touch. The journal says that such a disk is only a copy of
 * this pack's own database being written, at a generation its authority has: the refresh
 * counts it towards quorum again, and the sync writes it again. One small file per disk being
 * written, replaced atomically; none when nothing is being written. */

#include <stdbool.h>
#include <stdint.h>

#include "guid.h"

/* Before the first write of a copy of generation `sequence` onto disk `disk` of pack `pack`.
 * 0 (also without a state directory: then nothing is kept), or negative errno. */
int sync_journal_begin(const char *dir, const LdmGuid *pack, const LdmGuid *disk, uint64_t sequence);
/* After the copy's last write was flushed. */
int sync_journal_end(const char *dir, const LdmGuid *pack, const LdmGuid *disk);
/* Whether a copy of generation ≤ authority_sequence was being written onto disk when the last
 * run stopped. */
bool sync_journal_pending(const char *dir, const LdmGuid *pack, const LdmGuid *disk,
                          uint64_t authority_sequence);
