/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* fuzz-record: feeds one assembled VBLK record (8-byte header + body, as the database hands it
 * over: a whole number of 112-byte fragment payloads) to ldm_record_parse(). A record it
 * accepts goes through ldm_record_encode() and is parsed again, which must succeed and give
 * the same fields (the round-trip oracle the writer relies on when it re-encodes records). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "record.h"

#define CHECK(cond) do { if (!(cond)) fail(#cond); } while (0)

static _Noreturn void fail(const char *what) {
        fprintf(stderr, "fuzz-record: round trip broke: %s\n", what);
        abort();
}

static bool str_eq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static void compare_volume(const LdmRecord *a, const LdmRecord *b) {
        const LdmVolumeRecord *x = &a->volume, *y = &b->volume;

        CHECK(str_eq(x->type_name, y->type_name));
        CHECK(str_eq(x->ddla, y->ddla));
        CHECK(str_eq(x->state, y->state));
        CHECK(x->read_policy == y->read_policy);
        CHECK(x->volume_number == y->volume_number);
        CHECK(x->volume_flags == y->volume_flags);
        CHECK(x->n_components == y->n_components);
        CHECK(x->commit_id == y->commit_id);
        CHECK(x->unknown_id == y->unknown_id);
        CHECK(x->size == y->size);
        CHECK(memcmp(x->reserved, y->reserved, sizeof(x->reserved)) == 0);
        CHECK(x->partition_type == y->partition_type);
        CHECK(guid_equal(&x->guid, &y->guid));
        CHECK(x->id1 == y->id1 && x->id2 == y->id2 && x->size2 == y->size2);
        CHECK(str_eq(x->hint, y->hint));
}

static void compare_component(const LdmRecord *a, const LdmRecord *b) {
        const LdmComponentRecord *x = &a->component, *y = &b->component;

        CHECK(str_eq(x->state, y->state));
        CHECK(x->layout == y->layout);
        CHECK(x->flags == y->flags);
        CHECK(x->n_partitions == y->n_partitions);
        CHECK(x->commit_id == y->commit_id);
        CHECK(memcmp(x->reserved, y->reserved, sizeof(x->reserved)) == 0);
        CHECK(x->parent_volume_id == y->parent_volume_id);
        CHECK(x->log_sd == y->log_sd);
        CHECK(x->stripe_size == y->stripe_size);
        CHECK(x->n_columns == y->n_columns);
}

static void compare_partition(const LdmRecord *a, const LdmRecord *b) {
        const LdmPartitionRecord *x = &a->partition, *y = &b->partition;

        CHECK(x->flags == y->flags);
        CHECK(x->commit_id == y->commit_id);
        CHECK(x->start == y->start);
        CHECK(x->offset_in_column == y->offset_in_column);
        CHECK(x->size == y->size);
        CHECK(x->parent_component_id == y->parent_component_id);
        CHECK(x->disk_id == y->disk_id);
        CHECK(x->column_index == y->column_index);
        CHECK(x->unknown_txn == y->unknown_txn);
        CHECK(x->unknown1 == y->unknown1);
        CHECK(x->hidden_count == y->hidden_count);
}

static void compare_disk(const LdmRecord *a, const LdmRecord *b) {
        const LdmDiskRecord *x = &a->disk, *y = &b->disk;

        CHECK(guid_equal(&x->guid, &y->guid));
        CHECK(guid_equal(&x->diskset_guid, &y->diskset_guid));
        CHECK(str_eq(x->device_name, y->device_name));
        CHECK(x->flags == y->flags);
        CHECK(x->commit_id == y->commit_id);
}

static void compare_disk_group(const LdmRecord *a, const LdmRecord *b) {
        const LdmDiskGroupRecord *x = &a->disk_group, *y = &b->disk_group;

        CHECK(guid_equal(&x->guid, &y->guid));
        CHECK(guid_equal(&x->diskset_guid, &y->diskset_guid));
        CHECK(memcmp(x->reserved, y->reserved, sizeof(x->reserved)) == 0);
        CHECK(x->commit_id == y->commit_id);
        CHECK(x->n_config_copies == y->n_config_copies);
        CHECK(x->n_log_copies == y->n_log_copies);
        CHECK(x->minors == y->minors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static LdmRecord a, b;
        uint8_t out[LDM_RECORD_MAX_SIZE];
        LdmDiag err;
        size_t padded;
        int n;

        if (size > LDM_RECORD_MAX_SIZE)
                return 0;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        if (ldm_record_parse(data, size, "fuzz", 0, &a, &err) < 0) {
                CHECK(err.structure[0] && err.message[0]);
                CHECK(err.offset <= size);
                return 0;
        }
        CHECK(a.raw_size <= size);

        n = ldm_record_encode(&a, out);
        if (n == -E2BIG)
                return 0;      /* longer minimal encodings of 64-bit sizes may not fit */
        CHECK(n >= 8 && (size_t) n <= LDM_RECORD_MAX_SIZE);
        /* Laid out in fragment payloads, as the database would read it back. */
        padded = (size_t) DIV_ROUND_UP(n, (int) LDM_VBLK_PAYLOAD) * LDM_VBLK_PAYLOAD;
        padded = MIN(padded, (size_t) LDM_RECORD_MAX_SIZE);
        if (ldm_record_parse(out, padded, "fuzz", 0, &b, &err) < 0) {
                fprintf(stderr, "re-parse: %s at %llu\n", err.message, (unsigned long long) err.offset);
                fail("encoded record does not parse");
        }

        CHECK(a.update_status == b.update_status);
        CHECK(a.record_flags == b.record_flags);
        CHECK(a.type == b.type && a.revision == b.revision);
        CHECK(a.id == b.id);
        CHECK(str_eq(a.name, b.name));
        CHECK(b.raw_size == (size_t) n);
        switch (a.type) {
        case LDM_RECORD_VOLUME:    compare_volume(&a, &b); break;
        case LDM_RECORD_COMPONENT: compare_component(&a, &b); break;
        case LDM_RECORD_PARTITION: compare_partition(&a, &b); break;
        case LDM_RECORD_DISK:      compare_disk(&a, &b); break;
        default:                   compare_disk_group(&a, &b); break;
        }

        /* Encoding is a function of the fields: the re-parsed record encodes identically. */
        uint8_t again[LDM_RECORD_MAX_SIZE];
        CHECK(ldm_record_encode(&b, again) == n);
        CHECK(memcmp(out, again, (size_t) n) == 0);
        return 0;
}
