/* An upgraded WebSocket connection, the layer /ws (http_ws.c) and /fleet
 * (http_fleet.c) share: the upgrade, the bytes that come before
 * http_upgrade has returned, the bosun_ws session on the stream, the ping
 * timer, closing, the send-queue bound, and a lifetime that outlasts the
 * stream while callbacks are still due.  What the frames mean is the
 * route's: its http_wsconn_ops.
 *
 * A route embeds an http_wsconn as the first member of its connection
 * struct (so a pointer to one is a pointer to the other), zeroes it, and
 * calls http_wsconn_init, then http_wsconn_open. */
#ifndef BOSUN_HTTP_WSCONN_H
#define BOSUN_HTTP_WSCONN_H

#include <bosun/json.h>
#include <bosun/ws.h>

#include "http.h"

/* Send-queue room kept for the close frame, so that a connection closed
 * as a slow consumer can still be told why. */
#define HTTP_WSCONN_CLOSE_RESERVE 256

typedef struct http_wsconn http_wsconn;

typedef struct http_wsconn_ops {
    const char *route; /* "/ws": names the connection in log lines */
    /* What names the peer in log lines after its address: "admin alice". */
    void (*who)(const http_wsconn *w, char *buf, size_t size);
    /* A text frame (the session checked its UTF-8 and size). */
    void (*on_text)(http_wsconn *w, const char *text, size_t len);
    /* Upgraded: the route starts its own timers or greets the peer; then
     * the ping timer starts and the bytes that came early are fed.  May
     * be NULL. */
    void (*on_open)(http_wsconn *w);
    /* The send queue emptied (not called while closing).  May be NULL. */
    void (*on_drain)(http_wsconn *w);
    /* Whether len more bytes (a ping) may be queued; one that returns false
     * has closed w.  NULL: always. */
    bool (*room)(http_wsconn *w, size_t len);
    /* Closing began (ours, the peer's, a broken stream) and at teardown:
     * the route stops its timers and what would act on the peer. */
    void (*on_stop)(http_wsconn *w);
    /* Once, when the stream is gone or the server shuts down, after
     * on_stop, w out of its list: the route ends everything that could
     * still call back into w. */
    void (*teardown)(http_wsconn *w);
    /* Frees the route's struct around w (w's own parts are freed). */
    void (*free)(http_wsconn *w);
} http_wsconn_ops;

/* A route's connections, newest first. */
typedef struct http_wsconn_list {
    http_wsconn *head;
    size_t n;
} http_wsconn_list;

struct http_wsconn {
    const http_wsconn_ops *ops;
    http_server *srv; /* NULL once torn down */
    http_wsconn_list *list;
    http_wsconn *prev, *next;
    http_conn *conn; /* NULL until http_upgrade returned, and once the stream closed */
    bosun_ws *ws;
    int refs;              /* callbacks that will still come: w outlives them */
    bool closing : 1;      /* a close was sent or the stream is being closed */
    bool gone : 1;         /* the stream closed: freed when refs drops to 0 */
    bool pong_pending : 1; /* a ping went out; its pong has not come */
    bool paused : 1;       /* the route stopped reading it (http_stream_pause) */
    char peer[64];
    ev_timer ping_timer;
    bosun_json_buf pending_in; /* bytes given by http_upgrade before it returned */
};

/* Unless r asks for a WebSocket upgrade, answers it (400, or 426 with
 * Sec-WebSocket-Version) and returns false; else writes the
 * Sec-WebSocket-Accept value into accept. */
bool http_wsconn_check(http_request *r, char accept[BOSUN_WS_ACCEPT_LEN + 1]);
/* Sets up w (zeroed) for r's peer with the listener's limits and links it
 * into list.  0, or -1 when out of memory (nothing to undo). */
int http_wsconn_init(http_wsconn *w, const http_wsconn_ops *ops, http_server *srv,
                     http_wsconn_list *list, const http_request *r);
/* Upgrades r to w's stream (101 with accept), then ops->on_open, the ping
 * timer, and the bytes that came meanwhile.  When the upgrade fails, w is
 * freed.  w may be gone when this returns. */
void http_wsconn_open(http_wsconn *w, http_request *r, const char *accept);
/* The listener's limits (zeros once the server is gone). */
const http_limits *http_wsconn_limits(const http_wsconn *w);
/* Whether len more bytes fit a send queue bounded by max (0: no bound),
 * with the close frame's reserve kept. */
bool http_wsconn_fits(const http_wsconn *w, size_t len, size_t max);
/* Closes with code and reason: the close frame goes after what is queued;
 * on_stop runs; the stream closes.  Once: later calls do nothing. */
void http_wsconn_close(http_wsconn *w, unsigned code, const char *reason);
/* Frees w if its stream is gone and no callback is due (refs). */
void http_wsconn_maybe_free(http_wsconn *w);
/* The server shuts down: closes w with 1001 and frees it now (the server
 * writes out the queued close frame without calling back). */
void http_wsconn_shutdown(http_wsconn *w);

#endif
