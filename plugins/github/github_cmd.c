/* The bus commands about linked pull requests (bosun-bus(7)):
 *
 *   cmd.github.prs        {task}                 -> {items: [pr...]}
 *   cmd.github.prs.link   {task, repo, number}   -> {pr}, publishing
 *                         evt.pr.<task>.linked as the MCP tool link_pr does
 *   cmd.github.prs.diff   {task, number, repo?}  -> {diff} or
 *                         {diff_base64url} (a diff that is not UTF-8),
 *                         truncated
 *   cmd.github.prs.files  {task, number, repo?}  -> {items, truncated}
 *
 * The diff and the files are GitHub's, asked for at each call with the
 * kept ETag: an unchanged pull request costs a 304. */
#define _GNU_SOURCE
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/codec.h>
#include <bosun/crypto.h>

#include "github.h"

#define FILES_PAGES_MAX 30 /* 3000 files at 100 a page: GitHub's own bound */

static void reply_error(bus_t *bus, const bus_msg *msg, const char *code, const char *text)
{
    if (!msg->reply)
        return;
    json_t *e = bus_error_json(code, "%s", text);
    bus_reply(bus, msg, e);
    json_decref(e);
}

static bool task_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= GITHUB_TASK_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* "owner/repo" into its parts; false when it is not one. */
static bool split_repo(const char *full, char *owner, size_t osize, char *repo, size_t rsize)
{
    const char *slash = full ? strchr(full, '/') : NULL;
    if (!slash || (size_t)(slash - full) >= osize || strlen(slash + 1) >= rsize)
        return false;
    snprintf(owner, osize, "%.*s", (int)(slash - full), full);
    snprintf(repo, rsize, "%s", slash + 1);
    return github_login_valid(owner) && github_repo_valid(repo);
}

static bool number_ok(const json_t *v, long long *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 999999999999LL)
        return false;
    *out = json_integer_value(v);
    return true;
}

static bool only_keys(const json_t *o, const char *const *keys)
{
    const char *k;
    json_t *v;
    if (!json_is_object(o))
        return false;
    json_object_foreach((json_t *)o, k, v)
    {
        bool known = false;
        for (size_t i = 0; keys[i] && !known; i++)
            known = strcmp(k, keys[i]) == 0;
        if (!known)
            return false;
    }
    return true;
}

/* The PR a request names, or NULL after an error reply. */
static github_pr *named_pr(github *g, const bus_msg *msg)
{
    static const char *const keys[] = {"task", "number", "repo", NULL};
    const char *task = json_string_value(json_object_get(msg->data, "task"));
    const char *full = json_string_value(json_object_get(msg->data, "repo"));
    char owner[GITHUB_LOGIN_MAX + 1], repo[GITHUB_REPO_MAX + 1];
    long long number;
    int matches;
    if (!only_keys(msg->data, keys) || !task_ok(task) ||
        !number_ok(json_object_get(msg->data, "number"), &number) ||
        (json_object_get(msg->data, "repo") &&
         !split_repo(full, owner, sizeof owner, repo, sizeof repo))) {
        reply_error(g->ctx->bus, msg, "bad_request",
                    "expected {\"task\": ID, \"number\": N, \"repo\"?: \"OWNER/REPO\"}");
        return NULL;
    }
    github_pr *pr = github_pr_find(g, task, full ? owner : NULL, repo, number, &matches);
    if (matches > 1) {
        reply_error(g->ctx->bus, msg, "bad_request",
                    "the task has pull requests of that number in several repositories; name "
                    "the repository");
        return NULL;
    }
    if (!pr)
        reply_error(g->ctx->bus, msg, "not_found", "no such pull request linked to the task");
    return pr;
}

/* ------------------------------------------------------------ list */

static void on_list(bus_t *bus, const bus_msg *msg, void *arg)
{
    github *g = arg;
    static const char *const keys[] = {"task", NULL};
    const char *task = json_string_value(json_object_get(msg->data, "task"));
    if (!only_keys(msg->data, keys) || (json_object_get(msg->data, "task") && !task_ok(task)))
        return reply_error(bus, msg, "bad_request", "expected {\"task\"?: ID}");
    json_t *items = json_array();
    size_t pos = 0;
    github_pr *pr;
    while ((pr = hmap_next(&g->prs, &pos, NULL)) != NULL)
        if (!task || strcmp(github_pr_task(pr), task) == 0)
            json_array_append_new(items, github_pr_json(pr));
    json_t *reply = json_pack("{s:o}", "items", items);
    if (msg->reply)
        bus_reply(bus, msg, reply);
    json_decref(reply);
}

/* ------------------------------------------------------------ link */

