/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* record.c: one assembled VBLK record (§7.3–7.9): parse every field of the five record types
 * through a bounds-checked cursor, and encode a record from its fields with the minimal
 * var-int lengths and padded sizes Windows writes (so that an unchanged Windows record encodes
 * to its original bytes). */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cursor.h"
#include "record.h"
#include "unaligned.h"

#define RECORD_HEADER_SIZE 8u
#define VOLUME_STATE_SIZE 14u

static const char *const record_type_names[_LDM_RECORD_TYPE_MAX] = {
        [LDM_RECORD_VOLUME] = "Volume",
        [LDM_RECORD_COMPONENT] = "Component",
        [LDM_RECORD_PARTITION] = "Partition",
        [LDM_RECORD_DISK] = "Disk",
        [LDM_RECORD_DISK_GROUP] = "Disk Group",
};

const char *ldm_record_type_to_string(LdmRecordType t) {
        if (t <= 0 || t >= _LDM_RECORD_TYPE_MAX)
                return NULL;
        return record_type_names[t];
}

/* Shorthands that keep the per-type parsers readable: any read failure jumps to `bad`. */
#define RD(call) do { if ((call) < 0) goto bad; } while (0)

static int parse_volume(LdmCursor *c, LdmRecord *r) {
        LdmVolumeRecord *v = &r->volume;
        uint64_t number;
        char state[VOLUME_STATE_SIZE];

        RD(ldm_cursor_varstr(c, "volume type", v->type_name, sizeof(v->type_name)));
        RD(ldm_cursor_varstr(c, "drive-letter flag", v->ddla, sizeof(v->ddla)));
        RD(ldm_cursor_bytes(c, "volume state", state, VOLUME_STATE_SIZE));
        memcpy(v->state, state, VOLUME_STATE_SIZE);
        v->state[VOLUME_STATE_SIZE] = '\0';
        RD(ldm_cursor_u8(c, "read policy", &v->read_policy));
        RD(ldm_cursor_varint(c, "volume number", 4, &number));
        v->volume_number = (uint32_t) number;
        RD(ldm_cursor_be32(c, "volume flags", &v->volume_flags));
        RD(ldm_cursor_varint32(c, "component count", &v->n_components));
        RD(ldm_cursor_be64(c, "commit ID", &v->commit_id));
        RD(ldm_cursor_be64(c, "unknown ID", &v->unknown_id));
        RD(ldm_cursor_varint(c, "volume size", 8, &v->size));
        RD(ldm_cursor_bytes(c, "reserved", v->reserved, 4));
        RD(ldm_cursor_u8(c, "partition type", &v->partition_type));
        RD(ldm_cursor_bytes(c, "volume GUID", v->guid.bytes, 16));
        if (r->record_flags & 0x08)
                RD(ldm_cursor_varint(c, "ID1", 8, &v->id1));
        if (r->record_flags & 0x20)
                RD(ldm_cursor_varint(c, "ID2", 8, &v->id2));
        if (r->record_flags & 0x80)
                RD(ldm_cursor_varint(c, "column size", 8, &v->size2));
        if (r->record_flags & 0x02)
                RD(ldm_cursor_varstr(c, "drive hint", v->hint, sizeof(v->hint)));
        return 0;
bad:
        return -EBADMSG;
}

static int parse_component(LdmCursor *c, LdmRecord *r) {
        LdmComponentRecord *p = &r->component;

        RD(ldm_cursor_varstr(c, "component state", p->state, sizeof(p->state)));
        RD(ldm_cursor_u8(c, "layout", &p->layout));
        RD(ldm_cursor_be32(c, "component flags", &p->flags));
        RD(ldm_cursor_varint32(c, "partition count", &p->n_partitions));
        RD(ldm_cursor_be64(c, "commit ID", &p->commit_id));
        RD(ldm_cursor_bytes(c, "reserved", p->reserved, 8));
        RD(ldm_cursor_varint32(c, "parent volume ID", &p->parent_volume_id));
        RD(ldm_cursor_varint(c, "LogSD", 8, &p->log_sd));
        if (r->record_flags & 0x10) {
                RD(ldm_cursor_varint(c, "stripe size", 8, &p->stripe_size));
                RD(ldm_cursor_varint32(c, "column count", &p->n_columns));
        }
        return 0;
bad:
        return -EBADMSG;
}

