/* Bus requests -> REST calls, and REST replies -> the bus replies the
 * commands print (bosun-http(7) has the routes, bosun-bus(7) the
 * requests).  Only what the commands send is translated; any other subject
 * is "not available over --url". */
#include "config.h"

#include "ctl_http_int.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/approval.h>
#include <bosun/store.h>
#include <bosun/task.h>

#include "ctl_wire.h"

/* Pages of one list followed at most: 100 pages of the server's limit. */
#define MAP_PAGES_MAX 100

/* ------------------------------------------------------------ URLs */

typedef struct qs {
    char *s;
    size_t len;
} qs;

static void qs_add(qs *q, const char *key, const char *value)
{
    char *v = curl_easy_escape(NULL, value, 0);
    if (!v)
        util_oom(strlen(value) * 3 + 1);
    char *more = xasprintf("%s%s%s=%s", q->s ? q->s : "", q->s ? "&" : "", key, v);
    curl_free(v);
    free(q->s);
    q->s = more;
}

/* data[key], when a string or an integer or a boolean, as a parameter. */
static void qs_from(qs *q, json_t *data, const char *key)
{
    json_t *v = json_object_get(data, key);
    char num[32];
    if (json_is_string(v))
        qs_add(q, key, json_string_value(v));
    else if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        qs_add(q, key, num);
    } else if (json_is_boolean(v))
        qs_add(q, key, json_is_true(v) ? "true" : "false");
}

/* "/api/v1/<a>/<escaped id>[/<b>]" */
static char *path_of(const char *a, const char *id, const char *b)
{
    char *e = curl_easy_escape(NULL, id, 0);
    if (!e)
        util_oom(strlen(id) * 3 + 1);
    char *p = xasprintf("/api/v1/%s/%s%s%s", a, e, b ? "/" : "", b ? b : "");
    curl_free(e);
    return p;
}

/* POST /api/v1/<a>/<id>/<b> with body (borrowed; NULL: none). */
static json_t *post_to(ctl_http *h, const char *a, const char *id, const char *b, json_t *body,
                       double timeout, char *err, size_t err_size)
{
    char *path = path_of(a, id, b);
    json_t *v = http_json(h, "POST", path, NULL, body, timeout, err, err_size);
    free(path);
    return v;
}

/* data[from], when there, as body[to]. */
static void carry(json_t *body, json_t *data, const char *from, const char *to)
{
    json_t *v = json_object_get(data, from);
    if (v)
        json_object_set(body, to, v);
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int is_error(json_t *v)
{
    return json_is_object(json_object_get(v, "error"));
}

static int is_not_found(json_t *v)
{
    const char *code = str(json_object_get(v, "error"), "code");
    return code && strcmp(code, "not_found") == 0;
}

/* ------------------------------------------------------------ lists */

/* Every item of a list route, following "next" cursors, until `want`
 * items (0: all) or MAP_PAGES_MAX pages: the bus reply's key gets them. */
static json_t *list_all(ctl_http *h, const char *path, qs *base, const char *key, long want,
                        double timeout, char *err, size_t err_size)
{
    json_t *all = json_array();
    json_t *next = NULL;
    for (int page = 0; page < MAP_PAGES_MAX; page++) {
        qs q = {base->s ? xstrdup(base->s) : NULL, 0};
        if (json_is_string(next))
            qs_add(&q, "cursor", json_string_value(next));
        else if (json_is_integer(next)) {
            char num[32];
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(next));
            qs_add(&q, "cursor", num);
        }
        json_decref(next);
        next = NULL;
        json_t *v = http_json(h, "GET", path, q.s, NULL, timeout, err, err_size);
        free(q.s);
        if (!v || is_error(v)) {
            json_decref(all);
            return v;
        }
        json_array_extend(all, json_object_get(v, "items"));
        next = json_incref(json_object_get(v, "next"));
        json_decref(v);
        if (!next || json_is_null(next) || (want > 0 && (long)json_array_size(all) >= want))
            break;
    }
    json_decref(next);
    return json_pack("{s:o}", key, all);
}

