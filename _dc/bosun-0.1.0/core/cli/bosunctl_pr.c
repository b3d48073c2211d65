/* bosunctl pr list TASK | pr show TASK N | pr diff TASK N: a task's
 * linked GitHub pull requests, as the github plugin keeps them
 * (cmd.github.prs, cmd.github.prs.diff; bosun-github(7)). */
#include "config.h"

#include "bosunctl.h"
#include "ctl_output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/crypto.h>

static const char *field(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* The number argument: a positive integer, or 0 after the usage error. */
static long long pr_number(const char *s)
{
    char *end;
    long long n = strtoll(s, &end, 10);
    return *s && *end == '\0' && n > 0 && n <= 999999999999LL ? n : 0;
}

static json_t *prs_of(ctl_conn *conn, const char *task, int *rc)
{
    json_t *d = bus_call(conn, "cmd.github.prs", json_pack("{s:s}", "task", task), 30, rc);
    if (!d)
        return NULL;
    json_t *items = json_incref(json_object_get(d, "items"));
    json_decref(d);
    if (!json_is_array(items)) {
        json_decref(items);
        *rc = die(1, "the daemon's reply has no items list");
    }
    return items;
}

static int pr_list(ctl_conn *conn, const opts *o, const char *task)
{
    int rc = 0;
    json_t *items = prs_of(conn, task, &rc);
    if (!items)
        return rc;
    if (o->json) {
        print_json(items);
        json_decref(items);
        return 0;
    }
    static const char *const headers[] = {"NUMBER", "REPO",  "STATE", "CHECKS",
                                          "REVIEW", "TITLE", NULL};
    table *tb = table_new(headers);
    size_t i;
    json_t *v;
    json_array_foreach(items, i, v)
    {
        const json_t *m = json_object_get(v, "pr");
        char number[32], repo[160];
        snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(v, "number")));
        snprintf(repo, sizeof repo, "%s/%s", or_dash(field(v, "owner")), or_dash(field(v, "repo")));
        const char *row[] = {number,
                             repo,
                             json_is_object(m) ? or_dash(field(m, "state")) : "(not fetched)",
                             or_dash(field(json_object_get(m, "checks"), "conclusion")),
                             or_dash(field(m, "review_decision")),
                             or_dash(field(m, "title")),
                             NULL};
        table_add_row(tb, row);
    }
    table_print(tb, stdout);
    table_free(tb);
    json_decref(items);
    return 0;
}

static void show_line(const char *key, const char *value)
{
    printf("%-16s%s\n", key, or_dash(value));
}

static int pr_show(ctl_conn *conn, const opts *o, const char *task, long long number)
{
    int rc = 0;
    json_t *items = prs_of(conn, task, &rc);
    if (!items)
        return rc;
    size_t i;
    json_t *v, *hit = NULL;
    json_array_foreach(items, i, v) if (json_integer_value(json_object_get(v, "number")) == number)
        hit = v;
    if (!hit) {
        json_decref(items);
        return die(1, "task %s has no linked pull request %lld", task, number);
    }
    if (o->json) {
        print_json(hit);
        json_decref(items);
        return 0;
    }
    const json_t *m = json_object_get(hit, "pr");
    const json_t *checks = json_object_get(m, "checks"), *status = json_object_get(m, "status");
    char checks_text[128] = "-", fetched[32];
    if (json_is_object(checks))
        snprintf(checks_text, sizeof checks_text,
                 "%s (%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
                 " passed, %" JSON_INTEGER_FORMAT " failed, %" JSON_INTEGER_FORMAT " pending)",
                 or_dash(field(checks, "conclusion")),
                 json_integer_value(json_object_get(checks, "success")),
                 json_integer_value(json_object_get(checks, "total")),
                 json_integer_value(json_object_get(checks, "failure")),
                 json_integer_value(json_object_get(checks, "pending")));
    format_time(json_object_get(hit, "fetched_at"), fetched, sizeof fetched);
    show_line("url:", field(hit, "url"));
    show_line("title:", field(m, "title"));
    show_line("state:", field(m, "state"));
    show_line("draft:", json_is_true(json_object_get(m, "draft")) ? "yes" : "no");
    show_line("author:", field(m, "author"));
    show_line("head:", field(json_object_get(m, "head"), "ref"));
    show_line("base:", field(json_object_get(m, "base"), "ref"));
    show_line("mergeable:", json_is_boolean(json_object_get(m, "mergeable"))
                                ? (json_is_true(json_object_get(m, "mergeable")) ? "yes" : "no")
                                : "unknown");
    show_line("checks:", checks_text);
    show_line("status:", field(status, "state"));
    show_line("review:", field(m, "review_decision"));
    show_line("fetched:", fetched);
    json_decref(items);
    return 0;
}

static int pr_diff(ctl_conn *conn, const char *task, long long number)
{
    int rc = 0;
    json_t *d =
        bus_call(conn, "cmd.github.prs.diff",
                 json_pack("{s:s,s:I}", "task", task, "number", (json_int_t)number), 60, &rc);
    if (!d)
        return rc;
    const json_t *text = json_object_get(d, "diff");
    const char *b64 = field(d, "diff_base64url");
    if (json_is_string(text))
        fwrite(json_string_value(text), 1, json_string_length(text), stdout);
    else if (b64) {
        size_t n = strlen(b64);
        unsigned char *raw = malloc(n / 4 * 3 + 3);
        long len = raw ? bosun_base64url_decode(b64, n, raw, n / 4 * 3 + 3) : -1;
        if (len >= 0)
            fwrite(raw, 1, (size_t)len, stdout);
        free(raw);
    }
    if (json_is_true(json_object_get(d, "truncated")))
        fprintf(stderr, "bosunctl: the diff was cut at the github plugin's bound\n");
    json_decref(d);
    return 0;
}

int cmd_pr(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    long long n = argc == 3 ? pr_number(argv[2]) : 0;
    if (strcmp(sub, "list") == 0 && argc == 2)
        return pr_list(conn, o, argv[1]);
    if (strcmp(sub, "show") == 0 && n > 0)
        return pr_show(conn, o, argv[1], n);
    if (strcmp(sub, "diff") == 0 && n > 0)
        return pr_diff(conn, argv[1], n);
    return die(EX_USAGE_, "usage: bosunctl pr list TASK | pr show TASK N | pr diff TASK N");
}
