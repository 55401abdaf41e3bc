/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* utf8.c: see utf8.h. The validity rules are those of systemd's utf8_is_valid(), which
 * sd-bus applies to every string it sends. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static bool code_point_ok(uint32_t c, size_t len) {
        static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };

        if (c < min[len] || c > 0x10FFFF)  /* overlong, or past Unicode */
                return false;
        if (c >= 0xD800 && c <= 0xDFFF)    /* UTF-16 surrogates */
                return false;
        if (c >= 0xFDD0 && c <= 0xFDEF)    /* noncharacters */
                return false;
        return (c & 0xFFFE) != 0xFFFE;     /* U+xxFFFE, U+xxFFFF */
}

/* The length of the character a lead byte starts (0: not a lead byte), and its bits. */
static size_t lead_byte(unsigned char b, uint32_t *ret_bits) {
        if (b < 0x80) {
                *ret_bits = b;
                return 1;
        }
        if (b >= 0xC0 && b < 0xE0) {
                *ret_bits = b & 0x1F;
                return 2;
        }
        if (b >= 0xE0 && b < 0xF0) {
                *ret_bits = b & 0x0F;
                return 3;
        }
        if (b >= 0xF0 && b < 0xF8) {
                *ret_bits = b & 0x07;
                return 4;
        }
        return 0;
}

size_t utf8_char_len(const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s;
        uint32_t c;
        size_t len;

        if (n == 0)
                return 0;
        len = lead_byte(p[0], &c);
        if (len == 0 || len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
                c = (c << 6) | (p[i] & 0x3F);
        }
        return code_point_ok(c, len) ? len : 0;
}

static bool is_control(unsigned char c) {
        return c < 0x20 || c == 0x7F;
}

char *utf8_escape_buf(const char *s, char *buf, size_t size) {
        size_t n = strlen(s), o = 0;

        for (size_t i = 0; i < n;) {
                size_t len = utf8_char_len(s + i, n - i);

                if (len > 0 && !(len == 1 && is_control((unsigned char) s[i]))) {
                        if (o + len >= size)
                                break;
                        memcpy(buf + o, s + i, len);
                        o += len;
                        i += len;
                        continue;
                }
                if (o + 4 >= size)
                        break;
                snprintf(buf + o, 5, "\\x%02x", (unsigned char) s[i]);
                o += 4;
                i++;
        }
        buf[o] = '\0';
        return buf;
}

char *utf8_escape(const char *s) {
        size_t size = strlen(s) * UTF8_ESCAPE_GROWTH + 1;
        char *buf = malloc(size);

        return buf ? utf8_escape_buf(s, buf, size) : NULL;
}
