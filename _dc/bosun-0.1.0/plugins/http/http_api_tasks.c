/* REST API v1: tasks (bosun-http(7)).
 *
 *   GET  /api/v1/tasks        cmd.store.tasks: the task index, last updated
 *                             first, paged by task id
 *   POST /api/v1/tasks        cmd.task.create {"title","prompt"?,"agent"?}
 *   GET  /api/v1/tasks/{id}   cmd.store.tasks, then the task's runs and its
 *                             questions (cmd.store.runs, cmd.store.inputs)
 */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <string.h>

#include <bosun/log.h>
#include <bosun/store.h>
#include <bosun/task.h>

/* cmd.task.create's own bounds. */
#define API_TITLE_MAX  200
#define API_PROMPT_MAX (1024 * 1024)
#define API_OWNER_MAX  200
/* A task's page shows its newest runs and questions, up to this many each;
 * the lists /runs?task= and /inputs?task= page through all of them. */
#define API_TASK_SHOW_MAX 100

static const char *const api_no_params[] = {NULL};
static const char *const api_tasks_params[] = {"status", "limit", "cursor", "machine", NULL};

void api_tasks_list(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    const char *status, *cursor, *machine, *task = NULL;
    long long limit;
    if (!api_query_check(r, api_tasks_params) || !api_query_id(r, "status", &status) ||
        !api_query_id(r, "cursor", &cursor) || !api_query_id(r, "machine", &machine) ||
        !api_query_limit(r, &limit) || !api_list_task(r, &task))
        return;
    api_list_call(r, BOSUN_STORE_TASKS,
                  json_pack("{s:s*,s:s*,s:s*,s:s*}", "task", task, "status", status, "after",
                            cursor, "machine", machine),
                  limit, "tasks", "task");
}

/* ------------------------------------------------------------ create */

static const char *const api_create_keys[] = {"title", "prompt", "agent", "machine", NULL};

static void api_created(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 201, json_incref(reply));
}

void api_task_create(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    if (!api_query_check(r, api_no_params))
        return;
    json_t *body = api_body_object(r, api_create_keys);
    const char *title, *prompt, *agent, *machine;
    if (!body)
        return;
    bool ok = api_body_string(r, body, "title", 1, API_TITLE_MAX, true, &title) &&
              api_body_string(r, body, "prompt", 0, API_PROMPT_MAX, false, &prompt) &&
              api_body_id(r, body, "agent", &agent) && api_body_id(r, body, "machine", &machine);
    if (ok) {
        /* The task is its creator's: the owner is who asked, never a claim
         * of the body. */
        const char *owner = r->id.id[0] && strlen(r->id.id) <= API_OWNER_MAX ? r->id.id : NULL;
        log_info("http: %s %s creates a task%s%s", r->id.kind, r->id.id, agent ? " for agent " : "",
                 agent ? agent : "");
        api_call(r, BOSUN_TASK_CREATE,
                 json_pack("{s:s,s:s*,s:s*,s:s*,s:s*}", "title", title, "prompt", prompt, "agent",
                           agent, "owner", owner, "machine", machine),
                 NULL, 0, api_created);
    }
    json_decref(body);
}

/* ------------------------------------------------------------ show */

/* Three queries in a row, each adding to state {"id", "task", "runs"}. */
static void api_show_inputs(http_request *r, json_t *reply, json_t *state)
{
    json_object_set(state, "inputs", json_object_get(reply, "inputs"));
    json_object_del(state, "id");
    http_respond_json(r, 200, state);
}

static void api_show_runs(http_request *r, json_t *reply, json_t *state)
{
    json_object_set(state, "runs", json_object_get(reply, "runs"));
    json_t *q =
        json_pack("{s:O,s:i}", "task", json_object_get(state, "id"), "limit", API_TASK_SHOW_MAX);
    api_call(r, BOSUN_STORE_INPUTS, q, state, 0, api_show_inputs);
}

static void api_show_task(http_request *r, json_t *reply, json_t *state)
{
    const json_t *task = json_array_get(json_object_get(reply, "tasks"), 0);
    if (!json_is_object(task)) {
        http_respond_error(r, 404, "not_found", "no task '%s'",
                           json_string_value(json_object_get(state, "id")));
        json_decref(state);
        return;
    }
    json_object_set(state, "task", (json_t *)task);
    /* The runs' cost_usd so far, live turns included (bosun-http(7)). */
    json_t *q = json_pack("{s:O,s:i,s:b}", "task", json_object_get(state, "id"), "limit",
                          API_TASK_SHOW_MAX, "cost", 1);
    api_call(r, BOSUN_STORE_RUNS, q, state, 0, api_show_runs);
}

void api_task_show(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args < 1 || !api_path_id(r, "task", args[0]) || !api_query_check(r, api_no_params) ||
        !api_scope_allows(r, args[0], "task", args[0]))
        return;
    api_call(r, BOSUN_STORE_TASKS, json_pack("{s:s,s:i}", "task", args[0], "limit", 1),
             json_pack("{s:s}", "id", args[0]), 0, api_show_task);
}
