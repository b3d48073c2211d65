/* REST API v1: the machines of a fleet hub (bosun-http(7), bosun-fleet(7)).
 *
 *   GET    /api/v1/machines[/{id}]         cmd.machine.list | show: the
 *                                          hub's registry; without the fleet
 *                                          plugin, this one machine (made
 *                                          from cmd.daemon.status)
 *   POST   /api/v1/machines/registrations  cmd.machine.token.create
 *                                          {"name"?, "ttl"?}: 201 with the
 *                                          bsn_reg_ token, shown only here
 *   DELETE /api/v1/machines/{id}           cmd.machine.revoke: its token
 *                                          refused from now on, its link
 *                                          closed with machine.close
 */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/log.h>

/* The fleet plugin's own bounds (plugins/fleet/fleet.c). */
#define API_MACHINE_NAME_MAX 128
#define API_REG_TTL_MAX      (30 * 86400)

static const char *const api_page_params[] = {"limit", "cursor", NULL};
static const char *const api_no_params[] = {NULL};
static const char *const api_registration_keys[] = {"name", "ttl", NULL};

/* Whether this daemon is a hub (runs the fleet plugin). */
static bool api_is_hub(http_request *r)
{
    return bus_has_subscribers(http_server_bus(r->srv), "cmd.machine.list");
}

static int api_by_id(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "id"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "id"));
    return strcmp(x ? x : "", y ? y : "");
}

/* state: {"cursor": C|null, "limit": N}; machines by id, after the cursor. */
static void api_registry_done(http_request *r, json_t *reply, json_t *state)
{
    const char *cursor = json_string_value(json_object_get(state, "cursor"));
    size_t limit = (size_t)json_integer_value(json_object_get(state, "limit"));
    json_t *all = json_object_get(reply, "items");
    size_t n = json_array_size(all), k = 0;
    json_t **v = n ? calloc(n, sizeof *v) : NULL;
    if (n && !v) {
        json_decref(state);
        return http_respond_error(r, 500, "internal", "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(all, i);
    qsort(v, n, sizeof *v, api_by_id);
    json_t *items = json_array(), *next = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_object_get(v[i], "id"));
        if (!id || (cursor && strcmp(id, cursor) <= 0))
            continue;
        if (k++ == limit) { /* one more than the page: there is a next one */
            next = json_string(json_string_value(
                json_object_get(json_array_get(items, json_array_size(items) - 1), "id")));
            break;
        }
        json_array_append(items, v[i]);
    }
    free(v);
    json_decref(state);
    api_respond_list(r, items, next);
}

void api_machines_list(http_request *r, const char *const *args, size_t n_args)
{
    if (!api_is_hub(r))
        return api_machines_list_local(r, args, n_args);
    long long limit;
    const char *cursor;
    if (!api_query_check(r, api_page_params) || !api_query_limit(r, &limit) ||
        !api_query_id(r, "cursor", &cursor))
        return;
    api_call(r, "cmd.machine.list", json_object(),
             json_pack("{s:s*,s:I}", "cursor", cursor, "limit", (json_int_t)limit), 0,
             api_registry_done);
}

static void api_registry_show_done(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 200, json_pack("{s:O}", "machine", json_object_get(reply, "machine")));
}

void api_machine_show(http_request *r, const char *const *args, size_t n_args)
{
    if (!api_is_hub(r))
        return api_machine_show_local(r, args, n_args);
    if (n_args < 1 || !api_path_id(r, "machine", args[0]) || !api_query_check(r, api_no_params))
        return;
    api_call(r, "cmd.machine.show", json_pack("{s:s}", "id", args[0]), NULL, 0,
             api_registry_show_done);
}

static void api_registration_done(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    /* The token is in this response only: the hub keeps its hash. */
    http_respond_json(r, 201, json_incref(reply));
}

void api_machine_registration(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    if (!api_query_check(r, api_no_params))
        return;
    json_t *body = api_body_object(r, api_registration_keys);
    if (!body)
        return;
    const char *name;
    json_t *ttl = json_object_get(body, "ttl");
    bool ok = api_body_string(r, body, "name", 1, API_MACHINE_NAME_MAX, false, &name);
    if (ok && ttl &&
        (!json_is_integer(ttl) || json_integer_value(ttl) < 1 ||
         json_integer_value(ttl) > API_REG_TTL_MAX)) {
        http_respond_error(r, 400, "bad_request", "'ttl' must be seconds, 1 to %d",
                           API_REG_TTL_MAX);
        ok = false;
    }
    if (ok && !api_is_hub(r)) { /* (r is gone once answered) */
        http_respond_error(r, 404, "not_found",
                           "this daemon is no fleet hub: it has no machine registrations");
        ok = false;
    }
    if (ok) {
        log_info("http: %s %s creates a machine registration token", r->id.kind, r->id.id);
        json_t *q = json_pack("{s:s*}", "name", name);
        if (ttl)
            json_object_set(q, "ttl", ttl);
        api_call(r, "cmd.machine.token.create", q, NULL, 0, api_registration_done);
    }
    json_decref(body);
}

static void api_revoked(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 200, json_incref(reply));
}

void api_machine_revoke(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args < 1 || !api_path_id(r, "machine", args[0]) || !api_query_check(r, api_no_params))
        return;
    if (!api_is_hub(r))
        return http_respond_error(r, 404, "not_found", "this daemon is no fleet hub");
    log_info("http: %s %s revokes machine %s", r->id.kind, r->id.id, args[0]);
    api_call(r, "cmd.machine.revoke", json_pack("{s:s}", "id", args[0]), NULL, 0, api_revoked);
}
