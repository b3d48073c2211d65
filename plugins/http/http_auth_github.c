/* Login with GitHub: the web flow's two routes and the device flow's two
 * (bosunctl login --github).  The github plugin does the talking to GitHub
 * over cmd.github.auth.* and answers with a login and its role; this file
 * turns that into the bosun session of /api/v1/auth/login (the same JWT,
 * kind "user", id "github:LOGIN"), as a cookie for the browser and in
 * the body for the CLI.  GitHub's token never reaches this plugin.
 *
 * The web flow's state is bound to the browser that started it by a
 * cookie (bosun_github_state, the state's id, Path limited to the routes,
 * SameSite=Lax so that GitHub's redirect back carries it): a callback
 * link made in someone else's browser is refused (a login CSRF).
 *
 * Each start (web or device) makes bosun ask GitHub, under the OAuth
 * app's own limits there: starts are limited per client address (after
 * http.trusted_proxies), polls too, more loosely (a CLI polls every 5 s
 * or more), each refusal a 429 with Retry-After, noticed in the log once
 * per address a minute. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/log.h>
#include <bosun/sys.h>

#include "http_api.h"
#include "http_auth_internal.h"
#include "http_ratelimit.h"

#define STATE_COOKIE       "bosun_github_state"
#define GITHUB_PATH        "/api/v1/auth/github"
#define HOST_MAX           255
#define GITHUB_BUS_TIMEOUT 90.0 /* a backstop: the plugin bounds each request to GitHub */
/* Per address (an IPv6 /64): login starts, web and device together, and
 * device polls; the table's size bounds the memory. */
#define START_BURST      10
#define START_PER_MINUTE 10.0
#define POLL_BURST       30
#define POLL_PER_MINUTE  60.0
#define LIMIT_SLOTS      1024
#define LIMIT_WINDOW     60.0 /* a refused address is logged once in it */

struct auth_github_limits {
    http_ratelimit *starts, *polls;
};

#define METHODS_TIMEOUT 2.0 /* the login page waits no longer to know */

typedef enum { GH_START, GH_CALLBACK, GH_DEVICE, GH_POLL, GH_METHODS } gh_op;

typedef struct gh_call {
    http_request *r;
    gh_op op;
} gh_call;

/* The plugin's error codes as statuses. */
static int status_of(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {{"bad_state", 400},     {"bad_request", 400}, {"forbidden", 403},
               {"access_denied", 403}, {"not_found", 404},   {"expired", 410},
               {"unavailable", 502},   {"busy", 503},        {"not_configured", 503}};
    for (size_t i = 0; code && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].code, code) == 0)
            return map[i].status;
    return 500;
}

static void state_cookie(http_request *r, const char *value, int max_age)
{
    char c[200];
    snprintf(c, sizeof c, "%s=%s; Path=" GITHUB_PATH "; Max-Age=%d; HttpOnly; SameSite=Lax%s",
             STATE_COOKIE, value, max_age, r->tls ? "; Secure" : "");
    http_add_header(r, "Set-Cookie", c);
}

/* The session for a login the plugin let in: the cookie (web flow) or
 * the body's token (device flow). */
static void give_session(http_request *r, const json_t *reply, bool cookie)
{
    const char *login = json_string_value(json_object_get(reply, "login"));
    const char *role = json_string_value(json_object_get(reply, "role"));
    if (!login || !role || (strcmp(role, "admin") != 0 && strcmp(role, "viewer") != 0))
        return http_respond_error(r, 502, "internal", "the github plugin's answer is malformed");
    http_identity id = {.cred = HTTP_CRED_SESSION,
                        .role = strcmp(role, "admin") == 0 ? HTTP_ROLE_ADMIN : HTTP_ROLE_VIEWER};
    snprintf(id.kind, sizeof id.kind, "user");
    snprintf(id.id, sizeof id.id, "github:%s", login);
    double exp = 0;
    char *jwt = auth_session_new(http_server_auth(r->srv), &id, &exp);
    if (!jwt)
        return http_respond_error(r, 500, "internal", "cannot make a session");
    id.expires_at = exp;
    json_t *who = auth_identity_json(&id);
    json_object_set_new(who, "credential", json_string("session"));
    json_t *body = json_pack("{s:o,s:f}", "identity", who, "expires_at", exp);
    if (cookie) {
        auth_session_cookie(r, jwt, exp - floor(bosun_now()));
        state_cookie(r, "", 0);
        http_add_header(r, "Location", "/");
    } else {
        json_object_set_new(body, "status", json_string("ok"));
        json_object_set_new(body, "token", json_string(jwt));
    }
    explicit_bzero(jwt, strlen(jwt));
    free(jwt);
    http_respond_json(r, cookie ? 302 : 200, body);
}

/* A browser sent back by GitHub (it asks for a page, curl and bosunctl do
 * not) sees a failed callback on the login page rather than as JSON: 302
 * to /?login_error=CODE, the code alone, which the page says in its own
 * words (a message in the address could be made up by whoever made the
 * link).  Others get the status and the JSON error. */
static bool browser(const http_request *r)
{
    const char *accept = http_header(r, "accept");
    return accept && strstr(accept, "text/html") != NULL;
}

