/* /ws insides, shared by http_ws.c (connections: upgrade, auth, ops, pings,
 * closing) and http_ws_sub.c (subscriptions: replay from the store, then
 * live, fan-out). */
#ifndef BOSUN_HTTP_WS_INT_H
#define BOSUN_HTTP_WS_INT_H

#include <bosun/json.h>
#include <bosun/ws.h>

#include "http.h"
#include "http_wsconn.h"

#define WS_SID_MAX       64 /* bytes of a subscription id */
#define WS_REQS_MAX      32 /* requests in flight on one connection */
#define WS_EARLY_MAX     8  /* frames kept while a first-frame auth is checked */
#define WS_TOKEN_MAX     4096
#define WS_CLOSE_RESERVE HTTP_WSCONN_CLOSE_RESERVE

typedef struct ws_conn ws_conn;
typedef struct ws_sub ws_sub;
typedef struct ws_req ws_req;

struct ws_conn {
    http_wsconn w;    /* first: the upgraded connection (http_wsconn.h) */
    http_ws_hub *hub; /* NULL once the hub is gone */
    http_identity id;
    bool authed : 1;
    bool auth_pending : 1; /* http_auth_token has not answered yet (holds a w.refs) */
    bool subs_noted : 1;   /* over ws_subs_max was logged (once per connection) */
    json_t *early;         /* frames received while auth_pending */
    ev_timer auth_timer;
    ws_sub *subs;
    size_t n_subs;
    ws_req *reqs;
    size_t n_reqs;
};

struct http_ws_hub {
    http_server *srv;
    http_wsconn_list conns;
    /* The last stored event serialized for "msg" frames: the bus hands
     * the same event to every subscription, each of which would otherwise
     * dump it again. */
    json_int_t cache_seq;
    bosun_json_buf cache;
    bus_sub *revoked; /* evt.auth.{token,session}.*.revoked: their connections close */
};

/* http_ws.c */
const http_limits *ws_limits(const ws_conn *c);
/* Whether len more bytes fit the client's send queue; if not, the client
 * is closed with 1013 "slow consumer" and false returned. */
bool ws_room(ws_conn *c, size_t len);
/* Sends a JSON object (stolen) as one text frame. */
void ws_send_json(ws_conn *c, json_t *frame);
/* {"op":"error","sid"|"id":…,"error":{"code","message"}}; key may be NULL. */
void ws_send_error(ws_conn *c, const char *key, json_t *val, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Closes with code and reason: the close frame goes after what is queued,
 * subscriptions and requests end now. */
void ws_close(ws_conn *c, unsigned code, const char *reason);

/* http_ws_sub.c */
void ws_op_sub(ws_conn *c, json_t *frame);
void ws_op_unsub(ws_conn *c, json_t *frame);
/* The client drained its queue: replays that waited for room go on. */
void ws_subs_drained(ws_conn *c);
void ws_subs_free(ws_conn *c);

#endif
