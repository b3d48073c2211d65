/* REST API v1: approval requests (bosun-http(7)).
 *
 *   GET  /api/v1/approvals                 cmd.approval.list: the pending
 *                                          requests, newest first, paged by
 *                                          id (readers and admins)
 *   POST /api/v1/approvals                 cmd.approval.request (admins): a
 *                                          tool call the policy decides, held
 *                                          while it asks a person; body
 *                                          {"tool","input"?,"agent"?,"task"?,
 *                                          "run"?,"wait"?}
 *   GET  /api/v1/approvals/{id}            one pending request (404 when
 *                                          unknown or decided already)
 *   POST /api/v1/approvals/{id}/allow      cmd.approval.answer (admins):
 *   POST /api/v1/approvals/{id}/deny       body {"always"?: bool,
 *                                          "message"?: string}
 */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <string.h>

#include <bosun/approval.h>
#include <bosun/log.h>

#define API_MESSAGE_MAX 4096

static const char *const api_no_params[] = {NULL};
static const char *const api_list_params[] = {"limit", "cursor", NULL};

void api_approvals_list(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    const char *cursor;
    long long limit;
    if (!api_query_check(r, api_list_params) || !api_query_id(r, "cursor", &cursor) ||
        !api_query_limit(r, &limit))
        return;
    api_list_call(r, BOSUN_APPROVAL_LIST, json_pack("{s:s*}", "after", cursor), limit, "approvals",
                  "id");
}

/* cmd.approval.list answers an id it does not hold with an error, so an
 * empty list here is a daemon that broke its word. */
static void api_approval_one(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    json_t *one = json_array_get(json_object_get(reply, "approvals"), 0);
    if (!json_is_object(one))
        return http_respond_error(r, 404, "not_found", "no such approval request");
    http_respond_json(r, 200, json_incref(one));
}

void api_approval_show(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args < 1 || !api_path_id(r, "approval", args[0]) || !api_query_check(r, api_no_params))
        return;
    api_call(r, BOSUN_APPROVAL_LIST, json_pack("{s:s}", "id", args[0]), NULL, 0, api_approval_one);
}

/* ------------------------------------------------------------ request */

/* How long a held call may wait for a person, seconds: the bounds of the
 * http limits' own durations. */
#define API_WAIT_MIN 0.05
#define API_WAIT_MAX 3600.0

static const char *const api_request_keys[] = {"tool", "input", "agent", "task",
                                               "run",  "wait",  NULL};

/* The daemon's reply as it is: a request's decision, an answer's record. */
static void api_answered(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 200, json_incref(reply));
}

/* body's "wait" in *wait (0: the listener's request_timeout); false after
 * a 400. */
static bool api_request_wait(http_request *r, const json_t *body, double *wait)
{
    const json_t *w = json_object_get(body, "wait");
    *wait = 0;
    if (!w)
        return true;
    if (!json_is_number(w) || json_number_value(w) < API_WAIT_MIN ||
        json_number_value(w) > API_WAIT_MAX) {
        http_respond_error(r, 400, "bad_request", "'wait' must be %g to %g seconds", API_WAIT_MIN,
                           API_WAIT_MAX);
        return false;
    }
    *wait = json_number_value(w);
    return true;
}

/* The call a person's own Claude Code session (bosunctl hook --approve on
 * another machine) or a client asks about: decided at once by a rule or
 * the default, else held as a pending request, its reply given when a
 * person answers, its timeout decides, or after "wait" seconds a 504 (the
 * request itself stays pending until a person or its timeout decides, as
 * it does for a hook over the socket that stops waiting).  The daemon checks the members' sizes and
 * says what was wrong; the body itself is bounded by limits.body_max. */
void api_approval_request(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    if (!api_query_check(r, api_no_params))
        return;
    json_t *body = api_body_object(r, api_request_keys);
    if (!body)
        return;
    double wait;
    const char *tool;
    if (!api_body_string(r, body, "tool", 1, 256, true, &tool) ||
        !api_request_wait(r, body, &wait)) {
        json_decref(body);
        return;
    }
    json_object_del(body, "wait");
    if (!json_object_get(body, "agent"))
        json_object_set_new(body, "agent", json_string(BOSUN_APPROVAL_ATTACHED));
    log_info("http: %s %s asks for approval of %s", r->id.kind, r->id.id, tool);
    api_call(r, BOSUN_APPROVAL_REQUEST, body, NULL, wait, api_answered);
}

/* ------------------------------------------------------------ answers */

static const char *const api_answer_keys[] = {"always", "message", NULL};

static void api_approval_answer(http_request *r, const char *const *args, size_t n_args,
                                const char *decision)
{
    if (n_args < 1 || !api_path_id(r, "approval", args[0]) || !api_query_check(r, api_no_params))
        return;
    json_t *body = api_body_object(r, api_answer_keys);
    if (!body)
        return;
    const char *message;
    const json_t *always = json_object_get(body, "always");
    if (!api_body_string(r, body, "message", 1, API_MESSAGE_MAX, false, &message)) {
        json_decref(body);
        return;
    }
    if (always && !json_is_boolean(always)) {
        json_decref(body);
        return http_respond_error(r, 400, "bad_request", "'always' must be a boolean");
    }
    const char *by = r->id.id[0] ? r->id.id : r->id.kind;
    json_t *q = json_pack("{s:s,s:s,s:b,s:s,s:s?}", "id", args[0], "decision", decision, "always",
                          json_is_true(always), "by", by, "message", message);
    json_decref(body);
    log_info("http: %s %s answers approval %s: %s", r->id.kind, r->id.id, args[0], decision);
    api_call(r, BOSUN_APPROVAL_ANSWER, q, NULL, 0, api_answered);
}

void api_approval_allow(http_request *r, const char *const *args, size_t n_args)
{
    api_approval_answer(r, args, n_args, "allow");
}

void api_approval_deny(http_request *r, const char *const *args, size_t n_args)
{
    api_approval_answer(r, args, n_args, "deny");
}
