/* The http plugin's insides, shared by its files.
 *
 * One plugin owns every listener: HTTP/1.1 (http-parser), WebSocket
 * upgrades (wslay, http_ws.c) and TLS (OpenSSL, http_tls.c), all on the
 * daemon's loop.  The parts and who calls whom:
 *
 *   http.c          the plugin: check, init, start, reload, stop
 *   http_config.c   the "http:" section -> http_config (FILE:LINE:COL errors)
 *   http_listen.c   listeners, accept, connection limits per address and total
 *   http_conn.c     a connection: reads, parses, enforces the limits and
 *                   deadlines, queues responses in request order (pipelining),
 *                   keep-alive; hands an upgraded connection over as a stream
 *   http_tls.c      the TLS context and non-blocking handshakes and I/O
 *   http_router.c   route tables -> 404 / 405 + Allow / 413, then auth, then
 *                   the route's handler; the access log
 *   http_auth.c     credentials -> http_identity (admin tokens, session JWTs,
 *                   agent tokens), login/logout/me, the Origin check, the
 *                   failed-auth limit; http_auth_routes
 *   http_auth_github.c  login with GitHub (web and device flows), through
 *                   the github plugin's cmd.github.auth.*
 *   http_api*.c     the REST API v1: requests -> bus requests (cmd.…),
 *                   replies -> responses; http_api_routes
 *   http_ws.c       /ws: the event stream and request/reply over WebSocket
 *   http_fleet.c    /fleet: machines' links, relayed to the fleet plugin
 *   http_wsconn.c   the upgraded WebSocket connection both of them use
 *
 * A route is served by turning the request into a bus request on behalf of
 * the caller's principal (bus_request_as), never by calling another plugin:
 * the permissions of the isolation work are checked at the bus edge.
 *
 * Lifetime of a request: the router calls a handler with a request that
 * stays valid until the handler (or a callback it arranged) gives the one
 * response with http_respond*.  If the connection goes away first,
 * http_request_gone() turns true and http_respond* just frees the request,
 * so an asynchronous handler always answers exactly once.  Responses leave
 * a connection in the order its requests came, whatever order they are
 * given in.
 */
#ifndef BOSUN_HTTP_H
#define BOSUN_HTTP_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include <bosun/bus.h>
#include <bosun/plugin.h>
#include <bosun/principal.h>

typedef struct http_server http_server;
typedef struct http_conn http_conn;
typedef struct http_request http_request;
typedef struct http_auth http_auth;
typedef struct http_ws_hub http_ws_hub;
typedef struct http_fleet_hub http_fleet_hub;
typedef struct http_web http_web;
typedef struct http_mcp_hub http_mcp_hub;

/* ------------------------------------------------------------ config */

/* Every limit has a default (http_config.c) and a key under http.limits
 * (bosun.yaml(5)); what exceeding it gets is said beside it. */
typedef struct http_limits {
    size_t request_line_max; /* bytes of method, target, version: 414 */
    size_t header_bytes_max; /* all header lines together: 431 */
    size_t header_count_max; /* header lines: 431 */
    size_t body_max;         /* a JSON request body: 413 */
    size_t upload_max;       /* a route that takes files: 413 */
    double header_timeout;   /* from the first byte to the end of the headers: 408 */
    double body_timeout;     /* from the end of the headers to the end of the body: 408 */
    double idle_timeout;     /* a keep-alive connection with no request: closed */
    size_t conns_per_ip;     /* connections from one address: 429 then closed */
    size_t conns_max;        /* connections in all: 503 then closed */
    size_t send_queue_max;   /* bytes queued for one client: closed (WS: 1013) */
    size_t ws_frame_max;     /* one WebSocket frame's payload: 1009 */
    size_t ws_message_max;   /* one reassembled message: 1009 */
    size_t ws_subs_max;      /* subscriptions on one /ws connection */
    double ws_auth_timeout;  /* /ws without credentials: first frame must auth: 1008 */
    double ping_interval;    /* server pings; a pong missing by the next one closes */
    double request_timeout;  /* a bus request made for a client: 504 */
} http_limits;

typedef struct http_listen_addr {
    char *host; /* "127.0.0.1", "::", "::1"; numeric */
    char *port; /* numeric */
    char *text; /* as written, for log lines */
} http_listen_addr;