static long limit_of(json_t *data)
{
    json_t *l = json_object_get(data, "limit");
    return json_is_integer(l) ? (long)json_integer_value(l) : 0;
}

/* A list route filtered by data's keys (those of them it holds), as the
 * bus reply {key: [...]}, up to data's "limit". */
static json_t *list_by(ctl_http *h, const char *path, json_t *data, const char *const *keys,
                       const char *key, double timeout, char *err, size_t err_size)
{
    qs q = {0};
    for (size_t i = 0; keys[i]; i++)
        qs_from(&q, data, keys[i]);
    json_t *v = list_all(h, path, &q, key, limit_of(data), timeout, err, err_size);
    free(q.s);
    return v;
}

/* GET /api/v1/<a>/<id> -> {"<member>": {...}} as the bus reply {key: [it]}
 * (none when there is no such thing), as the store answers for one id. */
static json_t *one_as_list(ctl_http *h, const char *a, const char *id, const char *member,
                           const char *key, double timeout, char *err, size_t err_size)
{
    char *path = path_of(a, id, NULL);
    json_t *v = http_json(h, "GET", path, NULL, NULL, timeout, err, err_size);
    free(path);
    if (!v || (is_error(v) && !is_not_found(v)))
        return v;
    json_t *list = json_array();
    if (json_is_object(json_object_get(v, member)))
        json_array_append(list, json_object_get(v, member));
    json_decref(v);
    return json_pack("{s:o}", key, list);
}

/* ------------------------------------------------------------ agents and runs */

static json_t *map_ps(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    qs q = {0};
    return list_all(h, "/api/v1/agents", &q, "rows", 0, timeout, err, err_size);
}

static json_t *map_start(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    const char *agent = str(data, "agent");
    if (!agent)
        return bus_error_json("bad_request", "'agent' is required");
    json_t *body = json_object();
    carry(body, data, "prompt", "prompt");
    carry(body, data, "task", "task");
    carry(body, data, "machine", "machine");
    json_t *v = post_to(h, "agents", agent, "start", body, timeout, err, err_size);
    json_decref(body);
    if (!v || is_error(v))
        return v;
    /* 201 {"run": <cmd.proc.start's reply>} */
    json_t *run = json_incref(json_object_get(v, "run"));
    json_decref(v);
    if (json_is_object(run))
        return run;
    json_decref(run);
    return bus_error_json("bad_reply", "the start reply has no 'run' object");
}

static json_t *run_verb(ctl_http *h, const char *run, const char *verb, double timeout, char *err,
                        size_t err_size)
{
    return post_to(h, "runs", run, verb, NULL, timeout, err, err_size);
}

/* POST /api/v1/agents/<agent>/<verb>: cmd.proc.<verb> of the agent's
 * name, as over the socket -- every active run of it, in one request. */
static json_t *agent_verb(ctl_http *h, const char *agent, const char *verb, double timeout,
                          char *err, size_t err_size)
{
    return post_to(h, "agents", agent, verb, NULL, timeout, err, err_size);
}

static json_t *stop_like(ctl_http *h, json_t *data, const char *verb, double timeout, char *err,
                         size_t err_size)
{
    const char *target = str(data, "target");
    if (!target)
        return bus_error_json("bad_request", "'target' (a run id or agent name) is required");
    /* A run id first, then an agent's name, as cmd.proc.stop looks. */
    json_t *v = run_verb(h, target, verb, timeout, err, err_size);
    if (!v || !is_not_found(v))
        return v;
    json_decref(v);
    return agent_verb(h, target, verb, timeout, err, err_size);
}

static json_t *map_stop(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    return stop_like(h, data, "stop", timeout, err, err_size);
}

static json_t *map_restart(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    return stop_like(h, data, "restart", timeout, err, err_size);
}

static json_t *map_runs(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    static const char *const keys[] = {"agent",   "task",   "active", "limit",
                                       "machine", "remote", NULL};
    if (str(data, "run"))
        return one_as_list(h, "runs", str(data, "run"), "run", "runs", timeout, err, err_size);
    return list_by(h, "/api/v1/runs", data, keys, "runs", timeout, err, err_size);
}