static void callback_refused(http_request *r, int status, json_t *body)
{
    const char *code = json_string_value(json_object_get(json_object_get(body, "error"), "code"));
    if (!browser(r) || !code || strlen(code) > 32 ||
        strspn(code, "abcdefghijklmnopqrstuvwxyz_") != strlen(code))
        return http_respond_json(r, status, body);
    char loc[64];
    snprintf(loc, sizeof loc, "/?login_error=%s", code);
    state_cookie(r, "", 0);
    http_add_header(r, "Location", loc);
    http_respond_json(r, 302, body);
}

static void callback_error(http_request *r, int status, const char *code, const char *msg)
{
    callback_refused(r, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

static void methods_answer(http_request *r, enum bus_reply_status st, const bus_msg *m)
{
    bool github = st == BUS_REPLY_OK && json_is_true(json_object_get(m->data, "login"));
    http_respond_json(r, 200, json_pack("{s:b,s:b}", "token", 1, "github", github));
}

static void replied(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    gh_call c = *(gh_call *)arg;
    free(arg);
    http_request *r = c.r;
    if (c.op == GH_METHODS)
        return methods_answer(r, st, m);
    if (st == BUS_REPLY_TIMEOUT)
        return http_respond_error(r, 504, "timeout", "the github plugin did not answer in time");
    if (st != BUS_REPLY_OK)
        return http_respond_error(r, 503, "not_configured",
                                  "GitHub login needs the github plugin (bosun-github(7))");
    const json_t *err = json_object_get(m->data, "error");
    if (err) {
        const char *code = json_string_value(json_object_get(err, "code"));
        /* A state or handle that does not pass is a credential refused. */
        if (code && (strcmp(code, "bad_state") == 0 || strcmp(code, "not_found") == 0))
            auth_limit_failed(http_server_auth(r->srv), r->peer,
                              c.op == GH_CALLBACK ? "GitHub login state refused"
                                                  : "GitHub device login handle refused");
        if (c.op == GH_CALLBACK)
            return callback_refused(r, status_of(code), json_incref(m->data));
        return http_respond_json(r, status_of(code), json_incref(m->data));
    }
    const char *status = json_string_value(json_object_get(m->data, "status"));
    switch (c.op) {
    case GH_START: {
        const char *url = json_string_value(json_object_get(m->data, "url"));
        const char *binding = json_string_value(json_object_get(m->data, "binding"));
        if (!url || !binding || strlen(binding) > 80)
            return http_respond_error(r, 502, "internal",
                                      "the github plugin's answer is malformed");
        state_cookie(r, binding, 600);
        http_add_header(r, "Location", url);
        return http_respond_json(r, 302, json_pack("{s:s}", "location", url));
    }
    case GH_CALLBACK:
        return give_session(r, m->data, true);
    case GH_POLL:
        if (status && strcmp(status, "ok") == 0)
            return give_session(r, m->data, false);
        return http_respond_json(r, 200, json_incref(m->data)); /* pending, slow_down */
    case GH_DEVICE:
    case GH_METHODS: /* answered above */
        return http_respond_json(r, 200, json_incref(m->data));
    }
}

/* The failed-auth limit of bosun-http(7), for the routes that take a
 * state or a handle: true when the peer may try now, else a 429 given. */
static bool limit_ok(http_request *r)
{
    http_auth *a = http_server_auth(r->srv);
    if (auth_limit_allows(a, r->peer))
        return true;
    char s[16];
    snprintf(s, sizeof s, "%d", auth_retry_after(a));
    http_add_header(r, "Retry-After", s);
    http_respond_error(r, 429, "rate_limited", "too many failed authentications");
    return false;
}

auth_github_limits *auth_github_limits_new(void)
{
    auth_github_limits *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->starts = http_ratelimit_new(START_BURST, START_PER_MINUTE, LIMIT_SLOTS, LIMIT_WINDOW);
    l->polls = http_ratelimit_new(POLL_BURST, POLL_PER_MINUTE, LIMIT_SLOTS, LIMIT_WINDOW);
    if (!l->starts || !l->polls) {
        auth_github_limits_free(l);
        return NULL;
    }
    return l;
}

void auth_github_limits_free(auth_github_limits *l)
{
    if (!l)
        return;
    http_ratelimit_free(l->starts);
    http_ratelimit_free(l->polls);
    free(l);
}

/* Whether the peer may make one more request of the kind (poll or
 * start) now; else a 429 given. */
static bool rate_ok(http_request *r, bool poll)
{
    auth_github_limits *l = auth_github_limits_of(http_server_auth(r->srv));
    http_ratelimit_verdict v =
        http_ratelimit_take(poll ? l->polls : l->starts, r->peer, bosun_monotonic());
    if (v.allowed)
        return true;
    const char *what = poll ? "device login polls" : "GitHub login starts";
    int n = poll ? (int)POLL_PER_MINUTE : (int)START_PER_MINUTE;
    if (v.report)
        log_notice("http: %s: %s refused past %d a minute (%ld since the last notice)", v.key, what,
                   n, v.refused);
    char s[16];
    snprintf(s, sizeof s, "%d", v.retry_after);
    http_add_header(r, "Retry-After", s);
    http_respond_error(r, 429, "rate_limited",
                       "too many %s from this address (%d a minute at most): try again in %d s",
                       what, n, v.retry_after);
    return false;
}

/* data stolen. */
static void ask(http_request *r, gh_op op, const char *subject, json_t *data)
{
    gh_call *c = malloc(sizeof *c);
    uint64_t id = 0;
    if (c) {
        *c = (gh_call){r, op};
        id = bus_request(http_server_bus(r->srv), subject, data,
                         op == GH_METHODS ? METHODS_TIMEOUT : GITHUB_BUS_TIMEOUT, replied, c);
    }
    json_decref(data);
    if (!id) {
        free(c);
        http_respond_error(r, 503, "unavailable", "cannot ask the github plugin");
    }
}

/* ------------------------------------------------------------ web flow */

/* Where GitHub sends the browser back: this route under http.public_url,
 * else on the host the browser asked for.  It must be the OAuth app's
 * callback URL, which GitHub checks: a forged Host only sends the login
 * nowhere. */
static bool redirect_uri(http_request *r, char *out, size_t size)
{
    const char *pub = http_server_config(r->srv)->public_url;
    if (pub) {
        snprintf(out, size, "%s" GITHUB_PATH "/callback", pub);
        return true;
    }
    const char *host = http_header(r, "host");
    size_t n = host ? strlen(host) : 0;
    if (n == 0 || n > HOST_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)host[i]) && !strchr(".-:[]", host[i]))
            return false;
    snprintf(out, size, "%s://%s" GITHUB_PATH "/callback", r->tls ? "https" : "http", host);
    return true;
}

