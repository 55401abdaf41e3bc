/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "hash64.h"
#include "unaligned.h"

/* Four independent lanes, so that the multiplications of neighbouring words overlap in the
 * pipeline. Each step, lane = mix(lane ^ word), is a bijection of the word for a fixed lane
 * and of the lane for a fixed word: a change in one word changes its lane for good, and the
 * lanes are combined so that a change in one lane alone always shows in the result. */
#define K0 UINT64_C(0x9E3779B97F4A7C15) /* 2^64 / golden ratio, odd */
#define K1 UINT64_C(0xD6E8FEB86659FD93) /* odd multiplier */

static inline uint64_t step(uint64_t lane, uint64_t word) {
        lane = (lane ^ word) * K1;
        return lane ^ (lane >> 29);
}

static inline uint64_t rotl(uint64_t v, unsigned n) {
        return (v << n) | (v >> (64 - n));
}

/* A bijective finaliser: every input bit affects every output bit. */
static uint64_t avalanche(uint64_t h) {
        h ^= h >> 32;
        h *= K0;
        h ^= h >> 29;
        h *= K1;
        return h ^ (h >> 32);
}

uint64_t hash64(const void *buf, size_t len) {
        const uint8_t *p = buf;
        uint64_t a = K0, b = K0 + 1, c = K0 + 2, d = K0 + 3, h;
        uint8_t tail[8] = {};
        size_t n = len;

        for (; n >= 32; p += 32, n -= 32) {
                a = step(a, unaligned_read_le64(p));
                b = step(b, unaligned_read_le64(p + 8));
                c = step(c, unaligned_read_le64(p + 16));
                d = step(d, unaligned_read_le64(p + 24));
        }
        for (; n >= 8; p += 8, n -= 8)
                a = step(a, unaligned_read_le64(p));
        if (n > 0) {
                for (size_t i = 0; i < n; i++)
                        tail[i] = p[i];
                b = step(b, unaligned_read_le64(tail) ^ ((uint64_t) n << 56));
        }
        /* XOR of rotations: for fixed other lanes, injective in each lane. */
        h = a ^ rotl(b, 16) ^ rotl(c, 32) ^ rotl(d, 48) ^ (uint64_t) len;
        return avalanche(h);
}
