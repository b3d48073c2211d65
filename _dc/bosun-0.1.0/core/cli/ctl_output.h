/* Readable tables for bosunctl's default output. */
#ifndef BOSUN_CTL_OUTPUT_H
#define BOSUN_CTL_OUTPUT_H

#include <stdio.h>

#include <jansson.h>

typedef struct table table;

/* headers: NULL-terminated column titles. */
table *table_new(const char *const *headers);
/* values: one string per column (NULL prints "-"); copied. */
void table_add_row(table *t, const char *const *values);
void table_print(const table *t, FILE *out);
void table_free(table *t);

/* Seconds as "3d4h", "2h5m", "4m10s", "12s". */
void format_duration(double seconds, char *buf, size_t size);
/* USD as "$0.0123" (four decimals: a turn costs cents); "-" when v is not
 * a number. */
void format_cost(json_t *v, char *buf, size_t size);
/* A time in seconds since the epoch as local "YYYY-MM-DD HH:MM:SS"; "-"
 * when v is not a number. */
void format_time(json_t *v, char *buf, size_t size);

#endif