typedef struct http_config {
    http_listen_addr *listen;
    size_t n_listen;
    char *tls_cert; /* NULL: plain HTTP */
    char *tls_key;
    char **allowed_origins; /* Origins accepted for cookie-carrying writes, besides our own */
    size_t n_allowed_origins;
    char **trusted_proxies; /* CIDRs whose X-Forwarded-For is believed */
    size_t n_trusted_proxies;
    char *bootstrap_token_file; /* 0600 file holding an admin token, or NULL */
    char *web_root;             /* the dashboard's files; "": none */
    char *public_url;           /* "https://host[:port]" as people reach it, or NULL */
    double session_ttl;         /* session JWT lifetime, default 7 days */
    bool access_log;            /* one info line per response (default true) */
    http_limits limits;
} http_config;

/* ------------------------------------------------------------ server */

/* The plugin state.  Accessors, so that the parts do not reach into each
 * other's fields. */
const bosun_ctx *http_server_ctx(const http_server *srv);
bus_t *http_server_bus(const http_server *srv);
const http_config *http_server_config(const http_server *srv);
http_auth *http_server_auth(const http_server *srv);
http_ws_hub *http_server_ws(const http_server *srv);
http_fleet_hub *http_server_fleet(const http_server *srv);
http_mcp_hub *http_server_mcp(const http_server *srv);
/* false while the daemon is starting or stopping (/health answers 503). */
bool http_server_ready(const http_server *srv);

/* ------------------------------------------------------------ identity */

/* Who a request comes from, filled by http_auth before a handler that needs
 * it runs.  who holds exactly the bus rights of that identity. */
enum http_cred {
    HTTP_CRED_NONE = 0, /* anonymous */
    HTTP_CRED_ADMIN_TOKEN,
    HTTP_CRED_SESSION, /* a session JWT, from the cookie or a Bearer header */
    HTTP_CRED_AGENT,   /* a run's agent token */
    HTTP_CRED_SHARE,   /* a share link (http_auth_share.c) */
};

enum http_role {
    HTTP_ROLE_NONE = 0,
    HTTP_ROLE_VIEWER, /* reads; answers inputs of its own tasks */
    HTTP_ROLE_ADMIN,  /* everything */
};

typedef struct http_identity {
    enum http_cred cred;
    enum http_role role;
    char kind[16];      /* "admin", "user", "agent", "share", "anonymous" */
    char id[128];       /* token id, user name, run id: never a secret */
    char task[72];      /* agent and share: the only task it may see, else "" */
    char run[72];       /* agent: its run, else "" */
    char jti[72];       /* session: its id (logout revokes it), else "" */
    double expires_at;  /* credential expiry, seconds since the epoch; 0: none */
    bool via_cookie;    /* the credential came in the session cookie */
    bool can_answer;    /* share: may answer its task's questions */
    bus_principal *who; /* owned; NULL for anonymous */
} http_identity;

/* ------------------------------------------------------------ requests */

typedef struct http_header_field {
    const char *name; /* lower-case */
    const char *value;
} http_header_field;

struct http_request {
    http_server *srv;
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* percent-decoded, without the query; starts with '/' */
    const char *query;  /* raw text after '?', or NULL; may hold secrets: never logged */
    const http_header_field *headers;
    size_t n_headers;
    const char *body; /* NUL-terminated; "" when none */
    size_t body_len;
    const char *peer; /* the client's address, after trusted proxies */
    bool tls;
    http_identity id;
};

/* A request header's value (name in lower case), or NULL. */
const char *http_header(const http_request *r, const char *name);
/* A query parameter, percent-decoded into memory owned by r, or NULL when
 * absent.  The first of repeated parameters. */
const char *http_query(http_request *r, const char *name);
/* Whether the client is gone (the response will be dropped). */
bool http_request_gone(const http_request *r);

/* Adds a response header (before http_respond*); copied. */
void http_add_header(http_request *r, const char *name, const char *value);
/* Gives the response: copies body; r is freed once it is written. */
void http_respond(http_request *r, int status, const char *content_type, const void *body,
                  size_t len);
