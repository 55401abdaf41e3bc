/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* xor.c: RAID-5 parity arithmetic. The portable loops work on 32-byte GCC vectors, four at
 * a time (128 bytes per step keeps the accumulators in registers while the sources stream
 * past); on x86-64 the compiler also emits an AVX2 clone of each function and glibc's ifunc
 * picks it at load time. Unaligned data is loaded with memcpy, which compiles to unaligned
 * vector loads. Why not ISA-L's xor_gen: it wants 16/32-byte aligned buffers and an int
 * length, and we would gain a dependency for one loop.
 *
 * Out of the caches parity XOR is bound by memory bandwidth, which these loops reach. In
 * them it is not: with 7 sources of 64 KiB the AVX2 clone ran at 0.6 of xor_gen's AVX-512
 * path (bench/run-xor.sh). So where the CPU has AVX-512 (F and BW) xor_blocks() and
 * xor_into() take a third path, written with intrinsics since a target clone cannot widen
 * a function's vector type: 64-byte registers two at a time, the sources from the last to
 * the first (see xor_steps_avx512()), and masked loads and stores instead of byte loops.
 *
 * Blocks far larger than any cache (XOR_STREAM_MIN) are stored with non-temporal stores, as
 * ISA-L's AVX2 xor_gen does: an ordinary store first reads the destination's cache line
 * from memory (read for ownership) only to overwrite it, so with three sources five lines
 * move where four would do. The repair engine's pieces are smaller (a 4 MiB chunk split
 * among the sources): what it XORs is written to a disk next, and reads best from the
 * cache. */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "macro.h"
#include "xor.h"

#if defined(__x86_64__)
#  include <emmintrin.h>
#  define XOR_STREAM_MIN ((size_t) 4 << 20)
#endif

typedef uint64_t vec_t __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#  include <immintrin.h>
#  define XOR_CLONES __attribute__((target_clones("avx2", "default")))
#  define XOR_AVX512 __attribute__((target("avx512f,avx512bw")))
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

static XOR_CLONES void xor_blocks_v32(void *dst, const void *const *srcs, size_t n, size_t len) {
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

static XOR_CLONES void xor_into_v32(void *dst, const void *src, size_t len) {
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

#ifdef XOR_AVX512
/* [i, end), any length: masked loads and stores touch exactly these bytes, so neither a
 * byte loop nor a read past the end of a buffer. */
static XOR_AVX512 void xor_masked_avx512(uint8_t *d, const void *const *srcs, size_t n, size_t i,
                                         size_t end) {
        for (; i < end; i += 64) {
                __mmask64 m = end - i >= 64 ? ~(__mmask64) 0 : ((__mmask64) 1 << (end - i)) - 1;
                __m512i a = _mm512_maskz_loadu_epi8(m, (const uint8_t *) srcs[n - 1] + i);

                for (size_t k = n - 1; k-- > 0;)
                        a ^= _mm512_maskz_loadu_epi8(m, (const uint8_t *) srcs[k] + i);
                _mm512_mask_storeu_epi8(d + i, m, a);
        }
}

/* 128 bytes per step, the sources from the last to the first, as ISA-L's xor_gen does. The
 * order is measured, not explained (the hardware prefetchers, presumably): with 7 sources
 * of 64 KiB at a fixed stride (allocated one after the other; the repair engine's are
 * slices of one scratch buffer), ascending ran at 105 GB/s and descending at 172 on an AMD
 * EPYC. Four accumulators (256-byte steps) were slower with 3 and 4 sources. Returns where
 * it stopped: the start of the last, partial step. */
static XOR_AVX512 size_t xor_steps_avx512(uint8_t *d, const void *const *srcs, size_t n, size_t i,
                                          size_t end, bool nt) {
        for (; i + 128 <= end; i += 128) {
                const uint8_t *s = srcs[n - 1];
                __m512i a = _mm512_loadu_si512(s + i), b = _mm512_loadu_si512(s + i + 64);

                for (size_t k = n - 1; k-- > 0;) {
                        s = srcs[k];
                        a ^= _mm512_loadu_si512(s + i);
                        b ^= _mm512_loadu_si512(s + i + 64);
                }
                if (nt) {
                        _mm512_stream_si512((void *) (d + i), a);
                        _mm512_stream_si512((void *) (d + i + 64), b);
                } else {
                        _mm512_storeu_si512(d + i, a);
                        _mm512_storeu_si512(d + i + 64, b);
                }
        }
        return i;
}

static XOR_AVX512 void xor_blocks_avx512(void *dst, const void *const *srcs, size_t n, size_t len) {
        uint8_t *d = dst;
        size_t i;

        if (n == 0)
                return;

        if (want_stream(d, len)) {
                /* A 64-byte non-temporal store needs a 64-byte aligned address: XOR the
                 * bytes before the first line boundary with masks, and stream whole lines. */
                size_t head = -(uintptr_t) d % 64;

                xor_masked_avx512(d, srcs, n, 0, head);
                i = xor_steps_avx512(d, srcs, n, head, len, true);
                stream_done();
        } else
                i = xor_steps_avx512(d, srcs, n, 0, len, false);
        xor_masked_avx512(d, srcs, n, i, len);
}

static XOR_AVX512 void xor_into_avx512(void *dst, const void *src, size_t len) {
        const void *srcs[] = { src, dst };
        size_t i = xor_steps_avx512(dst, srcs, 2, 0, len, false);

        xor_masked_avx512(dst, srcs, 2, i, len);
}

/* libgcc reads CPUID once, at load time: this is a load and a test. */
static bool have_avx512(void) {
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}
#endif

static const XorImpl impls[] = {
#ifdef XOR_AVX512
        { "avx512", xor_blocks_avx512, xor_into_avx512 },
#endif
        { "vector", xor_blocks_v32, xor_into_v32 },
};

size_t xor_implementations(const XorImpl **ret) {
        size_t first = 0;

#ifdef XOR_AVX512
        if (!have_avx512())
                first = 1;
#endif
        *ret = impls + first;
        return ELEMENTSOF(impls) - first;
}

void xor_blocks(void *dst, const void *const *srcs, size_t n, size_t len) {
#ifdef XOR_AVX512
        if (have_avx512()) {
                xor_blocks_avx512(dst, srcs, n, len);
                return;
        }
#endif
        xor_blocks_v32(dst, srcs, n, len);
}

void xor_into(void *dst, const void *src, size_t len) {
#ifdef XOR_AVX512
        if (have_avx512()) {
                xor_into_avx512(dst, src, len);
                return;
        }
#endif
        xor_into_v32(dst, src, len);
}
