/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ldmctl-json.c: the streaming JSON writer and the D-Bus value → JSON renderer. */

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ldmctl-json.h"
#include "macro.h"

void json_init(JsonWriter *w, FILE *f, bool pretty) {
        *w = (JsonWriter) { .f = f, .pretty = pretty };
}

static void indent(JsonWriter *w) {
        if (!w->pretty)
                return;
        fputc('\n', w->f);
        for (unsigned i = 0; i < w->depth; i++)
                fputs("  ", w->f);
}

/* Separator and indentation before a value (or a key) at the current depth. */
static void before_item(JsonWriter *w) {
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (w->depth == 0)
                return;
        if (w->has_items[w->depth])
                fputc(',', w->f);
        w->has_items[w->depth] = true;
        indent(w);
}

static void open_container(JsonWriter *w, char c) {
        before_item(w);
        fputc(c, w->f);
        if (w->depth + 1 < JSON_MAX_DEPTH)
                w->depth++;
        w->has_items[w->depth] = false;
}

static void close_container(JsonWriter *w, char c) {
        bool had = w->has_items[w->depth];

        if (w->depth > 0)
                w->depth--;
        if (had)
                indent(w);
        fputc(c, w->f);
}

void json_begin_object(JsonWriter *w) { open_container(w, '{'); }
void json_end_object(JsonWriter *w)   { close_container(w, '}'); }
void json_begin_array(JsonWriter *w)  { open_container(w, '['); }
void json_end_array(JsonWriter *w)    { close_container(w, ']'); }

/* Length of a valid UTF-8 sequence at s, or 0 when invalid. */
static size_t utf8_seq_len(const unsigned char *s) {
        size_t n;
        uint32_t cp;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0) {
                n = 2;
                cp = s[0] & 0x1f;
        } else if ((s[0] & 0xf0) == 0xe0) {
                n = 3;
                cp = s[0] & 0x0f;
        } else if ((s[0] & 0xf8) == 0xf0) {
                n = 4;
                cp = s[0] & 0x07;
        } else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        /* Reject overlong forms, surrogates and values beyond U+10FFFF. */
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                return 0;
        return n;
}

static void write_escaped(FILE *f, const char *str) {
        const unsigned char *s = (const unsigned char *) str;

        fputc('"', f);
        while (*s) {
                size_t n;

                switch (*s) {
                case '"':  fputs("\\\"", f); s++; continue;
                case '\\': fputs("\\\\", f); s++; continue;
                case '\n': fputs("\\n", f); s++; continue;
                case '\r': fputs("\\r", f); s++; continue;
                case '\t': fputs("\\t", f); s++; continue;
                default:
                        break;
                }
                if (*s < 0x20) {
                        fprintf(f, "\\u%04x", *s);
                        s++;
                        continue;
                }
                n = utf8_seq_len(s);
                if (n == 0) {
                        fputs("\\ufffd", f);
                        s++;
                        continue;
                }
                fwrite(s, 1, n, f);
                s += n;
        }
        fputc('"', f);
}

void json_key(JsonWriter *w, const char *key) {
        before_item(w);
        write_escaped(w->f, key);
        fputs(w->pretty ? ": " : ":", w->f);
        w->after_key = true;
}

void json_string(JsonWriter *w, const char *s) {
        if (!s) {
                json_null(w);
                return;
        }
        before_item(w);
        write_escaped(w->f, s);
}

void json_uint(JsonWriter *w, uint64_t v) {
        before_item(w);
        fprintf(w->f, "%" PRIu64, v);
}

void json_int(JsonWriter *w, int64_t v) {
        before_item(w);
        fprintf(w->f, "%" PRIi64, v);
}

void json_double(JsonWriter *w, double v) {
        before_item(w);
        if (isfinite(v))
                fprintf(w->f, "%.17g", v);
        else
                fputs("null", w->f);
}

void json_bool(JsonWriter *w, bool v) {
        before_item(w);
        fputs(v ? "true" : "false", w->f);
}