static int parse_partition(LdmCursor *c, LdmRecord *r) {
        LdmPartitionRecord *p = &r->partition;

        RD(ldm_cursor_be32(c, "partition flags", &p->flags));
        RD(ldm_cursor_be64(c, "commit ID", &p->commit_id));
        RD(ldm_cursor_be64(c, "start", &p->start));
        RD(ldm_cursor_be64(c, "offset in column", &p->offset_in_column));
        RD(ldm_cursor_varint(c, "size", 8, &p->size));
        RD(ldm_cursor_varint32(c, "parent component ID", &p->parent_component_id));
        RD(ldm_cursor_varint32(c, "disk ID", &p->disk_id));
        if (r->record_flags & 0x08)
                RD(ldm_cursor_varint32(c, "column index", &p->column_index));
        if (r->record_flags & 0x20)
                RD(ldm_cursor_be64(c, "unknown transaction ID", &p->unknown_txn));
        if (r->record_flags & 0x40)
                RD(ldm_cursor_varint(c, "unknown1", 8, &p->unknown1));
        if (r->record_flags & 0x02)
                RD(ldm_cursor_varint(c, "hidden count", 8, &p->hidden_count));
        return 0;
bad:
        return -EBADMSG;
}

static int parse_disk(LdmCursor *c, LdmRecord *r) {
        LdmDiskRecord *d = &r->disk;

        if (r->revision == 3) {
                char text[GUID_STRING_MAX + 1];

                RD(ldm_cursor_varstr(c, "disk GUID", text, sizeof(text)));
                c->what = "disk GUID text";
                if (guid_from_string(text, &d->guid) < 0)
                        goto bad;
                RD(ldm_cursor_varstr(c, "device name", d->device_name, sizeof(d->device_name)));
        } else {
                RD(ldm_cursor_bytes(c, "disk GUID", d->guid.bytes, 16));
                RD(ldm_cursor_bytes(c, "disk-set GUID", d->diskset_guid.bytes, 16));
                RD(ldm_cursor_varstr(c, "device name", d->device_name, sizeof(d->device_name)));
        }
        RD(ldm_cursor_be32(c, "disk flags", &d->flags));
        RD(ldm_cursor_be64(c, "commit ID", &d->commit_id));
        return 0;
bad:
        return -EBADMSG;
}

static int parse_disk_group(LdmCursor *c, LdmRecord *r) {
        LdmDiskGroupRecord *g = &r->disk_group;

        if (r->revision == 3) {
                char text[GUID_STRING_MAX + 1];

                RD(ldm_cursor_varstr(c, "group GUID", text, sizeof(text)));
                c->what = "group GUID text";
                if (guid_from_string(text, &g->guid) < 0)
                        goto bad;
        } else {
                RD(ldm_cursor_bytes(c, "group GUID", g->guid.bytes, 16));
                RD(ldm_cursor_bytes(c, "disk-set GUID", g->diskset_guid.bytes, 16));
        }
        RD(ldm_cursor_bytes(c, "reserved", g->reserved, 4));
        RD(ldm_cursor_be64(c, "commit ID", &g->commit_id));
        if (r->record_flags & 0x08) {
                RD(ldm_cursor_varint32(c, "config copies", &g->n_config_copies));
                RD(ldm_cursor_varint32(c, "log copies", &g->n_log_copies));
        }
        if (r->record_flags & 0x10)
                RD(ldm_cursor_varint32(c, "minors", &g->minors));
        return 0;
bad:
        return -EBADMSG;
}

static bool revision_known(uint8_t type, uint8_t revision) {
        switch (type) {
        case LDM_RECORD_VOLUME:
                return revision == 5;
        case LDM_RECORD_COMPONENT:
        case LDM_RECORD_PARTITION:
                return revision == 3;
        case LDM_RECORD_DISK:
        case LDM_RECORD_DISK_GROUP:
                return revision == 3 || revision == 4;
        default:
                return false;
        }
}

/* Volume and Partition records may carry trailing bytes (K checks "≤"); the others must end
 * exactly where their fields end. */
static bool exact_length(uint8_t type) {
        return type != LDM_RECORD_VOLUME && type != LDM_RECORD_PARTITION;
}

