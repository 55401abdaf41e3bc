/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* crc32.h: the IEEE 802.3 CRC-32 that GPT headers and entry arrays carry. */

#include <stddef.h>
#include <stdint.h>

uint32_t crc32_ieee(const void *buf, size_t len);
