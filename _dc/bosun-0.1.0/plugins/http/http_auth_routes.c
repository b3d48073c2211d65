/* /api/v1/auth/login|logout|me and /api/v1/tokens: sessions made from an
 * admin token, and admin tokens managed through cmd.auth.token.* on behalf
 * of the caller's principal. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bosun/auth.h>
#include <bosun/sys.h>

#include "http_auth_internal.h"

/* ------------------------------------------------------------ login */

void auth_session_cookie(http_request *r, const char *value, double max_age)
{
    char *c = NULL;
    size_t n = strlen(value) + 160;
    if (!(c = malloc(n)))
        return;
    snprintf(c, n, "%s=%s; Path=/; Max-Age=%.0f; HttpOnly; SameSite=Strict%s", HTTP_SESSION_COOKIE,
             value, max_age, r->tls ? "; Secure" : "");
    http_add_header(r, "Set-Cookie", c);
    free(c);
}

static void login_checked(void *arg, int status, http_identity *id, const char *why)
{
    (void)why;
    http_request *r = arg;
    http_auth *a = http_server_auth(r->srv);
    if (status == 429) {
        char s[16];
        snprintf(s, sizeof s, "%d", auth_retry_after(a));
        http_add_header(r, "Retry-After", s);
        return http_respond_error(r, 429, "rate_limited", "too many failed authentications");
    }
    if (status == 503)
        return http_respond_error(r, 503, "unavailable", "the token cannot be checked now");
    if (status != 0 || id->cred != HTTP_CRED_ADMIN_TOKEN) {
        http_add_header(r, "WWW-Authenticate", "Bearer realm=\"bosun\"");
        return http_respond_error(r, 401, "unauthorized", "login takes a valid admin token");
    }
    double exp = 0;
    char *jwt = auth_session_new(a, id, &exp);
    if (!jwt)
        return http_respond_error(r, 500, "internal", "cannot make a session");
    auth_session_cookie(r, jwt, exp - floor(bosun_now()));
    free(jwt);
    json_t *who = auth_identity_json(id);
    json_object_set_new(who, "credential", json_string("session"));
    json_object_set_new(who, "expires_at", json_real(exp));
    http_respond_json(r, 200, json_pack("{s:o,s:f}", "identity", who, "expires_at", exp));
}

static bool origin_ok_for_login(const http_request *r)
{
    /* A browser always sends Origin on a POST: one that is not ours or an
     * allowed one is a cross-site login attempt (a session planted in the
     * victim's browser).  Clients without Origin (curl, bosunctl) pass. */
    const char *origin = http_header(r, "origin");
    if (!origin)
        return true;
    const char *host = http_header(r, "host");
    char own[600];
    snprintf(own, sizeof own, "%s://%s", r->tls ? "https" : "http", host ? host : "");
    if (host && strcasecmp(own, origin) == 0)
        return true;
    const http_config *cfg = http_server_config(r->srv);
    for (size_t i = 0; i < cfg->n_allowed_origins; i++)
        if (strcasecmp(cfg->allowed_origins[i], origin) == 0)
            return true;
    return false;
}

static void route_login(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    if (!origin_ok_for_login(r))
        return http_respond_error(r, 403, "forbidden", "login from another Origin refused");
    json_t *body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
    const char *token = json_string_value(json_object_get(body, "token"));
    if (!token) {
        json_decref(body);
        return http_respond_error(r, 400, "bad_request", "the body must be {\"token\": TOKEN}");
    }
    auth_check(http_server_auth(r->srv), token, r->peer, false, login_checked, r);
    json_decref(body);
}

/* ------------------------------------------------------------ logout, me */

static void route_logout(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    if (r->id.cred != HTTP_CRED_SESSION || !r->id.jti[0])
        return http_respond_error(r, 400, "bad_request",
                                  "not a session: revoke an admin token with DELETE "
                                  "/api/v1/tokens/{id}");
    enum auth_deny rc = auth_session_revoke(http_server_auth(r->srv), r->id.jti, r->id.expires_at);
    if (rc == AUTH_DENY_FULL)
        return http_respond_error(r, 503, "unavailable",
                                  "the deny-list of logged-out sessions is full (%zu that have not "
                                  "expired yet): the session stays valid; try again later",
                                  auth_deny_max());
    if (rc != AUTH_DENY_OK)
        return http_respond_error(r, 503, "unavailable",
                                  "the logout could not be written to disk: the session is "
                                  "refused until bosund restarts; try again");
    auth_session_cookie(r, "", 0);
    http_respond_json(r, 200, json_pack("{s:b}", "logged_out", 1));
}