int ldm_record_parse(const uint8_t *buf, size_t size, const char *disk, uint64_t offset,
                     LdmRecord *ret, LdmDiag *err) {
        LdmRecord rec = {}, *r = &rec; /* *ret changes only on success */
        uint32_t data_len;
        uint64_t id;
        LdmCursor c;
        int q;

        if (size < RECORD_HEADER_SIZE)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "record", disk, offset,
                                    "%zu bytes cannot hold the 8-byte record header", size);
        data_len = unaligned_read_be32(buf + 4);
        if (data_len > size - RECORD_HEADER_SIZE || size > LDM_RECORD_MAX_SIZE)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "record", disk, offset + 4,
                                    "data length %" PRIu32 " exceeds the %zu bytes of its fragments",
                                    data_len, size - RECORD_HEADER_SIZE);

        r->update_status = unaligned_read_be16(buf);
        r->record_flags = buf[2];
        r->type = buf[3] & 0x0F;
        r->revision = buf[3] >> 4;
        if (!revision_known(r->type, r->revision))
                return ldm_diag_set(err, LDM_DIAG_ERROR, "record", disk, offset + 3,
                                    "unknown record type 0x%02x (type %u revision %u)",
                                    buf[3], r->type, r->revision);
        if (r->update_status > 2)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "record", disk, offset,
                                    "unknown update status %u", r->update_status);

        c = ldm_cursor_make(buf, RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + data_len);
        if (ldm_cursor_varint(&c, "object ID", 4, &id) < 0 ||
            ldm_cursor_varstr(&c, "name", r->name, sizeof(r->name)) < 0)
                goto bad;
        r->id = (uint32_t) id;
        if (r->id == 0) {
                c.what = "object ID (zero)";
                goto bad;
        }

        switch (r->type) {
        case LDM_RECORD_VOLUME:
                q = parse_volume(&c, r);
                break;
        case LDM_RECORD_COMPONENT:
                q = parse_component(&c, r);
                break;
        case LDM_RECORD_PARTITION:
                q = parse_partition(&c, r);
                break;
        case LDM_RECORD_DISK:
                q = parse_disk(&c, r);
                break;
        default:
                q = parse_disk_group(&c, r);
                break;
        }
        if (q < 0)
                goto bad;
        if (exact_length(r->type) && c.pos != c.end)
                return ldm_diag_set(err, LDM_DIAG_ERROR, "record", disk, offset + 4,
                                    "%s record %" PRIu32 ": data length %" PRIu32 " but fields end after %zu bytes",
                                    record_type_names[r->type], r->id, data_len,
                                    c.pos - RECORD_HEADER_SIZE);

        r->raw_size = RECORD_HEADER_SIZE + data_len;
        *ret = *r;
        return 0;

bad:
        return ldm_diag_set(err, LDM_DIAG_ERROR, "record", disk, offset + MIN(c.pos, size),
                            "%s record: field \"%s\" does not fit in the data length %" PRIu32 " or is malformed",
                            strna(ldm_record_type_to_string(r->type)), strna(c.what), data_len);
}

static void encode_volume(LdmWriter *w, const LdmRecord *r) {
        const LdmVolumeRecord *v = &r->volume;
        uint8_t state[VOLUME_STATE_SIZE] = {};

        ldm_writer_varstr(w, v->type_name);
        ldm_writer_varstr(w, v->ddla);
        memcpy(state, v->state, strnlen(v->state, VOLUME_STATE_SIZE));
        ldm_writer_bytes(w, state, VOLUME_STATE_SIZE);
        ldm_writer_u8(w, v->read_policy);
        /* K and L read the volume number at a fixed place: always "01 nn" when it fits. */
        if (v->volume_number <= 0xFF) {
                ldm_writer_u8(w, 1);
                ldm_writer_u8(w, (uint8_t) v->volume_number);
        } else
                ldm_writer_varint(w, v->volume_number);
        ldm_writer_be32(w, v->volume_flags);
        ldm_writer_varint(w, v->n_components);
        ldm_writer_be64(w, v->commit_id);
        ldm_writer_be64(w, v->unknown_id);
        ldm_writer_padded(w, v->size);
        ldm_writer_bytes(w, v->reserved, 4);
        ldm_writer_u8(w, v->partition_type);
        ldm_writer_bytes(w, v->guid.bytes, 16);
        if (r->record_flags & 0x08)
                ldm_writer_varint(w, v->id1);
        if (r->record_flags & 0x20)
                ldm_writer_varint(w, v->id2);
        if (r->record_flags & 0x80)
                ldm_writer_padded(w, v->size2);
        if (r->record_flags & 0x02)
                ldm_writer_varstr(w, v->hint);
}