void json_null(JsonWriter *w) {
        before_item(w);
        fputs("null", w->f);
}

void json_finish(JsonWriter *w) {
        fputc('\n', w->f);
        fflush(w->f);
}

void json_kv_string(JsonWriter *w, const char *key, const char *s) {
        json_key(w, key);
        json_string(w, s);
}

void json_kv_uint(JsonWriter *w, const char *key, uint64_t v) {
        json_key(w, key);
        json_uint(w, v);
}

void json_kv_bool(JsonWriter *w, const char *key, bool v) {
        json_key(w, key);
        json_bool(w, v);
}

void json_kv_object(JsonWriter *w, const char *key, const char *path) {
        json_key(w, key);
        if (!path || strcmp(path, "/") == 0)
                json_null(w);
        else
                json_string(w, path);
}

static int write_basic(JsonWriter *w, sd_bus_message *m, char type) {
        union {
                uint8_t y;
                int b;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
                int h;
        } v;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0)
                return r;
        switch (type) {
        case 'y': json_uint(w, v.y); break;
        case 'b': json_bool(w, v.b); break;
        case 'n': json_int(w, v.n); break;
        case 'q': json_uint(w, v.q); break;
        case 'i': json_int(w, v.i); break;
        case 'u': json_uint(w, v.u); break;
        case 'x': json_int(w, v.x); break;
        case 't': json_uint(w, v.t); break;
        case 'd': json_double(w, v.d); break;
        case 'h': json_int(w, v.h); break;
        case 's': case 'o': case 'g': json_string(w, v.s); break;
        default: return -EBADMSG;
        }
        return 0;
}

/* Dictionary keys are basic values; JSON keys are strings. */
static int write_dict_entry(JsonWriter *w, sd_bus_message *m, const char *contents) {
        _cleanup_free_ char *key = NULL;
        char type = contents[0];
        int r;

        if (type == 's' || type == 'o' || type == 'g') {
                const char *s;
                r = sd_bus_message_read_basic(m, type, &s);
                if (r < 0)
                        return r;
                key = strdup(s);
        } else {
                char *buf = NULL;
                size_t size = 0;
                FILE *f = open_memstream(&buf, &size);
                JsonWriter kw;

                if (!f)
                        return -ENOMEM;
                json_init(&kw, f, false);
                r = write_basic(&kw, m, type);
                fclose(f);
                if (r < 0) {
                        free(buf);
                        return r;
                }
                key = buf;
        }
        if (!key)
                return -ENOMEM;
        json_key(w, key);
        return json_write_bus_value(w, m);
}

static int write_container(JsonWriter *w, sd_bus_message *m, char type, const char *contents) {
        bool dict = type == 'a' && contents[0] == '{';
        int r;

        r = sd_bus_message_enter_container(m, type, contents);
        if (r < 0)
                return r;
        if (type == 'v') {
                r = json_write_bus_value(w, m);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        }

        if (dict)
                json_begin_object(w);
        else
                json_begin_array(w);
        for (;;) {
                char t;
                const char *c;

                r = sd_bus_message_peek_type(m, &t, &c);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (dict) {
                        r = sd_bus_message_enter_container(m, 'e', c);
                        if (r < 0)
                                return r;
                        r = write_dict_entry(w, m, c);
                        if (r < 0)
                                return r;
                        r = sd_bus_message_exit_container(m);
                } else
                        r = json_write_bus_value(w, m);
                if (r < 0)
                        return r;
        }
        if (dict)
                json_end_object(w);
        else
                json_end_array(w);
        return sd_bus_message_exit_container(m);
}

int json_write_bus_value(JsonWriter *w, sd_bus_message *m) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENXIO;
        if (type == 'a' || type == 'r' || type == 'v')
                return write_container(w, m, type, contents);
        return write_basic(w, m, type);
}

int bus_value_to_string(sd_bus_message *m, char **ret) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        JsonWriter w;
        int r;

        if (!f)
                return -ENOMEM;
        json_init(&w, f, false);
        r = json_write_bus_value(&w, m);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        return 0;
}