/* ------------------------------------------------------------ events */

/* cmd.store.events: "events", and "more" from "next".  A "tail" window
 * that did not fit one answer is "partial" (the server says so, or gives
 * a next cursor), read on from there with "since". */
static json_t *map_events(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    qs q = {0};
    int tail = json_object_get(data, "tail") != NULL;
    qs_from(&q, data, "subject");
    qs_from(&q, data, "machine");
    if (tail)
        qs_from(&q, data, "tail");
    else {
        qs_from(&q, data, "since");
        qs_from(&q, data, "limit");
    }
    json_t *v = http_json(h, "GET", "/api/v1/events", q.s, NULL, timeout, err, err_size);
    free(q.s);
    if (!v || is_error(v))
        return v;
    json_t *next = json_object_get(v, "next");
    int more = next && !json_is_null(next);
    json_t *items = json_object_get(v, "items");
    json_t *r =
        json_pack("{s:o,s:b}", "events", json_is_array(items) ? json_incref(items) : json_array(),
                  "more", tail ? 0 : more);
    if (json_is_integer(json_object_get(v, "last_seq")))
        json_object_set(r, "last_seq", json_object_get(v, "last_seq"));
    if (tail && (json_is_true(json_object_get(v, "partial")) || more))
        json_object_set_new(r, "partial", json_true());
    json_decref(v);
    return r;
}

/* ------------------------------------------------------------ tasks */

static json_t *map_tasks(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    static const char *const keys[] = {"status", "limit", "machine", NULL};
    if (str(data, "task"))
        return one_as_list(h, "tasks", str(data, "task"), "task", "tasks", timeout, err, err_size);
    return list_by(h, "/api/v1/tasks", data, keys, "tasks", timeout, err, err_size);
}

static json_t *map_inputs(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    static const char *const keys[] = {"task", "run", "status", "limit", "machine", NULL};
    return list_by(h, "/api/v1/inputs", data, keys, "inputs", timeout, err, err_size);
}

static json_t *map_task_create(ctl_http *h, json_t *data, double timeout, char *err,
                               size_t err_size)
{
    /* The owner is who the token says, not $USER here. */
    json_t *body = json_deep_copy(data);
    json_object_del(body, "owner");
    json_t *v = http_json(h, "POST", "/api/v1/tasks", NULL, body, timeout, err, err_size);
    json_decref(body);
    return v;
}

static json_t *map_answer(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    const char *input = str(data, "input");
    if (!input)
        return bus_error_json("bad_request", "'input' is required");
    json_t *body = json_object();
    carry(body, data, "choice", "choice");
    carry(body, data, "answer", "text");
    json_t *v = post_to(h, "inputs", input, "answer", body, timeout, err, err_size);
    json_decref(body);
    return v;
}

/* ------------------------------------------------------------ hooks */

/* POST /api/v1/hooks with the request's data as the body. */
static json_t *map_hook_event(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    return http_json(h, "POST", "/api/v1/hooks", NULL, data, timeout, err, err_size);
}

/* ------------------------------------------------------------ approvals */

static json_t *map_approval_list(ctl_http *h, json_t *data, double timeout, char *err,
                                 size_t err_size)
{
    const char *id = str(data, "id");
    if (!id) {
        qs q = {0};
        return list_all(h, "/api/v1/approvals", &q, "approvals", limit_of(data), timeout, err,
                        err_size);
    }
    char *path = path_of("approvals", id, NULL);
    json_t *v = http_json(h, "GET", path, NULL, NULL, timeout, err, err_size);
    free(path);
    if (!v || is_error(v))
        return v;
    return json_pack("{s:[o]}", "approvals", v);
}

/* POST /api/v1/approvals: the server holds an asked call for the
 * request's own wait (timeout less the slack op_request added), this side
 * for the slack longer, so that its 504 rather than a cut connection ends
 * a wait nobody answered. */