static void on_link(bus_t *bus, const bus_msg *msg, void *arg)
{
    github *g = arg;
    static const char *const keys[] = {"task", "repo", "number", NULL};
    const char *task = json_string_value(json_object_get(msg->data, "task"));
    const char *full = json_string_value(json_object_get(msg->data, "repo"));
    char owner[GITHUB_LOGIN_MAX + 1], repo[GITHUB_REPO_MAX + 1];
    long long number;
    if (!only_keys(msg->data, keys) || !task_ok(task) ||
        !number_ok(json_object_get(msg->data, "number"), &number) ||
        !split_repo(full, owner, sizeof owner, repo, sizeof repo))
        return reply_error(bus, msg, "bad_request",
                           "expected {\"task\": ID, \"repo\": \"OWNER/REPO\", \"number\": N}");
    github_pr *pr = github_pr_follow(g, task, owner, repo, number, NULL, true);
    if (!pr)
        return reply_error(bus, msg, "busy", "github.max_prs pull requests are followed already");
    json_t *data = github_pr_json(pr);
    json_t *event = json_pack("{s:s,s:n,s:O,s:s,s:s,s:I}", "task", task, "run", "url",
                              json_object_get(data, "url"), "owner", owner, "repo", repo, "number",
                              (json_int_t)number);
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.pr.%s.linked", task);
    bus_publish_new(bus, subject, NULL, event);
    log_info("github: %s/%s#%lld linked to task %s", owner, repo, number, task);
    if (msg->reply)
        bus_reply(bus, msg, data);
    json_decref(data);
}

/* evt.pr.<task>.linked from the MCP tool (or from on_link itself, then a
 * no-op): the PR is followed from now on. */
static void on_linked(bus_t *bus, const bus_msg *msg, void *arg)
{
    (void)bus;
    github *g = arg;
    const char *task = json_string_value(json_object_get(msg->data, "task"));
    const char *owner = json_string_value(json_object_get(msg->data, "owner"));
    const char *repo = json_string_value(json_object_get(msg->data, "repo"));
    long long number;
    if (task_ok(task) && owner && github_login_valid(owner) && repo && github_repo_valid(repo) &&
        number_ok(json_object_get(msg->data, "number"), &number))
        github_pr_follow(g, task, owner, repo, number, NULL, true);
}

/* ------------------------------------------------------------ diff, files */

typedef struct fetch {
    github *g;
    char reply[BUS_SUBJECT_MAX];
    json_t *items; /* files */
    int pages;
    bool truncated;
} fetch;

static fetch *fetch_new(github *g, const bus_msg *msg)
{
    fetch *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->g = g;
    snprintf(f->reply, sizeof f->reply, "%s", msg->reply ? msg->reply : "");
    return f;
}

static void fetch_reply(fetch *f, json_t *data)
{
    if (f->reply[0] && data) {
        bus_msg m = {.reply = f->reply};
        bus_reply(f->g->ctx->bus, &m, data);
    }
    json_decref(data);
    json_decref(f->items);
    free(f);
}

static json_t *upstream_error(const github_response *r)
{
    if (r->status == 0)
        return bus_error_json("bad_gateway", "GitHub did not answer: %s", r->error);
    if (r->status == 404)
        return bus_error_json("not_found", "GitHub knows no such pull request (404)");
    if (r->status == 403 || r->status == 429)
        return bus_error_json("rate_limited", "GitHub refused the request (%ld)", r->status);
    return bus_error_json("bad_gateway", "GitHub answered %ld", r->status);
}

static void on_diff(const github_response *r, void *arg)
{
    fetch *f = arg;
    if (r->status != 200)
        return fetch_reply(f, upstream_error(r));
    json_t *out =
        json_pack("{s:b,s:b}", "truncated", r->truncated, "not_modified", r->not_modified);
    if (bosun_utf8_text(r->body, r->len))
        json_object_set_new(out, "diff", json_stringn(r->body, r->len));
    else {
        size_t size = 4 * (r->len / 3 + 1) + 1;
        char *b = malloc(size);
        if (b) {
            bosun_base64url_encode(r->body, r->len, b, size);
            json_object_set_new(out, "diff_base64url", json_string(b));
        }
        free(b);
    }
    fetch_reply(f, out);
}

static void on_diff_cmd(bus_t *bus, const bus_msg *msg, void *arg)
{
    (void)bus;
    github *g = arg;
    github_pr *pr = named_pr(g, msg);
    fetch *f = pr ? fetch_new(g, msg) : NULL;
    if (!pr)
        return;
    json_t *num = json_object_get(msg->data, "number");
    char tail[64], url[GITHUB_URL_BUF];
    snprintf(tail, sizeof tail, "/pulls/%" JSON_INTEGER_FORMAT, json_integer_value(num));
    github_pr_api_url(pr, tail, url, sizeof url);
    if (!f || !github_api_get(g->api, url, GITHUB_DIFF, GITHUB_BODY_MAX, on_diff, f)) {
        if (f)
            fetch_reply(f, bus_error_json("busy", "the queue of requests to GitHub is full"));
        else
            reply_error(bus, msg, "internal", "out of memory");
    }
}

