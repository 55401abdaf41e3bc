/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* guid.h: a 128-bit identifier in RFC-4122 byte order (the order of its text form), as LDM
 * stores GUIDs inside VBLKs. GPT's mixed-endian on-disk order is converted at the GPT edge. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUID_STRING_MAX 37 /* 36 characters + NUL */

typedef struct LdmGuid {
        uint8_t bytes[16];
} LdmGuid;

#define GUID_NULL ((LdmGuid){})

/* Parses exactly 36 characters "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case). */
int guid_from_string(const char *s, LdmGuid *ret);
/* Parses a NUL-padded text field of a fixed size (e.g. 64 bytes in PRIVHEAD): 36 characters
 * followed only by NUL bytes. */
int guid_from_field(const uint8_t *field, size_t size, LdmGuid *ret);
/* Writes lower-case text into buf (GUID_STRING_MAX bytes); returns buf. */
char *guid_to_string(const LdmGuid *g, char buf[static GUID_STRING_MAX]);
#define GUID_TO_STRING(g) guid_to_string((g), (char[GUID_STRING_MAX]){})

/* GPT stores the first three groups little-endian. */
void guid_from_gpt(const uint8_t in[static 16], LdmGuid *ret);
void guid_to_gpt(const LdmGuid *g, uint8_t out[static 16]);

/* A random version-4 GUID from getrandom(). */
int guid_random(LdmGuid *ret);

static inline bool guid_is_null(const LdmGuid *g) {
        for (int i = 0; i < 16; i++)
                if (g->bytes[i])
                        return false;
        return true;
}
bool guid_equal(const LdmGuid *a, const LdmGuid *b);
