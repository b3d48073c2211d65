/* /ws: the event stream and request/reply over WebSocket (DESIGN.md, "/ws";
 * bosun-http(7), "WEBSOCKET").
 *
 * A connection is a bosun_ws server session on an upgraded http_conn.  It
 * is authenticated at the upgrade (cookie or Bearer, by the router) or by
 * its first frame {"op":"auth","token":…} within limits.ws_auth_timeout,
 * else closed with 1008.  Then "ready", and the ops: sub and unsub
 * (http_ws_sub.c), req (a bus request on behalf of the client's
 * principal).  The connection itself (upgrade, pings, closing, lifetime)
 * is http_wsconn.c's, shared with /fleet.  Nothing here waits for a
 * client: what it is sent goes to its send queue, and a client whose
 * queue would pass limits.send_queue_max is closed with 1013 "slow
 * consumer"; the daemon and the other clients go on. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/auth.h>
#include <bosun/log.h>
#include <bosun/sys.h>

#include "http_api.h"
#include "http_auth_internal.h"
#include "http_ws_int.h"

#define WS_ID_MAX 64 /* bytes of a request id given as a string */

struct ws_req {
    ws_req *next;
    ws_conn *c;
    json_t *id; /* as the client gave it */
    uint64_t bus_id;
    char subject[BUS_SUBJECT_MAX + 1];
};

static struct ev_loop *hub_loop(const http_ws_hub *hub)
{
    return http_server_ctx(hub->srv)->loop;
}

const http_limits *ws_limits(const ws_conn *c)
{
    static const http_limits none = {0};
    return c->hub ? &http_server_config(c->hub->srv)->limits : &none;
}

static const char *who_kind(const ws_conn *c)
{
    return c->id.kind[0] ? c->id.kind : "anonymous";
}

static const char *who_id(const ws_conn *c)
{
    return c->id.id[0] ? c->id.id : "-";
}

/* ------------------------------------------------------------ lifetime */

static ws_conn *ws_of(http_wsconn *w)
{
    return (ws_conn *)w; /* w is its first member */
}

static void ws_who(const http_wsconn *w, char *buf, size_t size)
{
    const ws_conn *c = (const ws_conn *)w;
    snprintf(buf, size, "%s %s", who_kind(c), who_id(c));
}

static void ws_on_stop(http_wsconn *w)
{
    ws_conn *c = ws_of(w);
    if (c->hub)
        ev_timer_stop(hub_loop(c->hub), &c->auth_timer);
}

static void reqs_free(ws_conn *c)
{
    bus_t *bus = c->hub ? http_server_bus(c->hub->srv) : NULL;
    while (c->reqs) {
        ws_req *q = c->reqs;
        c->reqs = q->next;
        if (bus)
            bus_request_cancel(bus, q->bus_id);
        json_decref(q->id);
        free(q);
    }
    c->n_reqs = 0;
}

/* Ends everything that could call back into c: subscriptions, requests. */
static void ws_teardown(http_wsconn *w)
{
    ws_conn *c = ws_of(w);
    ws_subs_free(c);
    reqs_free(c);
    c->hub = NULL;
}

static void ws_free(http_wsconn *w)
{
    ws_conn *c = ws_of(w);
    http_identity_clear(&c->id);
    json_decref(c->early);
    free(c);
}

void ws_close(ws_conn *c, unsigned code, const char *reason)
{
    http_wsconn_close(&c->w, code, reason);
}

/* ------------------------------------------------------------ sending */

bool ws_room(ws_conn *c, size_t len)
{
    if (c->w.closing || !c->w.conn)
        return false;
    if (!http_wsconn_fits(&c->w, len, ws_limits(c)->send_queue_max)) {
        ws_close(c, BOSUN_WS_TRY_AGAIN, "slow consumer");
        return false;
    }
    return true;
}

/* Our own frames (errors, acknowledgements) are small: one that cannot be
 * built or encoded means memory ran out, and the client, which would wait
 * for it, is told so by a 1011 close instead. */