static void route_me(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    http_respond_json(r, 200, json_pack("{s:o}", "identity", auth_identity_json(&r->id)));
}

/* ------------------------------------------------------------ tokens */

typedef enum { TOKENS_CREATE, TOKENS_LIST, TOKENS_REVOKE } tokens_op;

typedef struct tokens_call {
    http_request *r;
    tokens_op op;
} tokens_call;

static void tokens_replied(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    tokens_call c = *(tokens_call *)arg;
    free(arg);
    http_request *r = c.r;
    if (st == BUS_REPLY_TIMEOUT)
        return http_respond_error(r, 504, "timeout", "the daemon did not answer in time");
    if (st != BUS_REPLY_OK)
        return http_respond_error(r, 503, "unavailable", "nothing serves admin tokens");
    json_t *err = json_object_get(m->data, "error");
    if (err) {
        const char *code = json_string_value(json_object_get(err, "code"));
        return http_respond_json(r, http_status_for_code(code ? code : "internal"),
                                 json_incref(m->data));
    }
    if (c.op == TOKENS_LIST)
        return http_respond_json(
            r, 200, json_pack("{s:O,s:n}", "items", json_object_get(m->data, "tokens"), "next"));
    http_respond_json(r, c.op == TOKENS_CREATE ? 201 : 200, json_incref(m->data));
}

static void tokens_call_bus(http_request *r, tokens_op op, const char *subject, json_t *data)
{
    tokens_call *c = malloc(sizeof *c);
    if (!c) {
        json_decref(data);
        return http_respond_error(r, 503, "unavailable", "out of memory");
    }
    *c = (tokens_call){r, op};
    double timeout = http_server_config(r->srv)->limits.request_timeout;
    uint64_t id = bus_request_as(http_server_bus(r->srv), r->id.who, subject, data,
                                 timeout > 0 ? timeout : 10, tokens_replied, c);
    json_decref(data);
    if (!id) {
        free(c);
        http_respond_error(r, 403, "forbidden", "%s may not manage admin tokens", r->id.kind);
    }
}

static void route_tokens_create(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    json_t *body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
    json_t *name = json_object_get(body, "name"), *ttl = json_object_get(body, "ttl");
    if (!json_is_object(body) || !json_is_string(name) || (ttl && !json_is_number(ttl))) {
        json_decref(body);
        return http_respond_error(r, 400, "bad_request",
                                  "the body must be {\"name\": NAME, \"ttl\"?: SECONDS}");
    }
    json_t *q = json_pack("{s:O}", "name", name);
    if (ttl)
        json_object_set(q, "ttl", ttl);
    json_decref(body);
    tokens_call_bus(r, TOKENS_CREATE, BOSUN_AUTH_TOKEN_CREATE, q);
}

static void route_tokens_list(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    tokens_call_bus(r, TOKENS_LIST, BOSUN_AUTH_TOKEN_LIST, json_object());
}

static void route_tokens_revoke(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args != 1)
        return http_respond_error(r, 404, "not_found", "no such token");
    tokens_call_bus(r, TOKENS_REVOKE, BOSUN_AUTH_TOKEN_REVOKE, json_pack("{s:s}", "id", args[0]));
}

const http_route http_auth_routes[] = {
    {"POST", "/api/v1/auth/login", route_login, HTTP_ALLOW_ANON, HTTP_BODY_JSON},
    {"POST", "/api/v1/auth/logout", route_logout, HTTP_ALLOW_READ, HTTP_BODY_NONE},
    {"GET", "/api/v1/auth/me", route_me, HTTP_ALLOW_READ | HTTP_ALLOW_AGENT | HTTP_ALLOW_SHARE,
     HTTP_BODY_NONE},
    {"POST", "/api/v1/tokens", route_tokens_create, HTTP_ALLOW_ADMIN, HTTP_BODY_JSON},
    {"GET", "/api/v1/tokens", route_tokens_list, HTTP_ALLOW_ADMIN, HTTP_BODY_NONE},
    {"DELETE", "/api/v1/tokens/{}", route_tokens_revoke, HTTP_ALLOW_ADMIN, HTTP_BODY_NONE},
};
const size_t http_auth_n_routes = sizeof http_auth_routes / sizeof http_auth_routes[0];
