/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* ldmctl-json.h: a streaming JSON writer for ldmctl's --json documents: the caller emits
 * values in order and the writer inserts separators, escapes strings (invalid UTF-8 becomes
 * U+FFFD so the output is always valid JSON) and indents when asked. It also renders any
 * D-Bus value read from an sd_bus_message, which `monitor --json` and job outputs need. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

#define JSON_MAX_DEPTH 32

typedef struct JsonWriter {
        FILE *f;
        bool pretty;
        unsigned depth;
        bool after_key;                 /* the next value follows "key": */
        bool has_items[JSON_MAX_DEPTH]; /* a separator is due at this depth */
} JsonWriter;

/* A writer on f. pretty: two-space indentation and one member per line. */
void json_init(JsonWriter *w, FILE *f, bool pretty);

void json_begin_object(JsonWriter *w);
void json_end_object(JsonWriter *w);
void json_begin_array(JsonWriter *w);
void json_end_array(JsonWriter *w);
/* The key of the next member of the current object. */
void json_key(JsonWriter *w, const char *key);
void json_string(JsonWriter *w, const char *s); /* NULL writes null */
void json_uint(JsonWriter *w, uint64_t v);
void json_int(JsonWriter *w, int64_t v);
void json_double(JsonWriter *w, double v);
void json_bool(JsonWriter *w, bool v);
void json_null(JsonWriter *w);
/* Ends a top-level document with a newline and flushes. */
void json_finish(JsonWriter *w);

/* Shorthands for "key": value members. */
void json_kv_string(JsonWriter *w, const char *key, const char *s);
void json_kv_uint(JsonWriter *w, const char *key, uint64_t v);
void json_kv_bool(JsonWriter *w, const char *key, bool v);
/* "key": the object path, or null for "/" (the D-Bus "none" path). */
void json_kv_object(JsonWriter *w, const char *key, const char *path);

/* Reads one complete value of any D-Bus type from m and writes it: dictionaries become
 * objects, arrays and structs arrays, variants their contents, integers numbers. */
int json_write_bus_value(JsonWriter *w, sd_bus_message *m);
/* Renders one D-Bus value from m as compact JSON into a malloc'ed string. */
int bus_value_to_string(sd_bus_message *m, char **ret);