void ws_send_json(ws_conn *c, json_t *frame)
{
    if (c->w.closing) {
        json_decref(frame);
        return;
    }
    size_t len = 0;
    char *text = frame ? bosun_json_dump(frame, 0, &len) : NULL;
    json_decref(frame);
    if (!text)
        ws_close(c, BOSUN_WS_INTERNAL, "internal error: a frame could not be encoded");
    else if (ws_room(c, len))
        bosun_ws_send_text(c->w.ws, text, len);
    free(text);
}

void ws_send_error(ws_conn *c, const char *key, json_t *val, const char *code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *f =
        json_pack("{s:s,s:{s:s,s:s}}", "op", "error", "error", "code", code, "message", msg);
    if (f && key && val)
        json_object_set(f, key, val);
    json_decref(val);
    ws_send_json(c, f);
}

/* ------------------------------------------------------------ req */

static void req_unlink(ws_req *q)
{
    ws_conn *c = q->c;
    for (ws_req **pp = &c->reqs; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            c->n_reqs--;
            return;
        }
    }
}

/* A reply too big for the client's queue is an error, not a slow
 * consumer: the client did nothing wrong by asking. */
static void send_reply(ws_conn *c, json_t *id, json_t *data)
{
    json_t *f = json_pack("{s:s,s:O,s:O}", "op", "reply", "id", id, "data", data);
    size_t len = 0;
    char *text = f ? bosun_json_dump(f, 0, &len) : NULL;
    json_decref(f);
    size_t max = ws_limits(c)->send_queue_max;
    if (!text)
        ws_send_error(c, "id", json_incref(id), "internal",
                      "the reply could not be encoded (nested more than %d levels deep?)",
                      BOSUN_JSON_DEPTH_MAX);
    else if (max && len + 14 + WS_CLOSE_RESERVE > max)
        ws_send_error(c, "id", json_incref(id), "too_large",
                      "the reply (%zu bytes) is larger than the send queue", len);
    else if (text && ws_room(c, len))
        bosun_ws_send_text(c->w.ws, text, len);
    free(text);
}

static void on_reply(bus_t *bus, enum bus_reply_status st, const bus_msg *msg, void *arg)
{
    (void)bus;
    ws_req *q = arg;
    ws_conn *c = q->c;
    req_unlink(q);
    if (st != BUS_REPLY_CANCELLED && !c->w.closing) {
        json_t *err = st == BUS_REPLY_OK ? json_object_get(msg->data, "error") : NULL;
        if (st == BUS_REPLY_OK && json_is_object(err))
            ws_send_json(c, json_pack("{s:s,s:O,s:O}", "op", "error", "id", q->id, "error", err));
        else if (st == BUS_REPLY_OK)
            send_reply(c, q->id, msg->data);
        else if (st == BUS_REPLY_TIMEOUT)
            ws_send_error(c, "id", json_incref(q->id), "timeout", "'%s' did not answer in time",
                          q->subject);
        else
            ws_send_error(c, "id", json_incref(q->id), "not_found", "nobody answers '%s'",
                          q->subject);
    }
    json_decref(q->id);
    free(q);
}