static void on_files(const github_response *r, void *arg)
{
    fetch *f = arg;
    if (r->status != 200)
        return fetch_reply(f, upstream_error(r));
    json_t *page = bosun_json_parse(r->body, r->len, 0, NULL);
    int rc = github_parse_files(page, f->items);
    json_decref(page);
    if (rc < 0)
        return fetch_reply(f, bus_error_json("bad_gateway", "GitHub's answer is not a list"));
    char next[GITHUB_URL_BUF];
    f->truncated = f->truncated || r->truncated || rc > 0;
    if (rc == 0 && r->link && github_link_next(r->link, f->g->cfg.api_url, next, sizeof next)) {
        if (++f->pages >= FILES_PAGES_MAX)
            f->truncated = true;
        else if (github_api_get(f->g->api, next, GITHUB_JSON, GITHUB_BODY_MAX, on_files, f))
            return;
        else
            f->truncated = true;
    }
    json_t *out = json_pack("{s:O,s:b}", "items", f->items, "truncated", f->truncated);
    fetch_reply(f, out);
}

static void on_files_cmd(bus_t *bus, const bus_msg *msg, void *arg)
{
    github *g = arg;
    github_pr *pr = named_pr(g, msg);
    fetch *f = pr ? fetch_new(g, msg) : NULL;
    if (!pr)
        return;
    if (!f || !(f->items = json_array()))
        return f ? fetch_reply(f, bus_error_json("internal", "out of memory"))
                 : reply_error(bus, msg, "internal", "out of memory");
    json_t *num = json_object_get(msg->data, "number");
    char tail[80], url[GITHUB_URL_BUF];
    snprintf(tail, sizeof tail, "/pulls/%" JSON_INTEGER_FORMAT "/files?per_page=100",
             json_integer_value(num));
    github_pr_api_url(pr, tail, url, sizeof url);
    if (!github_api_get(g->api, url, GITHUB_JSON, GITHUB_BODY_MAX, on_files, f))
        fetch_reply(f, bus_error_json("busy", "the queue of requests to GitHub is full"));
}

/* ------------------------------------------------------------ status */

static void on_status(bus_t *bus, const bus_msg *msg, void *arg)
{
    github *g = arg;
    const github_api_stats *s = github_api_stats_get(g->api);
    json_t *rate = s->known ? json_pack("{s:I,s:I,s:f}", "limit", (json_int_t)s->limit, "remaining",
                                        (json_int_t)s->remaining, "reset", s->reset)
                            : json_null();
    json_t *st =
        json_pack("{s:s,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b}", "api_url",
                  g->cfg.api_url, "rate", rate, "requests", (json_int_t)s->requests, "conditional",
                  (json_int_t)s->conditional, "not_modified", (json_int_t)s->not_modified,
                  "failures", (json_int_t)s->failures, "primary_limits", (json_int_t)s->primary,
                  "secondary_limits", (json_int_t)s->secondary, "queued", (json_int_t)s->queued,
                  "inflight", (json_int_t)s->inflight, "cached", (json_int_t)s->cached, "prs",
                  (json_int_t)hmap_count(&g->prs), "refreshes", (json_int_t)g->refreshes, "updates",
                  (json_int_t)g->updates, "webhooks_accepted", (json_int_t)g->hooks_accepted,
                  "webhooks_refused", (json_int_t)g->hooks_refused, "webhooks",
                  g->cfg.webhook_secret != NULL);
    json_object_set_new(st, "held_until",
                        s->held_until > 0 ? json_real(s->held_until) : json_null());
    /* Whether "Sign in with GitHub" can work: the login page asks. */
    json_object_set_new(st, "login",
                        json_boolean(g->cfg.client_id != NULL && g->cfg.client_secret != NULL));
    if (msg->reply)
        bus_reply(bus, msg, st);
    json_decref(st);
}

/* ------------------------------------------------------------ table */

int github_pr_commands(github *g)
{
    static const struct {
        const char *subject;
        bus_handler fn;
    } table[] = {
        {"cmd.github.prs", on_list},          {"cmd.github.prs.link", on_link},
        {"cmd.github.prs.diff", on_diff_cmd}, {"cmd.github.prs.files", on_files_cmd},
        {"cmd.github.status", on_status},     {"evt.pr.*.linked", on_linked},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        if (g->n_subs >= sizeof g->subs / sizeof *g->subs)
            return -1;
        bus_sub *s = bus_subscribe(g->ctx->bus, table[i].subject, table[i].fn, g);
        if (!s)
            return -1;
        g->subs[g->n_subs++] = s;
    }
    return 0;
}
