/* An upgraded WebSocket connection: the layer /ws and /fleet share
 * (http_wsconn.h).  Nothing here waits for a peer: what it is sent goes
 * to its send queue, and the server pings every limits.ping_interval and
 * closes a peer whose pong has not come by the next one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/log.h>

#include "http_wsconn.h"

static struct ev_loop *wsconn_loop(const http_wsconn *w)
{
    return http_server_ctx(w->srv)->loop;
}

const http_limits *http_wsconn_limits(const http_wsconn *w)
{
    static const http_limits none = {0};
    return w->srv ? &http_server_config(w->srv)->limits : &none;
}

static const char *wsconn_who(const http_wsconn *w, char *buf, size_t size)
{
    w->ops->who(w, buf, size);
    return buf;
}

/* ------------------------------------------------------------ lifetime */

static void wsconn_stop(http_wsconn *w)
{
    if (!w->srv)
        return;
    ev_timer_stop(wsconn_loop(w), &w->ping_timer);
    w->ops->on_stop(w);
}

static void wsconn_unlink(http_wsconn *w)
{
    http_wsconn_list *list = w->list;
    if (w->prev)
        w->prev->next = w->next;
    else
        list->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    list->n--;
    w->prev = w->next = NULL;
}

/* Ends everything that could call back into w; w leaves its list. */
static void wsconn_teardown(http_wsconn *w)
{
    if (!w->srv)
        return;
    wsconn_stop(w);
    wsconn_unlink(w);
    w->ops->teardown(w);
    w->srv = NULL;
}

static void wsconn_free(http_wsconn *w)
{
    wsconn_teardown(w);
    bosun_ws_free(w->ws);
    free(w->pending_in.data);
    w->ops->free(w);
}

void http_wsconn_maybe_free(http_wsconn *w)
{
    if (w->gone && w->refs == 0)
        wsconn_free(w);
}

void http_wsconn_close(http_wsconn *w, unsigned code, const char *reason)
{
    if (w->closing)
        return;
    w->closing = true;
    char who[160];
    enum log_level lvl =
        code == BOSUN_WS_NORMAL || code == BOSUN_WS_GOING_AWAY ? LOG_LEVEL_INFO : LOG_LEVEL_NOTICE;
    log_msg(lvl, "http: %s %s (%s): closing with %u (%s)", w->ops->route, w->peer,
            wsconn_who(w, who, sizeof who), code, reason);
    bosun_ws_close(w->ws, code, reason);
    /* What the route keeps (subscriptions) stays until the stream is gone:
     * a callback may be iterating over it right now. */
    wsconn_stop(w);
    if (w->conn)
        http_stream_close(w->conn);
}

void http_wsconn_shutdown(http_wsconn *w)
{
    http_wsconn_close(w, BOSUN_WS_GOING_AWAY, "server shutting down");
    /* The server closes the streams next, writing what they have queued
     * (the close frames), without their on_close: w goes now. */
    wsconn_teardown(w);
    w->conn = NULL;
    w->gone = true;
    http_wsconn_maybe_free(w);
}

bool http_wsconn_fits(const http_wsconn *w, size_t len, size_t max)
{
    /* 14: the largest frame header */
    return !max || http_stream_queued(w->conn) + len + 14 + HTTP_WSCONN_CLOSE_RESERVE <= max;
}

/* ------------------------------------------------------------ session */

static void on_text(void *arg, const char *text, size_t len)
{
    http_wsconn *w = arg;
    w->ops->on_text(w, text, len);
}

static void on_pong(void *arg, const void *data, size_t len)
{
    (void)data;
    (void)len;
    http_wsconn *w = arg;
    w->pong_pending = false;
}

/* The peer closed, or broke the protocol (the session answered it). */
static void on_ws_close(void *arg, unsigned code, const char *reason)
{
    (void)reason; /* the peer's text: not for our log */
    http_wsconn *w = arg;
    bool ours = code == BOSUN_WS_PROTOCOL_ERROR || code == BOSUN_WS_UNSUPPORTED_DATA ||
                code == BOSUN_WS_INVALID_DATA || code == BOSUN_WS_TOO_BIG;
    char who[160];
    log_msg(ours ? LOG_LEVEL_NOTICE : LOG_LEVEL_INFO, "http: %s %s (%s): %s %u", w->ops->route,
            w->peer, wsconn_who(w, who, sizeof who),
            ours ? "closed for breaking the protocol:" : "peer closed,", code);
    w->closing = true;
    wsconn_stop(w);
}

static bool on_write(void *arg, const void *data, size_t len)
{
    http_wsconn *w = arg;
    return w->conn && http_stream_send(w->conn, data, len);
}

static const bosun_ws_ops session_ops = {
    .write = on_write,
    .on_text = on_text,
    .on_binary = NULL, /* binary frames: 1003 */
    .on_pong = on_pong,
    .on_close = on_ws_close,
};

