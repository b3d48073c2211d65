/* REST API v1: stored events (bosun-http(7)).
 *
 *   GET /api/v1/events   cmd.store.events; since/cursor, subject, run, task,
 *                        limit, tail
 *
 * Also the shared part of GET /api/v1/runs/{id}/logs, which is the same
 * query narrowed to one run's output.  To follow live, a client replays here
 * and goes on over /ws with "since" (the store's feed, no gap, no
 * duplicate).
 */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <string.h>

#include <bosun/store.h>

/* cmd.store.events' own bounds. */
#define API_EVENTS_LIMIT_MAX 10000

json_t *api_events_window(http_request *r, const char *since_name)
{
    long long since = -1, tail = 0, limit = API_LIMIT_DEFAULT;
    if (!api_query_int(r, since_name, 0, INT64_MAX / 2, &since) ||
        !api_query_int(r, "tail", 1, API_EVENTS_LIMIT_MAX, &tail) ||
        !api_query_int(r, "limit", 1, API_EVENTS_LIMIT_MAX, &limit))
        return NULL;
    /* "tail" picks its own window: with "since" or "limit" which one wins
     * would be a guess. */
    if (tail && (since >= 0 || http_query(r, "limit"))) {
        http_respond_error(r, 400, "bad_request", "'tail' cannot be combined with '%s' or 'limit'",
                           since_name);
        return NULL;
    }
    if (tail)
        return json_pack("{s:I}", "tail", (json_int_t)tail);
    return json_pack("{s:I,s:I}", "since", (json_int_t)(since < 0 ? 0 : since), "limit",
                     (json_int_t)limit);
}

static void api_events_done(http_request *r, json_t *reply, json_t *state)
{
    bool tail = json_is_true(json_object_get(state, "tail"));
    json_decref(state);
    json_t *events = json_object_get(reply, "events");
    size_t n = json_array_size(events);
    /* A tail's "more" says that older events exist, which is no page to
     * read on to; a tail cut short ("partial") goes on from its end. */
    bool more = tail ? json_is_true(json_object_get(reply, "partial"))
                     : json_is_true(json_object_get(reply, "more"));
    json_t *next = NULL;
    if (more && n > 0)
        next = json_incref(json_object_get(json_array_get(events, n - 1), "seq"));
    json_t *body = json_pack("{s:O,s:o,s:O}", "items", events, "next", next ? next : json_null(),
                             "last_seq", json_object_get(reply, "last_seq"));
    http_respond_json(r, 200, body);
}

void api_events_query(http_request *r, json_t *q)
{
    json_t *state = json_pack("{s:b}", "tail", json_object_get(q, "tail") != NULL);
    api_call(r, BOSUN_STORE_EVENTS, q, state, 0, api_events_done);
}

static const char *const api_events_params[] = {"since", "cursor", "subject", "run", "task",
                                                "limit", "tail",   "machine", NULL};

void api_events_list(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    const char *run, *task, *machine, *subject = http_query(r, "subject");
    if (!api_query_check(r, api_events_params) || !api_query_id(r, "run", &run) ||
        !api_query_id(r, "task", &task) || !api_query_id(r, "machine", &machine) ||
        !api_list_task(r, &task))
        return;
    if (subject && (strlen(subject) > BUS_SUBJECT_MAX || bus_pattern_check(subject) != 0))
        return http_respond_error(r, 400, "bad_request",
                                  "'subject' must be a subject pattern (tokens of A-Z a-z 0-9 _ - "
                                  "joined by dots, with * and >)");
    /* "cursor" is the name every list takes; "since" the one events have
     * always had.  Both mean the same: after this seq. */
    bool cursor = http_query(r, "cursor") != NULL;
    if (cursor && http_query(r, "since"))
        return http_respond_error(r, 400, "bad_request", "give 'since' or 'cursor', not both");
    json_t *q = api_events_window(r, cursor ? "cursor" : "since");
    if (!q)
        return;
    if (subject)
        json_object_set_new(q, "subject", json_string(subject));
    /* A bound identity without a task sees its own run's events. */
    const char *own = task && !task[0] ? api_scope_run(r) : NULL;
    if (own && run && strcmp(run, own) != 0) {
        json_decref(q);
        return http_respond_error(r, 404, "not_found", "no run '%s'", run);
    }
    if (own || run)
        json_object_set_new(q, "run", json_string(own ? own : run));
    if (task && !own)
        json_object_set_new(q, "task", json_string(task));
    if (machine)
        json_object_set_new(q, "machine", json_string(machine));
    api_events_query(r, q);
}
