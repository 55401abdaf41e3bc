/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* ldmctl-table.h: a small text table: rows of cells aligned in columns (by display width,
 * so tree glyphs and colours do not disturb alignment), an optional header, and free-form
 * lines between rows that take no part in alignment (plexes under a volume, for instance). */

#include <stdbool.h>
#include <stdio.h>

#include "macro.h"

#define TABLE_MAX_COLUMNS 10

typedef struct Table Table;

Table *table_new(void);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);

/* Starts a row: `prefix` (e.g. tree glyphs) is printed before the first cell and counts
 * towards its width. */
int table_row(Table *t, const char *prefix);
/* Adds a cell to the current row, printed in `color` (an ANSI sequence or "" / NULL). */
int table_cell(Table *t, const char *color, const char *fmt, ...) _printf_(3, 4);
/* Header cells (printed bold, only when the header is shown). */
int table_header(Table *t, const char *const *names, size_t n);
/* A line printed verbatim at this place. */
int table_line(Table *t, const char *fmt, ...) _printf_(2, 3);
/* Prints everything; the header only when show_header. */
void table_print(Table *t, FILE *f, bool show_header);
