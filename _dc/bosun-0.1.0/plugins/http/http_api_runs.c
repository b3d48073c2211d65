/* REST API v1: runs (bosun-http(7)).
 *
 *   GET  /api/v1/runs               cmd.store.runs, paged by run id
 *   GET  /api/v1/runs/{id}          cmd.store.runs {"run"}
 *   POST /api/v1/runs/{id}/stop     cmd.proc.stop {"target": id}
 *   POST /api/v1/runs/{id}/restart  cmd.proc.restart {"target": id}
 *   GET  /api/v1/runs/{id}/logs     cmd.store.events of the run's output
 *
 * cmd.proc.stop and restart take an agent's name as well as a run id; the
 * run is looked up in the store first, so that a path naming a run can only
 * ever act on that run, and so that an identity scoped to a task gets 404
 * for the runs of other tasks.
 */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <stdio.h>
#include <string.h>

#include <bosun/log.h>
#include <bosun/store.h>

static const char *const api_no_params[] = {NULL};

/* ------------------------------------------------------------ list */

static const char *const api_runs_params[] = {"agent", "state",  "task",   "machine", "active",
                                              "limit", "cursor", "remote", NULL};

static bool api_state_ok(const char *s)
{
    static const char *const states[] = {BOSUN_RUN_ACTIVE_STATES, BOSUN_RUN_TERMINAL_STATES,
                                         BOSUN_RUN_WAITING_STATES};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(s, states[i]) == 0)
            return true;
    return false;
}

void api_runs_list(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    const char *agent, *task, *machine, *cursor, *st = NULL;
    int active, remote;
    long long limit;
    if (!api_query_check(r, api_runs_params) || !api_query_id(r, "agent", &agent) ||
        !api_query_id(r, "task", &task) || !api_query_id(r, "machine", &machine) ||
        !api_query_id(r, "cursor", &cursor) || !api_query_bool(r, "active", &active) ||
        !api_query_bool(r, "remote", &remote) || !api_query_limit(r, &limit) ||
        !api_list_task(r, &task))
        return;
    st = http_query(r, "state");
    if (st && !api_state_ok(st))
        return http_respond_error(r, 400, "bad_request",
                                  "'state' must be one of STARTING RUNNING BACKOFF STOPPING "
                                  "STOPPED EXITED FATAL LOST WAITING_INPUT");
    /* A bound identity without a task sees its own run, by its id. */
    const char *own = task && !task[0] ? api_scope_run(r) : NULL;
    json_t *q =
        json_pack("{s:s*,s:s*,s:s*,s:s*,s:s*,s:s*}", "agent", agent, "task", own ? NULL : task,
                  "run", own, "machine", machine, "state", st, "after", cursor);
    if (q && active >= 0)
        json_object_set_new(q, "active", json_boolean(active));
    if (q && remote >= 0)
        json_object_set_new(q, "remote", json_boolean(remote));
    /* cost_usd so far: what live runs reported too (bosun-http(7)). */
    if (q)
        json_object_set_new(q, "cost", json_true());
    api_list_call(r, BOSUN_STORE_RUNS, q, limit, "runs", "run");
}

/* ------------------------------------------------------------ one run */

/* Looks run id up for r, then calls the step named in state's "step" with
 * the run object (borrowed); 404 when there is none or it is another
 * task's.  The steps are named rather than passed because the state, a JSON
 * object, is the one thing api_call hands back. */
typedef void (*api_run_fn)(http_request *r, const json_t *run, json_t *state);

static void api_show_run(http_request *r, const json_t *run, json_t *state);
static void api_stop_found(http_request *r, const json_t *run, json_t *state);
static void api_logs_found(http_request *r, const json_t *run, json_t *state);

static const struct {
    const char *name;
    api_run_fn fn;
} api_run_steps[] = {
    {"show", api_show_run},
    {"stop", api_stop_found},
    {"logs", api_logs_found},
    {"changes", api_changes_found}, /* http_api_changes.c */
};

static api_run_fn api_run_step(const char *name)
{
    for (size_t i = 0; name && i < sizeof api_run_steps / sizeof api_run_steps[0]; i++)
        if (strcmp(api_run_steps[i].name, name) == 0)
            return api_run_steps[i].fn;
    return NULL;
}

