/* Dates and times given by people (bosunctl cost --since, GET
 * /api/v1/cost?until=): a UTC day "YYYY-MM-DD" or an RFC 3339 time
 * "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" ('t', 'z' and a space for
 * 'T' accepted, as RFC 3339 allows). */
#ifndef BOSUN_DATE_H
#define BOSUN_DATE_H

#include <stdbool.h>
#include <stddef.h>

#include <bosun/api.h>

/* The text as seconds since the epoch in *out.  A day alone is its first
 * instant (00:00:00 UTC), or with end_of_day the first instant of the next
 * day, so that "until a day" takes that whole day in.  Years 1970-9999.
 * false, with the reason in err (naming what is wrong), when the text is
 * neither form, or names no real day or time. */
BOSUN_API bool bosun_date_parse(const char *text, bool end_of_day, double *out, char *err,
                                size_t err_size);

#endif