static void route_start(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    static const char *const none[] = {NULL};
    if (!api_query_check(r, none) || !rate_ok(r, false))
        return;
    char ru[512 + 64];
    if (!redirect_uri(r, ru, sizeof ru))
        return http_respond_error(r, 400, "bad_request", "the request's Host is not a host name");
    ask(r, GH_START, "cmd.github.auth.start", json_pack("{s:s}", "redirect_uri", ru));
}

static void route_callback(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    const char *error = http_query(r, "error");
    if (error)
        return callback_error(r, 403, "access_denied",
                              strcmp(error, "access_denied") == 0
                                  ? "GitHub did not authorise the login (access denied)"
                                  : "GitHub did not authorise the login (an error)");
    const char *code = http_query(r, "code"), *state = http_query(r, "state");
    if (!code || !state || strlen(code) > 256 || strlen(state) > BOSUN_JWT_TOKEN_MAX)
        return callback_error(r, 400, "bad_request",
                              "the callback needs the code and state GitHub gives");
    if (!limit_ok(r))
        return;
    char binding[96];
    json_t *q = json_pack("{s:s,s:s}", "code", code, "state", state);
    if (auth_cookie(r, STATE_COOKIE, binding, sizeof binding))
        json_object_set_new(q, "binding", json_string(binding));
    ask(r, GH_CALLBACK, "cmd.github.auth.callback", q);
}

/* How one may sign in, for the login page before it has a session:
 * always an admin token, GitHub when the github plugin says its login is
 * configured (cmd.github.status; no answer in 2 s counts as no). */
static void route_methods(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    static const char *const none[] = {NULL};
    if (!api_query_check(r, none))
        return;
    ask(r, GH_METHODS, "cmd.github.status", json_object());
}

/* ------------------------------------------------------------ device flow */

static void route_device(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    static const char *const none[] = {NULL};
    json_t *body = api_body_object(r, none);
    if (!body)
        return;
    json_decref(body);
    if (!rate_ok(r, false))
        return;
    ask(r, GH_DEVICE, "cmd.github.auth.device", json_object());
}

static void route_poll(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    static const char *const keys[] = {"handle", NULL};
    json_t *body = api_body_object(r, keys);
    const char *handle = NULL;
    if (!body)
        return;
    if (!api_body_string(r, body, "handle", 1, 128, true, &handle) || !rate_ok(r, true) ||
        !limit_ok(r)) {
        json_decref(body);
        return;
    }
    ask(r, GH_POLL, "cmd.github.auth.poll", json_pack("{s:s}", "handle", handle));
    json_decref(body);
}

const http_route http_auth_github_routes[] = {
    {"GET", "/api/v1/auth/methods", route_methods, HTTP_ALLOW_ANON, HTTP_BODY_NONE},
    {"GET", GITHUB_PATH "/start", route_start, HTTP_ALLOW_ANON, HTTP_BODY_NONE},
    {"GET", GITHUB_PATH "/callback", route_callback, HTTP_ALLOW_ANON, HTTP_BODY_NONE},
    {"POST", GITHUB_PATH "/device", route_device, HTTP_ALLOW_ANON, HTTP_BODY_JSON},
    {"POST", GITHUB_PATH "/device/poll", route_poll, HTTP_ALLOW_ANON, HTTP_BODY_JSON},
};
const size_t http_auth_github_n_routes =
    sizeof http_auth_github_routes / sizeof http_auth_github_routes[0];
