/* libFuzzer target for the dates and times people give (<bosun/date.h>,
 * core/lib/date.c: bosunctl cost --since/--until, GET /api/v1/cost).
 *
 * The input (up to 80 bytes, NUL-terminated; an embedded NUL ends it) is
 * parsed as a start and as an end.  A refusal must say why; an acceptance
 * must agree with a reference built on the C library: the day's fields,
 * read back with sscanf(3), name a real day (timegm(3) gives the same
 * fields back), the result is timegm's instant plus the clock and minus
 * the offset, and a day alone as an end is exactly one day later. */
#define _DEFAULT_SOURCE
#include "config.h"

#include <bosun/date.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_date: check failed: %s (line %d)\n", #cond, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The instant of y-m-d 00:00 UTC by the C library, or -1 when the fields
 * name no real day (timegm normalises 02-30 to 03-02). */
static double reference_day(int y, int m, int d)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    if (tm.tm_year != y - 1900 || tm.tm_mon != m - 1 || tm.tm_mday != d)
        return -1;
    return (double)t;
}

static void check_accepted(const char *text, double start, double end)
{
    CHECK(isfinite(start) && start >= 0);
    int y, m, d;
    CHECK(sscanf(text, "%4d-%2d-%2d", &y, &m, &d) == 3);
    double day = reference_day(y, m, d);
    CHECK(day >= 0);
    size_t len = strlen(text);
    if (len == 10) {
        CHECK(start == day);
        CHECK(end == day + 86400);
        return;
    }
    CHECK(end == start);
    int h, mi, s;
    CHECK(sscanf(text + 11, "%2d:%2d:%2d", &h, &mi, &s) == 3);
    CHECK(h <= 23 && mi <= 59 && s <= 60);
    /* The offset is the last six characters unless the text ends in Z. */
    double east = 0;
    char last = text[len - 1];
    if (last != 'Z' && last != 'z') {
        int oh, om;
        char sign;
        CHECK(len > 6 && sscanf(text + len - 6, "%c%2d:%2d", &sign, &oh, &om) == 3);
        CHECK(sign == '+' || sign == '-');
        east = (sign == '-' ? -1 : 1) * (oh * 3600.0 + om * 60.0);
    }
    double whole = day + h * 3600.0 + mi * 60.0 + s - east;
    /* The fraction of a second is below 1 and never negative. */
    CHECK(start >= whole - 1e-6 && start < whole + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[81];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    double start = -1, end = -1;
    char err[256] = "", err2[256] = "";
    bool a = bosun_date_parse(text, false, &start, err, sizeof err);
    bool b = bosun_date_parse(text, true, &end, err2, sizeof err2);
    CHECK(a == b);
    if (!a) {
        CHECK(strstr(err, "is not a date") != NULL);
        CHECK(strcmp(err, err2) == 0);
        return 0;
    }
    check_accepted(text, start, end);
    return 0;
}
