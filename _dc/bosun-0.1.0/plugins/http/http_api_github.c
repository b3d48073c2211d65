/* REST API v1: GitHub pull requests of a task and GitHub's webhooks
 * (bosun-http(7), bosun-github(7)); the github plugin serves the bus side.
 *
 *   GET  /api/v1/tasks/{id}/prs               cmd.github.prs: the linked
 *                                             pull requests with their
 *                                             metadata
 *   POST /api/v1/tasks/{id}/prs               cmd.github.prs.link (admins),
 *                                             body {"repo": "OWNER/REPO",
 *                                             "number": N}: 201
 *   GET  /api/v1/tasks/{id}/pr-diff?pr=N      cmd.github.prs.diff: the
 *                                             unified diff, text/x-diff
 *   GET  /api/v1/tasks/{id}/pr-files?pr=N     cmd.github.prs.files: {items}
 *   POST /api/v1/github/webhook               cmd.github.webhook: no bosun
 *                                             credential (GitHub has none);
 *                                             the github plugin checks the
 *                                             X-Hub-Signature-256 HMAC
 * pr-diff and pr-files take &repo=OWNER/REPO when the task has PRs of the
 * same number in two repositories. */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <stdlib.h>
#include <string.h>

#include <bosun/codec.h>
#include <bosun/crypto.h>
#include <bosun/log.h>
#include <bosun/principal.h>
#include <bosun/store.h>

#define API_REPO_MAX    140 /* OWNER/REPO: 39 + 1 + 100 */
#define API_PR_MAX      999999999999LL
#define API_HEADER_MAX  128 /* an event name, a delivery id, a signature */
#define API_WEBHOOK_CMD "cmd.github.webhook"

static const char *const api_no_params[] = {NULL};
static const char *const api_pr_params[] = {"pr", "repo", NULL};

/* The task a route names, checked: false after a 400 or 404. */
static bool api_task_arg(http_request *r, const char *const *args, size_t n_args)
{
    return n_args >= 1 && api_path_id(r, "task", args[0]) &&
           api_scope_allows(r, args[0], "task", args[0]);
}

/* ------------------------------------------------------------ list */

static void api_prs_listed(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    api_respond_list(r, json_incref(json_object_get(reply, "items")), json_null());
}

void api_task_prs(http_request *r, const char *const *args, size_t n_args)
{
    if (!api_task_arg(r, args, n_args) || !api_query_check(r, api_no_params))
        return;
    api_call(r, "cmd.github.prs", json_pack("{s:s}", "task", args[0]), NULL, 0, api_prs_listed);
}

/* ------------------------------------------------------------ link */

static const char *const api_link_keys[] = {"repo", "number", NULL};

static void api_pr_linked(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 201, json_incref(reply));
}

/* The task exists: now the link. */
static void api_link_task(http_request *r, json_t *reply, json_t *state)
{
    if (!json_is_object(json_array_get(json_object_get(reply, "tasks"), 0))) {
        http_respond_error(r, 404, "not_found", "no task '%s'",
                           json_string_value(json_object_get(state, "task")));
        json_decref(state);
        return;
    }
    api_call(r, "cmd.github.prs.link", state, NULL, 0, api_pr_linked);
}

void api_task_pr_link(http_request *r, const char *const *args, size_t n_args)
{
    if (!api_task_arg(r, args, n_args) || !api_query_check(r, api_no_params))
        return;
    json_t *body = api_body_object(r, api_link_keys);
    if (!body)
        return;
    const char *repo;
    const json_t *number = json_object_get(body, "number");
    if (!api_body_string(r, body, "repo", 3, API_REPO_MAX, true, &repo)) {
        json_decref(body);
        return;
    }
    if (!json_is_integer(number) || json_integer_value(number) < 1 ||
        json_integer_value(number) > API_PR_MAX) {
        json_decref(body);
        return http_respond_error(r, 400, "bad_request",
                                  "'number' must be a pull request's number (a positive integer)");
    }
    json_object_set_new(body, "task", json_string(args[0]));
    log_info("http: %s %s links %s#%" JSON_INTEGER_FORMAT " to task %s", r->id.kind, r->id.id, repo,
             json_integer_value(number), args[0]);
    api_call(r, BOSUN_STORE_TASKS, json_pack("{s:s,s:i}", "task", args[0], "limit", 1), body, 0,
             api_link_task);
}

/* ------------------------------------------------------------ diff, files */

/* {task, number, repo?} from the path and ?pr=N&repo=OWNER/REPO, or NULL
 * after a 400. */