/* body stolen; written compactly with "application/json". */
void http_respond_json(http_request *r, int status, json_t *body);
/* {"error":{"code":code,"message":...}} with the status. */
void http_respond_error(http_request *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A bus reply that carries {"error":{"code","message"}} as a response:
 * the code chosen by http_status_for_code (not_found 404, bad_request 400,
 * forbidden 403, unauthorized 401, busy/not_pending 409, too_large 413,
 * rate_limited 429, shutting_down 503, other 500). */
int http_status_for_code(const char *code);

/* ------------------------------------------------------------ routes */

typedef void (*http_handler)(http_request *r, const char *const *args, size_t n_args);

/* Who may call a route: a bit set.  The router authenticates first
 * (http_auth_request), answers 401 when no credential passes and 403 when
 * the identity's bit is not set; a handler narrows further (an agent's or
 * a share's own task). */
enum {
    HTTP_ALLOW_ANON = 1 << 0,   /* no credential needed (credentials still read if present) */
    HTTP_ALLOW_VIEWER = 1 << 1, /* role viewer (and admin) */
    HTTP_ALLOW_ADMIN = 1 << 2,
    HTTP_ALLOW_AGENT = 1 << 3,
    HTTP_ALLOW_SHARE = 1 << 4,
};
#define HTTP_ALLOW_READ  (HTTP_ALLOW_VIEWER | HTTP_ALLOW_ADMIN)
#define HTTP_ALLOW_WRITE HTTP_ALLOW_ADMIN

enum http_body_class {
    HTTP_BODY_NONE = 0, /* a body is refused: 413 */
    HTTP_BODY_JSON,     /* up to limits.body_max */
    HTTP_BODY_UPLOAD,   /* up to limits.upload_max */
};

typedef struct http_route {
    const char *method;  /* "GET" (also serves HEAD), "POST", "DELETE" */
    const char *pattern; /* "/api/v1/runs/{}/stop": {} is one non-empty segment, passed in args */
    http_handler handler;
    unsigned allow; /* HTTP_ALLOW_* */
    enum http_body_class body;
} http_route;

#define HTTP_ARGS_MAX 4

/* Route tables, each defined by the part that serves them. */
extern const http_route http_core_routes[]; /* /health (http.c) */
extern const size_t http_core_n_routes;
extern const http_route http_auth_routes[]; /* /api/v1/auth/…, /api/v1/tokens… */
extern const size_t http_auth_n_routes;
extern const http_route http_auth_github_routes[]; /* /api/v1/auth/github/… (http_auth_github.c) */
extern const size_t http_auth_github_n_routes;
extern const http_route http_api_routes[]; /* the rest of /api/v1 */
extern const size_t http_api_n_routes;
extern const http_route http_ws_routes[]; /* GET /ws */
extern const size_t http_ws_n_routes;
extern const http_route http_fleet_routes[]; /* GET /fleet (http_fleet.c) */
extern const size_t http_fleet_n_routes;
extern const http_route http_share_routes[]; /* /api/v1/shares (http_auth_share.c) */
extern const size_t http_share_n_routes;
extern const http_route http_mcp_routes[]; /* /mcp, MCP Streamable HTTP (http_mcp.c) */

/* http_mcp_edge.c: a 2026-07-28 request's headers against its body. */
typedef struct http_mcp_headers {
    const char *version, *method,
        *name; /* MCP-Protocol-Version, Mcp-Method, Mcp-Name; NULL: absent */
} http_mcp_headers;
/* 0 when msg (a JSON-RPC object whose params._meta names a revision) may
 * go on; else the JSON-RPC error code (-32020 or -32602) with *why, a
 * static text naming what was wrong. */
int http_mcp_stateless_check(const json_t *msg, const http_mcp_headers *h, const char **why);
/* Mcp-Name's value: as it is, or the UTF-8 inside "=?base64?...?=";
 * malloc'ed, NULL when that is not base64 of UTF-8 without NUL. */
char *http_mcp_name_decode(const char *header);
extern const size_t http_mcp_n_routes;
extern const http_route http_web_routes[]; /* GET /, the dashboard's files (http_web.c) */
extern const size_t http_web_n_routes;

/* ------------------------------------------------------------ auth */

http_auth *http_auth_new(http_server *srv, const http_config *cfg, cfg_diag *diag);
int http_auth_reload(http_auth *a, const http_config *cfg, cfg_diag *diag);
void http_auth_free(http_auth *a);
/* Reads the request's credentials (Authorization: Bearer, the session
 * cookie), fills r->id, then calls done(r, status, arg) once, from the loop
 * or at once: status 0 when the identity may use a route allowing `allow`,
 * else 401, 403 or 429, with the error response already given. Also checks
 * the Origin of state-changing requests that carry the cookie. */
void http_auth_request(http_request *r, unsigned allow, void (*done)(http_request *r, int status));
/* The Bearer credential: NULL when there is no Authorization header, ""
 * when there is one of another scheme (refused, not ignored). */
const char *http_auth_bearer(const http_request *r);
/* For /ws's first frame: checks a token (admin token, session JWT or agent
 * token) from peer, filling *id; done runs once with 0, 401 or 429. */
typedef void (*http_auth_token_cb)(void *arg, int status, http_identity *id);
void http_auth_token(http_auth *a, const char *token, const char *peer, http_auth_token_cb done,
                     void *arg);
/* Frees who and clears the identity. */
void http_identity_clear(http_identity *id);

/* ------------------------------------------------------------ streams */

/* An upgraded connection: raw bytes in both directions, through TLS when
 * the connection has it.  on_close runs once when the connection is gone
 * (then the http_conn is invalid). */
typedef struct http_stream_ops {
    void (*on_data)(void *arg, const char *data, size_t len);
    void (*on_drain)(void *arg); /* the send queue emptied */
    void (*on_close)(void *arg);
} http_stream_ops;

/* Answers r with 101 Switching Protocols and the extra header lines (each
 * "Name: value\r\n"), then hands the connection over: bytes the client
 * sent after the request are passed to on_data first.  r is freed.
 * NULL (and a 500 given) when the connection is already gone.
 * (The server writes "Upgrade: <the request's Upgrade value>" and
 * "Connection: Upgrade" itself: extra_headers holds the protocol's own,
 * such as Sec-WebSocket-Accept.  Only a request that asked to upgrade can
 * be; a route that refuses one answers it normally and the connection
 * closes after that answer.  on_data, on_drain and on_close always run
 * from the loop, never from inside http_upgrade or http_stream_*; bytes
 * given to http_stream_send before the 101 has left, behind earlier
 * pipelined responses, follow it.) */
http_conn *http_upgrade(http_request *r, const char *extra_headers, const http_stream_ops *ops,
                        void *arg);
/* Answers r with 200 and a body the caller streams with http_stream_send
 * until http_stream_close (server-sent events): Content-Type as given,
 * the headers added with http_add_header, "Connection: close".  r is
 * freed.  NULL (a 500 given) when the connection cannot carry one: gone,
 * or other requests pipelined behind r (http_stream_can_start says so
 * beforehand).  ops as for http_upgrade. */
http_conn *http_respond_stream(http_request *r, const char *content_type,
                               const http_stream_ops *ops, void *arg);
bool http_stream_can_start(const http_request *r);
/* Queues bytes; false, queueing nothing, when the queue would pass
 * limits.send_queue_max. */
bool http_stream_send(http_conn *c, const void *data, size_t len);
size_t http_stream_queued(const http_conn *c);
/* Stops reading the client's bytes (they wait in the kernel, which then
 * holds the client back: TCP's flow control) until called again with
 * false; on_data may still run once for bytes read before. */
void http_stream_pause(http_conn *c, bool paused);
/* Closes once what is queued is written (bounded by a short deadline). */
void http_stream_close(http_conn *c);
const char *http_stream_peer(const http_conn *c);

/* ------------------------------------------------------------ /mcp */

http_mcp_hub *http_mcp_hub_new(http_server *srv);
/* Ends every session (their streams close, waiting POSTs get 503/404). */
void http_mcp_hub_free(http_mcp_hub *hub);

/* ------------------------------------------------------------ fleet links */

http_fleet_hub *http_fleet_hub_new(http_server *srv);
/* Closes every /fleet link with 1001 and frees them, as http_ws_hub_free. */
void http_fleet_hub_free(http_fleet_hub *hub);

/* ------------------------------------------------------------ websocket hub */

http_ws_hub *http_ws_hub_new(http_server *srv);
/* Closes every /ws connection with 1001 (http_stream_send then
 * http_stream_close) and frees what the hub holds for each: called at the
 * plugin's stop, after which the server writes what it can and closes the
 * streams without calling their on_close. */
void http_ws_hub_free(http_ws_hub *hub);

#endif
