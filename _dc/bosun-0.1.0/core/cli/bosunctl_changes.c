/* bosunctl changes RUN [--diff]: the latest change snapshot of a run
 * (evt.run.AGENT.RUN.changes, bosun-bus(7)) from the store's events: the
 * paths with their git status and line counts, and with --diff the diff. */
#include "config.h"

#include "bosunctl.h"

#include <stdio.h>
#include <string.h>

#include <bosun/bus.h>
#include <bosun/store.h>

/* The numstat entry of path, or NULL. */
static const json_t *counts_of(const json_t *numstat, const char *path)
{
    size_t i;
    const json_t *e;
    json_array_foreach(numstat, i, e)
    {
        const char *p = json_string_value(json_object_get(e, "path"));
        if (p && strcmp(p, path) == 0)
            return e;
    }
    return NULL;
}

static void print_counts(const json_t *e)
{
    const json_t *a = json_object_get(e, "added"), *d = json_object_get(e, "deleted");
    if (json_is_integer(a) && json_is_integer(d))
        printf(" +%lld -%lld", (long long)json_integer_value(a), (long long)json_integer_value(d));
    else if (e)
        printf(" (binary)");
}

static void print_file(const char *status, const json_t *e, const json_t *counts)
{
    const char *orig = json_string_value(json_object_get(e, "orig"));
    printf("%-3s %s", status, json_string_value(json_object_get(e, "path")));
    if (orig)
        printf(" (from %s)", orig);
    print_counts(counts);
    putchar('\n');
}

static void print_snapshot(const json_t *d, const opts *o)
{
    const json_t *files = json_object_get(d, "files"), *numstat = json_object_get(d, "numstat");
    const char *base = json_string_value(json_object_get(d, "base"));
    const char *head = json_string_value(json_object_get(d, "head"));
    printf("run %s: %zu uncommitted, +%lld -%lld since %.12s%s%.12s%s\n",
           json_string_value(json_object_get(d, "run")), json_array_size(files),
           (long long)json_integer_value(json_object_get(d, "added")),
           (long long)json_integer_value(json_object_get(d, "deleted")), base ? base : "?",
           head ? " (HEAD " : "", head ? head : "", head ? ")" : "");
    size_t i;
    const json_t *e;
    json_array_foreach(files, i, e)
    {
        const char *path = json_string_value(json_object_get(e, "path"));
        print_file(json_string_value(json_object_get(e, "status")), e,
                   path ? counts_of(numstat, path) : NULL);
    }
    /* Changed since base but committed: in the counts, not in the status. */
    json_array_foreach(numstat, i, e)
    {
        const char *path = json_string_value(json_object_get(e, "path"));
        bool listed = false;
        size_t k;
        const json_t *f;
        json_array_foreach(files, k, f)
        {
            const char *fp = json_string_value(json_object_get(f, "path"));
            listed = listed || (fp && path && strcmp(fp, path) == 0);
        }
        if (!listed)
            print_file("c", e, e);
    }
    if (json_is_true(json_object_get(d, "files_truncated")) ||
        json_is_true(json_object_get(d, "numstat_truncated")))
        printf("(more paths changed than a snapshot lists)\n");
    if (!o->diff)
        return;
    const char *diff = json_string_value(json_object_get(d, "diff"));
    if (diff && diff[0])
        fputs(diff, stdout);
    if (json_is_true(json_object_get(d, "diff_truncated")))
        fprintf(stderr, "bosunctl: the diff was cut at %lld bytes (changes.diff_max)\n",
                (long long)json_integer_value(json_object_get(d, "diff_max")));
}

int cmd_changes(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 1)
        return die(EX_USAGE_, "usage: bosunctl changes RUN [--diff]");
    const char *id = argv[0];
    if (bus_subject_check(id) != 0 || strchr(id, '.'))
        return die(EX_USAGE_, "'%s' is not a run id", id);
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.run.*.%s.changes", id);
    json_t *q = json_pack("{s:s,s:s,s:i}", "subject", subject, "run", id, "tail", 1);
    machine_option(o, q);
    int rc = 0;
    json_t *r = bus_call(conn, BOSUN_STORE_EVENTS, q, 30, &rc);
    if (!r)
        return rc;
    json_t *ev = json_array_get(json_object_get(r, "events"), 0);
    if (!ev) {
        json_decref(r);
        return die(1,
                   "run %s has no change snapshot (no run, no git work tree, or nothing "
                   "changed yet)",
                   id);
    }
    if (o->json)
        print_json(ev);
    else
        print_snapshot(json_object_get(ev, "data"), o);
    json_decref(r);
    return 0;
}
