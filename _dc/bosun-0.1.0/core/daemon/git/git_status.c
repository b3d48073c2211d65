#include "config.h"

#include "git_status.h"

#include <bosun/codec.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *git_path_json(const char *s, size_t n)
{
    if (bosun_utf8_text(s, n))
        return json_stringn(s, n);
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = bosun_utf8_next(s + i, n - i, &cp);
        if (k == 0 || cp == 0) {
            copy[i++] = '?';
            continue;
        }
        memcpy(copy + i, s + i, k);
        i += k;
    }
    json_t *j = json_stringn(copy, n);
    free(copy);
    return j;
}

/* The records of one output: NUL-terminated, read in order. */
typedef struct reader {
    const char *buf;
    size_t len, pos;
    bool bad; /* the last record lacks its NUL */
} reader;

/* The next record's start and length; false at the end or at a record
 * without its NUL (bad set). */
static bool next_record(reader *rd, const char **rec, size_t *n)
{
    if (rd->pos >= rd->len)
        return false;
    const char *nul = memchr(rd->buf + rd->pos, '\0', rd->len - rd->pos);
    if (!nul) {
        rd->bad = true;
        return false;
    }
    *rec = rd->buf + rd->pos;
    *n = (size_t)(nul - *rec);
    rd->pos += *n + 1;
    return true;
}

/* Past n fields, each non-empty and followed by one space; NULL when the
 * record has fewer. */
static const char *skip_fields(const char *p, const char *end, int n)
{
    for (int i = 0; i < n; i++) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        if (!sp || sp == p)
            return NULL;
        p = sp + 1;
    }
    return p;
}

static bool xy_ok(const char *xy)
{
    for (int i = 0; i < 2; i++)
        if (!strchr(".MTADRCU", xy[i]) || xy[i] == '\0')
            return false;
    return true;
}

static bool path_ok(const char *p, size_t n)
{
    return n > 0 && n <= GIT_PATH_MAX;
}

static json_t *entry(const char *path, size_t n, const char *xy)
{
    json_t *e = json_object();
    json_object_set_new(e, "path", git_path_json(path, n));
    json_object_set_new(e, "status", json_stringn(xy, 2));
    return e;
}

static json_t *fail(json_t *list, char *err, size_t err_size, const char *what, size_t at)
{
    snprintf(err, err_size, "%s (record at byte %zu)", what, at);
    json_decref(list);
    return NULL;
}

/* Fields before the path: "1" and 7 more, "2" and 8, "u" and 9. */
static int fields_before_path(char type)
{
    return type == '1' ? 8 : type == '2' ? 9 : 10;
}

/* One porcelain v2 record (and the source path after a rename's): true
 * with *e (NULL for a header), false with *why. */
static bool status_record(reader *rd, const char *rec, size_t n, json_t **e, const char **why)
{
    const char *end = rec + n;
    if (n >= 1 && rec[0] == '#')
        return true; /* a header (--branch, --show-stash) */
    if (n >= 3 && (rec[0] == '?' || rec[0] == '!') && rec[1] == ' ') {
        if (!path_ok(rec + 2, n - 2))
            return *why = "bad path", false;
        *e = entry(rec + 2, n - 2, rec[0] == '?' ? "??" : "!!");
        return true;
    }
    if (n < 5 || !strchr("12u", rec[0]) || rec[1] != ' ')
        return *why = "unknown record type", false;
    char xy[3] = {rec[2], rec[3], '\0'};
    if (!xy_ok(xy) || rec[4] != ' ')
        return *why = "bad XY status", false;
    const char *path = skip_fields(rec, end, fields_before_path(rec[0]));
    if (!path || !path_ok(path, (size_t)(end - path)))
        return *why = "too few fields or a bad path", false;
    const char *orig = NULL;
    size_t orig_n = 0;
    if (rec[0] == '2' && (!next_record(rd, &orig, &orig_n) || !path_ok(orig, orig_n)))
        return *why = "a rename without its source path", false;
    *e = entry(path, (size_t)(end - path), xy);
    if (orig)
        json_object_set_new(*e, "orig", git_path_json(orig, orig_n));
    return true;
}

typedef bool (*record_fn)(reader *rd, const char *rec, size_t n, json_t **e, const char **why);

/* Every record through one, at most max entries listed. */
static json_t *parse_all(const char *buf, size_t len, size_t max, bool *cut, char *err,
                         size_t err_size, record_fn one)
{
    reader rd = {.buf = buf, .len = len};
    json_t *list = json_array();
    const char *rec;
    size_t n;
    *cut = false;
    while (next_record(&rd, &rec, &n)) {
        json_t *e = NULL;
        const char *why = "";
        if (!one(&rd, rec, n, &e, &why))
            return fail(list, err, err_size, why, (size_t)(rec - buf));
        if (e && json_array_size(list) >= max) {
            *cut = true;
            json_decref(e);
        } else if (e) {
            json_array_append_new(list, e);
        }
    }
    if (rd.bad)
        return fail(list, err, err_size, "a record without its NUL", rd.pos);
    return list;
}

json_t *git_status_parse(const char *buf, size_t len, size_t max, bool *cut, char *err,
                         size_t err_size)
{
    return parse_all(buf, len, max, cut, err, err_size, status_record);
}

/* "-" (binary: null) or a decimal count below 10^15. */
static bool count_field(const char *p, size_t n, json_t **out)
{
    if (n == 1 && p[0] == '-') {
        *out = json_null();
        return true;
    }
    if (n == 0 || n > 15)
        return false;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = json_integer(v);
    return true;
}

static bool numstat_counts(const char *rec, size_t n, json_t *e, const char **rest)
{
    const char *end = rec + n, *t1 = memchr(rec, '\t', n);
    const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(end - t1 - 1)) : NULL;
    json_t *a, *d;
    if (!t2 || !count_field(rec, (size_t)(t1 - rec), &a))
        return false;
    if (!count_field(t1 + 1, (size_t)(t2 - t1 - 1), &d)) {
        json_decref(a);
        return false;
    }
    json_object_set_new(e, "added", a);
    json_object_set_new(e, "deleted", d);
    *rest = t2 + 1;
    return true;
}

/* "ADDED\tDELETED\tPATH", or for a rename "ADDED\tDELETED\t" and the
 * source and the path in records of their own. */
static bool numstat_record(reader *rd, const char *rec, size_t n, json_t **e, const char **why)
{
    json_t *x = json_object();
    const char *path;
    if (!numstat_counts(rec, n, x, &path)) {
        json_decref(x);
        return *why = "bad counts", false;
    }
    size_t path_n = (size_t)(rec + n - path);
    if (path_n == 0) {
        const char *orig;
        size_t orig_n;
        if (!next_record(rd, &orig, &orig_n) || !path_ok(orig, orig_n) ||
            !next_record(rd, &path, &path_n)) {
            json_decref(x);
            return *why = "a rename without its paths", false;
        }
        json_object_set_new(x, "orig", git_path_json(orig, orig_n));
    }
    if (!path_ok(path, path_n)) {
        json_decref(x);
        return *why = "bad path", false;
    }
    json_object_set_new(x, "path", git_path_json(path, path_n));
    *e = x;
    return true;
}

json_t *git_numstat_parse(const char *buf, size_t len, size_t max, bool *cut, char *err,
                          size_t err_size)
{
    return parse_all(buf, len, max, cut, err, err_size, numstat_record);
}
