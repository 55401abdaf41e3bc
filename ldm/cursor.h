/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cursor.h (private to ldm/): the one bounds-checked accessor every LDM parser reads through,
 * and the matching writer used by the encoders. A cursor walks a byte range; every read checks
 * the remaining length first and fails with -EBADMSG, remembering where it failed so the
 * caller can name the absolute offset. Also small helpers for fixed-size text fields. */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "guid.h"
#include "macro.h"
#include "unaligned.h"

typedef struct LdmCursor {
        const uint8_t *buf;
        size_t pos, end;      /* read position and end, both relative to buf */
        const char *what;     /* field being read when it failed (for diags) */
} LdmCursor;

static inline LdmCursor ldm_cursor_make(const uint8_t *buf, size_t start, size_t end) {
        return (LdmCursor) { .buf = buf, .pos = start, .end = end };
}

static inline int ldm_cursor_need(LdmCursor *c, size_t n, const char *what) {
        c->what = what;
        if (c->pos > c->end || c->end - c->pos < n)
                return -EBADMSG;
        return 0;
}

static inline int ldm_cursor_u8(LdmCursor *c, const char *what, uint8_t *ret) {
        if (ldm_cursor_need(c, 1, what) < 0)
                return -EBADMSG;
        *ret = c->buf[c->pos++];
        return 0;
}

static inline int ldm_cursor_be32(LdmCursor *c, const char *what, uint32_t *ret) {
        if (ldm_cursor_need(c, 4, what) < 0)
                return -EBADMSG;
        *ret = unaligned_read_be32(c->buf + c->pos);
        c->pos += 4;
        return 0;
}

static inline int ldm_cursor_be64(LdmCursor *c, const char *what, uint64_t *ret) {
        if (ldm_cursor_need(c, 8, what) < 0)
                return -EBADMSG;
        *ret = unaligned_read_be64(c->buf + c->pos);
        c->pos += 8;
        return 0;
}

static inline int ldm_cursor_bytes(LdmCursor *c, const char *what, void *ret, size_t n) {
        if (ldm_cursor_need(c, n, what) < 0)
                return -EBADMSG;
        memcpy(ret, c->buf + c->pos, n);
        c->pos += n;
        return 0;
}

/* var int (§7.4): length byte n (0…max_len), then n bytes big-endian. */
static inline int ldm_cursor_varint(LdmCursor *c, const char *what, unsigned max_len, uint64_t *ret) {
        uint8_t n;
        uint64_t v = 0;

        if (ldm_cursor_u8(c, what, &n) < 0)
                return -EBADMSG;
        if (n > max_len || ldm_cursor_need(c, n, what) < 0)
                return -EBADMSG;
        for (unsigned i = 0; i < n; i++)
                v = v << 8 | c->buf[c->pos + i];
        c->pos += n;
        *ret = v;
        return 0;
}

static inline int ldm_cursor_varint32(LdmCursor *c, const char *what, uint32_t *ret) {
        uint64_t v;

        if (ldm_cursor_varint(c, what, 4, &v) < 0)
                return -EBADMSG;
        *ret = (uint32_t) v;
        return 0;
}

/* var string: length byte then that many bytes; must fit in size−1 with a terminator and
 * contain no NUL (a NUL would make the text form differ from the bytes). */
static inline int ldm_cursor_varstr(LdmCursor *c, const char *what, char *ret, size_t size) {
        uint8_t n;

        if (ldm_cursor_u8(c, what, &n) < 0)
                return -EBADMSG;
        if (n >= size || ldm_cursor_need(c, n, what) < 0)
                return -EBADMSG;
        if (memchr(c->buf + c->pos, 0, n))
                return -EBADMSG;
        memcpy(ret, c->buf + c->pos, n);
        ret[n] = '\0';
        c->pos += n;
        return 0;
}

/* The writer side: appends into a bounded buffer; overflow is sticky and reported once. */
typedef struct LdmWriter {
        uint8_t *buf;
        size_t pos, size;
        bool overflow;
} LdmWriter;

static inline void ldm_writer_bytes(LdmWriter *w, const void *p, size_t n) {
        if (w->overflow || w->size - w->pos < n) {
                w->overflow = true;
                return;
        }
        memcpy(w->buf + w->pos, p, n);
        w->pos += n;
}

static inline void ldm_writer_u8(LdmWriter *w, uint8_t v) {
        ldm_writer_bytes(w, &v, 1);
}

static inline void ldm_writer_be32(LdmWriter *w, uint32_t v) {
        uint8_t b[4];
        unaligned_write_be32(b, v);
        ldm_writer_bytes(w, b, 4);
}

static inline void ldm_writer_be64(LdmWriter *w, uint64_t v) {
        uint8_t b[8];
        unaligned_write_be64(b, v);
        ldm_writer_bytes(w, b, 8);
}

/* Minimal var int: 0 → "00", else the fewest big-endian bytes. */
static inline void ldm_writer_varint(LdmWriter *w, uint64_t v) {
        uint8_t b[9];
        unsigned n = 0;

        for (uint64_t t = v; t; t >>= 8)
                n++;
        b[0] = (uint8_t) n;
        for (unsigned i = 0; i < n; i++)
                b[1 + i] = (uint8_t) (v >> (8 * (n - 1 - i)));
        ldm_writer_bytes(w, b, 1 + n);
}

/* Padded var int (§7.4, sizes): minimal when the value fits in 4 bytes, else 8 bytes. */
static inline void ldm_writer_padded(LdmWriter *w, uint64_t v) {
        if (v <= UINT32_MAX) {
                ldm_writer_varint(w, v);
                return;
        }
        ldm_writer_u8(w, 8);
        ldm_writer_be64(w, v);
}

static inline void ldm_writer_varstr(LdmWriter *w, const char *s) {
        size_t n = strlen(s);

        if (n > 255) {
                w->overflow = true;
                return;
        }
        ldm_writer_u8(w, (uint8_t) n);
        ldm_writer_bytes(w, s, n);
}

/* Reads a NUL-padded ASCII field of `size` bytes into ret (size+1 bytes). */
static inline void ldm_text_field_get(const uint8_t *field, size_t size, char *ret) {
        memcpy(ret, field, size);
        ret[size] = '\0';
}

/* Writes s NUL-padded into a field, unless the field already reads as s (keeps whatever
 * follows the terminator, so encode(parse(x)) == x). */
static inline void ldm_text_field_set(uint8_t *field, size_t size, const char *s) {
        size_t n = strnlen(s, size);

        if (strnlen((const char *) field, size) == n && memcmp(field, s, n) == 0)
                return;
        memset(field, 0, size);
        memcpy(field, s, n);
}

/* Writes a GUID as lower-case text into a NUL-padded field, unless the field already holds
 * that GUID (in whatever case). */
static inline void ldm_guid_field_set(uint8_t *field, size_t size, const LdmGuid *g) {
        LdmGuid old;
        char text[GUID_STRING_MAX];

        if (guid_from_field(field, size, &old) >= 0 && guid_equal(&old, g))
                return;
        memset(field, 0, size);
        memcpy(field, guid_to_string(g, text), MIN(size, (size_t) 36));
}

static inline bool ldm_is_zero(const void *p, size_t n) {
        const uint8_t *b = p;
        for (size_t i = 0; i < n; i++)
                if (b[i])
                        return false;
        return true;
}