static void api_run_found(http_request *r, json_t *reply, json_t *state)
{
    const char *id = json_string_value(json_object_get(state, "id"));
    api_run_fn then = api_run_step(json_string_value(json_object_get(state, "step")));
    const json_t *run = json_array_get(json_object_get(reply, "runs"), 0);
    if (!json_is_object(run) || !then) {
        http_respond_error(r, 404, "not_found", "no run '%s'", id ? id : "");
        json_decref(state);
        return;
    }
    const char *task = json_string_value(json_object_get(run, "task"));
    const char *own = api_scope_run(r);
    if (!(own && strcmp(own, id) == 0) && !api_scope_allows(r, task, "run", id)) {
        json_decref(state);
        return;
    }
    then(r, run, state);
}

/* state (stolen; NULL is {}) carries what the step needs. */
void api_with_run(http_request *r, const char *id, const char *step, json_t *state)
{
    if (!state)
        state = json_object();
    json_object_set_new(state, "id", json_string(id));
    json_object_set_new(state, "step", json_string(step));
    api_call(r, BOSUN_STORE_RUNS, json_pack("{s:s,s:i,s:b}", "run", id, "limit", 1, "cost", 1),
             state, 0, api_run_found);
}

static void api_show_run(http_request *r, const json_t *run, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 200, json_pack("{s:O}", "run", run));
}

void api_run_show(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args >= 1 && api_path_id(r, "run", args[0]) && api_query_check(r, api_no_params))
        api_with_run(r, args[0], "show", NULL);
}

/* ------------------------------------------------------------ stop, restart */

void api_proc_done(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 200, json_incref(reply));
}

static void api_stop_found(http_request *r, const json_t *run, json_t *state)
{
    (void)run;
    const char *verb = json_string_value(json_object_get(state, "verb"));
    char subject[32];
    snprintf(subject, sizeof subject, "cmd.proc.%s", verb);
    log_info("http: %s %s: %s run %s", r->id.kind, r->id.id, verb,
             json_string_value(json_object_get(state, "id")));
    json_t *q = json_pack("{s:O}", "target", json_object_get(state, "id"));
    json_decref(state);
    api_call(r, subject, q, NULL, API_STOP_TIMEOUT, api_proc_done);
}

bool api_verb_ok(http_request *r, const char *what, const char *const *args, size_t n_args)
{
    static const char *const no_keys[] = {NULL};
    if (n_args < 1 || !api_path_id(r, what, args[0]) || !api_query_check(r, api_no_params))
        return false;
    json_t *body = api_body_object(r, no_keys);
    json_decref(body);
    return body != NULL;
}

static void api_stop_or_restart(http_request *r, const char *const *args, size_t n_args,
                                const char *verb)
{
    if (api_verb_ok(r, "run", args, n_args))
        api_with_run(r, args[0], "stop", json_pack("{s:s}", "verb", verb));
}

void api_run_stop(http_request *r, const char *const *args, size_t n_args)
{
    api_stop_or_restart(r, args, n_args, "stop");
}

void api_run_restart(http_request *r, const char *const *args, size_t n_args)
{
    api_stop_or_restart(r, args, n_args, "restart");
}

/* ------------------------------------------------------------ logs */

static const char *const api_logs_params[] = {"tail", "since", "limit", NULL};

static void api_logs_found(http_request *r, const json_t *run, json_t *state)
{
    const char *id = json_string_value(json_object_get(state, "id"));
    const char *agent = json_string_value(json_object_get(run, "agent"));
    char subject[BUS_SUBJECT_MAX];
    /* The exact subject when the agent's name is a plain token (it always
     * is for runs the core made): the store then compares, not matches. */
    snprintf(subject, sizeof subject, "evt.run.%s.%s.output", api_id_ok(agent) ? agent : "*", id);
    json_t *q = json_pack("{s:s,s:s}", "subject", subject, "run", id);
    json_object_update(q, json_object_get(state, "query"));
    json_decref(state);
    api_events_query(r, q);
}

void api_run_logs(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args < 1 || !api_path_id(r, "run", args[0]) || !api_query_check(r, api_logs_params))
        return;
    json_t *q = api_events_window(r, "since");
    if (q)
        api_with_run(r, args[0], "logs", json_pack("{s:o}", "query", q));
}
