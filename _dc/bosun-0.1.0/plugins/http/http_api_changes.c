/* REST API v1: a run's change snapshots (bosun-http(7)).
 *
 *   GET /api/v1/runs/{id}/changes   cmd.store.events on
 *                                   evt.run.AGENT.ID.changes: the latest
 *                                   snapshot, and the history (since/limit
 *                                   or tail) without diffs unless diff=true
 *
 * A snapshot carries a diff of up to changes.diff_max bytes: a history of
 * them would be megabytes, so the history lists paths and counts, and the
 * diff comes with the latest (or with diff=true).
 */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <stdio.h>
#include <string.h>

#include <bosun/store.h>

static const char *const api_changes_params[] = {"since", "limit", "tail", "diff", NULL};

static json_t *api_changes_subject(const json_t *run, const char *id)
{
    const char *agent = json_string_value(json_object_get(run, "agent"));
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.run.%s.%s.changes", api_id_ok(agent) ? agent : "*", id);
    return json_string(subject);
}

static void api_changes_history(http_request *r, json_t *reply, json_t *state)
{
    json_t *events = json_object_get(reply, "events");
    bool diffs = json_is_true(json_object_get(state, "diff"));
    size_t i, n = json_array_size(events);
    json_t *ev, *items = json_array();
    json_array_foreach(events, i, ev)
    {
        json_t *data = json_deep_copy(json_object_get(ev, "data"));
        if (!diffs)
            json_object_del(data, "diff");
        json_array_append_new(items, json_pack("{s:O,s:O,s:o}", "seq", json_object_get(ev, "seq"),
                                               "time", json_object_get(ev, "time"), "data", data));
    }
    bool tail = json_object_get(state, "tail") != NULL;
    bool more = tail ? json_is_true(json_object_get(reply, "partial"))
                     : json_is_true(json_object_get(reply, "more"));
    json_t *next = more && n > 0
                       ? json_incref(json_object_get(json_array_get(events, n - 1), "seq"))
                       : json_null();
    json_t *body = json_pack("{s:O,s:O,s:o,s:o,s:O}", "run", json_object_get(state, "id"), "latest",
                             json_object_get(state, "latest"), "items", items, "next", next,
                             "last_seq", json_object_get(reply, "last_seq"));
    json_decref(state);
    http_respond_json(r, 200, body);
}

static void api_changes_latest(http_request *r, json_t *reply, json_t *state)
{
    json_t *last = json_array_get(json_object_get(reply, "events"), 0);
    json_object_set(state, "latest", last ? json_object_get(last, "data") : json_null());
    json_t *q = json_deep_copy(json_object_get(state, "query"));
    json_object_set(q, "subject", json_object_get(state, "subject"));
    json_object_set(q, "run", json_object_get(state, "id"));
    if (json_object_get(q, "tail"))
        json_object_set_new(state, "tail", json_true());
    api_call(r, BOSUN_STORE_EVENTS, q, state, 0, api_changes_history);
}

void api_changes_found(http_request *r, const json_t *run, json_t *state)
{
    const char *id = json_string_value(json_object_get(state, "id"));
    json_object_set_new(state, "subject", api_changes_subject(run, id));
    json_t *q = json_pack("{s:O,s:O,s:i}", "subject", json_object_get(state, "subject"), "run",
                          json_object_get(state, "id"), "tail", 1);
    api_call(r, BOSUN_STORE_EVENTS, q, state, 0, api_changes_latest);
}

void api_run_changes(http_request *r, const char *const *args, size_t n_args)
{
    int diff = -1;
    if (n_args < 1 || !api_path_id(r, "run", args[0]) || !api_query_check(r, api_changes_params) ||
        !api_query_bool(r, "diff", &diff))
        return;
    json_t *q = api_events_window(r, "since");
    if (q)
        api_with_run(r, args[0], "changes", json_pack("{s:o,s:b}", "query", q, "diff", diff == 1));
}