static void op_req(ws_conn *c, json_t *frame)
{
    json_t *id = json_object_get(frame, "id");
    const char *subject = json_string_value(json_object_get(frame, "subject"));
    json_t *data = json_object_get(frame, "data");
    if (!(json_is_integer(id) || (json_is_string(id) && json_string_length(id) <= WS_ID_MAX))) {
        ws_send_error(c, NULL, NULL, "bad_request", "'id' must be a string of at most %d bytes",
                      WS_ID_MAX);
        return;
    }
    if (!subject || bus_subject_check(subject) != 0 || (data && !json_is_object(data))) {
        ws_send_error(c, "id", json_incref(id), "bad_request",
                      "'subject' must be a subject and 'data' an object");
        return;
    }
    if (c->n_reqs >= WS_REQS_MAX) {
        ws_send_error(c, "id", json_incref(id), "too_many", "at most %d requests in flight",
                      WS_REQS_MAX);
        return;
    }
    ws_req *q = calloc(1, sizeof *q);
    json_t *d = data ? json_incref(data) : json_object();
    if (!q || !d) {
        free(q);
        json_decref(d);
        ws_send_error(c, "id", json_incref(id), "internal", "out of memory");
        return;
    }
    /* An agent's or a share's request is narrowed to its task as REST's
     * are: the same function, the same refusals. */
    char why[160];
    const char *refused = api_scope_query(&c->id, subject, d, why, sizeof why);
    if (refused) {
        free(q);
        json_decref(d);
        ws_send_error(c, "id", json_incref(id), refused, "%s", why);
        return;
    }
    q->c = c;
    q->id = json_incref(id);
    snprintf(q->subject, sizeof q->subject, "%s", subject);
    double timeout = ws_limits(c)->request_timeout > 0 ? ws_limits(c)->request_timeout : 30;
    q->bus_id =
        bus_request_as(http_server_bus(c->hub->srv), c->id.who, subject, d, timeout, on_reply, q);
    json_decref(d);
    if (!q->bus_id) {
        bool denied = errno == EACCES;
        ws_send_error(c, "id", q->id, denied ? "forbidden" : "bad_request",
                      denied ? "not allowed to request '%s'" : "cannot request '%s'", subject);
        free(q);
        return;
    }
    q->next = c->reqs;
    c->reqs = q;
    c->n_reqs++;
}

/* ------------------------------------------------------------ auth */

static const char *role_name(enum http_role r)
{
    return r == HTTP_ROLE_ADMIN ? "admin" : r == HTTP_ROLE_VIEWER ? "viewer" : NULL;
}

static void send_ready(ws_conn *c)
{
    const http_identity *id = &c->id;
    json_t *p = json_pack("{s:s,s:s}", "kind", who_kind(c), "id", id->id);
    if (p && role_name(id->role))
        json_object_set_new(p, "role", json_string(role_name(id->role)));
    if (p && id->task[0])
        json_object_set_new(p, "task", json_string(id->task));
    if (p && id->run[0])
        json_object_set_new(p, "run", json_string(id->run));
    if (p && id->expires_at > 0)
        json_object_set_new(p, "expires_at", json_real(id->expires_at));
    ws_send_json(c, json_pack("{s:s,s:o}", "op", "ready", "principal", p));
    log_info("http: /ws %s: ready (%s %s)", c->w.peer, who_kind(c), who_id(c));
}

static void dispatch(ws_conn *c, json_t *frame);
static void watch_expiry(ws_conn *c);

static void on_auth(void *arg, int status, http_identity *id)
{
    ws_conn *c = arg;
    c->w.refs--;
    c->auth_pending = false;
    if (c->w.gone || c->w.closing || status != 0 || !id) {
        if (status == 0 && id)
            http_identity_clear(id); /* nobody to hand it to */
        if (!c->w.gone && !c->w.closing)
            ws_close(c, BOSUN_WS_POLICY,
                     status == 429 ? "too many failed authentications" : "unauthorized");
        http_wsconn_maybe_free(&c->w);
        return;
    }
    c->id = *id;
    id->who = NULL; /* ours now */
    c->authed = true;
    if (c->hub)
        ev_timer_stop(hub_loop(c->hub), &c->auth_timer);
    watch_expiry(c);
    send_ready(c);
    json_t *early = c->early;
    c->early = NULL;
    size_t i;
    json_t *f;
    json_array_foreach(early, i, f)
    {
        if (c->w.closing)
            break;
        dispatch(c, f);
    }
    json_decref(early);
}

static void op_auth(ws_conn *c, json_t *frame)
{
    const char *token = json_string_value(json_object_get(frame, "token"));
    if (!token || !token[0] || strlen(token) > WS_TOKEN_MAX) {
        ws_close(c, BOSUN_WS_POLICY, "bad auth frame");
        return;
    }
    c->auth_pending = true;
    c->w.refs++; /* on_auth runs once, maybe at once */
    http_auth_token(http_server_auth(c->hub->srv), token, c->w.peer, on_auth, c);
}

/* Before auth, the first frame's deadline; after it, the credential's
 * expiry. */
