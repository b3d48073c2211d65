/* Dates and times given by people (see <bosun/date.h>).  Parsed by hand,
 * strictly: strptime(3) accepts too much (leading spaces, one-digit
 * fields) and knows no offsets, and what is accepted here is a contract of
 * the CLI and the REST API. */
#include "config.h"

#include <bosun/date.h>

#include <stdio.h>
#include <string.h>

#define DATE_TEXT_MAX 64

/* n digits at *p as a number, advancing *p; -1 when they are not all
 * digits. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), without timegm(3),
 * which depends on the C library and on nothing being odd in TZ. */
static long days_from_epoch(int y, int m, int d)
{
    /* Howard Hinnant's days_from_civil. */
    y -= m <= 2;
    long era = y / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool fail(char *err, size_t size, const char *text, const char *why)
{
    if (err && size)
        snprintf(err, size, "'%.*s' is not a date (YYYY-MM-DD) or an RFC 3339 time: %s",
                 DATE_TEXT_MAX, text, why);
    return false;
}

/* "YYYY-MM-DD" at *p into the day count. */
static bool parse_day(const char **p, long *day, const char *text, char *err, size_t size)
{
    int y = digits(p, 4);
    if (y < 0 || *(*p)++ != '-')
        return fail(err, size, text, "expected YYYY-MM-DD");
    int m = digits(p, 2);
    if (m < 0 || *(*p)++ != '-')
        return fail(err, size, text, "expected YYYY-MM-DD");
    int d = digits(p, 2);
    if (d < 0)
        return fail(err, size, text, "expected YYYY-MM-DD");
    if (y < 1970)
        return fail(err, size, text, "the year is before 1970");
    if (m < 1 || m > 12)
        return fail(err, size, text, "no such month");
    if (d < 1 || d > month_days(y, m))
        return fail(err, size, text, "no such day in that month");
    *day = days_from_epoch(y, m, d);
    return true;
}

/* "HH:MM:SS[.frac]" at *p into seconds of the day. */
static bool parse_clock(const char **p, double *secs, const char *text, char *err, size_t size)
{
    int h = digits(p, 2);
    if (h < 0 || *(*p)++ != ':')
        return fail(err, size, text, "expected HH:MM:SS after the day");
    int mi = digits(p, 2);
    if (mi < 0 || *(*p)++ != ':')
        return fail(err, size, text, "expected HH:MM:SS after the day");
    int s = digits(p, 2);
    if (s < 0)
        return fail(err, size, text, "expected HH:MM:SS after the day");
    /* A leap second (60) is taken as the instant it ends at. */
    if (h > 23 || mi > 59 || s > 60)
        return fail(err, size, text, "no such time of day");
    double frac = 0, scale = 0.1;
    if (**p == '.') {
        (*p)++;
        if (**p < '0' || **p > '9')
            return fail(err, size, text, "expected digits after '.'");
        for (int i = 0; **p >= '0' && **p <= '9'; i++, (*p)++) {
            if (i >= 9)
                return fail(err, size, text, "more than 9 digits of a second");
            frac += (**p - '0') * scale;
            scale /= 10;
        }
    }
    *secs = h * 3600.0 + mi * 60.0 + s + frac;
    return true;
}

/* "Z" or "+HH:MM" / "-HH:MM" at *p: seconds east of UTC. */
static bool parse_offset(const char **p, double *east, const char *text, char *err, size_t size)
{
    char c = **p;
    if (c == 'Z' || c == 'z') {
        (*p)++;
        *east = 0;
        return true;
    }
    if (c != '+' && c != '-')
        return fail(err, size, text, "expected Z or an offset (+HH:MM, -HH:MM) after the time");
    (*p)++;
    int h = digits(p, 2);
    if (h < 0 || *(*p)++ != ':')
        return fail(err, size, text, "expected an offset +HH:MM or -HH:MM");
    int m = digits(p, 2);
    if (m < 0 || h > 23 || m > 59)
        return fail(err, size, text, "expected an offset +HH:MM or -HH:MM");
    *east = (c == '-' ? -1 : 1) * (h * 3600.0 + m * 60.0);
    return true;
}

bool bosun_date_parse(const char *text, bool end_of_day, double *out, char *err, size_t err_size)
{
    if (!text)
        return fail(err, err_size, "", "missing");
    if (strnlen(text, DATE_TEXT_MAX + 1) > DATE_TEXT_MAX)
        return fail(err, err_size, text, "too long");
    const char *p = text;
    long day;
    if (!parse_day(&p, &day, text, err, err_size))
        return false;
    if (*p == '\0') {
        *out = (double)(day + (end_of_day ? 1 : 0)) * 86400.0;
        return true;
    }
    if (*p != 'T' && *p != 't' && *p != ' ')
        return fail(err, err_size, text, "expected 'T' and a time after the day");
    p++;
    double secs, east;
    if (!parse_clock(&p, &secs, text, err, err_size) ||
        !parse_offset(&p, &east, text, err, err_size))
        return false;
    if (*p != '\0')
        return fail(err, err_size, text, "unexpected text after the time");
    double t = (double)day * 86400.0 + secs - east;
    if (t < 0)
        return fail(err, err_size, text, "before 1970-01-01T00:00:00Z");
    *out = t;
    return true;
}
