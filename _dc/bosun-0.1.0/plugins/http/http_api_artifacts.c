/* REST API v1: the files agents keep for their tasks (bosun-http(7)).
 *
 *   GET /api/v1/tasks/{id}/artifacts         cmd.store.artifacts: the latest
 *                                            version of each name, by name;
 *                                            ?name= every version of one
 *   GET /api/v1/tasks/{id}/artifacts/{name}  one version's bytes, with its
 *                                            type (?version=N, else the latest)
 *
 * What an agent wrote is served as data, never as a page of ours: nosniff,
 * a sandboxing Content-Security-Policy, and every type but a few plain text
 * ones as an attachment, so that an artifact of type text/html cannot run
 * script with the API's origin.
 */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/codec.h>
#include <bosun/store.h>

/* cmd.store.artifacts.put's own bounds on a name. */
#define API_NAME_MAX 255
/* A SHA-256 in hexadecimal, as the store gives it. */

/* ------------------------------------------------------------ list */

static const char *const api_list_params[] = {"name", "limit", "cursor", NULL};

/* A name as the store takes it: 1 to 255 bytes, no control character, not
 * absolute, no ".." part. */
static bool api_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > API_NAME_MAX || name[0] == '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return false;
    for (const char *p = name; (p = strstr(p, "..")); p += 2)
        if ((p == name || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return false;
    return true;
}

/* state: {"id", "limit", "cursor"?}.  Names come sorted from the store; a
 * page is those after the cursor (a name), and the next cursor the last
 * name of the page. */
static void api_page_names(http_request *r, json_t *list, json_t *state)
{
    long long limit = json_integer_value(json_object_get(state, "limit"));
    const char *cursor = json_string_value(json_object_get(state, "cursor"));
    json_t *items = json_array(), *next = NULL;
    size_t i, n = json_array_size(list);
    for (i = 0; i < n && (long long)json_array_size(items) < limit; i++) {
        const json_t *a = json_array_get(list, i);
        const char *name = json_string_value(json_object_get(a, "name"));
        if (!cursor || (name && strcmp(name, cursor) > 0))
            json_array_append(items, (json_t *)a);
    }
    if (i < n && json_array_size(items) > 0)
        next =
            json_incref(json_object_get(json_array_get(items, json_array_size(items) - 1), "name"));
    api_respond_list(r, items, next);
}

/* With ?name=: its versions, newest first; a page is those below the
 * cursor (a version number), and the next cursor the last version of the
 * page. */
static void api_page_versions(http_request *r, json_t *list, json_t *state)
{
    long long limit = json_integer_value(json_object_get(state, "limit"));
    long long cursor = json_integer_value(json_object_get(state, "before"));
    json_t *items = json_array(), *next = NULL;
    size_t i, n = json_array_size(list);
    for (i = 0; i < n && (long long)json_array_size(items) < limit; i++) {
        const json_t *a = json_array_get(list, i);
        if (!cursor || json_integer_value(json_object_get(a, "version")) < cursor)
            json_array_append(items, (json_t *)a);
    }
    if (i < n && json_array_size(items) > 0) {
        char v[24];
        snprintf(v, sizeof v, "%lld",
                 (long long)json_integer_value(json_object_get(
                     json_array_get(items, json_array_size(items) - 1), "version")));
        next = json_string(v);
    }
    api_respond_list(r, items, next);
}

static void api_task_known(http_request *r, json_t *reply, json_t *state)
{
    if (json_array_size(json_object_get(reply, "tasks")) == 0)
        http_respond_error(r, 404, "not_found", "no task '%s'",
                           json_string_value(json_object_get(state, "id")));
    else
        api_respond_list(r, json_array(), NULL);
    json_decref(state);
}

static void api_artifacts_done(http_request *r, json_t *reply, json_t *state)
{
    json_t *list = json_object_get(reply, "artifacts");
    bool first = !json_object_get(state, "cursor") && !json_object_get(state, "before");
    /* A task that has none may still not exist: a run can carry a task id
     * of its caller's choosing, with no task made for it. */
    if (json_array_size(list) == 0 && first) {
        json_t *q = json_pack("{s:O,s:i}", "task", json_object_get(state, "id"), "limit", 1);
        api_call(r, BOSUN_STORE_TASKS, q, state, 0, api_task_known);
        return;
    }
    if (json_object_get(state, "name"))
        api_page_versions(r, list, state);
    else
        api_page_names(r, list, state);
    json_decref(state);
}

void api_artifacts_list(http_request *r, const char *const *args, size_t n_args)
{
    long long limit;
    if (n_args < 1 || !api_path_id(r, "task", args[0]) || !api_query_check(r, api_list_params) ||
        !api_query_limit(r, &limit) || !api_scope_allows(r, args[0], "task", args[0]))
        return;
    const char *name = http_query(r, "name"), *cursor = http_query(r, "cursor");
    long long before = 0;
    if (name && !api_name_ok(name))
        return http_respond_error(r, 400, "bad_request",
                                  "'name' must be 1 to %d bytes, relative, without control "
                                  "characters or '..' parts",
                                  API_NAME_MAX);
    if (name && !api_query_int(r, "cursor", 1, INT32_MAX, &before))
        return;
    if (!name && cursor && !api_name_ok(cursor))
        return http_respond_error(r, 400, "bad_request",
                                  "'cursor' must be an artifact name from 'next'");
    json_t *q = json_pack("{s:s,s:s*}", "task", args[0], "name", name);
    json_t *state = json_pack("{s:s,s:I,s:s*,s:s*}", "id", args[0], "limit", limit, "cursor",
                              name ? NULL : cursor, "name", name);
    if (before)
        json_object_set_new(state, "before", json_integer(before));
    api_call(r, BOSUN_STORE_ARTIFACTS, q, state, 0, api_artifacts_done);
}

/* ------------------------------------------------------------ one version */

static const char *const api_get_params[] = {"version", NULL};

/* Types shown in place; the rest is downloaded. */
static bool api_inline_type(const char *type)
{
    static const char *const types[] = {"text/plain", "text/markdown", "text/csv",
                                        "application/json"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t n = strlen(types[i]);
        if (strncmp(type, types[i], n) == 0 && (type[n] == '\0' || type[n] == ';'))
            return true;
    }
    return false;
}

/* The store keeps printable ASCII; a header takes nothing else. */
static const char *api_header_type(const char *type)
{
    if (!type || !*type || strlen(type) > API_NAME_MAX)
        return "application/octet-stream";
    for (const char *p = type; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return "application/octet-stream";
    return type;
}

/* attachment; filename="<last part of the name, tame characters only>". */
static void api_disposition(http_request *r, const char *name, bool attachment)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    char value[API_NAME_MAX + 40];
    int n = snprintf(value, sizeof value, "%s; filename=\"", attachment ? "attachment" : "inline");
    for (const char *p = base; *p && n < (int)sizeof value - 2; p++)
        value[n++] =
            strchr("\"\\", *p) || (unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e ? '_' : *p;
    value[n++] = '"';
    value[n] = '\0';
    http_add_header(r, "Content-Disposition", value);
}

static void api_artifact_done(http_request *r, json_t *reply, json_t *state)
{
    json_decref(state);
    const json_t *a = json_object_get(reply, "artifact");
    const char *text = json_string_value(json_object_get(a, "text"));
    const char *b64 = json_string_value(json_object_get(a, "base64"));
    const char *type = api_header_type(json_string_value(json_object_get(a, "mime_type")));
    const char *name = json_string_value(json_object_get(a, "name"));
    const char *sha = json_string_value(json_object_get(a, "sha256"));
    size_t len = 0;
    unsigned char *bytes = NULL;
    if (!text && b64 && !(bytes = bosun_base64_decode(b64, &len)))
        return http_respond_error(r, 500, "internal", "the store gave unreadable content");
    if (!text && !bytes)
        return http_respond_error(r, 500, "internal", "the store gave no content");
    api_content_headers(r, "X-Bosun-Artifact-Version",
                        json_integer_value(json_object_get(a, "version")), sha);
    api_disposition(r, name ? name : "artifact", !(text && api_inline_type(type)));
    if (text)
        http_respond(r, 200, type, text, json_string_length(json_object_get(a, "text")));
    else
        http_respond(r, 200, type, bytes, len);
    free(bytes);
}

/* The name from the path's parts after "artifacts/", joined with "/". */
static bool api_join_name(const char *const *args, size_t n_args, char *out, size_t size)
{
    size_t used = 0;
    for (size_t i = 1; i < n_args; i++) {
        int n = snprintf(out + used, size - used, "%s%s", i > 1 ? "/" : "", args[i]);
        if (n < 0 || (size_t)n >= size - used)
            return false;
        used += (size_t)n;
    }
    return used > 0;
}

void api_artifact_get(http_request *r, const char *const *args, size_t n_args)
{
    char name[API_NAME_MAX + 2];
    long long version = 0;
    if (n_args < 2 || !api_path_id(r, "task", args[0]) || !api_query_check(r, api_get_params) ||
        !api_query_int(r, "version", 1, INT32_MAX, &version) ||
        !api_scope_allows(r, args[0], "task", args[0]))
        return;
    if (!api_join_name(args, n_args, name, sizeof name) || !api_name_ok(name))
        return http_respond_error(r, 400, "bad_request",
                                  "an artifact name is 1 to %d bytes, without control characters "
                                  "or '..' parts",
                                  API_NAME_MAX);
    json_t *q = json_pack("{s:s,s:s,s:b}", "task", args[0], "name", name, "content", 1);
    if (version)
        json_object_set_new(q, "version", json_integer(version));
    api_call(r, BOSUN_STORE_ARTIFACTS, q, NULL, 0, api_artifact_done);
}
