/* REST API v1: an llm run's versioned files and chat (bosun-http(7)).
 *
 *   GET    /api/v1/runs/{id}/files              cmd.llm.files.list: the
 *          ?path=                               latest version of each path,
 *                                               or every version of one
 *   GET    /api/v1/runs/{id}/files/{path}       cmd.llm.files.get: the
 *          ?version=N                           content as of version N
 *                                               (raw bytes)
 *   PUT    /api/v1/runs/{id}/files/{path}       cmd.llm.files.put: a human's
 *                                               edit, the body the content
 *   DELETE /api/v1/runs/{id}/files/{path}       cmd.llm.files.delete
 *   GET    /api/v1/runs/{id}/messages           cmd.llm.chat.history
 *          ?limit=&before=
 *   POST   /api/v1/runs/{id}/messages           cmd.llm.chat.send {"text"}
 *   POST   /api/v1/runs/{id}/messages/clear     cmd.llm.chat.clear
 *
 * {path} is one to three path segments, or the whole path in one segment
 * with its slashes percent-encoded (%2F).  Admins may use all of them,
 * viewers the reads; an agent identity only for its own run (its run
 * forced by api_scope_query, another run's a 404). */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/codec.h>
#include <bosun/log.h>

#define API_FILE_PATH_MAX 1024
#define API_TEXT_MAX      (1024 * 1024)

static const char *const api_no_params[] = {NULL};
static const char *const api_list_params[] = {"path", NULL};
static const char *const api_get_params[] = {"version", NULL};
static const char *const api_history_params[] = {"limit", "before", NULL};
static const char *const api_send_keys[] = {"text", NULL};

/* The run's id, checked, and no other run than an agent's own. */
static bool api_llm_run(http_request *r, const char *id)
{
    if (!api_path_id(r, "run", id))
        return false;
    const char *own = api_scope_run(r);
    if (api_scope_task(r) && (!own || strcmp(own, id) != 0)) {
        http_respond_error(r, 404, "not_found", "no run '%s'", id);
        return false;
    }
    return true;
}

/* The file's path from the parts after "files/", joined with "/". */
static bool api_llm_path(http_request *r, const char *const *args, size_t n_args, char *out,
                         size_t size)
{
    size_t used = 0;
    for (size_t i = 1; i < n_args; i++) {
        int n = snprintf(out + used, size - used, "%s%s", i > 1 ? "/" : "", args[i]);
        if (n < 0 || (size_t)n >= size - used) {
            http_respond_error(r, 400, "bad_request", "the path is longer than %d bytes",
                               API_FILE_PATH_MAX);
            return false;
        }
        used += (size_t)n;
    }
    return true;
}

static void api_llm_reply(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 200, json_incref(reply));
}

static void api_llm_items(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    json_t *items = json_object_get(reply, "items");
    json_t *next = json_object_get(reply, "next");
    api_respond_list(r, json_incref(items ? items : json_array()), json_incref(next));
}

/* ------------------------------------------------------------ files */

void api_run_files(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args < 1 || !api_llm_run(r, args[0]) || !api_query_check(r, api_list_params))
        return;
    /* ?path=: every version of that one path (the store checks the path). */
    const char *path = http_query(r, "path");
    if (path && strlen(path) > API_FILE_PATH_MAX)
        return http_respond_error(r, 400, "bad_request", "the path is longer than %d bytes",
                                  API_FILE_PATH_MAX);
    json_t *p = path ? json_string(path) : NULL;
    if (path && !p)
        return http_respond_error(r, 400, "bad_request", "the path is not UTF-8");
    json_t *q = json_pack("{s:s}", "run", args[0]);
    if (p)
        json_object_set_new(q, "path", p);
    api_call(r, "cmd.llm.files.list", q, NULL, 0, api_llm_items);
}

static void api_file_done(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    const char *b64 = json_string_value(json_object_get(reply, "content_base64"));
    size_t len = 0;
    unsigned char *bytes = b64 && *b64 ? bosun_base64_decode(b64, &len) : NULL;
    if (b64 && *b64 && !bytes)
        return http_respond_error(r, 500, "internal", "the store gave unreadable content");
    api_content_headers(r, "X-Bosun-File-Version",
                        json_integer_value(json_object_get(reply, "version")),
                        json_string_value(json_object_get(reply, "sha256")));
    http_respond(r, 200, "application/octet-stream", bytes ? (const void *)bytes : "", len);
    free(bytes);
}

