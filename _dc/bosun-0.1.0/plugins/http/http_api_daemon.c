/* REST API v1: the daemon, its machines and its agents (bosun-http(7)).
 *
 *   GET  /api/v1/status             cmd.daemon.status, with cmd.store.status
 *                                   as "store" when a store answers
 *   GET  /api/v1/machines[/{id}]    made from cmd.daemon.status: this one
 *                                   machine, where no fleet hub runs
 *                                   (http_api_machines.c)
 *   GET  /api/v1/agents             cmd.proc.ps rows, one per instance
 *   POST /api/v1/agents/{name}/start  cmd.proc.start: a configured agent by
 *                                   name, nothing else (no command, no config)
 *   POST /api/v1/agents/{name}/stop     cmd.proc.stop {"target": name}
 *   POST /api/v1/agents/{name}/restart  cmd.proc.restart {"target": name}:
 *                                   every active run of the agent, as the
 *                                   control socket's stop AGENT does
 */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/log.h>
#include <bosun/store.h>

/* cmd.proc.start's own bound on a prompt. */
#define API_PROMPT_MAX (1024 * 1024)

static const char *const api_no_params[] = {NULL};
static const char *const api_page_params[] = {"limit", "cursor", NULL};

/* ------------------------------------------------------------ status */

/* Seconds the store's status may take: it is only counters. */
#define API_STORE_STATUS_TIMEOUT 5.0

typedef struct api_status_pending {
    http_request *r;
    json_t *status; /* cmd.daemon.status's reply */
} api_status_pending;

/* The daemon's status, with the store's when it gave one: a store that is
 * absent, refuses or is slow leaves "store" out rather than failing the
 * status, as bosunctl status prints no store line then. */
static void api_store_status_done(bus_t *bus, enum bus_reply_status status, const bus_msg *msg,
                                  void *arg)
{
    (void)bus;
    api_status_pending *p = arg;
    if (status == BUS_REPLY_OK && json_is_object(msg->data) && !json_object_get(msg->data, "error"))
        json_object_set(p->status, "store", msg->data);
    http_respond_json(p->r, 200, p->status);
    free(p);
}

static void api_status_done(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    api_status_pending *p = malloc(sizeof *p);
    json_t *st = json_deep_copy(reply);
    if (!p || !st) {
        free(p);
        json_decref(st);
        return http_respond_error(r, 500, "internal", "out of memory");
    }
    *p = (api_status_pending){.r = r, .status = st};
    json_t *q = json_object();
    uint64_t id = bus_request_as(http_server_bus(r->srv), r->id.who, BOSUN_STORE_STATUS, q,
                                 API_STORE_STATUS_TIMEOUT, api_store_status_done, p);
    json_decref(q);
    if (!id) { /* not permitted: the status without it */
        http_respond_json(r, 200, st);
        free(p);
    }
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

void api_machines_list_local(http_request *r, const char *const *args, size_t n_args)
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

void api_machine_show_local(http_request *r, const char *const *args, size_t n_args)
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

void api_agent_start(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args < 1 || !api_path_id(r, "agent", args[0]) || !api_query_check(r, api_no_params))
        return;
    json_t *body = api_body_object(r, api_start_keys);
    const char *prompt, *task, *machine;
    if (!body)
        return;
    bool ok = api_body_string(r, body, "prompt", 0, API_PROMPT_MAX, false, &prompt) &&
              api_body_id(r, body, "task", &task) && api_body_id(r, body, "machine", &machine);
    if (ok) { /* "machine": a hub sends it down that machine's link */
        log_info("http: %s %s starts agent %s%s%s", r->id.kind, r->id.id, args[0],
                 machine ? " on " : "", machine ? machine : "");
        api_call(r, "cmd.proc.start",
                 json_pack("{s:s,s:s*,s:s*,s:s*}", "agent", args[0], "task", task, "prompt", prompt,
                           "machine", machine),
                 NULL, 0, api_started);
    }
    json_decref(body);
}

/* POST /api/v1/agents/{name}/stop|restart: the bus request the control
 * socket's `bosunctl stop AGENT` sends, which acts on every active run of
 * the agent (restart with none running starts it) and answers with the
 * runs it acted on; an unknown name is cmd.proc's 404. */
static void api_agent_verb(http_request *r, const char *const *args, size_t n_args,
                           const char *verb)
{
    if (!api_verb_ok(r, "agent", args, n_args))
        return;
    char subject[32];
    snprintf(subject, sizeof subject, "cmd.proc.%s", verb);
    log_info("http: %s %s: %s agent %s", r->id.kind, r->id.id, verb, args[0]);
    api_call(r, subject, json_pack("{s:s}", "target", args[0]), NULL, API_STOP_TIMEOUT,
             api_proc_done);
}

void api_agent_stop(http_request *r, const char *const *args, size_t n_args)
{
    api_agent_verb(r, args, n_args, "stop");
}

void api_agent_restart(http_request *r, const char *const *args, size_t n_args)
{
    api_agent_verb(r, args, n_args, "restart");
}
