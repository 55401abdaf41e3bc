/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ldmctl-table.c: column alignment for ldmctl's text output. */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ldmctl-table.h"
#include "ldmctl-util.h"

typedef struct TableRow {
        char *prefix;
        char *line;                             /* free-form line instead of cells */
        char *text[TABLE_MAX_COLUMNS];
        const char *color[TABLE_MAX_COLUMNS];
        size_t n;
} TableRow;

struct Table {
        TableRow *rows;
        size_t n_rows;
        TableRow header;
        bool has_header;
};

Table *table_new(void) {
        return calloc(1, sizeof(Table));
}

static void row_done(TableRow *r) {
        free(r->prefix);
        free(r->line);
        for (size_t i = 0; i < r->n; i++)
                free(r->text[i]);
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_rows; i++)
                row_done(&t->rows[i]);
        row_done(&t->header);
        free(t->rows);
        free(t);
        return NULL;
}

static TableRow *add_row(Table *t) {
        TableRow *rows = realloc(t->rows, (t->n_rows + 1) * sizeof(*rows));
        if (!rows)
                return NULL;
        t->rows = rows;
        rows[t->n_rows] = (TableRow) {};
        return &rows[t->n_rows++];
}

int table_row(Table *t, const char *prefix) {
        TableRow *r = add_row(t);
        if (!r)
                return -ENOMEM;
        r->prefix = strdup(prefix ?: "");
        return r->prefix ? 0 : -ENOMEM;
}

int table_cell(Table *t, const char *color, const char *fmt, ...) {
        TableRow *r;
        va_list ap;
        int k;

        if (t->n_rows == 0)
                return -EINVAL;
        r = &t->rows[t->n_rows - 1];
        if (r->line || r->n >= TABLE_MAX_COLUMNS)
                return -EINVAL;
        va_start(ap, fmt);
        k = vasprintf(&r->text[r->n], fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        r->color[r->n++] = color;
        return 0;
}

int table_header(Table *t, const char *const *names, size_t n) {
        if (n > TABLE_MAX_COLUMNS)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                t->header.text[i] = strdup(names[i]);
                if (!t->header.text[i])
                        return -ENOMEM;
                t->header.n = i + 1;
        }
        t->has_header = true;
        return 0;
}

int table_line(Table *t, const char *fmt, ...) {
        TableRow *r = add_row(t);
        va_list ap;
        int k;

        if (!r)
                return -ENOMEM;
        va_start(ap, fmt);
        k = vasprintf(&r->line, fmt, ap);
        va_end(ap);
        return k < 0 ? -ENOMEM : 0;
}

/* Display width: one column per code point (the tree glyphs are single-width). */
static size_t width(const char *s) {
        size_t w = 0;
        for (; s && *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        w++;
        return w;
}

static void print_row(const TableRow *r, const size_t *widths, size_t n_cols, FILE *f, bool bold) {
        size_t last = r->n;

        /* Trailing empty cells would only add spaces at the end of the line. */
        while (last > 0 && r->text[last - 1][0] == 0)
                last--;
        fputs(r->prefix ?: "", f);
        for (size_t c = 0; c < last; c++) {
                const char *color = bold ? ansi_bold() : r->color[c];
                size_t w = width(r->text[c]) + (c == 0 ? width(r->prefix) : 0);
                bool colored = color && *color;

                fprintf(f, "%s%s%s", colored ? color : "", r->text[c], colored ? ansi_normal() : "");
                if (c + 1 < last)
                        for (size_t pad = w; pad < widths[c] + 2; pad++)
                                fputc(' ', f);
        }
        (void) n_cols;
        fputc('\n', f);
}

void table_print(Table *t, FILE *f, bool show_header) {
        size_t widths[TABLE_MAX_COLUMNS] = {};
        size_t n_cols = 0;

        for (size_t i = 0; i < t->n_rows + 1; i++) {
                const TableRow *r = i < t->n_rows ? &t->rows[i] : &t->header;

                if (r->line || (r == &t->header && !(t->has_header && show_header)))
                        continue;
                for (size_t c = 0; c < r->n; c++)
                        widths[c] = MAX(widths[c], width(r->text[c]) + (c == 0 ? width(r->prefix) : 0));
                n_cols = MAX(n_cols, r->n);
        }
        if (t->has_header && show_header)
                print_row(&t->header, widths, n_cols, f, true);
        for (size_t i = 0; i < t->n_rows; i++) {
                if (t->rows[i].line)
                        fprintf(f, "%s\n", t->rows[i].line);
                else
                        print_row(&t->rows[i], widths, n_cols, f, false);
        }
}
