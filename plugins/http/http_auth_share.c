/* Share links (bosun-http(7), SHARE LINKS): a signed link to one task.
 *
 * A share is a JWT of the daemon's key with its own audience
 * ("bosun-share": a share is never a session, nor a session a share),
 * sub "share:<id>", the task and whether it may answer the task's
 * questions; its jti is the share's id.  It reads that one task (the
 * narrowing of http_api_scope.c applies to it as to an agent) and, when
 * granted, answers its questions; nothing else.
 *
 * The list of shares (for GET /api/v1/shares and revoking) is kept in
 * state_dir/http_shares.json, 0600, rewritten atomically; a revoked share
 * goes on the sessions' deny-list (persisted, checked on every request)
 * and its evt.auth.session.<id>.revoked closes its open /ws connections,
 * so a revoke takes effect at once.  Bounded: SHARES_MAX shares live at
 * once, each at most SHARE_TTL_MAX; expired ones are pruned. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/codec.h>
#include <bosun/log.h>
#include <bosun/store.h>
#include <bosun/sys.h>
#include <bosun/task.h>

#include "http_api.h"
#include "http_auth_internal.h"

#define SHARE_AUDIENCE    "bosun-share"
#define SHARES_FILE       "http_shares.json"
#define SHARES_FILE_MAX   (4 * 1024 * 1024)
#define SHARES_MAX        1024
#define SHARE_TTL_MAX     (30 * 86400.0)
#define SHARE_TTL_DEFAULT (7 * 86400.0)
#define SHARE_TTL_MIN     60.0

struct auth_shares {
    const char *state_dir;
    json_t *list; /* id -> {task, can_answer, created_at, expires_at, created_by, revoked_at} */
};

auth_shares *auth_shares_new(const char *state_dir)
{
    auth_shares *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->state_dir = state_dir;
    size_t len = 0;
    char *text = bosun_file_read(state_dir, SHARES_FILE, SHARES_FILE_MAX, &len);
    json_error_t e;
    s->list = text ? json_loadb(text, len, 0, &e) : NULL;
    if (text && !json_is_object(s->list)) {
        log_error("http: %s/%s is not a JSON object (%s): the shares in it are lost, and no "
                  "link made before works",
                  state_dir, SHARES_FILE, s->list ? "another value" : e.text);
        json_decref(s->list);
        s->list = NULL;
    }
    free(text);
    if (!s->list)
        s->list = json_object();
    if (!s->list) {
        free(s);
        return NULL;
    }
    return s;
}

void auth_shares_free(auth_shares *s)
{
    if (!s)
        return;
    json_decref(s->list);
    free(s);
}

static void shares_prune(auth_shares *s, double now)
{
    const char *id;
    json_t *v, *tmp;
    json_object_foreach_safe(s->list, tmp, id, v)
    {
        if (json_number_value(json_object_get(v, "expires_at")) <= now)
            json_object_del(s->list, id);
    }
}

static int shares_save(auth_shares *s)
{
    char *text = json_dumps(s->list, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = text ? bosun_file_replace(s->state_dir, SHARES_FILE, text, strlen(text), 0600) : -1;
    if (rc != 0)
        log_error("http: cannot write %s/%s: %s", s->state_dir, SHARES_FILE, strerror(errno));
    free(text);
    return rc;
}

static json_t *share_json(const char *id, const json_t *v)
{
    json_t *o = json_deep_copy(v);
    if (o)
        json_object_set_new(o, "id", json_string(id));
    return o;
}

/* ------------------------------------------------------------ checking */

/* The audience of a JWT without checking it: which kind of token to
 * verify it as.  false for anything that does not decode. */
static bool audience_is_share(const char *token)
{
    const char *p = strchr(token, '.');
    const char *q = p ? strchr(p + 1, '.') : NULL;
    if (!q || q - p - 1 > 2048)
        return false;
    char b64[2100];
    size_t n = 0;
    for (const char *c = p + 1; c < q; c++)
        b64[n++] = *c == '-' ? '+' : *c == '_' ? '/' : *c;
    while (n % 4)
        b64[n++] = '=';
    b64[n] = '\0';
    size_t len = 0;
    unsigned char *raw = bosun_base64_decode(b64, &len);
    json_t *claims = raw ? json_loadb((const char *)raw, len, 0, NULL) : NULL;
    const char *aud = json_string_value(json_object_get(claims, "aud"));
    bool share = aud && strcmp(aud, SHARE_AUDIENCE) == 0;
    json_decref(claims);
    free(raw);
    return share;
}

/* What a share may do on the bus: the store's reads and its task's pull
 * requests (narrowed to its task by api_scope_query), answering (the same
 * narrowing forces its task on cmd.input.answer), and its task's events. */
static bus_principal *principal_share(const char *id, const char *task, bool can_answer)
{
    static const char *const reqs[] = {
        BOSUN_STORE_RUNS,      BOSUN_STORE_TASKS,      BOSUN_STORE_INPUTS,
        BOSUN_STORE_ARTIFACTS, BOSUN_STORE_EVENTS,     "cmd.github.prs",
        "cmd.github.prs.diff", "cmd.github.prs.files", NULL};
    bus_principal *p = bus_principal_new("share", id);
    char pat[2][200];
    snprintf(pat[0], sizeof pat[0], "evt.task.%s.>", task);
    snprintf(pat[1], sizeof pat[1], BOSUN_STORED_PREFIX "evt.task.%s.>", task);
    int rc = p ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < 2; i++)
        rc = bus_principal_allow(p, BUS_PERM_SUB, pat[i]);
    for (size_t i = 0; rc == 0 && reqs[i]; i++)
        rc = bus_principal_allow(p, BUS_PERM_REQ, reqs[i]);
    if (rc == 0 && can_answer)
        rc = bus_principal_allow(p, BUS_PERM_REQ, BOSUN_INPUT_ANSWER);
    if (rc != 0 && p) {
        bus_principal_free(p);
        p = NULL;
    }
    return p;
}

