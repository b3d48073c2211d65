/* REST API v1: agents' questions (bosun-http(7)).
 *
 *   GET  /api/v1/inputs               cmd.store.inputs, newest first, paged
 *                                     by question id
 *   POST /api/v1/inputs/{id}/answer   cmd.input.answer, which resumes the
 *                                     run that asked when it exited waiting
 *
 * The question is looked up first, so that an identity scoped to a task
 * gets 404 for the questions of other tasks.
 */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <string.h>

#include <bosun/log.h>
#include <bosun/store.h>
#include <bosun/task.h>

/* cmd.input.answer's own bounds. */
#define API_ANSWER_MAX  (64 * 1024)
#define API_CHOICES_MAX 50

static const char *const api_no_params[] = {NULL};
static const char *const api_inputs_params[] = {"status", "task",    "run", "limit",
                                                "cursor", "machine", NULL};

static bool api_input_status_ok(const char *s)
{
    return strcmp(s, "pending") == 0 || strcmp(s, "answered") == 0 || strcmp(s, "cancelled") == 0;
}

void api_inputs_list(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    const char *task, *run, *cursor, *machine, *status = NULL;
    long long limit;
    if (!api_query_check(r, api_inputs_params) || !api_query_id(r, "task", &task) ||
        !api_query_id(r, "run", &run) || !api_query_id(r, "cursor", &cursor) ||
        !api_query_id(r, "machine", &machine) || !api_query_limit(r, &limit) ||
        !api_list_task(r, &task))
        return;
    status = http_query(r, "status");
    if (status && !api_input_status_ok(status))
        return http_respond_error(r, 400, "bad_request",
                                  "'status' must be pending, answered or cancelled");
    api_list_call(r, BOSUN_STORE_INPUTS,
                  json_pack("{s:s*,s:s*,s:s*,s:s*,s:s*}", "task", task, "run", run, "status",
                            status, "after", cursor, "machine", machine),
                  limit, "inputs", "input");
}

/* ------------------------------------------------------------ answer */

static const char *const api_answer_keys[] = {"text", "choice", NULL};

static void api_answered(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 200, json_incref(reply));
}

/* state: {"id", "q": the cmd.input.answer data}. */
static void api_answer_found(http_request *r, json_t *reply, json_t *state)
{
    const char *id = json_string_value(json_object_get(state, "id"));
    const json_t *input = json_array_get(json_object_get(reply, "inputs"), 0);
    if (!json_is_object(input)) {
        http_respond_error(r, 404, "not_found", "no input '%s'", id);
        json_decref(state);
        return;
    }
    if (!api_scope_allows(r, json_string_value(json_object_get(input, "task")), "input", id)) {
        json_decref(state);
        return;
    }
    log_info("http: %s %s answers input %s", r->id.kind, r->id.id, id);
    json_t *q = json_incref(json_object_get(state, "q"));
    json_decref(state);
    api_call(r, BOSUN_INPUT_ANSWER, q, NULL, 0, api_answered);
}

/* {"text"} or {"choice": N}, exactly one, as cmd.input.answer data. */
static json_t *api_answer_data(http_request *r, const json_t *body, const char *id)
{
    const char *text;
    const json_t *choice = json_object_get(body, "choice");
    if (!api_body_string(r, body, "text", 0, API_ANSWER_MAX, false, &text))
        return NULL;
    if ((text != NULL) == (choice != NULL)) {
        http_respond_error(r, 400, "bad_request", "give exactly one of 'text' and 'choice'");
        return NULL;
    }
    json_int_t n = json_integer_value(choice);
    if (choice && (!json_is_integer(choice) || n < 1 || n > API_CHOICES_MAX)) {
        http_respond_error(r, 400, "bad_request",
                           "'choice' must be the number of a choice, from 1 to %d",
                           API_CHOICES_MAX);
        return NULL;
    }
    const char *by = r->id.id[0] ? r->id.id : r->id.kind;
    json_t *q = json_pack("{s:s,s:s}", "input", id, "by", by);
    if (text)
        json_object_set_new(q, "answer", json_string(text));
    else
        json_object_set_new(q, "choice", json_integer(n));
    return q;
}

void api_input_answer(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args < 1 || !api_path_id(r, "input", args[0]) || !api_query_check(r, api_no_params))
        return;
    if (r->id.cred == HTTP_CRED_SHARE && !r->id.can_answer)
        return http_respond_error(r, 403, "forbidden", "this share link may not answer questions");
    json_t *body = api_body_object(r, api_answer_keys);
    if (!body)
        return;
    json_t *q = api_answer_data(r, body, args[0]);
    json_decref(body);
    if (!q)
        return;
    api_call(r, BOSUN_STORE_INPUTS, json_pack("{s:s,s:i}", "input", args[0], "limit", 1),
             json_pack("{s:s,s:o}", "id", args[0], "q", q), 0, api_answer_found);
}
