/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* xor.c: RAID-5 parity arithmetic. The loops work on 32-byte GCC vectors, four at a time
 * (128 bytes per step keeps the accumulators in registers while the sources stream past);
 * on x86-64 the compiler also emits an AVX2 clone of each function and glibc's ifunc picks
 * it at load time. Unaligned data is loaded with memcpy, which compiles to unaligned vector
 * loads. Why not ISA-L's xor_gen: it wants 16/32-byte aligned buffers and an int length,
 * and parity XOR is bound by memory bandwidth, which this loop already reaches.
 *
 * Blocks far larger than any cache (XOR_STREAM_MIN) are stored with non-temporal stores, as
 * ISA-L does: an ordinary store first reads the destination's cache line from memory (read
 * for ownership) only to overwrite it, so with three sources five lines move where four
 * would do. The repair engine's pieces are smaller (a 4 MiB chunk split among the sources):
 * what it XORs is written to a disk next, and reads best from the cache. */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "xor.h"

#if defined(__x86_64__)
#  include <emmintrin.h>
#  define XOR_STREAM_MIN ((size_t) 4 << 20)
#endif

typedef uint64_t vec_t __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#  define XOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#  define XOR_CLONES
#endif

/* Macros, not functions: a function returning a 32-byte vector would change the ABI of
 * the non-AVX clone. memcpy compiles to one unaligned vector load/store. */
#define load(p) ({ vec_t _v; memcpy(&_v, (p), sizeof(_v)); _v; })
#define store(p, v) ({ vec_t _w = (v); memcpy((p), &_w, sizeof(_w)); })
#ifdef XOR_STREAM_MIN
/* Two 16-byte non-temporal stores (SSE2, so in both clones); p is 16-byte aligned. */
#  define stream(p, v) ({ vec_t _w = (v); __m128i _lo, _hi;                     \
                memcpy(&_lo, &_w, 16); memcpy(&_hi, (const uint8_t *) &_w + 16, 16); \
                _mm_stream_si128((__m128i *) (void *) (p), _lo);                \
                _mm_stream_si128((__m128i *) (void *) ((p) + 16), _hi); })
#  define want_stream(d, len) ((len) >= XOR_STREAM_MIN && (uintptr_t) (d) % 16 == 0)
#  define stream_done() _mm_sfence()
#else
#  define stream(p, v) store(p, v)
#  define want_stream(d, len) false
#  define stream_done() ((void) 0)
#endif

XOR_CLONES void xor_blocks(void *dst, const void *const *srcs, size_t n, size_t len) {
        const size_t V = sizeof(vec_t);
        uint8_t *d = dst;
        bool nt = want_stream(d, len);
        size_t i = 0;

        if (n == 0)
                return;

        for (; i + 4 * V <= len; i += 4 * V) {
                const uint8_t *s = srcs[0];
                vec_t a = load(s + i), b = load(s + i + V), c = load(s + i + 2 * V),
                      e = load(s + i + 3 * V);

                for (size_t k = 1; k < n; k++) {
                        s = srcs[k];
                        a ^= load(s + i);
                        b ^= load(s + i + V);
                        c ^= load(s + i + 2 * V);
                        e ^= load(s + i + 3 * V);
                }
                if (nt) {
                        stream(d + i, a);
                        stream(d + i + V, b);
                        stream(d + i + 2 * V, c);
                        stream(d + i + 3 * V, e);
                } else {
                        store(d + i, a);
                        store(d + i + V, b);
                        store(d + i + 2 * V, c);
                        store(d + i + 3 * V, e);
                }
        }
        if (nt)
                stream_done(); /* ordered before whatever reads dst next */
        for (; i + V <= len; i += V) {
                vec_t a = load((const uint8_t *) srcs[0] + i);

                for (size_t k = 1; k < n; k++)
                        a ^= load((const uint8_t *) srcs[k] + i);
                store(d + i, a);
        }
        for (; i < len; i++) {
                uint8_t a = ((const uint8_t *) srcs[0])[i];

                for (size_t k = 1; k < n; k++)
                        a ^= ((const uint8_t *) srcs[k])[i];
                d[i] = a;
        }
}

XOR_CLONES void xor_into(void *dst, const void *src, size_t len) {
        const size_t V = sizeof(vec_t);
        const uint8_t *s = src;
        uint8_t *d = dst;
        size_t i = 0;

        for (; i + 4 * V <= len; i += 4 * V) {
                store(d + i, load(d + i) ^ load(s + i));
                store(d + i + V, load(d + i + V) ^ load(s + i + V));
                store(d + i + 2 * V, load(d + i + 2 * V) ^ load(s + i + 2 * V));
                store(d + i + 3 * V, load(d + i + 3 * V) ^ load(s + i + 3 * V));
        }
        for (; i + V <= len; i += V)
                store(d + i, load(d + i) ^ load(s + i));
        for (; i < len; i++)
                d[i] ^= s[i];
}