static json_t *map_approval_request(ctl_http *h, json_t *data, double timeout, char *err,
                                    size_t err_size)
{
    json_t *body = data ? json_deep_copy(data) : json_object();
    double wait = timeout - CTL_HTTP_REQUEST_SLACK;
    if (wait > 0)
        json_object_set_new(body, "wait", json_real(wait));
    json_t *v = http_json(h, "POST", "/api/v1/approvals", NULL, body, timeout, err, err_size);
    json_decref(body);
    return v;
}

static json_t *map_approval_answer(ctl_http *h, json_t *data, double timeout, char *err,
                                   size_t err_size)
{
    const char *id = str(data, "id"), *decision = str(data, "decision");
    if (!id || !decision || (strcmp(decision, "allow") != 0 && strcmp(decision, "deny") != 0))
        return bus_error_json("bad_request", "'id' and 'decision' (allow or deny) are required");
    json_t *body = json_object();
    carry(body, data, "always", "always");
    carry(body, data, "message", "message");
    json_t *v = post_to(h, "approvals", id, decision, body, timeout, err, err_size);
    json_decref(body);
    return v;
}

/* ------------------------------------------------------------ artifacts */

/* One version's bytes, as cmd.store.artifacts with "content" gives them:
 * text when it is UTF-8 text, else base64. */
static json_t *artifact_get(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    char *enc = curl_easy_escape(NULL, str(data, "name"), 0);
    char *path = path_of("tasks", str(data, "task"), NULL);
    char *full = xasprintf("%s/artifacts/%s", path, enc ? enc : "");
    curl_free(enc);
    free(path);
    qs q = {0};
    qs_from(&q, data, "version");
    http_reply r;
    int rc = http_do(h, "GET", full, q.s, NULL, timeout, &r, err, err_size);
    free(q.s);
    free(full);
    if (rc != 0)
        return NULL;
    json_t *out;
    if (r.status < 200 || r.status > 299)
        out = http_judge(h, "GET", "artifacts", &r, err, err_size);
    else {
        /* The server's Content-Type may be any bytes: not UTF-8, it is
         * not one. */
        json_t *mime = json_string(r.ctype);
        json_t *a = json_pack("{s:s,s:o,s:I}", "name", str(data, "name"), "mime_type",
                              mime ? mime : json_string("application/octet-stream"), "size",
                              (json_int_t)r.len);
        json_t *text = strncmp(r.ctype, "text/", 5) == 0 && strlen(r.body) == r.len
                           ? json_stringn(r.body, r.len)
                           : NULL;
        if (text)
            json_object_set_new(a, "text", text);
        else {
            char *b64 = util_base64_encode(r.body, r.len);
            json_object_set_new(a, "base64", json_string(b64));
            free(b64);
        }
        out = json_pack("{s:o}", "artifact", a);
    }
    http_reply_free(&r);
    return out;
}

static json_t *map_artifacts(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    const char *task = str(data, "task");
    if (!task)
        return bus_error_json("bad_request", "'task' is required");
    if (str(data, "name"))
        return artifact_get(h, data, timeout, err, err_size);
    char *path = path_of("tasks", task, "artifacts");
    qs q = {0};
    json_t *v = list_all(h, path, &q, "artifacts", 0, timeout, err, err_size);
    free(path);
    return v;
}

/* ------------------------------------------------------------ daemon, tokens */

/* cmd.store.status: the "store" of GET /api/v1/status -- the one the
 * status call just brought, or a new one; "no_store" when the daemon has
 * none, as the bus answers without a store. */
static json_t *map_store_status(ctl_http *h, json_t *data, double timeout, char *err,
                                size_t err_size)
{
    json_t *st = h->store;
    h->store = NULL;
    if (!st) {
        json_t *v = http_json(h, "GET", "/api/v1/status", NULL, NULL, timeout, err, err_size);
        if (!v || is_error(v))
            return v;
        st = json_incref(json_object_get(v, "store"));
        json_decref(v);
    }
    if (json_is_object(st))
        return st;
    json_decref(st);
    return bus_error_json("no_store", "bosund at %s reports no store", h->t.base);
}

