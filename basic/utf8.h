/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* utf8.h: text made fit to publish. LDM stores names as raw bytes (only NUL is excluded),
 * but a D-Bus string must be valid UTF-8 (sd-bus refuses anything else, failing the whole
 * message) and a log line must not contain a newline (it would start a forged line). The
 * escaped form writes as "\xNN" (two lower-case hex digits) each control character
 * (U+0000–U+001F, U+007F), each byte that does not start a valid character, and each byte
 * of a character sd-bus refuses (overlong forms, surrogates, past U+10FFFF, noncharacters
 * U+FDD0–U+FDEF and U+xxFFFE/U+xxFFFF); every other character is kept as it is, the C1
 * controls U+0080–U+009F and the backslash too, so that a valid name never changes. The
 * form is therefore not always reversible: the bytes 61 ff and the five characters a\xff
 * have the same escaped form. */

#include <stddef.h>

#define UTF8_ESCAPE_GROWTH 4 /* a byte becomes at most four: \xNN */

/* The length of the valid character that starts s (at most n bytes), or 0 when s does not
 * start one (as sd-bus and dbus-daemon see it). */
size_t utf8_char_len(const char *s, size_t n);

/* Writes the escaped form of s into buf (size ≥ 1), NUL-terminated. What does not fit is
 * left out at a character or escape boundary, never inside one. Returns buf. */
char *utf8_escape_buf(const char *s, char *buf, size_t size);

/* The escaped form of s in a new string of at most UTF8_ESCAPE_GROWTH × strlen(s) + 1
 * bytes; NULL when out of memory. */
char *utf8_escape(const char *s);
