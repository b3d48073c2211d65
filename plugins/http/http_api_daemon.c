/* REST API v1: the daemon, its machines and its agents (bosun-http(7)).
 *
 *   GET  /api/v1/status             cmd.daemon.status, as it is
 *   GET  /api/v1/machines[/{id}]    made from cmd.daemon.status: this one
 *                                   machine until the fleet hub lists more
 *   GET  /api/v1/agents             cmd.proc.ps rows, one per instance
 *   POST /api/v1/agents/{name}/start  cmd.proc.start: a configured agent by
 *                                   name, nothing else (no command, no config)
 */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/log.h>

/* cmd.proc.start's own bound on a prompt. */
#define API_PROMPT_MAX (1024 * 1024)

static const char *const api_no_params[] = {NULL};
static const char *const api_page_params[] = {"limit", "cursor", NULL};

/* ------------------------------------------------------------ status */

static void api_status_done(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 200, json_incref(reply));
}

void api_status_show(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    if (api_query_check(r, api_no_params))
        api_call(r, "cmd.daemon.status", json_object(), NULL, 0, api_status_done);
}

/* ------------------------------------------------------------ machines */

/* A machine as the API shows it, from the daemon's status. */
static json_t *api_machine(const json_t *status)
{
    const char *host = json_string_value(json_object_get(status, "hostname"));
    return json_pack("{s:O?,s:s?,s:O?,s:O?,s:b,s:b}", "id", json_object_get(status, "machine_id"),
                     "hostname", host && *host ? host : NULL, "version",
                     json_object_get(status, "version"), "uptime",
                     json_object_get(status, "uptime"), "online", 1, "this", 1);
}

/* state: {"cursor": C|null}; machines are listed by id, after the cursor. */
static void api_machines_done(http_request *r, json_t *reply, json_t *state)
{
    const char *cursor = json_string_value(json_object_get(state, "cursor"));
    json_t *m = api_machine(reply), *items = json_array();
    const char *id = json_string_value(json_object_get(m, "id"));
    if (id && (!cursor || strcmp(id, cursor) > 0))
        json_array_append(items, m);
    json_decref(m);
    json_decref(state);
    api_respond_list(r, items, NULL);
}

void api_machines_list(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    long long limit;
    const char *cursor;
    if (!api_query_check(r, api_page_params) || !api_query_limit(r, &limit) ||
        !api_query_id(r, "cursor", &cursor))
        return;
    api_call(r, "cmd.daemon.status", json_object(), json_pack("{s:s*}", "cursor", cursor), 0,
             api_machines_done);
}

static void api_machine_done(http_request *r, json_t *reply, json_t *state)
{
    const char *want = json_string_value(json_object_get(state, "id"));
    json_t *m = api_machine(reply);
    const char *id = json_string_value(json_object_get(m, "id"));
    if (want && id && strcmp(want, id) == 0)
        http_respond_json(r, 200, json_pack("{s:o}", "machine", m));
    else {
        json_decref(m);
        http_respond_error(r, 404, "not_found", "no machine '%s'", want ? want : "");
    }
    json_decref(state);
}

void api_machine_show(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args < 1 || !api_path_id(r, "machine", args[0]) || !api_query_check(r, api_no_params))
        return;
    api_call(r, "cmd.daemon.status", json_object(), json_pack("{s:s}", "id", args[0]), 0,
             api_machine_done);
}

/* ------------------------------------------------------------ agents */

/* The ps rows are few (one per configured instance) and come in the
 * configuration's order: a page is a slice, the cursor where the next one
 * starts.  A reload that changes the agents may shift it. */
static void api_agents_done(http_request *r, json_t *reply, json_t *state)
{
    long long from = json_integer_value(json_object_get(state, "from"));
    long long limit = json_integer_value(json_object_get(state, "limit"));
    json_decref(state);
    json_t *rows = json_object_get(reply, "rows"), *items = json_array(), *next = NULL;
    size_t n = json_array_size(rows);
    for (size_t i = (size_t)from; i < n && (long long)json_array_size(items) < limit; i++)
        json_array_append(items, json_array_get(rows, i));
    size_t end = (size_t)from + json_array_size(items);
    if (end < n) {
        char cursor[24];
        snprintf(cursor, sizeof cursor, "%zu", end);
        next = json_string(cursor);
    }
    api_respond_list(r, items, next);
}

void api_agents_list(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    long long limit, from = 0;
    if (!api_query_check(r, api_page_params) || !api_query_limit(r, &limit) ||
        !api_query_int(r, "cursor", 0, 1000000, &from))
        return;
    api_call(r, "cmd.proc.ps", json_object(), json_pack("{s:I,s:I}", "from", from, "limit", limit),
             0, api_agents_done);
}

static void api_started(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 201, json_pack("{s:O}", "run", reply));
}

static const char *const api_start_keys[] = {"prompt", "task", "machine", NULL};

/* "machine" names where the run goes: this machine, until the hub can send
 * it down a fleet link. */
static bool api_start_machine_ok(http_request *r, const char *machine)
{
    const bosun_ctx *ctx = http_server_ctx(r->srv);
    if (!machine || (ctx && ctx->machine_id && strcmp(machine, ctx->machine_id) == 0))
        return true;
    http_respond_error(r, 404, "not_found", "no machine '%s'", machine);
    return false;
}

void api_agent_start(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args < 1 || !api_path_id(r, "agent", args[0]) || !api_query_check(r, api_no_params))
        return;
    json_t *body = api_body_object(r, api_start_keys);
    const char *prompt, *task, *machine;
    if (!body)
        return;
    bool ok = api_body_string(r, body, "prompt", 0, API_PROMPT_MAX, false, &prompt) &&
              api_body_id(r, body, "task", &task) && api_body_id(r, body, "machine", &machine) &&
              api_start_machine_ok(r, machine);
    if (ok) {
        log_info("http: %s %s starts agent %s", r->id.kind, r->id.id, args[0]);
        api_call(r, "cmd.proc.start",
                 json_pack("{s:s,s:s*,s:s*}", "agent", args[0], "task", task, "prompt", prompt),
                 NULL, 0, api_started);
    }
    json_decref(body);
}
