/* REST API v1: what runs spent (bosun-http(7)).
 *
 *   GET  /api/v1/cost      cmd.store.cost {by, since, until, agent, task,
 *                          machine, limit, cursor} -> {items, total, next}
 *   GET  /api/v1/budgets   cmd.proc.budgets {task} -> {items, machine}
 *
 * For the read role only: the sums cover every task, which an identity
 * bound to one task may not see.  by, since and until are checked by the
 * store, which names what is wrong in its bad_request (400 here). */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <string.h>

#include <bosun/store.h>

/* A cursor is a key of the list: a run, task, agent or machine id, a day,
 * or "" for the group without a task. */
#define API_COST_CURSOR_MAX 128

static const char *const api_cost_params[] = {"by",      "since", "until",  "agent", "task",
                                              "machine", "limit", "cursor", NULL};

/* A text parameter as it is (the store checks it), bounded. */
static bool api_cost_text(http_request *r, const char *name, size_t max, const char **out)
{
    *out = http_query(r, name);
    if (!*out || strlen(*out) <= max)
        return true;
    http_respond_error(r, 400, "bad_request", "'%s' is longer than %zu bytes", name, max);
    return false;
}

void api_cost_show(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    const char *by, *since, *until, *agent, *task, *machine, *cursor;
    long long limit;
    if (!api_query_check(r, api_cost_params) || !api_cost_text(r, "by", 16, &by) ||
        !api_cost_text(r, "since", 64, &since) || !api_cost_text(r, "until", 64, &until) ||
        !api_query_id(r, "agent", &agent) || !api_query_id(r, "task", &task) ||
        !api_query_id(r, "machine", &machine) ||
        !api_cost_text(r, "cursor", API_COST_CURSOR_MAX, &cursor) || !api_query_limit(r, &limit))
        return;
    json_t *q = json_pack("{s:s*,s:s*,s:s*,s:s*,s:s*,s:s*,s:s*,s:I}", "by", by, "since", since,
                          "until", until, "agent", agent, "task", task, "machine", machine,
                          "cursor", cursor, "limit", (json_int_t)limit);
    api_call(r, BOSUN_STORE_COST, q, NULL, 0, api_proc_done);
}

/* The budgets in force on this daemon with what they have spent: the
 * supervisor holds both, so it answers (cmd.proc.budgets). */
void api_budgets_show(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    static const char *const params[] = {"task", NULL};
    const char *task;
    if (!api_query_check(r, params) || !api_query_id(r, "task", &task))
        return;
    api_call(r, "cmd.proc.budgets", json_pack("{s:s*}", "task", task), NULL, 0, api_proc_done);
}