int auth_share_check(http_auth *a, const char *token, http_identity *id, char *why, size_t why_size)
{
    if (!audience_is_share(token))
        return 0;
    bosun_jwt_claims c;
    char jwhy[160];
    if (bosun_jwt_verify(auth_key(a), token, auth_iss(a), SHARE_AUDIENCE, bosun_now(), &c, jwhy,
                         sizeof jwhy) != 0) {
        snprintf(why, why_size, "share link refused: %s", jwhy);
        return -1;
    }
    const char *task = json_string_value(json_object_get(c.extra, "task"));
    const json_t *answer = json_object_get(c.extra, "can_answer");
    const json_t *row = json_object_get(auth_shares_of(a)->list, c.jti);
    int rc = 1;
    if (!task || !api_id_ok(task) || !json_is_boolean(answer) || strncmp(c.sub, "share:", 6) != 0)
        rc = -1, snprintf(why, why_size, "share link refused: not a share of this daemon");
    else if (auth_denied(a, c.jti) || !row || json_object_get(row, "revoked_at"))
        rc = -1, snprintf(why, why_size, "share link revoked");
    if (rc == 1) {
        *id = (http_identity){.cred = HTTP_CRED_SHARE, .role = HTTP_ROLE_VIEWER};
        snprintf(id->kind, sizeof id->kind, "share");
        snprintf(id->id, sizeof id->id, "%s", c.jti);
        snprintf(id->task, sizeof id->task, "%s", task);
        snprintf(id->jti, sizeof id->jti, "%s", c.jti);
        id->expires_at = c.exp;
        id->can_answer = json_is_true(answer);
        id->who = principal_share(c.jti, task, id->can_answer);
        if (!id->who)
            rc = -1, snprintf(why, why_size, "out of memory");
    }
    bosun_jwt_claims_clear(&c);
    return rc;
}

/* ------------------------------------------------------------ routes */

static const char *const share_keys[] = {"task", "ttl", "can_answer", NULL};

/* ttl: seconds, or a number with s, m, h or d. */
static bool ttl_of(const json_t *v, double *out)
{
    if (!v) {
        *out = SHARE_TTL_DEFAULT;
        return true;
    }
    if (json_is_number(v)) {
        *out = json_number_value(v);
    } else if (json_is_string(v)) {
        char *end;
        const char *s = json_string_value(v);
        double n = strtod(s, &end);
        double unit = strcmp(end, "s") == 0 || !*end ? 1
                      : strcmp(end, "m") == 0        ? 60
                      : strcmp(end, "h") == 0        ? 3600
                      : strcmp(end, "d") == 0        ? 86400
                                                     : -1;
        if (end == s || unit < 0)
            return false;
        *out = n * unit;
    } else {
        return false;
    }
    return isfinite(*out) && *out >= SHARE_TTL_MIN && *out <= SHARE_TTL_MAX;
}

/* The URL to hand out: this listener as the client reached it. */
static void share_url(http_request *r, const char *token, const char *task, char *out, size_t size)
{
    const char *host = http_header(r, "host");
    snprintf(out, size, "%s://%s/?share=%s#/tasks/%s", r->tls ? "https" : "http",
             host && *host ? host : "127.0.0.1", token, task);
}

