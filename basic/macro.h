/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* macro.h: the handful of helpers every ldmd source file leans on (cleanup attributes,
 * ownership hand-over, array sizes). Modelled on systemd's src/fundamental/macro.h. */

#include <errno.h>
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* GLib (tests only) defines the same two; either definition will do. */
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
#define DIV_ROUND_UP(x, y) (((x) + (y) - 1) / (y))
#define ALIGN_TO(x, a) (((x) + (a) - 1) / (a) * (a))

/* Hand over ownership: returns the value and clears the variable so cleanup does nothing. */
#define TAKE_PTR(p)                        \
        ({                                 \
                __typeof__(p) _p_ = (p);   \
                (p) = NULL;                \
                _p_;                       \
        })
#define TAKE_FD(fd)                        \
        ({                                 \
                int _fd_ = (fd);           \
                (fd) = -EBADF;             \
                _fd_;                      \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* free() that returns NULL, for `p = mfree(p)`. */
static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

/* Defines foo_freep() for a destructor foo_free() that accepts NULL and returns NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)         \
        static inline void func##p(type *p) {           \
                if (*p)                                 \
                        *p = func(*p);                  \
        }

static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

/* Multiply two on-disk quantities without silent wrap-around. Returns non-zero on overflow. */
static inline _warn_unused_result_ int mul_u64_overflow(uint64_t a, uint64_t b, uint64_t *ret) {
        return __builtin_mul_overflow(a, b, ret);
}
static inline _warn_unused_result_ int add_u64_overflow(uint64_t a, uint64_t b, uint64_t *ret) {
        return __builtin_add_overflow(a, b, ret);
}

/* qsort() with zero or one element: nothing to do, and qsort(NULL, 0, …) is undefined. */
static inline void qsort_safe(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
        if (n <= 1)
                return;
        qsort(base, n, size, cmp);
}