static void encode_component(LdmWriter *w, const LdmRecord *r) {
        const LdmComponentRecord *p = &r->component;

        ldm_writer_varstr(w, p->state);
        ldm_writer_u8(w, p->layout);
        ldm_writer_be32(w, p->flags);
        ldm_writer_varint(w, p->n_partitions);
        ldm_writer_be64(w, p->commit_id);
        ldm_writer_bytes(w, p->reserved, 8);
        ldm_writer_varint(w, p->parent_volume_id);
        ldm_writer_varint(w, p->log_sd);
        if (r->record_flags & 0x10) {
                ldm_writer_padded(w, p->stripe_size);
                ldm_writer_varint(w, p->n_columns);
        }
}

static void encode_partition(LdmWriter *w, const LdmRecord *r) {
        const LdmPartitionRecord *p = &r->partition;

        ldm_writer_be32(w, p->flags);
        ldm_writer_be64(w, p->commit_id);
        ldm_writer_be64(w, p->start);
        ldm_writer_be64(w, p->offset_in_column);
        ldm_writer_padded(w, p->size);
        ldm_writer_varint(w, p->parent_component_id);
        ldm_writer_varint(w, p->disk_id);
        if (r->record_flags & 0x08)
                ldm_writer_varint(w, p->column_index);
        if (r->record_flags & 0x20)
                ldm_writer_be64(w, p->unknown_txn);
        if (r->record_flags & 0x40)
                ldm_writer_varint(w, p->unknown1);
        if (r->record_flags & 0x02)
                ldm_writer_padded(w, p->hidden_count);
}

static void encode_disk(LdmWriter *w, const LdmRecord *r) {
        const LdmDiskRecord *d = &r->disk;

        if (r->revision == 3) {
                char text[GUID_STRING_MAX];
                ldm_writer_varstr(w, guid_to_string(&d->guid, text));
        } else {
                ldm_writer_bytes(w, d->guid.bytes, 16);
                ldm_writer_bytes(w, d->diskset_guid.bytes, 16);
        }
        ldm_writer_varstr(w, d->device_name);
        ldm_writer_be32(w, d->flags);
        ldm_writer_be64(w, d->commit_id);
}

static void encode_disk_group(LdmWriter *w, const LdmRecord *r) {
        const LdmDiskGroupRecord *g = &r->disk_group;

        if (r->revision == 3) {
                char text[GUID_STRING_MAX];
                ldm_writer_varstr(w, guid_to_string(&g->guid, text));
        } else {
                ldm_writer_bytes(w, g->guid.bytes, 16);
                ldm_writer_bytes(w, g->diskset_guid.bytes, 16);
        }
        ldm_writer_bytes(w, g->reserved, 4);
        ldm_writer_be64(w, g->commit_id);
        if (r->record_flags & 0x08) {
                ldm_writer_varint(w, g->n_config_copies);
                ldm_writer_varint(w, g->n_log_copies);
        }
        if (r->record_flags & 0x10)
                ldm_writer_varint(w, g->minors);
}

int ldm_record_encode(const LdmRecord *r, uint8_t out[static LDM_RECORD_MAX_SIZE]) {
        LdmWriter w = { .buf = out, .size = LDM_RECORD_MAX_SIZE, .pos = RECORD_HEADER_SIZE };

        if (!revision_known(r->type, r->revision))
                return -EINVAL;
        memset(out, 0, LDM_RECORD_MAX_SIZE);
        unaligned_write_be16(out, r->update_status);
        out[2] = r->record_flags;
        out[3] = (uint8_t) (r->revision << 4 | r->type);

        ldm_writer_varint(&w, r->id);
        ldm_writer_varstr(&w, r->name);
        switch (r->type) {
        case LDM_RECORD_VOLUME:
                encode_volume(&w, r);
                break;
        case LDM_RECORD_COMPONENT:
                encode_component(&w, r);
                break;
        case LDM_RECORD_PARTITION:
                encode_partition(&w, r);
                break;
        case LDM_RECORD_DISK:
                encode_disk(&w, r);
                break;
        default:
                encode_disk_group(&w, r);
                break;
        }
        if (w.overflow)
                return -E2BIG;
        unaligned_write_be32(out + 4, (uint32_t) (w.pos - RECORD_HEADER_SIZE));
        return (int) w.pos;
}
