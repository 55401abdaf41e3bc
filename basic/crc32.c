/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "crc32.h"

/* Bitwise, table-free: GPT structures are a few KiB and read once per probe, so the
 * simplest correct form wins over speed here. */
uint32_t crc32_ieee(const void *buf, size_t len) {
        const uint8_t *p = buf;
        uint32_t crc = 0xFFFFFFFFu;

        for (size_t i = 0; i < len; i++) {
                crc ^= p[i];
                for (int k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
        }
        return ~crc;
}
