/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* stats.h: the little arithmetic the benchmarks share. */

#include <stddef.h>

/* The median of v[0..n) (n > 0); sorts v in place, ascending, so v[0] and v[n-1] are then
 * the minimum and the maximum. */
double stats_median(double *v, size_t n);
