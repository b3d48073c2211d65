#include "config.h"

#include "ctl_output.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct table {
    size_t cols;
    char **headers;
    char ***rows;
    size_t n_rows, cap_rows;
};

table *table_new(const char *const *headers)
{
    table *t = xcalloc(1, sizeof *t);
    while (headers[t->cols])
        t->cols++;
    t->headers = xcalloc(t->cols, sizeof *t->headers);
    for (size_t i = 0; i < t->cols; i++)
        t->headers[i] = xstrdup(headers[i]);
    return t;
}

void table_add_row(table *t, const char *const *values)
{
    if (t->n_rows == t->cap_rows) {
        t->cap_rows = t->cap_rows ? t->cap_rows * 2 : 16;
        t->rows = xrealloc(t->rows, t->cap_rows * sizeof *t->rows);
    }
    char **row = xcalloc(t->cols, sizeof *row);
    for (size_t i = 0; i < t->cols; i++)
        row[i] = xstrdup(values[i] ? values[i] : "-");
    t->rows[t->n_rows++] = row;
}

static void print_row(FILE *out, char *const *cells, const size_t *width, size_t cols)
{
    for (size_t c = 0; c < cols; c++) {
        if (c + 1 < cols)
            fprintf(out, "%-*s  ", (int)width[c], cells[c]);
        else
            fprintf(out, "%s\n", cells[c]);
    }
}

void table_print(const table *t, FILE *out)
{
    size_t *width = xcalloc(t->cols, sizeof *width);
    for (size_t c = 0; c < t->cols; c++) {
        width[c] = strlen(t->headers[c]);
        for (size_t r = 0; r < t->n_rows; r++)
            if (strlen(t->rows[r][c]) > width[c])
                width[c] = strlen(t->rows[r][c]);
    }
    print_row(out, t->headers, width, t->cols);
    for (size_t r = 0; r < t->n_rows; r++)
        print_row(out, t->rows[r], width, t->cols);
    free(width);
}

void table_free(table *t)
{
    if (!t)
        return;
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->cols; c++)
            free(t->rows[r][c]);
        free(t->rows[r]);
    }
    for (size_t c = 0; c < t->cols; c++)
        free(t->headers[c]);
    free(t->headers);
    free(t->rows);
    free(t);
}

void format_duration(double seconds, char *buf, size_t size)
{
    long s = seconds < 0 ? 0 : (long)seconds;
    if (s >= 86400)
        snprintf(buf, size, "%ldd%ldh", s / 86400, (s % 86400) / 3600);
    else if (s >= 3600)
        snprintf(buf, size, "%ldh%ldm", s / 3600, (s % 3600) / 60);
    else if (s >= 60)
        snprintf(buf, size, "%ldm%lds", s / 60, s % 60);
    else
        snprintf(buf, size, "%lds", s);
}

void format_time(json_t *v, char *buf, size_t size)
{
    if (!json_is_number(v)) {
        snprintf(buf, size, "-");
        return;
    }
    time_t t = (time_t)json_number_value(v);
    struct tm tm;
    strftime(buf, size, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
}

void format_cost(json_t *v, char *buf, size_t size)
{
    if (json_is_number(v))
        snprintf(buf, size, "$%.4f", json_number_value(v));
    else
        snprintf(buf, size, "-");
}