/* What has no route of its own (`bosunctl request` of another subject) is
 * asked over /ws, where the daemon checks it like any request of ours. */
static json_t *ws_request(ctl_http *h, const char *subject, json_t *data, double timeout, char *err,
                          size_t err_size)
{
    return ctl_ws_request(&h->t, subject, data, timeout, &h->base.failure, err, err_size);
}

static json_t *map_token_create(ctl_http *h, json_t *data, double timeout, char *err,
                                size_t err_size)
{
    return http_json(h, "POST", "/api/v1/tokens", NULL, data, timeout, err, err_size);
}

static json_t *map_token_list(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size)
{
    qs q = {0};
    return list_all(h, "/api/v1/tokens", &q, "tokens", 0, timeout, err, err_size);
}

static json_t *map_token_revoke(ctl_http *h, json_t *data, double timeout, char *err,
                                size_t err_size)
{
    const char *id = str(data, "id");
    if (!id)
        return bus_error_json("bad_request", "'id' is required");
    char *path = path_of("tokens", id, NULL);
    json_t *v = http_json(h, "DELETE", path, NULL, NULL, timeout, err, err_size);
    free(path);
    return v;
}

/* login --github: the device flow's routes, which need no credential. */
static json_t *map_github_device(ctl_http *h, json_t *data, double timeout, char *err,
                                 size_t err_size)
{
    return http_json(h, "POST", "/api/v1/auth/github/device", NULL, data, timeout, err, err_size);
}

static json_t *map_github_poll(ctl_http *h, json_t *data, double timeout, char *err,
                               size_t err_size)
{
    return http_json(h, "POST", "/api/v1/auth/github/device/poll", NULL, data, timeout, err,
                     err_size);
}

/* ------------------------------------------------------------ the table */

typedef json_t *(*map_fn)(ctl_http *h, json_t *data, double timeout, char *err, size_t err_size);

static const struct mapping {
    const char *subject;
    map_fn fn;
} mappings[] = {
    {PROC_CMD_PS, map_ps},
    {PROC_CMD_START, map_start},
    {PROC_CMD_STOP, map_stop},
    {PROC_CMD_RESTART, map_restart},
    {BOSUN_STORE_RUNS, map_runs},
    {BOSUN_STORE_EVENTS, map_events},
    {BOSUN_STORE_TASKS, map_tasks},
    {BOSUN_STORE_INPUTS, map_inputs},
    {BOSUN_STORE_ARTIFACTS, map_artifacts},
    {BOSUN_STORE_STATUS, map_store_status},
    {BOSUN_TASK_CREATE, map_task_create},
    {BOSUN_INPUT_ANSWER, map_answer},
    {BOSUN_APPROVAL_LIST, map_approval_list},
    {BOSUN_APPROVAL_REQUEST, map_approval_request},
    {BOSUN_APPROVAL_ANSWER, map_approval_answer},
    {HOOK_CMD_EVENT, map_hook_event},
    {"cmd.auth.token.create", map_token_create},
    {"cmd.auth.token.list", map_token_list},
    {"cmd.auth.token.revoke", map_token_revoke},
    {"cmd.github.auth.device", map_github_device},
    {"cmd.github.auth.poll", map_github_poll},
};

static const struct mapping *mapping_of(const char *subject)
{
    for (size_t i = 0; i < sizeof mappings / sizeof mappings[0]; i++)
        if (strcmp(mappings[i].subject, subject) == 0)
            return &mappings[i];
    return NULL;
}

bool http_map_has(const char *subject)
{
    return mapping_of(subject) != NULL;
}

json_t *http_map_request(ctl_http *h, const char *subject, json_t *data, double timeout, char *err,
                         size_t err_size)
{
    const struct mapping *m = mapping_of(subject);
    if (m)
        return m->fn(h, json_is_object(data) ? data : NULL, timeout, err, err_size);
    return ws_request(h, subject, data, timeout, err, err_size);
}