/* state: {"task", "ttl", "can_answer"}; the task exists (the store said). */
static void share_task_found(http_request *r, json_t *reply, json_t *state)
{
    const char *task = json_string_value(json_object_get(state, "task"));
    if (!json_is_object(json_array_get(json_object_get(reply, "tasks"), 0))) {
        http_respond_error(r, 404, "not_found", "no task '%s'", task);
        json_decref(state);
        return;
    }
    http_auth *a = http_server_auth(r->srv);
    auth_shares *s = auth_shares_of(a);
    double now = bosun_now(), ttl = json_number_value(json_object_get(state, "ttl"));
    shares_prune(s, now);
    if (json_object_size(s->list) >= SHARES_MAX) {
        http_respond_error(r, 409, "too_many", "%d shares are live: revoke some first", SHARES_MAX);
        json_decref(state);
        return;
    }
    bool can_answer = json_is_true(json_object_get(state, "can_answer"));
    json_t *extra = json_pack("{s:s,s:b}", "task", task, "can_answer", can_answer);
    char jti[72] = "";
    char sub[96];
    snprintf(sub, sizeof sub, "share:%s", task);
    char *token =
        bosun_jwt_sign(auth_key(a), auth_iss(a), SHARE_AUDIENCE, sub, now, ttl, extra, jti);
    json_decref(extra);
    json_t *row = json_pack("{s:s,s:b,s:f,s:f,s:s}", "task", task, "can_answer", can_answer,
                            "created_at", floor(now), "expires_at", floor(now) + floor(ttl),
                            "created_by", r->id.id[0] ? r->id.id : r->id.kind);
    if (!token || !row || json_object_set(s->list, jti, row) != 0 || shares_save(s) != 0) {
        json_object_del(s->list, jti);
        http_respond_error(r, 503, "unavailable", "the share could not be recorded");
    } else {
        char url[BOSUN_JWT_TOKEN_MAX + 512];
        share_url(r, token, task, url, sizeof url);
        log_info("http: %s %s shares task %s as %s (%s, until %.0f)", r->id.kind, r->id.id, task,
                 jti, can_answer ? "may answer" : "read only", floor(now) + floor(ttl));
        http_respond_json(
            r, 201,
            json_pack("{s:o,s:s,s:s}", "share", share_json(jti, row), "token", token, "url", url));
    }
    if (token) {
        memset(token, 0, strlen(token)); /* a credential: not left in freed memory */
        free(token);
    }
    json_decref(row);
    json_decref(state);
}

static void route_share_create(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    json_t *body = api_body_object(r, share_keys);
    if (!body)
        return;
    const char *task = NULL;
    double ttl;
    const json_t *answer = json_object_get(body, "can_answer");
    if (!api_body_id(r, body, "task", &task)) {
        json_decref(body);
        return;
    }
    if (!task) {
        json_decref(body);
        return http_respond_error(r, 400, "bad_request", "'task' (a task id) is required");
    }
    if (!ttl_of(json_object_get(body, "ttl"), &ttl)) {
        json_decref(body);
        return http_respond_error(r, 400, "bad_request",
                                  "'ttl' must be seconds, or a number with s, m, h or d, "
                                  "from 1m to 30d");
    }
    if (answer && !json_is_boolean(answer)) {
        json_decref(body);
        return http_respond_error(r, 400, "bad_request", "'can_answer' must be a boolean");
    }
    json_t *state =
        json_pack("{s:s,s:f,s:b}", "task", task, "ttl", ttl, "can_answer", json_is_true(answer));
    json_t *q = json_pack("{s:s,s:i}", "task", task, "limit", 1);
    json_decref(body); /* task was its */
    api_call(r, BOSUN_STORE_TASKS, q, state, 0, share_task_found);
}

static void route_share_list(http_request *r, const char *const *args, size_t n_args)
{
    (void)args, (void)n_args;
    if (!api_query_check(r, (const char *const[]){NULL}))
        return;
    auth_shares *s = auth_shares_of(http_server_auth(r->srv));
    shares_prune(s, bosun_now());
    json_t *items = json_array();
    const char *id;
    json_t *v;
    json_object_foreach(s->list, id, v) json_array_append_new(items, share_json(id, v));
    api_respond_list(r, items, NULL);
}

static void route_share_revoke(http_request *r, const char *const *args, size_t n_args)
{
    if (n_args < 1 || !api_query_check(r, (const char *const[]){NULL}))
        return;
    http_auth *a = http_server_auth(r->srv);
    auth_shares *s = auth_shares_of(a);
    json_t *row = json_object_get(s->list, args[0]);
    if (!row)
        return http_respond_error(r, 404, "not_found", "no share '%.64s'", args[0]);
    double now = bosun_now();
    if (!json_object_get(row, "revoked_at")) {
        json_object_set_new(row, "revoked_at", json_real(now));
        shares_save(s);
        /* The deny-list is what every request checks, and its event closes
         * the share's open /ws connections. */
        if (auth_session_revoke(a, args[0],
                                json_number_value(json_object_get(row, "expires_at"))) ==
            AUTH_DENY_FULL)
            log_warning("http: share %s: the deny-list is full; its open connections stay until "
                        "they reconnect",
                        args[0]);
        log_info("http: %s %s revokes share %s", r->id.kind, r->id.id, args[0]);
    }
    http_respond_json(r, 200, json_pack("{s:o}", "share", share_json(args[0], row)));
}

const http_route http_share_routes[] = {
    {"POST", "/api/v1/shares", route_share_create, HTTP_ALLOW_ADMIN, HTTP_BODY_JSON},
    {"GET", "/api/v1/shares", route_share_list, HTTP_ALLOW_ADMIN, HTTP_BODY_NONE},
    {"DELETE", "/api/v1/shares/{}", route_share_revoke, HTTP_ALLOW_ADMIN, HTTP_BODY_NONE},
};
const size_t http_share_n_routes = sizeof http_share_routes / sizeof http_share_routes[0];
