/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* strv.h: NULL-terminated string arrays, as the daemon hands object path lists to sd-bus. */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

static inline size_t strv_length(char *const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

static inline char **strv_free(char **l) {
        for (size_t i = 0; l && l[i]; i++)
                free(l[i]);
        free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

static inline bool strv_equal(char *const *a, char *const *b) {
        size_t n = strv_length(a);
        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return true;
}

static inline bool strv_contains(char *const *l, const char *s) {
        for (size_t i = 0; l && l[i]; i++)
                if (strcmp(l[i], s) == 0)
                        return true;
        return false;
}

/* Appends a copy of s to *l. Returns 0 or -ENOMEM (then *l is unchanged). */
static inline int strv_extend(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char *c = strdup(s), **nl;

        if (!c)
                return -ENOMEM;
        nl = realloc(*l, (n + 2) * sizeof(char *));
        if (!nl) {
                free(c);
                return -ENOMEM;
        }
        nl[n] = c;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

/* An empty (but allocated) list, so that "no entries" never needs a NULL check. */
static inline char **strv_new_empty(void) {
        return calloc(1, sizeof(char *));
}