static void on_auth_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    ws_conn *c = w->data;
    ws_close(c, BOSUN_WS_POLICY, c->authed ? "credential expired" : "authentication timeout");
}

static void watch_expiry(ws_conn *c)
{
    if (!c->hub || c->id.expires_at <= 0)
        return;
    double left = c->id.expires_at - bosun_now();
    ev_timer_stop(hub_loop(c->hub), &c->auth_timer);
    ev_timer_set(&c->auth_timer, left > 0 ? left : 0, 0);
    ev_timer_start(hub_loop(c->hub), &c->auth_timer);
}

/* ------------------------------------------------------------ frames */

static void dispatch(ws_conn *c, json_t *frame)
{
    const char *op = json_string_value(json_object_get(frame, "op"));
    if (!c->authed) {
        if (c->auth_pending && json_array_size(c->early) < WS_EARLY_MAX)
            json_array_append(c->early, frame); /* answered once authenticated */
        else if (!c->auth_pending && op && strcmp(op, "auth") == 0)
            op_auth(c, frame);
        else
            ws_close(c, BOSUN_WS_POLICY, "authentication required");
        return;
    }
    if (!op)
        ws_send_error(c, NULL, NULL, "bad_request", "a frame needs an 'op'");
    else if (strcmp(op, "sub") == 0)
        ws_op_sub(c, frame);
    else if (strcmp(op, "unsub") == 0)
        ws_op_unsub(c, frame);
    else if (strcmp(op, "req") == 0)
        op_req(c, frame);
    else if (strcmp(op, "auth") == 0)
        ws_send_error(c, NULL, NULL, "bad_request", "already authenticated");
    else
        ws_send_error(c, NULL, NULL, "bad_request", "unknown op '%.32s'", op);
}

static void ws_on_text(http_wsconn *w, const char *text, size_t len)
{
    ws_conn *c = ws_of(w);
    if (c->w.closing)
        return;
    bosun_json_error err;
    json_t *frame = bosun_json_parse(text, len, BOSUN_JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(frame)) {
        if (!c->authed)
            ws_close(c, BOSUN_WS_POLICY, "authentication required");
        else if (frame)
            ws_send_error(c, NULL, NULL, "bad_request", "a frame must be a JSON object");
        else
            ws_send_error(c, NULL, NULL, "bad_json", "invalid JSON at column %d: %s", err.column,
                          err.text);
        json_decref(frame);
        return;
    }
    if (!c->authed && c->auth_pending && !c->early)
        c->early = json_array();
    dispatch(c, frame);
    json_decref(frame);
}

static void ws_on_drain(http_wsconn *w)
{
    ws_subs_drained(ws_of(w));
}

static bool ws_ping_room(http_wsconn *w, size_t len)
{
    return ws_room(ws_of(w), len);
}

static void ws_on_open(http_wsconn *w)
{
    ws_conn *c = ws_of(w);
    if (c->id.cred != HTTP_CRED_NONE) {
        watch_expiry(c);
        send_ready(c);
    } else {
        ev_timer_start(hub_loop(c->hub), &c->auth_timer);
    }
}

static const http_wsconn_ops conn_ops = {
    .route = "/ws",
    .who = ws_who,
    .on_text = ws_on_text,
    .on_open = ws_on_open,
    .on_drain = ws_on_drain,
    .room = ws_ping_room,
    .on_stop = ws_on_stop,
    .teardown = ws_teardown,
    .free = ws_free,
};

/* ------------------------------------------------------------ upgrade */

/* A browser sends the session cookie to any site's page that opens a
 * WebSocket to us: with the cookie, only our own origin (or a configured
 * one) may connect. */
static bool origin_allowed(http_request *r)
{
    if (!r->id.via_cookie)
        return true;
    const char *origin = http_header(r, "origin");
    const char *host = http_header(r, "host");
    if (!origin)
        return false;
    const http_config *cfg = http_server_config(r->srv);
    for (size_t i = 0; i < cfg->n_allowed_origins; i++)
        if (strcmp(origin, cfg->allowed_origins[i]) == 0)
            return true;
    char own[300];
    snprintf(own, sizeof own, "%s://%s", r->tls ? "https" : "http", host ? host : "");
    return host && strcmp(origin, own) == 0;
}

