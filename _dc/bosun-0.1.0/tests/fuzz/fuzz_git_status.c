/* libFuzzer target for the parsers of git's output in a change snapshot
 * (core/daemon/git/git_status.c): `git status --porcelain=v2 -z` and
 * `git diff --numstat -z`, which an agent's work tree shapes (its paths).
 *
 * The first byte picks the bound on entries (0 to 7), the rest is the
 * text, given to both parsers and to git_path_json.  A refusal must say
 * why; an acceptance gives at most max entries, each with a non-empty
 * path string, a two-letter status of porcelain v2's alphabet (status) or
 * counts that are null or non-negative (numstat), "cut" set exactly when
 * more records were there; no more entries than NUL-terminated records.
 * git_path_json always gives a string of exactly the input's length. */
#include "config.h"

#include "git_status.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_git_status: check failed: %s (line %d)\n", #cond, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static size_t records(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\0';
    return k;
}

static void check_path(const json_t *e, const char *key)
{
    const json_t *p = json_object_get(e, key);
    CHECK(json_is_string(p));
    CHECK(json_string_length(p) > 0 && json_string_length(p) <= GIT_PATH_MAX);
}

typedef json_t *(*parse_fn)(const char *, size_t, size_t, bool *, char *, size_t);

/* The list, NULL after checking the refusal; the bounds hold. */
static json_t *parse_checked(parse_fn parse, const char *s, size_t n, size_t max)
{
    bool cut = false;
    char err[256] = "";
    json_t *list = parse(s, n, max, &cut, err, sizeof err);
    if (!list) {
        CHECK(err[0]);
        return NULL;
    }
    CHECK(json_array_size(list) <= max);
    CHECK(json_array_size(list) <= records(s, n));
    CHECK(!cut || json_array_size(list) == max);
    return list;
}

static void check_status(const char *s, size_t n, size_t max)
{
    json_t *list = parse_checked(git_status_parse, s, n, max);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        check_path(e, "path");
        const char *xy = json_string_value(json_object_get(e, "status"));
        CHECK(xy && strlen(xy) == 2);
        CHECK(strcmp(xy, "??") == 0 || strcmp(xy, "!!") == 0 ||
              (strchr(".MTADRCU", xy[0]) && strchr(".MTADRCU", xy[1])));
        if (json_object_get(e, "orig"))
            check_path(e, "orig");
    }
    json_decref(list);
}

static void check_numstat(const char *s, size_t n, size_t max)
{
    json_t *list = parse_checked(git_numstat_parse, s, n, max);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        check_path(e, "path");
        const json_t *a = json_object_get(e, "added"), *d = json_object_get(e, "deleted");
        CHECK(json_is_null(a) || (json_is_integer(a) && json_integer_value(a) >= 0));
        CHECK(json_is_null(d) || (json_is_integer(d) && json_integer_value(d) >= 0));
    }
    json_decref(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max = data[0] & 7;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    check_status(s, n, max);
    check_numstat(s, n, max);
    json_t *p = git_path_json(s, n);
    CHECK(json_is_string(p) && json_string_length(p) == n);
    json_decref(p);
    return 0;
}
