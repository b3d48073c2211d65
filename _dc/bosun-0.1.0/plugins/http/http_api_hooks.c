/* REST API v1: Claude Code hook calls (bosun-http(7)), for
 * `bosunctl --url URL hook` on a machine other than the daemon's.
 *
 *   POST /api/v1/hooks    cmd.hook.event (admins): body {"input": TEXT}
 *                         (the hook's stdin), or {"oversize": N} or
 *                         {"not_text": N}; 200 with the reply
 *                         {"run","session_id","state","event","attention"}
 */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

/* Served by bosund's core (bosun-bus(7), "Hook requests"). */
#define API_HOOK_EVENT "cmd.hook.event"

static const char *const api_no_params[] = {NULL};
static const char *const api_hook_keys[] = {"input", "oversize", "not_text", NULL};

static void api_hooked(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 200, json_incref(reply));
}

void api_hook_event(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    if (!api_query_check(r, api_no_params))
        return;
    json_t *body = api_body_object(r, api_hook_keys);
    if (!body)
        return;
    /* The daemon validates the call itself and logs what was wrong. */
    api_call(r, API_HOOK_EVENT, body, NULL, 0, api_hooked);
}
