/* The server core's insides: what http.c, http_config.c, http_listen.c,
 * http_conn.c, http_parse.c, http_request.c, http_tls.c and http_router.c
 * share.  The other parts (auth, API, /ws) see only http.h.
 *
 * A request is an http_req whose first member is the public http_request,
 * so that the pointer handlers get converts back.  It owns every byte it
 * points to (target, headers, body, decoded path), so it outlives its
 * connection: a handler answering late answers a request whose connection
 * is gone, and the answer is just dropped. */
#ifndef BOSUN_HTTP_INT_H
#define BOSUN_HTTP_INT_H

#include <http_parser.h>
#include <stdint.h>
#include <sys/types.h>

#include <bosun/log.h>

#include "http.h"

/* Requests read ahead of their responses on one connection (pipelining):
 * past it the connection is not read until responses leave. */
#define HTTP_PIPELINE_MAX 16
/* Path segments a route can have. */
#define HTTP_SEGMENTS_MAX 16
/* What a closing connection may take to write its last bytes. */
#define HTTP_LINGER 5.0
/* Bytes read from a socket at once (one buffer for the whole server). */
#define HTTP_READ_CHUNK 65536
/* Refused TLS connections being answered at once, and how long each may
 * take from its accept to its close (http_refuse.c). */
#define HTTP_REFUSALS_MAX 256
#define HTTP_REFUSAL_TIME 2.0
/* Address text: an IPv6 address with its scope, NUL included. */
#define HTTP_ADDR_MAX 64

/* ------------------------------------------------------------ requests */

typedef struct http_req {
    http_request pub; /* first: handlers get &pub */
    http_conn *conn;  /* NULL once the connection is gone */
    struct http_req *next;

    /* As read: the target, header names and values ("name\0value\0"...),
     * the body. */
    char *url;
    size_t url_len, url_cap;
    char *hbuf;
    size_t hbuf_len, hbuf_cap;
    size_t n_fields;
    http_header_field *fields;
    size_t trailer_bytes; /* of trailers, counted, not kept */
    char *body;
    size_t body_len, body_cap, body_limit;

    /* Decoded: the path, its segments, the query. */
    char *path;
    char *segs[HTTP_SEGMENTS_MAX];
    size_t n_segs;
    const char *args[HTTP_ARGS_MAX];
    char **decoded; /* http_query's values, freed with the request */
    size_t n_decoded;

    const http_route *route;
    size_t n_args;
    bool routed;          /* route looked up (route NULL: none matched) */
    int rx_error;         /* a request refused while read: its status */
    const char *rx_why;   /* and why, for the log */
    bool keep_alive;      /* the client allows another request after it */
    bool head;            /* HEAD: the response has no body */
    bool upgrade;         /* asks for a protocol switch */
    bool expect_continue; /* Expect: 100-continue */
    bool http10;

    /* The response. */
    char *rhdr; /* headers added by http_add_header, "Name: value\r\n"... */
    size_t rhdr_len, rhdr_cap;
    char *out; /* the whole response, once given */
    size_t out_len;
    int status;
    size_t body_bytes;
    bool responded;
    bool close_after; /* the connection closes once this response is written */
    double t_start;   /* monotonic, when it was read */
    char peer[HTTP_ADDR_MAX];
} http_req;

#define HTTP_REQ(r) ((http_req *)(r))

http_req *http_req_new(void);
void http_req_free(http_req *q);
/* The canned error response of a request refused while it was read. */
void http_req_respond_rx_error(http_req *q);

/* ------------------------------------------------------------ parser */

/* One connection's request reader: http-parser with every limit of
 * http_limits on what it buffers.  Feeding it stops after each complete
 * request, so that the connection decides what comes next (pipelining,
 * upgrades). */