static json_t *api_pr_query(http_request *r, const char *task)
{
    long long pr = 0;
    if (!api_query_check(r, api_pr_params) || !api_query_int(r, "pr", 1, API_PR_MAX, &pr))
        return NULL;
    if (pr == 0) {
        http_respond_error(r, 400, "bad_request", "'pr' (the pull request's number) is required");
        return NULL;
    }
    const char *repo = http_query(r, "repo");
    if (repo && (strlen(repo) > API_REPO_MAX || !strchr(repo, '/'))) {
        http_respond_error(r, 400, "bad_request", "'repo' must be OWNER/REPO");
        return NULL;
    }
    return json_pack("{s:s,s:I,s:s*}", "task", task, "number", (json_int_t)pr, "repo", repo);
}

static void api_pr_diff_done(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    const json_t *text = json_object_get(reply, "diff");
    const char *b64 = json_string_value(json_object_get(reply, "diff_base64url"));
    if (json_is_true(json_object_get(reply, "truncated")))
        http_add_header(r, "X-Bosun-Truncated", "true");
    if (json_is_string(text))
        return http_respond(r, 200, "text/x-diff; charset=utf-8", json_string_value(text),
                            json_string_length(text));
    size_t n = b64 ? strlen(b64) : 0;
    unsigned char *raw = b64 ? malloc(n / 4 * 3 + 3) : NULL;
    long len = raw ? bosun_base64url_decode(b64, n, raw, n / 4 * 3 + 3) : -1;
    if (len < 0) {
        free(raw);
        return http_respond_error(r, 502, "bad_gateway", "the github plugin sent no diff");
    }
    http_respond(r, 200, "text/x-diff", raw, (size_t)len);
    free(raw);
}

void api_task_pr_diff(http_request *r, const char *const *args, size_t n_args)
{
    if (!api_task_arg(r, args, n_args))
        return;
    json_t *q = api_pr_query(r, args[0]);
    if (q)
        api_call(r, "cmd.github.prs.diff", q, NULL, 0, api_pr_diff_done);
}

static void api_pr_files_done(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    json_t *body = json_pack("{s:O,s:n,s:O}", "items", json_object_get(reply, "items"), "next",
                             "truncated", json_object_get(reply, "truncated"));
    http_respond_json(r, 200, body);
}

void api_task_pr_files(http_request *r, const char *const *args, size_t n_args)
{
    if (!api_task_arg(r, args, n_args))
        return;
    json_t *q = api_pr_query(r, args[0]);
    if (q)
        api_call(r, "cmd.github.prs.files", q, NULL, 0, api_pr_files_done);
}

/* ------------------------------------------------------------ webhook */

static void api_webhook_done(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 200, json_incref(reply));
}

/* A header that must be short printable text, or absent. */
static bool api_short_header(http_request *r, const char *name, const char **out)
{
    const char *v = http_header(r, name);
    *out = v;
    if (!v)
        return true;
    size_t n = strlen(v);
    bool ok = n > 0 && n <= API_HEADER_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)v[i] > ' ' && (unsigned char)v[i] < 0x7f;
    if (!ok)
        http_respond_error(r, 400, "bad_request", "the %s header is not a short token", name);
    return ok;
}

/* GitHub calls without a bosun credential: the request may reach the
 * webhook command and nothing else, and the github plugin believes it
 * only once the HMAC matches. */
void api_github_webhook(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    const char *event, *delivery, *signature;
    const char *ctype = http_header(r, "content-type");
    if (!api_query_check(r, api_no_params) || !api_short_header(r, "x-github-event", &event) ||
        !api_short_header(r, "x-github-delivery", &delivery) ||
        !api_short_header(r, "x-hub-signature-256", &signature))
        return;
    if (!ctype || strncmp(ctype, "application/json", 16) != 0)
        return http_respond_error(r, 415, "unsupported_media_type",
                                  "set the webhook's content type to application/json");
    if (!event)
        return http_respond_error(r, 400, "bad_request", "no X-GitHub-Event header");
    if (!bosun_utf8_text(r->body, r->body_len))
        return http_respond_error(r, 400, "bad_request", "the body is not UTF-8 text");
    /* Whoever else the caller may be, this request asks as GitHub. */
    bus_principal *p = bus_principal_new("webhook", "github");
    if (!p || bus_principal_allow(p, BUS_PERM_REQ, API_WEBHOOK_CMD) != 0) {
        bus_principal_free(p);
        return http_respond_error(r, 500, "internal", "out of memory");
    }
    bus_principal_free(r->id.who);
    r->id.who = p; /* freed with the identity */
    json_t *q = json_pack("{s:s,s:s*,s:s*,s:s%}", "event", event, "delivery", delivery, "signature",
                          signature, "body", r->body, r->body_len);
    api_call(r, API_WEBHOOK_CMD, q, NULL, 0, api_webhook_done);
}
