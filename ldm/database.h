/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* database.h: one disk's copy of the LDM database: the VMDB header, every VBLK record of the
 * config region, and the log region, parsed from raw bytes (no I/O here). Also the slot
 * encoder the writer uses to lay records back into a config region. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "klog.h"
#include "record.h"
#include "vmdb.h"

#define LDM_MAX_RECORDS 8192u /* > 5924 slots: any real config region fits */

typedef struct LdmDatabase {
        LdmVmdb vmdb;
        LdmRecord *records;        /* in order of their first fragment's slot */
        size_t n_records;
        /* NULL when this database owns records alone; else the count of the databases that
         * share the array (ldm_database_share_records()), the last of which frees it. */
        atomic_uint *records_users;
        /* The holders of this database besides the first (ldm_database_share()): each
         * ldm_database_free() but the last only counts one down. */
        atomic_int more_users;
        LdmKlogPage klog[2];
        int klog_state[2];         /* 0, or why klog[i] is unusable (-EBADMSG, -ENOENT); the
                                    * log is never needed to read the database */
        LdmDiag klog_diag[2];      /* what was wrong with klog[i] */
        uint8_t *config;           /* raw config region (config_size bytes), VMDB first; NULL
                                    * once dropped (LDM_DATABASE_NO_RAW, ldm_database_drop_raw) */
        size_t config_size;
        uint8_t *log;              /* raw log region; NULL once dropped */
        size_t log_size;
        uint64_t config_hash;      /* hash64() of the config region as parsed or last serialized:
                                    * tells copies apart without keeping or comparing the bytes */
        size_t config_hashed;      /* the bytes config_hash covers: config_size, except after
                                    * ldm_database_parse_head() (the head it read) */
        /* Fragment groups a cut transaction left incomplete (see assemble_records()), dropped
         * by the full parse; the first one's diagnosis. */
        unsigned n_dropped_groups;
        LdmDiag dropped_group;
} LdmDatabase;

typedef enum LdmDatabaseFlags {
        /* Keep no raw region after parsing (config and log NULL, sizes and config_hash kept):
         * for a reader that never writes, such as the daemon's long-lived scan (~850 KiB less
         * per disk). ldm_database_serialize() and the writer need the raw regions. */
        LDM_DATABASE_NO_RAW = 1 << 0,
} LdmDatabaseFlags;

/* Parses a config region (VMDB at byte 0) and a log region. Fragments are assembled by group
 * number in any slot order; every problem is an error naming the slot's absolute offset
 * (config_offset + slot × vblk_size). Takes copies of both buffers. */
int ldm_database_parse(const uint8_t *config, size_t config_size, const uint8_t *log,
                       size_t log_size, const char *disk, uint64_t config_offset,
                       uint64_t log_offset, LdmDatabase **ret, LdmDiag *err);
/* The bytes at the start of the log region that parsing reads: its two KLOG pages. */
#define LDM_DATABASE_LOG_PARSED 1024u

/* The same, without copying: takes ownership of config and log (malloc'ed; both freed on
 * failure too, and at once with LDM_DATABASE_NO_RAW). With LDM_DATABASE_NO_RAW, log need
 * only hold the first MIN(log_size, LDM_DATABASE_LOG_PARSED) bytes of the region. */
int ldm_database_parse_take(uint8_t *config, size_t config_size, uint8_t *log, size_t log_size,
                            const char *disk, uint64_t config_offset, uint64_t log_offset,
                            LdmDatabaseFlags flags, LdmDatabase **ret, LdmDiag *err);
/* The light parse of a scan: config holds only the first `have` bytes of a config region of
 * config_size bytes, log the first MIN(log_size, LDM_DATABASE_LOG_PARSED) bytes of a log
 * region of log_size bytes (the KLOG pages); both are only lent: nothing is kept of them but the parse, no raw region (as
 * LDM_DATABASE_NO_RAW). It succeeds only when that head provably holds the whole database: no
 * transaction in flight, every record's fragments there, every record count the VMDB commits
 * to met, the disk group's record found. Then config_hash covers the head alone
 * (config_hashed = have), so a difference in the unused slots after it goes unseen: a full
 * parse, which the writer and the repair engine always make, still sees it. -EAGAIN for
 * anything else, problems included: read more (a longer head, or the whole region for
 * ldm_database_parse_take(), which names the problems). Why: the records sit in the first
 * slots of a region of ~5 900 (~740 KiB), and reading and checking all of them was most of
 * a scan's time. */
