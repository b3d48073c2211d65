/* Route tables -> a handler: 404 for an unknown path, 405 with Allow for a
 * known path and another method (HEAD is served by GET routes), the body
 * class's limit (applied while the body is read, 413), then the route's
 * authentication (http_auth_request: 401/403/429), then the handler.  And
 * the access log: one info line per response, never the query (it may
 * hold a secret) nor a credential. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <bosun/log.h>
#include <bosun/sys.h>

#include "http_int.h"

static const struct {
    const http_route *routes;
    const size_t *n;
} tables[] = {
    {http_core_routes, &http_core_n_routes},               /* /health */
    {http_auth_routes, &http_auth_n_routes},               /* login, logout, me, tokens */
    {http_share_routes, &http_share_n_routes},             /* share links */
    {http_auth_github_routes, &http_auth_github_n_routes}, /* login with GitHub */
    {http_api_routes, &http_api_n_routes},                 /* the rest of /api/v1 */
    {http_ws_routes, &http_ws_n_routes},                   /* /ws */
    {http_fleet_routes, &http_fleet_n_routes},             /* /fleet */
    {http_mcp_routes, &http_mcp_n_routes},                 /* /mcp */
    {http_web_routes, &http_web_n_routes}, /* / (the dashboard's files: http_web_try) */
};
#define N_TABLES (sizeof tables / sizeof tables[0])

/* Whether the pattern matches the request's segments; {} segments go to
 * args. */
static bool path_matches(const char *pattern, const http_req *q, const char **args, size_t *n_args)
{
    if (pattern[0] != '/' || q->n_segs > HTTP_SEGMENTS_MAX)
        return false;
    const char *p = pattern + 1;
    size_t i = 0, n = 0;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (i >= q->n_segs)
            return false;
        const char *seg = q->segs[i];
        if (len == 2 && p[0] == '{' && p[1] == '}') {
            if (!*seg || n >= HTTP_ARGS_MAX)
                return false;
            args[n++] = seg;
        } else if (strlen(seg) != len || memcmp(seg, p, len) != 0) {
            return false;
        }
        i++;
        if (!slash)
            break;
        p = slash + 1;
    }
    *n_args = n;
    return i == q->n_segs;
}

static bool method_matches(const char *route, const char *method)
{
    return strcmp(route, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(route, "GET") == 0);
}

static void route_lookup(http_req *q)
{
    q->routed = true;
    q->route = NULL;
    for (size_t t = 0; t < N_TABLES; t++)
        for (size_t i = 0; i < *tables[t].n; i++) {
            const http_route *rt = &tables[t].routes[i];
            const char *args[HTTP_ARGS_MAX];
            size_t n = 0;
            if (!rt->pattern || !method_matches(rt->method, q->pub.method) ||
                !path_matches(rt->pattern, q, args, &n))
                continue;
            q->route = rt;
            q->n_args = n;
            memcpy(q->args, args, n * sizeof *args);
            return;
        }
}

size_t http_router_body_limit(http_server *srv, http_req *q)
{
    route_lookup(q);
    if (!q->route)
        return srv->cfg.limits.body_max; /* read, then 404 or 405 */
    switch (q->route->body) {
    case HTTP_BODY_JSON:
        return srv->cfg.limits.body_max;
    case HTTP_BODY_UPLOAD:
        return srv->cfg.limits.upload_max;
    case HTTP_BODY_NONE:
    default:
        return 0;
    }
}

/* "GET, HEAD, POST": the methods of the routes matching the path. */
static void allowed_methods(const http_req *q, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t t = 0; t < N_TABLES; t++)
        for (size_t i = 0; i < *tables[t].n; i++) {
            const http_route *rt = &tables[t].routes[i];
            const char *args[HTTP_ARGS_MAX];
            size_t n;
            if (!rt->pattern || !path_matches(rt->pattern, q, args, &n))
                continue;
            const char *m[2] = {rt->method, strcmp(rt->method, "GET") == 0 ? "HEAD" : NULL};
            for (int k = 0; k < 2 && m[k]; k++) {
                char item[24];
                snprintf(item, sizeof item, "%s%s", buf[0] ? ", " : "", m[k]);
                char want[24];
                snprintf(want, sizeof want, "%s", m[k]);
                if (!strstr(buf, want) && strlen(buf) + strlen(item) < size)
                    strcat(buf, item);
            }
        }
}

static void on_authed(http_request *r, int status)
{
    if (status != 0)
        return; /* the error is given */
    http_req *q = HTTP_REQ(r);
    if (http_request_gone(r)) {
        http_respond(r, 500, NULL, NULL, 0); /* frees it */
        return;
    }
    q->route->handler(r, q->args, q->n_args);
}

void http_router_dispatch(http_server *srv, http_req *q)
{
    q->pub.srv = srv;
    if (!q->routed)
        route_lookup(q);
    if (q->route) {
        http_auth_request(&q->pub, q->route->allow, on_authed);
        return;
    }
    if (http_web_try(&q->pub))
        return; /* one of the dashboard's files: anonymous, no route */
    char allow[128];
    allowed_methods(q, allow, sizeof allow);
    if (allow[0]) {
        http_add_header(&q->pub, "Allow", allow);
        http_respond_error(&q->pub, 405, "method_not_allowed",
                           "%s is not allowed here; allowed: %s", q->pub.method, allow);
        return;
    }
    http_respond_error(&q->pub, 404, "not_found", "no such route");
}

/* The path as a log line may show it: no control characters (a decoded
 * %0a would start a line of its own), bounded. */
static void log_safe(const char *s, char *buf, size_t size)
{
    size_t o = 0;
    for (; *s && o + 5 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x21 || c == 0x7f || c == '\\' || c == '"')
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    if (*s && size > 4)
        snprintf(buf + (o < size - 4 ? o : size - 4), 4, "...");
    else
        buf[o] = '\0';
}

void http_access_log(http_server *srv, const http_req *q)
{
    if (!srv->cfg.access_log || log_get_level() < LOG_LEVEL_INFO)
        return;
    char path[256];
    log_safe(q->pub.path ? q->pub.path : "-", path, sizeof path);
    const http_identity *id = &q->pub.id;
    log_info("http: %s \"%s %s\" %d %zu %.3fms %s %s", q->peer[0] ? q->peer : "-", q->pub.method,
             path, q->status, q->body_bytes, (bosun_monotonic() - q->t_start) * 1000.0,
             id->kind[0] ? id->kind : "anonymous", id->id[0] ? id->id : "-");
}
