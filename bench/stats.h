/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* stats.h: the little arithmetic the benchmarks share. */

#include <stddef.h>

/* Sorts v[0..n) ascending, in place. */
void stats_sort(double *v, size_t n);
/* The median of v[0..n) (n > 0); sorts v in place. */
double stats_median(double *v, size_t n);