typedef struct http_rx {
    http_parser p;
    const http_limits *lim;
    /* Asked at the end of the headers: how many body bytes the request
     * may have (its route's class). */
    size_t (*body_limit)(void *arg, http_req *q);
    void *arg;
    http_req *cur;  /* being read */
    http_req *done; /* complete (or refused: done->rx_error), for the caller */
    bool in_value;  /* the last header bytes were a value */
    bool headers_done;
    bool failed;      /* after an error nothing more is parsed */
    double t_begin;   /* monotonic time of the request's first byte */
    double t_headers; /* of the end of its headers */
} http_rx;

void http_rx_init(http_rx *rx, const http_limits *lim, size_t (*body_limit)(void *, http_req *),
                  void *arg);
/* Parses at most len bytes; stops after one complete or refused request
 * (rx->done set: the caller takes it) and returns the bytes used. */
size_t http_rx_feed(http_rx *rx, const char *data, size_t len);
/* The client closed: a request cut short is refused with 400. */
void http_rx_eof(http_rx *rx);
/* Frees a request being read. */
void http_rx_reset(http_rx *rx);
/* Whether part of a request has been read. */
bool http_rx_busy(const http_rx *rx);
/* Decodes %XX in place; false for a bad escape or %00 (and '+' stays). */
bool http_percent_decode(char *s, size_t *len);

/* ------------------------------------------------------------ TLS */

typedef struct http_tls http_tls;

/* Loads cert (a PEM chain) and key; NULL with a message naming the file. */
http_tls *http_tls_new(const char *cert, const char *key, cfg_diag *d, const cfg_node *where);
/* Counted: connections hold their own reference through their SSL. */
void http_tls_free(http_tls *t);
/* A server-side SSL on a non-blocking socket, or NULL. */
void *http_tls_conn_new(http_tls *t, int fd);
void http_tls_conn_free(void *ssl);
/* Want flags for the caller's watcher. */
enum { HTTP_WANT_READ = 1, HTTP_WANT_WRITE = 2 };
/* 1 done, 0 not yet (*want set), -1 failed. */
int http_tls_handshake(void *ssl, int *want, char *why, size_t why_size);
/* > 0 bytes, 0 end of stream, -1 with errno (EAGAIN with *want set). */
ssize_t http_tls_recv(void *ssl, void *buf, size_t n, int *want);
ssize_t http_tls_send(void *ssl, const void *buf, size_t n, int *want);
/* A close_notify, best effort, without waiting for the peer's. */
void http_tls_shutdown(void *ssl);

/* ------------------------------------------------------------ config */

/* Reads the section (NULL: defaults) into cfg; false with messages in d.
 * Checks the TLS files load. */
bool http_config_parse(const cfg_node *section, http_config *cfg, cfg_diag *d);
void http_config_free(http_config *cfg);
/* The defaults of every limit. */
void http_limits_default(http_limits *lim);
/* Whether addr (numeric) is in one of the CIDRs of cfg->trusted_proxies. */
bool http_config_trusted(const http_config *cfg, const char *addr);

/* ------------------------------------------------------------ server */

typedef struct http_listener http_listener;
typedef struct http_ipcount http_ipcount;
typedef struct http_conn_limits http_conn_limits;
typedef struct http_refusal http_refusal;

struct http_server {
    const bosun_ctx *ctx;
    http_config cfg;
    http_auth *auth;
    http_ws_hub *ws;
    http_fleet_hub *fleet;
    http_mcp_hub *mcp; /* /mcp sessions (http_mcp.c) */
    char mcp_url[96];  /* announced on BOSUN_HTTP_MCP_URL, "" when none */
    http_web *web;     /* the dashboard's files (http_web.c) */
    http_tls *tls;     /* NULL: plain */
    http_listener *listeners;
    unsigned next_listener_id;
    http_conn *conns;              /* every open connection */
    http_conn_limits *conn_limits; /* the limits new connections share (http_conn.c) */
    size_t n_conns;
    http_refusal *refusals; /* over-limit TLS connections being answered */
    size_t n_refusals;
    http_ipcount **ipbuckets; /* connections per client address */
    size_t n_ipbuckets;
    int spare_fd;  /* given up to refuse one connection when out of descriptors */
    char *scratch; /* HTTP_READ_CHUNK bytes, what one read fills */
    bool started, ready, stopping;
    bus_sub *ready_sub;  /* sys.<machine_id>.ready: the daemon's start is complete */
    uint64_t status_req; /* cmd.daemon.status asked at start, pending */
    ev_timer tls_watch;  /* looks for renewed TLS files */
    char tls_sig[128];   /* the files' inode, size and mtime when loaded */
    ev_signal sigterm, sigint;
    bosun_complaint accept_complaint;
    struct http_notice_state {
        double last;
        unsigned long quiet;
    } notices[16];
    char date[40]; /* the Date header's value, kept for a second */
    double date_at;
};

