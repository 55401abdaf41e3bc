/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* unaligned.h: big- and little-endian loads and stores at any address. LDM integers are
 * big-endian; MBR and GPT fields are little-endian. */

#include <endian.h>
#include <stdint.h>
#include <string.h>

#define DEFINE_UNALIGNED(bits, order)                                                   \
        static inline uint##bits##_t unaligned_read_##order##bits(const void *p) {      \
                uint##bits##_t v;                                                       \
                memcpy(&v, p, sizeof(v));                                               \
                return order##bits##toh(v);                                             \
        }                                                                               \
        static inline void unaligned_write_##order##bits(void *p, uint##bits##_t v) {   \
                v = hto##order##bits(v);                                                \
                memcpy(p, &v, sizeof(v));                                               \
        }

DEFINE_UNALIGNED(16, be)
DEFINE_UNALIGNED(32, be)
DEFINE_UNALIGNED(64, be)
DEFINE_UNALIGNED(16, le)
DEFINE_UNALIGNED(32, le)
DEFINE_UNALIGNED(64, le)