int ldm_database_parse_head(const uint8_t *config, size_t have, size_t config_size,
                            const uint8_t *log, size_t log_size, const char *disk,
                            uint64_t config_offset, uint64_t log_offset, LdmDatabase **ret);
/* The disks of one pack hold the same database, and a scan keeps each disk's records (~300
 * bytes each, 36 in a pack with five volumes on eight disks: about half of what a light probe keeps
 * of a disk). When db's records equal owner's, db frees its array and shares owner's: true.
 * Only between databases that keep no raw region (LDM_DATABASE_NO_RAW), which nothing
 * writes (ldm_database_serialize() and the writer need the raw regions), so a shared record
 * never changes; false, sharing nothing, for anything else. Why it pays: the array a probe
 * frees is the one the next probe on its thread reuses, so a batch of n disks of one pack
 * touches one array's pages, not n (on a virtual machine whose host shadows the guest's page
 * tables, a page's first touch cost 12-30 µs: bench/machine-costs). */
bool ldm_database_share_records(LdmDatabase *owner, LdmDatabase *db);
/* The same for the whole database (~4 KiB more a disk: VMDB, KLOG pages), once db shares
 * owner's records: when db also holds the same VMDB and KLOG pages with the same verdicts,
 * and neither noted a problem (whose diagnosis would name its own disk), db is freed and
 * owner returned with one more holder; else db is returned as it is. */
LdmDatabase *ldm_database_share(LdmDatabase *owner, LdmDatabase *db);
/* Frees the raw regions of a parsed database (see LDM_DATABASE_NO_RAW). */
void ldm_database_drop_raw(LdmDatabase *db);
LdmDatabase *ldm_database_free(LdmDatabase *db);
DEFINE_TRIVIAL_CLEANUP_FUNC(LdmDatabase *, ldm_database_free);

/* Lookups by object ID (NULL when absent). */
LdmRecord *ldm_database_find(const LdmDatabase *db, uint32_t id);

/* §10.2 rule 2: a copy whose VMDB status is "commit" rolls forward (pending-deletion records
 * are gone, pending-activation ones count); any other in-flight copy rolls back (the reverse).
 * ldm_database_effective_committed() is the committed ID after that recovery. */
bool ldm_database_rolls_forward(const LdmDatabase *db);
bool ldm_database_in_flight(const LdmDatabase *db);
/* No transaction left in the copy: not in flight by its VMDB, and no record that a cut
 * §11.1 step 1 left with update status 1 or 2, or half written (dropped by the parse),
 * before the VMDB said anything. */
bool ldm_database_settled(const LdmDatabase *db);
uint64_t ldm_database_effective_committed(const LdmDatabase *db);
/* Whether r is part of the database after the rule-2 recovery. */
bool ldm_database_record_effective(const LdmDatabase *db, const LdmRecord *r);

/* The bytes of a record of db as its slots hold them: the payloads of its n_fragments slots
 * in fragment order, zero padded to LDM_RECORD_MAX_SIZE (what ldm_record_parse() read).
 * Returns r->raw_size; -ENODATA when db keeps no config region or r has no slots yet, -EINVAL
 * when a slot lies outside the region. */
int ldm_database_record_bytes(const LdmDatabase *db, const LdmRecord *r,
                              uint8_t out[static LDM_RECORD_MAX_SIZE]);
/* Sets r's update status to 0 (active), in its slot bytes too when it is clean, so that a
 * serialisation still copies its other bytes as they are. */
void ldm_database_record_set_active(LdmDatabase *db, LdmRecord *r);

/* Rebuilds db->config from db->vmdb and db->records: clean records keep the bytes of their
 * slots (ldm_database_record_bytes()), dirty ones are encoded; new records (n_fragments == 0) get free slots and fresh
 * group numbers; unused slots get the canonical "VBLK + sequence + zeros" form. -ENODATA when
 * the raw regions were dropped (the bytes outside the slots would be lost). */
int ldm_database_serialize(LdmDatabase *db);
