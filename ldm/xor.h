/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* xor.h: bytewise XOR of equal-length blocks, the arithmetic of RAID-5 parity (§9). Any
 * alignment and length; vectorised (on x86-64 an AVX-512 or AVX2 path chosen at run time,
 * 32-byte GCC vectors elsewhere), so it runs at memory bandwidth. */

#include <stddef.h>

/* dst = srcs[0] ^ srcs[1] ^ … ^ srcs[n-1] over len bytes (n ≥ 1). dst may be one of the
 * sources; other overlap is not allowed. */
void xor_blocks(void *dst, const void *const *srcs, size_t n, size_t len);

/* dst ^= src over len bytes. */
void xor_into(void *dst, const void *src, size_t len);

/* The paths behind xor_blocks() and xor_into() that this CPU can run, the one they take
 * first: so that tests check each of them (on an AVX-512 machine the AVX2 and portable
 * loops would otherwise never run) and benchmarks can compare them. */
typedef struct XorImpl {
        const char *name;
        void (*blocks)(void *dst, const void *const *srcs, size_t n, size_t len);
        void (*into)(void *dst, const void *src, size_t len);
} XorImpl;

size_t xor_implementations(const XorImpl **ret);