/* Notice-level log lines about limits, at most one a second per kind, with
 * the count of those kept quiet. */
enum http_notice_kind {
    HTTP_NOTE_LIMIT_PEER = 0,
    HTTP_NOTE_LIMIT_TOTAL,
    HTTP_NOTE_BAD_REQUEST,
    HTTP_NOTE_URI_TOO_LONG,
    HTTP_NOTE_HEADERS_TOO_LARGE,
    HTTP_NOTE_BODY_TOO_LARGE,
    HTTP_NOTE_TIMEOUT,
    HTTP_NOTE_SEND_QUEUE,
    HTTP_NOTE_TLS,
    HTTP_NOTE_PIPELINE,
    HTTP_NOTE_REFUSALS,
    HTTP_NOTE_IDLE,
};
void http_notice(http_server *srv, enum http_notice_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The current Date header value. */
const char *http_server_date(http_server *srv);

/* Listeners (http_listen.c). */
int http_listeners_apply(http_server *srv, const http_config *cfg, cfg_diag *d);
void http_listeners_close_all(http_server *srv);
/* "http://127.0.0.1:P/mcp" (or [::1]) of the first plain-HTTP loopback
 * listener, or "" when there is none or the listeners use TLS. */
void http_listeners_mcp_url(const http_server *srv, char *out, size_t size);
/* Per-address counts; inc refuses (false) past the limit. */
bool http_ipcount_inc(http_server *srv, const char *addr, size_t limit);
void http_ipcount_dec(http_server *srv, const char *addr);
void http_ipcount_free_all(http_server *srv);

/* Refusals (http_refuse.c): answers fd with the status (429, 503) and
 * closes it, on a TLS listener after a bounded handshake. */
void http_refuse(http_server *srv, int fd, int status);
void http_refusals_free_all(http_server *srv);

/* Connections (http_conn.c). */
http_conn *http_conn_new(http_server *srv, int fd, unsigned listener_id, const char *peer);
/* Closes connections of a listener that went away (busy ones after
 * their current response). */
void http_conns_close_listener(http_server *srv, unsigned listener_id);
void http_conns_close_all(http_server *srv);
/* Gives q's response (q->out) to its connection, which writes responses
 * in request order; frees q when it has no connection. */
void http_conn_response_ready(http_req *q);

/* Router (http_router.c). */
/* ---- http_web.c: the dashboard's files, read into memory at start and
 * reload; http_web_routes serve them. */
http_web *http_web_new(const char *root);
/* Reads root's files again (the old table is dropped); -1 when nothing
 * can be served (the reason is logged and answered with 503). */
int http_web_set_root(http_web *w, const char *root);
/* Reads the files again when the tree changed (an upgrade, an edit):
 * called every few seconds. */
void http_web_watch(http_web *w);
void http_web_free(http_web *w);
const http_web *http_server_web(const http_server *srv);
/* Serves r (GET or HEAD) when its path names one of the dashboard's files;
 * false, r untouched, otherwise. */
bool http_web_try(http_request *r);

size_t http_router_body_limit(http_server *srv, http_req *q);
void http_router_dispatch(http_server *srv, http_req *q);
/* One access log line for a given response. */
void http_access_log(http_server *srv, const http_req *q);

#endif
