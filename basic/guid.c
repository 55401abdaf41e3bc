/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "guid.h"

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int guid_from_string(const char *s, LdmGuid *ret) {
        LdmGuid g;
        size_t j = 0;

        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return -EINVAL;
                        continue;
                }
                int hi = unhex(s[i]);
                if (hi < 0)
                        return -EINVAL;
                int lo = unhex(s[++i]);
                if (lo < 0)
                        return -EINVAL;
                g.bytes[j++] = (uint8_t) (hi << 4 | lo);
        }
        if (s[36] != '\0')
                return -EINVAL;
        *ret = g;
        return 0;
}

int guid_from_field(const uint8_t *field, size_t size, LdmGuid *ret) {
        char buf[GUID_STRING_MAX];

        if (size < 36)
                return -EINVAL;
        for (size_t i = 36; i < size; i++)
                if (field[i] != 0)
                        return -EINVAL;
        memcpy(buf, field, 36);
        buf[36] = '\0';
        return guid_from_string(buf, ret);
}

char *guid_to_string(const LdmGuid *g, char buf[static GUID_STRING_MAX]) {
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        for (size_t i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        buf[o++] = '-';
                buf[o++] = hex[g->bytes[i] >> 4];
                buf[o++] = hex[g->bytes[i] & 15];
        }
        buf[o] = '\0';
        return buf;
}

void guid_from_gpt(const uint8_t in[static 16], LdmGuid *ret) {
        static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
        for (size_t i = 0; i < 16; i++)
                ret->bytes[i] = in[order[i]];
}

void guid_to_gpt(const LdmGuid *g, uint8_t out[static 16]) {
        /* The permutation is its own inverse. */
        guid_from_gpt(g->bytes, (LdmGuid *) out);
}

int guid_random(LdmGuid *ret) {
        LdmGuid g;

        if (getrandom(g.bytes, sizeof(g.bytes), 0) != (ssize_t) sizeof(g.bytes))
                return errno > 0 ? -errno : -EIO;
        g.bytes[6] = (g.bytes[6] & 0x0F) | 0x40; /* version 4 */
        g.bytes[8] = (g.bytes[8] & 0x3F) | 0x80; /* RFC-4122 variant */
        *ret = g;
        return 0;
}

bool guid_equal(const LdmGuid *a, const LdmGuid *b) {
        return memcmp(a->bytes, b->bytes, 16) == 0;
}