/* An admin token revoked (evt.auth.token.<id>.revoked): its connections,
 * and those of sessions made from it (the same id), end now rather than at
 * their next request; a session logged out (evt.auth.session.<jti>.revoked):
 * the connections it authenticated. */
static void on_revoked(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus;
    http_ws_hub *hub = arg;
    static const char tok_pre[] = BOSUN_AUTH_TOKEN_EVENTS ".", ses_pre[] = HTTP_SESSION_EVENTS ".";
    bool token = strncmp(m->subject, tok_pre, sizeof tok_pre - 1) == 0;
    if (!token && strncmp(m->subject, ses_pre, sizeof ses_pre - 1) != 0)
        return;
    const char *id = m->subject + (token ? sizeof tok_pre : sizeof ses_pre) - 1;
    size_t len = strlen(id) - strlen(".revoked");
    for (http_wsconn *w = hub->conns.head, *next; w; w = next) {
        next = w->next; /* ws_close leaves w in the list */
        ws_conn *c = ws_of(w);
        const char *mine = token ? (strcmp(c->id.kind, "admin") == 0 ? c->id.id : "") : c->id.jti;
        if (c->authed && strlen(mine) == len && strncmp(mine, id, len) == 0)
            ws_close(c, BOSUN_WS_POLICY, token ? "credential revoked" : "logged out");
    }
}

static ws_conn *conn_new(http_ws_hub *hub, http_request *r)
{
    if (!hub->revoked)
        hub->revoked =
            bus_subscribe(http_server_bus(hub->srv), "evt.auth.*.*.revoked", on_revoked, hub);
    ws_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (http_wsconn_init(&c->w, &conn_ops, hub->srv, &hub->conns, r) != 0) {
        free(c);
        return NULL;
    }
    const http_limits *lim = &http_server_config(hub->srv)->limits;
    c->hub = hub;
    c->id = r->id;
    r->id.who = NULL; /* the identity moves to the connection */
    c->authed = c->id.cred != HTTP_CRED_NONE;
    ev_timer_init(&c->auth_timer, on_auth_timeout,
                  lim->ws_auth_timeout > 0 ? lim->ws_auth_timeout : 10, 0);
    c->auth_timer.data = c;
    return c;
}

static void ws_handler(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    http_ws_hub *hub = http_server_ws(r->srv);
    char accept[BOSUN_WS_ACCEPT_LEN + 1];
    if (!http_wsconn_check(r, accept))
        return;
    if (!origin_allowed(r)) {
        http_respond_error(r, 403, "forbidden", "this Origin may not use the session cookie");
        return;
    }
    ws_conn *c;
    if (!hub || !(c = conn_new(hub, r))) {
        http_respond_error(r, 500, "internal", "cannot open the WebSocket");
        return;
    }
    http_wsconn_open(&c->w, r, accept);
}

const http_route http_ws_routes[] = {
    {"GET", "/ws", ws_handler,
     HTTP_ALLOW_ANON | HTTP_ALLOW_READ | HTTP_ALLOW_AGENT | HTTP_ALLOW_SHARE, HTTP_BODY_NONE},
};
const size_t http_ws_n_routes = sizeof http_ws_routes / sizeof *http_ws_routes;

/* ------------------------------------------------------------ hub */

http_ws_hub *http_ws_hub_new(http_server *srv)
{
    http_ws_hub *hub = calloc(1, sizeof *hub);
    if (hub) {
        hub->srv = srv;
        hub->cache_seq = -1;
    }
    return hub;
}

void http_ws_hub_free(http_ws_hub *hub)
{
    if (!hub)
        return;
    while (hub->conns.head)
        http_wsconn_shutdown(hub->conns.head);
    if (hub->revoked)
        bus_unsubscribe(http_server_bus(hub->srv), hub->revoked);
    free(hub->cache.data);
    free(hub);
}
