/* The REST API v1: its route table, and what its parts share (see
 * http_api.h): checking parameters and bodies, bus requests for a caller
 * (narrowed for identities bound to one task by http_api_scope.c), list
 * and error replies. */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bosun/json.h>
#include <bosun/log.h>

/* ------------------------------------------------------------ routes */

/* Reads are for viewers and admins, and, where an agent needs them (its own
 * task, its inputs and artifacts, its runs' output and events), for agent
 * and share identities too, which the handlers narrow to their task.
 * Everything that changes something is for admins.  Bodies are JSON, also
 * where one is optional (stop, restart), so that "{}" is accepted. */
#define ANY_READ  (HTTP_ALLOW_READ | HTTP_ALLOW_AGENT | HTTP_ALLOW_SHARE)
#define LLM_READ  (HTTP_ALLOW_READ | HTTP_ALLOW_AGENT)
#define LLM_WRITE (HTTP_ALLOW_WRITE | HTTP_ALLOW_AGENT)

const http_route http_api_routes[] = {
    {"GET", "/api/v1/status", api_status_show, HTTP_ALLOW_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/machines", api_machines_list, HTTP_ALLOW_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/machines/{}", api_machine_show, HTTP_ALLOW_READ, HTTP_BODY_NONE},
    {"POST", "/api/v1/machines/registrations", api_machine_registration, HTTP_ALLOW_ADMIN,
     HTTP_BODY_JSON},
    {"DELETE", "/api/v1/machines/{}", api_machine_revoke, HTTP_ALLOW_ADMIN, HTTP_BODY_NONE},
    {"GET", "/api/v1/agents", api_agents_list, HTTP_ALLOW_READ, HTTP_BODY_NONE},
    {"POST", "/api/v1/agents/{}/start", api_agent_start, HTTP_ALLOW_ADMIN, HTTP_BODY_JSON},
    {"POST", "/api/v1/agents/{}/stop", api_agent_stop, HTTP_ALLOW_ADMIN, HTTP_BODY_JSON},
    {"POST", "/api/v1/agents/{}/restart", api_agent_restart, HTTP_ALLOW_ADMIN, HTTP_BODY_JSON},
    {"GET", "/api/v1/runs", api_runs_list, ANY_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/runs/{}", api_run_show, ANY_READ, HTTP_BODY_NONE},
    {"POST", "/api/v1/runs/{}/stop", api_run_stop, HTTP_ALLOW_ADMIN, HTTP_BODY_JSON},
    {"POST", "/api/v1/runs/{}/restart", api_run_restart, HTTP_ALLOW_ADMIN, HTTP_BODY_JSON},
    {"GET", "/api/v1/runs/{}/logs", api_run_logs, ANY_READ, HTTP_BODY_NONE},
    /* An llm run's files and chat: an agent's for its own run only. */
    {"GET", "/api/v1/runs/{}/files", api_run_files, LLM_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/runs/{}/files/{}", api_run_file_get, LLM_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/runs/{}/files/{}/{}", api_run_file_get, LLM_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/runs/{}/files/{}/{}/{}", api_run_file_get, LLM_READ, HTTP_BODY_NONE},
    {"PUT", "/api/v1/runs/{}/files/{}", api_run_file_put, LLM_WRITE, HTTP_BODY_UPLOAD},
    {"PUT", "/api/v1/runs/{}/files/{}/{}", api_run_file_put, LLM_WRITE, HTTP_BODY_UPLOAD},
    {"PUT", "/api/v1/runs/{}/files/{}/{}/{}", api_run_file_put, LLM_WRITE, HTTP_BODY_UPLOAD},
    {"DELETE", "/api/v1/runs/{}/files/{}", api_run_file_delete, LLM_WRITE, HTTP_BODY_NONE},
    {"DELETE", "/api/v1/runs/{}/files/{}/{}", api_run_file_delete, LLM_WRITE, HTTP_BODY_NONE},
    {"DELETE", "/api/v1/runs/{}/files/{}/{}/{}", api_run_file_delete, LLM_WRITE, HTTP_BODY_NONE},
    {"GET", "/api/v1/runs/{}/messages", api_run_messages, LLM_READ, HTTP_BODY_NONE},
    {"POST", "/api/v1/runs/{}/messages", api_run_message_send, LLM_WRITE, HTTP_BODY_JSON},
    {"POST", "/api/v1/runs/{}/messages/clear", api_run_messages_clear, LLM_WRITE, HTTP_BODY_JSON},
    {"GET", "/api/v1/runs/{}/changes", api_run_changes, ANY_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/tasks", api_tasks_list, ANY_READ, HTTP_BODY_NONE},
    {"POST", "/api/v1/tasks", api_task_create, HTTP_ALLOW_ADMIN, HTTP_BODY_JSON},
    {"GET", "/api/v1/tasks/{}", api_task_show, ANY_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/tasks/{}/artifacts", api_artifacts_list, ANY_READ, HTTP_BODY_NONE},
    /* An artifact's name may have a few "/"-separated parts ("docs/plan.md"). */
    {"GET", "/api/v1/tasks/{}/artifacts/{}", api_artifact_get, ANY_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/tasks/{}/artifacts/{}/{}", api_artifact_get, ANY_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/tasks/{}/artifacts/{}/{}/{}", api_artifact_get, ANY_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/inputs", api_inputs_list, ANY_READ, HTTP_BODY_NONE},
    {"POST", "/api/v1/inputs/{}/answer", api_input_answer, HTTP_ALLOW_ADMIN | HTTP_ALLOW_SHARE,
     HTTP_BODY_JSON},
    {"GET", "/api/v1/events", api_events_list, ANY_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/cost", api_cost_show, HTTP_ALLOW_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/budgets", api_budgets_show, HTTP_ALLOW_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/approvals", api_approvals_list, HTTP_ALLOW_READ, HTTP_BODY_NONE},
    {"POST", "/api/v1/approvals", api_approval_request, HTTP_ALLOW_ADMIN | HTTP_ALLOW_AGENT,
     HTTP_BODY_JSON},
    {"GET", "/api/v1/approvals/{}", api_approval_show, HTTP_ALLOW_READ, HTTP_BODY_NONE},
    {"POST", "/api/v1/approvals/{}/allow", api_approval_allow, HTTP_ALLOW_ADMIN, HTTP_BODY_JSON},
    {"POST", "/api/v1/approvals/{}/deny", api_approval_deny, HTTP_ALLOW_ADMIN, HTTP_BODY_JSON},
    {"POST", "/api/v1/hooks", api_hook_event, HTTP_ALLOW_ADMIN, HTTP_BODY_JSON},
    {"GET", "/api/v1/tasks/{}/prs", api_task_prs, ANY_READ, HTTP_BODY_NONE},
    {"POST", "/api/v1/tasks/{}/prs", api_task_pr_link, HTTP_ALLOW_ADMIN, HTTP_BODY_JSON},
    {"GET", "/api/v1/tasks/{}/pr-diff", api_task_pr_diff, ANY_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/tasks/{}/pr-files", api_task_pr_files, ANY_READ, HTTP_BODY_NONE},
    /* GitHub has no bosun credential: the github plugin checks its HMAC. */
    {"POST", "/api/v1/github/webhook", api_github_webhook, HTTP_ALLOW_ANON, HTTP_BODY_JSON},
};
const size_t http_api_n_routes = sizeof http_api_routes / sizeof http_api_routes[0];

/* ------------------------------------------------------------ errors */

/* Every error code the daemon gives, and its HTTP status: the one table,
 * for the server's own errors and the replies from the bus alike.  A
 * "timeout" from the bus is a request that took too long (504); the
 * server's own 408 is given with its status directly. */
static const struct {
    const char *code;
    int status;
} api_codes[] = {
    {"bad_request", 400},
    {"bad_json", 400},
    {"unauthorized", 401},
    {"forbidden", 403},
    {"not_found", 404},
    {"unknown_agent", 404},
    {"method_not_allowed", 405},
    {"timeout", 504},
    {"busy", 409},
    {"not_pending", 409},
    {"not_running", 409},
    {"too_large", 413},
    {"uri_too_long", 414},
    {"unsupported_media_type", 415},
    {"headers_too_large", 431},
    {"rate_limited", 429},
    {"shutting_down", 503},
    {"unavailable", 503},
    {"no_store", 503},
    {"no_responders", 503},
    {"budget_exceeded", 402},
    {"machine_offline", 503},
    {"gateway_timeout", 504},
    {"bad_gateway", 502},
    {"stale", 400},
    {"replayed", 409},
};

int http_status_for_code(const char *code)
{
    for (size_t i = 0; code && i < sizeof api_codes / sizeof api_codes[0]; i++)
        if (strcmp(code, api_codes[i].code) == 0)
            return api_codes[i].status;
    return 500;
}

void api_content_headers(http_request *r, const char *version_header, json_int_t version,
                         const char *sha)
{
    char v[24], etag[80];
    snprintf(v, sizeof v, "%lld", (long long)version);
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    http_add_header(r, "Content-Security-Policy", "default-src 'none'; sandbox");
    http_add_header(r, version_header, v);
    if (sha && strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64) {
        snprintf(etag, sizeof etag, "\"%s\"", sha);
        http_add_header(r, "ETag", etag);
    }
}

void api_respond_bus_error(http_request *r, const json_t *error)
{
    const char *code = json_string_value(json_object_get(error, "code"));
    const char *message = json_string_value(json_object_get(error, "message"));
    if (!code)
        code = "internal";
    http_respond_error(r, http_status_for_code(code), code, "%s",
                       message ? message : "the request failed");
}

/* ------------------------------------------------------------ checks */

bool api_id_ok(const char *s)
{
    size_t n =
        s ? strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") : 0;
    return n > 0 && n <= API_ID_MAX && s[n] == '\0';
}

bool api_path_id(http_request *r, const char *what, const char *s)
{
    if (api_id_ok(s))
        return true;
    http_respond_error(r, 400, "bad_request", "the %s id must be 1 to %d of A-Z a-z 0-9 _ -", what,
                       API_ID_MAX);
    return false;
}

/* Query parameters one request may have: far more than any route takes. */
#define API_QUERY_PARAMS_MAX 32

/* The raw name of each "name=value" of the query (up to '=' or '&'). */
static size_t api_query_names(const char *q, const char *names[], size_t lens[], size_t max)
{
    size_t n = 0;
    while (q && *q && n <= max) {
        size_t seg = strcspn(q, "&");
        if (seg > 0) {
            size_t len = strcspn(q, "=&");
            if (n < max) {
                names[n] = q;
                lens[n] = len;
            }
            n++;
        }
        q += seg;
        if (*q == '&')
            q++;
    }
    return n;
}

static bool api_name_listed(const char *name, size_t len, const char *const *allowed)
{
    for (size_t i = 0; allowed[i]; i++)
        if (strlen(allowed[i]) == len && memcmp(allowed[i], name, len) == 0)
            return true;
    return false;
}

bool api_query_check(http_request *r, const char *const *allowed)
{
    const char *names[API_QUERY_PARAMS_MAX];
    size_t lens[API_QUERY_PARAMS_MAX];
    size_t n = api_query_names(r->query, names, lens, API_QUERY_PARAMS_MAX);
    if (n > API_QUERY_PARAMS_MAX) {
        http_respond_error(r, 400, "bad_request", "more than %d query parameters",
                           API_QUERY_PARAMS_MAX);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        /* The name is echoed back bounded, and only when it is tame. */
        int shown = (int)(lens[i] < 32 ? lens[i] : 32);
        if (!api_name_listed(names[i], lens[i], allowed)) {
            http_respond_error(r, 400, "bad_request", "unknown query parameter '%.*s'", shown,
                               strspn(names[i], "abcdefghijklmnopqrstuvwxyz_") >= lens[i] ? names[i]
                                                                                          : "?");
            return false;
        }
        for (size_t j = 0; j < i; j++)
            if (lens[j] == lens[i] && memcmp(names[j], names[i], lens[i]) == 0) {
                http_respond_error(r, 400, "bad_request", "query parameter '%.*s' given twice",
                                   shown, names[i]);
                return false;
            }
    }
    return true;
}

/* Decimal digits only (an optional '-'), no spaces, no '+', no overflow. */
static bool api_parse_int(const char *s, long long *out)
{
    const char *d = s[0] == '-' ? s + 1 : s;
    size_t n = strspn(d, "0123456789");
    if (n == 0 || n > 18 || d[n] != '\0')
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

bool api_query_int(http_request *r, const char *name, long long min, long long max, long long *out)
{
    const char *v = http_query(r, name);
    long long n;
    if (!v)
        return true;
    if (api_parse_int(v, &n) && n >= min && n <= max) {
        *out = n;
        return true;
    }
    http_respond_error(r, 400, "bad_request", "'%s' must be an integer from %lld to %lld", name,
                       min, max);
    return false;
}

bool api_query_id(http_request *r, const char *name, const char **out)
{
    const char *v = http_query(r, name);
    *out = NULL;
    if (!v)
        return true;
    if (api_id_ok(v)) {
        *out = v;
        return true;
    }
    http_respond_error(r, 400, "bad_request", "'%s' must be 1 to %d of A-Z a-z 0-9 _ -", name,
                       API_ID_MAX);
    return false;
}

bool api_query_bool(http_request *r, const char *name, int *out)
{
    const char *v = http_query(r, name);
    *out = -1;
    if (!v)
        return true;
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
        *out = v[0] == 't';
        return true;
    }
    http_respond_error(r, 400, "bad_request", "'%s' must be true or false", name);
    return false;
}

bool api_query_limit(http_request *r, long long *limit)
{
    *limit = API_LIMIT_DEFAULT;
    return api_query_int(r, "limit", 1, API_LIMIT_MAX, limit);
}

/* application/json, with parameters (charset) or not, in any case. */
static bool api_is_json_type(const char *type)
{
    static const char want[] = "application/json";
    if (!type || strncasecmp(type, want, sizeof want - 1) != 0)
        return false;
    char next = type[sizeof want - 1];
    return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

json_t *api_body_object(http_request *r, const char *const *allowed)
{
    if (r->body_len == 0)
        return json_object();
    /* A browser's form cannot send application/json to another origin
     * without asking first (CORS), so a write from a forged form fails
     * here even before the Origin check. */
    if (!api_is_json_type(http_header(r, "content-type"))) {
        http_respond_error(r, 415, "unsupported_media_type", "the body must be application/json");
        return NULL;
    }
    bosun_json_error err;
    json_t *body = bosun_json_parse(r->body, r->body_len, BOSUN_JSON_REJECT_DUPLICATES, &err);
    if (!body) {
        http_respond_error(r, 400, "bad_json", "invalid JSON at line %d, column %d: %s", err.line,
                           err.column, err.text);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        http_respond_error(r, 400, "bad_request", "the body must be a JSON object");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i]) {
            http_respond_error(r, 400, "bad_request", "unknown member '%.64s' in the body", key);
            json_decref(body);
            return NULL;
        }
    }
    return body;
}

bool api_body_string(http_request *r, const json_t *body, const char *key, size_t min, size_t max,
                     bool required, const char **out)
{
    const json_t *v = json_object_get(body, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required)
            return true;
        http_respond_error(r, 400, "bad_request", "'%s' is required", key);
        return false;
    }
    size_t len = json_string_length(v);
    if (json_is_string(v) && len >= min && len <= max) {
        *out = json_string_value(v);
        return true;
    }
    http_respond_error(r, 400, "bad_request", "'%s' must be a string of %zu to %zu bytes", key, min,
                       max);
    return false;
}

bool api_body_id(http_request *r, const json_t *body, const char *key, const char **out)
{
    if (!api_body_string(r, body, key, 1, API_ID_MAX, false, out))
        return false;
    if (!*out || api_id_ok(*out))
        return true;
    http_respond_error(r, 400, "bad_request", "'%s' must be 1 to %d of A-Z a-z 0-9 _ -", key,
                       API_ID_MAX);
    return false;
}

/* ------------------------------------------------------------ bus */

typedef struct api_pending {
    http_request *r;
    json_t *state;
    api_reply_fn done;
    char subject[64]; /* for messages: a cmd.… subject, always short */
} api_pending;

#define API_TIMEOUT_DEFAULT 10.0

static void api_on_reply(bus_t *bus, enum bus_reply_status status, const bus_msg *msg, void *arg)
{
    (void)bus;
    api_pending p = *(api_pending *)arg;
    free(arg);
    const json_t *error = status == BUS_REPLY_OK ? json_object_get(msg->data, "error") : NULL;
    if (status == BUS_REPLY_OK && !json_is_object(error)) {
        p.done(p.r, msg->data, p.state);
        return;
    }
    json_decref(p.state);
    switch (status) {
    case BUS_REPLY_OK:
        api_respond_bus_error(p.r, error);
        break;
    case BUS_REPLY_TIMEOUT:
        log_notice("http: %s: 504, no reply to %s within request_timeout", p.r->peer, p.subject);
        http_respond_error(p.r, 504, "timeout", "no reply to %s in time", p.subject);
        break;
    case BUS_REPLY_NO_RESPONDERS:
        http_respond_error(p.r, 503, "unavailable", "nothing serves %s (is its plugin loaded?)",
                           p.subject);
        break;
    case BUS_REPLY_CANCELLED:
        http_respond_error(p.r, 503, "shutting_down", "bosund is stopping");
        break;
    }
}

void api_call(http_request *r, const char *subject, json_t *data, json_t *state, double timeout,
              api_reply_fn done)
{
    if (timeout <= 0) {
        const http_config *cfg = http_server_config(r->srv);
        timeout = cfg && cfg->limits.request_timeout > 0 ? cfg->limits.request_timeout
                                                         : API_TIMEOUT_DEFAULT;
    }
    /* A client gone between two steps of a route: the rest is not asked
     * for (the response is only freed). */
    if (http_request_gone(r)) {
        json_decref(data);
        json_decref(state);
        http_respond_error(r, 503, "gone", "the client went away");
        return;
    }
    api_pending *p = calloc(1, sizeof *p);
    if (!p || !data) {
        free(p);
        json_decref(data);
        json_decref(state);
        http_respond_error(r, 500, "internal", "out of memory");
        return;
    }
    char why[160];
    const char *refused = api_scope_query(&r->id, subject, data, why, sizeof why);
    if (refused) {
        free(p);
        json_decref(data);
        json_decref(state);
        http_respond_error(r, http_status_for_code(refused), refused, "%s", why);
        return;
    }
    *p = (api_pending){.r = r, .state = state, .done = done};
    snprintf(p->subject, sizeof p->subject, "%s", subject);
    uint64_t id =
        bus_request_as(http_server_bus(r->srv), r->id.who, subject, data, timeout, api_on_reply, p);
    json_decref(data);
    if (id)
        return;
    int err = errno;
    free(p);
    json_decref(state);
    if (err == EACCES)
        http_respond_error(r, 403, "forbidden", "%s may not use %s", r->id.kind, subject);
    else
        http_respond_error(r, 500, "internal", "cannot send %s: %s", subject, strerror(err));
}

/* ------------------------------------------------------------ replies */

void api_respond_list(http_request *r, json_t *items, json_t *next)
{
    json_t *body = json_object();
    json_object_set_new(body, "items", items ? items : json_array());
    json_object_set_new(body, "next", next ? next : json_null());
    http_respond_json(r, 200, body);
}

void api_respond_page(http_request *r, json_t *items, long long limit, const char *key)
{
    /* items belongs to a bus reply, which is not ours to change: the page
     * is a new array of the same rows. */
    json_t *page = json_array(), *next = NULL;
    size_t n = json_array_size(items);
    for (size_t i = 0; i < n && (long long)i < limit; i++)
        json_array_append(page, json_array_get(items, i));
    if ((long long)n > limit && limit > 0) {
        const char *last =
            json_string_value(json_object_get(json_array_get(page, (size_t)limit - 1), key));
        if (last)
            next = json_string(last);
    }
    json_decref(items);
    api_respond_list(r, page, next);
}

/* state: {"limit", "list": the reply's member, "key": the rows' id}. */
static void api_page_done(http_request *r, json_t *reply, json_t *state)
{
    long long limit = json_integer_value(json_object_get(state, "limit"));
    const char *list = json_string_value(json_object_get(state, "list"));
    const char *key = json_string_value(json_object_get(state, "key"));
    api_respond_page(r, json_incref(json_object_get(reply, list)), limit, key);
    json_decref(state);
}

void api_list_call(http_request *r, const char *subject, json_t *q, long long limit,
                   const char *list, const char *key)
{
    /* One row more than the page tells whether another page follows. */
    if (q)
        json_object_set_new(q, "limit", json_integer(limit + 1));
    api_call(r, subject, q,
             json_pack("{s:I,s:s,s:s}", "limit", (json_int_t)limit, "list", list, "key", key), 0,
             api_page_done);
}