void api_run_file_get(http_request *r, const char *const *args, size_t n_args)
{
    char path[API_FILE_PATH_MAX + 1];
    long long version = -1;
    if (n_args < 2 || !api_llm_run(r, args[0]) || !api_query_check(r, api_get_params) ||
        !api_query_int(r, "version", 0, INT64_MAX, &version) ||
        !api_llm_path(r, args, n_args, path, sizeof path))
        return;
    json_t *q = json_pack("{s:s,s:s}", "run", args[0], "path", path);
    if (version >= 0)
        json_object_set_new(q, "version", json_integer(version));
    api_call(r, "cmd.llm.files.get", q, NULL, 0, api_file_done);
}

void api_run_file_put(http_request *r, const char *const *args, size_t n_args)
{
    char path[API_FILE_PATH_MAX + 1];
    if (n_args < 2 || !api_llm_run(r, args[0]) || !api_query_check(r, api_no_params) ||
        !api_llm_path(r, args, n_args, path, sizeof path))
        return;
    char *b64 = bosun_base64_encode(r->body, r->body_len);
    if (!b64)
        return http_respond_error(r, 500, "internal", "out of memory");
    json_t *q = json_pack("{s:s,s:s,s:s}", "run", args[0], "path", path, "content_base64", b64);
    free(b64);
    log_info("http: %s %s writes %s in run %s", r->id.kind, r->id.id, path, args[0]);
    api_call(r, "cmd.llm.files.put", q, NULL, 0, api_llm_reply);
}

void api_run_file_delete(http_request *r, const char *const *args, size_t n_args)
{
    char path[API_FILE_PATH_MAX + 1];
    if (n_args < 2 || !api_llm_run(r, args[0]) || !api_query_check(r, api_no_params) ||
        !api_llm_path(r, args, n_args, path, sizeof path))
        return;
    log_info("http: %s %s deletes %s in run %s", r->id.kind, r->id.id, path, args[0]);
    api_call(r, "cmd.llm.files.delete", json_pack("{s:s,s:s}", "run", args[0], "path", path), NULL,
             0, api_llm_reply);
}

/* ------------------------------------------------------------ chat */

void api_run_messages(http_request *r, const char *const *args, size_t n_args)
{
    long long limit = API_LIMIT_DEFAULT, before = -1;
    if (n_args < 1 || !api_llm_run(r, args[0]) || !api_query_check(r, api_history_params) ||
        !api_query_int(r, "limit", 1, API_LIMIT_MAX, &limit) ||
        !api_query_int(r, "before", 1, INT64_MAX, &before))
        return;
    json_t *q = json_pack("{s:s,s:I}", "run", args[0], "limit", (json_int_t)limit);
    if (before > 0)
        json_object_set_new(q, "before", json_integer(before));
    api_call(r, "cmd.llm.chat.history", q, NULL, 0, api_llm_items);
}

static void api_sent(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    http_respond_json(r, 201, json_incref(reply));
}

void api_run_message_send(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args < 1 || !api_llm_run(r, args[0]) || !api_query_check(r, api_no_params))
        return;
    json_t *body = api_body_object(r, api_send_keys);
    const char *text;
    if (!body)
        return;
    if (!api_body_string(r, body, "text", 1, API_TEXT_MAX, true, &text)) {
        json_decref(body);
        return;
    }
    json_t *q = json_pack("{s:s,s:s}", "run", args[0], "text", text);
    json_decref(body);
    api_call(r, "cmd.llm.chat.send", q, NULL, 0, api_sent);
}

void api_run_messages_clear(http_request *r, const char *const *args, size_t n_args)
{
    if (!api_verb_ok(r, "run", args, n_args) || !api_llm_run(r, args[0]))
        return;
    api_call(r, "cmd.llm.chat.clear", json_pack("{s:s}", "run", args[0]), NULL, 0, api_llm_reply);
}