/* ------------------------------------------------------------ stream */

static void on_data(void *arg, const char *data, size_t len)
{
    http_wsconn *w = arg;
    if (!w->conn) {
        /* still inside http_upgrade: fed once it has returned */
        if (bosun_json_append_raw(&w->pending_in, data, len) != 0)
            w->closing = true; /* out of memory: dropped in http_wsconn_open */
        return;
    }
    w->refs++;
    if (bosun_ws_feed(w->ws, data, len) != 0 && w->conn) {
        w->closing = true;
        wsconn_stop(w);
        http_stream_close(w->conn);
    }
    w->refs--;
    http_wsconn_maybe_free(w);
}

static void on_drain(void *arg)
{
    http_wsconn *w = arg;
    if (!w->closing && w->ops->on_drain)
        w->ops->on_drain(w);
}

static void on_stream_close(void *arg)
{
    http_wsconn *w = arg;
    w->conn = NULL;
    w->closing = true;
    w->gone = true;
    wsconn_teardown(w);
    http_wsconn_maybe_free(w);
}

static const http_stream_ops stream_ops = {
    .on_data = on_data,
    .on_drain = on_drain,
    .on_close = on_stream_close,
};

static void on_ping_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    http_wsconn *w = t->data;
    /* A connection its route does not read cannot have its pong read
     * either: the wait is ours, not a dead peer's. */
    if (w->paused)
        return;
    if (w->pong_pending) {
        /* 1001 is logged at info (the usual going away): this one is a
         * limit, so it says so at notice too. */
        char who[160];
        log_notice("http: %s %s (%s): no pong within ping_interval (%.0f s)", w->ops->route,
                   w->peer, wsconn_who(w, who, sizeof who), http_wsconn_limits(w)->ping_interval);
        http_wsconn_close(w, BOSUN_WS_GOING_AWAY, "no pong");
        return;
    }
    if ((!w->ops->room || w->ops->room(w, 16)) && bosun_ws_ping(w->ws, "bosun", 5) == 0)
        w->pong_pending = true;
}

/* ------------------------------------------------------------ upgrade */

bool http_wsconn_check(http_request *r, char accept[BOSUN_WS_ACCEPT_LEN + 1])
{
    const char *why = NULL;
    int st = bosun_ws_check_upgrade(
        r->method, http_header(r, "upgrade"), http_header(r, "connection"),
        http_header(r, "sec-websocket-version"), http_header(r, "sec-websocket-key"), &why);
    if (st == 426)
        http_add_header(r, "Sec-WebSocket-Version", "13");
    if (st) {
        http_respond_error(r, st, "bad_request", "%s", why);
        return false;
    }
    /* The key passed the check above: this cannot fail on it. */
    if (bosun_ws_accept_key(http_header(r, "sec-websocket-key"), accept) != 0) {
        http_respond_error(r, 500, "internal", "cannot open the WebSocket");
        return false;
    }
    return true;
}

int http_wsconn_init(http_wsconn *w, const http_wsconn_ops *ops, http_server *srv,
                     http_wsconn_list *list, const http_request *r)
{
    const http_limits *lim = &http_server_config(srv)->limits;
    bosun_ws_limits wl = {.frame_max = lim->ws_frame_max, .message_max = lim->ws_message_max};
    w->ws = bosun_ws_new(BOSUN_WS_SERVER, &wl, &session_ops, w);
    if (!w->ws)
        return -1;
    w->ops = ops;
    w->srv = srv;
    w->list = list;
    snprintf(w->peer, sizeof w->peer, "%s", r->peer ? r->peer : "?");
    ev_timer_init(&w->ping_timer, on_ping_timer, lim->ping_interval, lim->ping_interval);
    w->ping_timer.data = w;
    w->next = list->head;
    if (list->head)
        list->head->prev = w;
    list->head = w;
    list->n++;
    return 0;
}

void http_wsconn_open(http_wsconn *w, http_request *r, const char *accept)
{
    char extra[80]; /* http_upgrade writes Upgrade and Connection itself */
    snprintf(extra, sizeof extra, "Sec-WebSocket-Accept: %s\r\n", accept);
    w->conn = http_upgrade(r, extra, &stream_ops, w);
    if (!w->conn) {
        wsconn_free(w);
        return;
    }
    if (w->ops->on_open)
        w->ops->on_open(w);
    if (http_wsconn_limits(w)->ping_interval > 0)
        ev_timer_start(wsconn_loop(w), &w->ping_timer);
    if (w->closing) {
        http_stream_close(w->conn);
    } else if (w->pending_in.len) {
        bosun_json_buf in = w->pending_in;
        memset(&w->pending_in, 0, sizeof w->pending_in);
        on_data(w, in.data, in.len);
        free(in.data);
    }
}
