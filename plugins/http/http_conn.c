/* One client connection: reading and parsing requests, their deadlines,
 * writing responses in request order, keep-alive, the close, and the
 * hand-over of an upgraded connection as a raw stream.
 *
 * Nothing here frees a connection from inside one of its own callbacks or
 * from a handler's call: a connection that must go is marked dead and its
 * timer fires at once, so every caller (the read loop, a handler answering
 * from a bus reply, /ws sending) keeps a valid pointer until it returns.
 *
 * Deadlines, one timer per connection, re-armed lazily (a deadline moving
 * later, the common case, costs nothing until the timer fires):
 *   TLS handshake          header_timeout from the accept
 *   request headers        header_timeout from its first byte: 408
 *   request body           body_timeout from the end of its headers: 408
 *   nothing to do          idle_timeout from the last activity: closed
 *   output not taken       idle_timeout from the last progress: closed
 *   closing                HTTP_LINGER to write what is left, then 2 s of
 *                          reading what the client still sends (so that
 *                          it is not reset before it read our answer)
 * A request being handled has no deadline here: handlers bound their bus
 * requests with limits.request_timeout. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bosun/sys.h>

#include "http_int.h"

#define LINGER_READ 2.0

enum conn_mode { MODE_HTTP, MODE_STREAM };

struct http_conn {
    http_server *srv;
    http_conn *prev, *next;
    int fd;
    unsigned listener_id;
    char peer[HTTP_ADDR_MAX];
    void *ssl;
    bool handshaking;
    ev_io io;
    int events;
    ev_timer timer;
    double timer_at; /* when the running timer fires; 0 when stopped */
    double accepted_at, last_active, last_write, close_by;
    const http_limits *lim; /* as at the accept, shared (limits_hold) */
    http_rx rx;
    http_req *head, *tail; /* requests read, in order, until their response leaves */
    size_t n_queued;
    size_t queued_bytes; /* what they hold of the client's bytes */
    char *pend;          /* bytes read but not parsed yet (reading paused) */
    size_t pend_len;
    char *out;
    size_t out_len, out_off, out_cap;
    char *early; /* stream bytes sent before the 101 left */
    size_t early_len;
    int rwant, wwant; /* what reading / writing waits for (EV_READ, EV_WRITE) */
    enum conn_mode mode;
    bool upgrade_pending; /* a request asks to switch: nothing after it is parsed */
    bool no_more;         /* no request after the queued ones */
    bool read_closed;     /* the client sent its end */
    bool closing;         /* close once the output is written */
    bool lingering;       /* output written and our end sent; reading what is left */
    bool dead;
    bool drain_wanted;
    bool stream_paused; /* http_stream_pause: the stream's owner takes no more for now */
    http_req *switch_req;
    const http_stream_ops *ops;
    void *ops_arg;
};

static void conn_update(http_conn *c);
static void conn_arm(http_conn *c);

/* ------------------------------------------------------------ limits */

/* A connection keeps the limits as at its accept (a reload applies to new
 * connections): one counted copy shared by all those accepted under the
 * same limits, instead of 136 bytes in each. */
struct http_conn_limits {
    http_limits lim; /* first: a connection points at it */
    size_t refs;     /* the connections', and the server's while current */
};

static void limits_drop(const http_limits *lim)
{
    http_conn_limits *l = (http_conn_limits *)lim;
    if (l && --l->refs == 0)
        free(l);
}

static const http_limits *limits_hold(http_server *srv)
{
    http_conn_limits *cur = srv->conn_limits;
    if (!cur || memcmp(&cur->lim, &srv->cfg.limits, sizeof cur->lim) != 0) {
        http_conn_limits *l = malloc(sizeof *l);
        if (!l)
            return NULL;
        l->lim = srv->cfg.limits;
        l->refs = 1;
        limits_drop(cur ? &cur->lim : NULL);
        srv->conn_limits = cur = l;
    }
    cur->refs++;
    return &cur->lim;
}
static void conn_flush(http_conn *c, bool from_io);

/* ------------------------------------------------------------ I/O */

static ssize_t conn_recv(http_conn *c, char *buf, size_t n)
{
    if (c->ssl) {
        int want = 0;
        ssize_t r = http_tls_recv(c->ssl, buf, n, &want);
        c->rwant = EV_READ;
        if (r < 0 && errno == EAGAIN)
            c->rwant = want == HTTP_WANT_WRITE ? EV_WRITE : EV_READ;
        return r;
    }
    ssize_t r;
    do
        r = recv(c->fd, buf, n, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno == EWOULDBLOCK)
        errno = EAGAIN;
    c->rwant = EV_READ;
    return r;
}

static ssize_t conn_send(http_conn *c, const char *buf, size_t n)
{
    if (c->ssl) {
        int want = 0;
        ssize_t r = http_tls_send(c->ssl, buf, n, &want);
        c->wwant = EV_WRITE;
        if (r < 0 && errno == EAGAIN)
            c->wwant = want == HTTP_WANT_READ ? EV_READ : EV_WRITE;
        return r;
    }
    ssize_t r;
    do
        r = send(c->fd, buf, n, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno == EWOULDBLOCK)
        errno = EAGAIN;
    c->wwant = EV_WRITE;
    return r;
}

static size_t out_pending(const http_conn *c)
{
    return c->out_len - c->out_off;
}

static bool out_append(http_conn *c, const char *data, size_t len)
{
    if (c->out_off > 0 && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + len > c->out_cap) {
        if (c->out_off > 0) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        if (cap != c->out_cap) {
            char *p = realloc(c->out, cap);
            if (!p)
                return false;
            c->out = p;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    return true;
}

/* ------------------------------------------------------------ closing */

/* Marks c for destruction; the timer does it from the loop. */
static void conn_fail(http_conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    ev_io_stop(c->srv->ctx->loop, &c->io);
    ev_timer_stop(c->srv->ctx->loop, &c->timer);
    ev_timer_set(&c->timer, 0., 0.);
    ev_timer_start(c->srv->ctx->loop, &c->timer);
    c->timer_at = bosun_monotonic();
}

/* Requests whose responses will not be written: a handler still holding
 * one answers a gone request. */
static void drop_queue(http_conn *c)
{
    for (http_req *q = c->head, *next; q; q = next) {
        next = q->next;
        q->next = NULL;
        q->conn = NULL;
        if (q->responded)
            http_req_free(q);
    }
    c->head = c->tail = NULL;
    c->n_queued = 0;
    c->queued_bytes = 0;
}

static void conn_destroy(http_conn *c)
{
    http_server *srv = c->srv;
    ev_io_stop(srv->ctx->loop, &c->io);
    ev_timer_stop(srv->ctx->loop, &c->timer);
    /* Also when the 101 was still waiting behind earlier responses: the
     * caller of http_upgrade holds the connection either way. */
    const http_stream_ops *ops = c->ops;
    c->ops = NULL;
    if (ops && ops->on_close)
        ops->on_close(c->ops_arg);
    drop_queue(c);
    http_rx_reset(&c->rx);
    http_req_free(c->rx.done);
    if (c->ssl)
        http_tls_conn_free(c->ssl);
    close(c->fd);
    http_ipcount_dec(srv, c->peer);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->n_conns--;
    limits_drop(c->lim);
    free(c->pend);
    free(c->out);
    free(c->early);
    free(c);
}

/* The output is written: send our end, then read what the client still
 * sends for a moment, so that its unread data does not make the kernel
 * reset the connection before the client has read the response. */
static void conn_linger(http_conn *c)
{
    if (c->lingering || c->dead)
        return;
    if (c->ssl)
        http_tls_shutdown(c->ssl);
    shutdown(c->fd, SHUT_WR);
    c->lingering = true;
    double t = bosun_monotonic() + LINGER_READ;
    if (t < c->close_by)
        c->close_by = t;
    if (c->read_closed)
        conn_fail(c);
}

static void conn_start_closing(http_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->close_by = bosun_monotonic() + HTTP_LINGER;
    if (out_pending(c) == 0)
        conn_linger(c);
}

/* A client that half-closed gets its answers, then the connection goes. */
static void conn_check_done(http_conn *c)
{
    if (c->read_closed && !c->head && out_pending(c) == 0 && c->mode == MODE_HTTP)
        conn_fail(c);
}

/* ------------------------------------------------------------ responses */

/* Reading ahead of the responses is bounded in requests and in what they
 * hold: bodies pipelined behind a slow handler wait in the socket, not in
 * memory (one request is always read, whatever its size). */
static bool conn_may_parse(const http_conn *c)
{
    return c->mode == MODE_HTTP && !c->dead && !c->closing && !c->no_more && !c->upgrade_pending &&
           !c->rx.failed && c->n_queued < HTTP_PIPELINE_MAX &&
           (c->n_queued == 0 || c->queued_bytes <= c->lim->body_max) &&
           out_pending(c) <= c->lim->send_queue_max;
}

static size_t req_bytes(const http_req *q)
{
    return q->url_len + q->hbuf_len + q->body_len;
}

static bool conn_may_read(const http_conn *c)
{
    if (c->dead || c->read_closed || c->handshaking)
        return false;
    if (c->lingering)
        return true;
    if (c->closing)
        return false;
    if (c->mode == MODE_STREAM)
        return !c->stream_paused;
    return conn_may_parse(c);
}

/* Reading resumes, pending bytes first, from the loop. */
static void conn_resume(http_conn *c)
{
    if (conn_may_read(c))
        ev_feed_event(c->srv->ctx->loop, &c->io, EV_READ);
}

static void switch_to_stream(http_conn *c)
{
    c->mode = MODE_STREAM;
    c->upgrade_pending = false;
    c->switch_req = NULL;
    if (c->early_len)
        out_append(c, c->early, c->early_len);
    free(c->early);
    c->early = NULL;
    c->early_len = 0;
    /* What the client sent after the request reaches on_data from the
     * loop, after http_upgrade returned. */
    if (c->pend_len)
        ev_feed_event(c->srv->ctx->loop, &c->io, EV_READ);
}

/* Moves the responses at the head of the queue, in order, to the output. */
static void conn_pump(http_conn *c)
{
    bool was_paused = !conn_may_parse(c);
    while (c->head && c->head->responded && !c->dead) {
        http_req *q = c->head;
        c->head = q->next;
        if (!c->head)
            c->tail = NULL;
        c->n_queued--;
        c->queued_bytes -= req_bytes(q);
        q->conn = NULL;
        http_access_log(c->srv, q);
        bool ok;
        if (c->out_len == 0 && !c->out_cap && q->out) {
            c->out = q->out; /* the common case: no copy */
            c->out_len = q->out_len;
            c->out_cap = q->out_len;
            c->out_off = 0;
            q->out = NULL;
            ok = true;
        } else {
            ok = out_append(c, q->out ? q->out : "", q->out_len);
        }
        bool close = q->close_after || !ok;
        bool sw = q == c->switch_req;
        http_req_free(q);
        if (sw) {
            switch_to_stream(c);
            break;
        }
        if (close) {
            drop_queue(c);
            conn_start_closing(c);
            break;
        }
    }
    if (!c->head)
        c->last_active = bosun_monotonic();
    conn_flush(c, false);
    if (was_paused && conn_may_parse(c))
        conn_resume(c);
}

void http_conn_response_ready(http_req *q)
{
    http_conn *c = q->conn;
    if (!c) {
        http_req_free(q);
        return;
    }
    if (c->dead)
        return; /* freed with the queue */
    conn_pump(c);
    if (!c->dead) {
        conn_check_done(c);
        conn_update(c);
        conn_arm(c);
    }
}

static void conn_flush(http_conn *c, bool from_io)
{
    if (c->dead)
        return;
    bool had = out_pending(c) > 0;
    while (out_pending(c) > 0) {
        ssize_t n = conn_send(c, c->out + c->out_off, out_pending(c));
        if (n > 0) {
            c->out_off += (size_t)n;
            c->last_write = bosun_monotonic();
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            break;
        conn_fail(c);
        return;
    }
    if (out_pending(c) > 0)
        return;
    /* An empty buffer goes: idle connections (most /ws clients) hold
     * none, and the next response is handed over without a copy. */
    free(c->out);
    c->out = NULL;
    c->out_off = c->out_len = c->out_cap = 0;
    if (c->closing) {
        conn_linger(c);
        return;
    }
    if (had && from_io && c->mode == MODE_STREAM && c->drain_wanted && c->ops) {
        c->drain_wanted = false;
        if (c->ops->on_drain)
            c->ops->on_drain(c->ops_arg);
    }
    conn_check_done(c);
}

/* ------------------------------------------------------------ requests */

/* The client's address: the socket's peer, or, when that peer is a
 * trusted proxy, the address X-Forwarded-For names before the trusted
 * proxies (read from the right, the end each proxy appended to). */
static void request_peer(const http_conn *c, http_req *q)
{
    const http_config *cfg = &c->srv->cfg;
    snprintf(q->peer, sizeof q->peer, "%s", c->peer);
    const char *xff = http_header(&q->pub, "x-forwarded-for");
    if (!xff || cfg->n_trusted_proxies == 0 || !http_config_trusted(cfg, c->peer))
        return;
    size_t len = strlen(xff);
    while (len > 0) {
        size_t end = len;
        while (end > 0 && (xff[end - 1] == ' ' || xff[end - 1] == '\t'))
            end--;
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t s = start;
        while (s < end && (xff[s] == ' ' || xff[s] == '\t'))
            s++;
        char addr[HTTP_ADDR_MAX];
        if (end - s == 0 || end - s >= sizeof addr)
            return;
        memcpy(addr, xff + s, end - s);
        addr[end - s] = '\0';
        unsigned char bin[16];
        if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)
            return; /* not an address: what we have is the best we know */
        snprintf(q->peer, sizeof q->peer, "%s", addr);
        if (!http_config_trusted(cfg, addr))
            return;
        len = start > 0 ? start - 1 : 0;
    }
}

static void note_rx_error(http_conn *c, const http_req *q)
{
    static const struct {
        int status;
        enum http_notice_kind kind;
    } kinds[] = {{408, HTTP_NOTE_TIMEOUT},
                 {413, HTTP_NOTE_BODY_TOO_LARGE},
                 {414, HTTP_NOTE_URI_TOO_LONG},
                 {431, HTTP_NOTE_HEADERS_TOO_LARGE}};
    enum http_notice_kind kind = HTTP_NOTE_BAD_REQUEST;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].status == q->rx_error)
            kind = kinds[i].kind;
    http_notice(c->srv, kind, "http: %s: %d, %s", q->peer, q->rx_error,
                q->rx_why ? q->rx_why : "bad request");
}

static void conn_request(http_conn *c, http_req *q)
{
    q->conn = c;
    q->pub.srv = c->srv;
    q->pub.tls = c->ssl != NULL;
    q->t_start = bosun_monotonic();
    request_peer(c, q);
    q->pub.peer = q->peer;
    if (c->tail)
        c->tail->next = q;
    else
        c->head = q;
    c->tail = q;
    c->n_queued++;
    c->queued_bytes += req_bytes(q);
    if (q->rx_error) {
        c->no_more = true;
        note_rx_error(c, q);
        http_req_respond_rx_error(q);
        return;
    }
    if (!q->keep_alive)
        c->no_more = true;
    if (q->upgrade) {
        /* Whatever follows is another protocol's (or nothing, when the
         * switch is refused and the connection closes). */
        c->upgrade_pending = true;
        q->close_after = true;
    }
    http_router_dispatch(c->srv, q);
}

/* At the end of a request's headers: its route's body limit, and the
 * 100 Continue a client waits for before sending a body we will take. */
static size_t conn_body_limit(void *arg, http_req *q)
{
    http_conn *c = arg;
    size_t limit = http_router_body_limit(c->srv, q);
    unsigned long long len = c->rx.p.content_length;
    if (q->expect_continue && !c->head && len != ULLONG_MAX && len > 0 && len <= limit) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        out_append(c, cont, sizeof cont - 1);
        conn_flush(c, false);
    }
    return limit;
}

/* Parses what was read; returns the bytes used. */
static size_t conn_parse(http_conn *c, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len && conn_may_parse(c)) {
        size_t n = http_rx_feed(&c->rx, data + off, len - off);
        off += n;
        http_req *q = c->rx.done;
        if (q) {
            c->rx.done = NULL;
            conn_request(c, q);
        } else if (n == 0) {
            break;
        }
    }
    if (c->rx.failed)
        return len; /* nothing after a refused request is read */
    return off;
}

/* Keeps bytes not parsed yet; they are what comes next, before any read. */
static void keep_pending(http_conn *c, const char *data, size_t len)
{
    if (len == 0)
        return;
    char *p = malloc(len);
    if (!p) {
        conn_fail(c);
        return;
    }
    memcpy(p, data, len);
    c->pend = p;
    c->pend_len = len;
}

static void conn_input(http_conn *c, const char *data, size_t len)
{
    if (c->lingering)
        return; /* read only to be thrown away */
    if (c->mode == MODE_STREAM) {
        if (c->ops && c->ops->on_data)
            c->ops->on_data(c->ops_arg, data, len);
        return;
    }
    size_t used = conn_parse(c, data, len);
    if (!c->dead && used < len)
        keep_pending(c, data + used, len - used);
}

static void conn_take_pending(http_conn *c)
{
    char *p = c->pend;
    size_t len = c->pend_len;
    c->pend = NULL;
    c->pend_len = 0;
    conn_input(c, p, len);
    free(p);
}

static void conn_eof(http_conn *c)
{
    c->read_closed = true;
    if (c->mode == MODE_STREAM || c->lingering) {
        conn_fail(c);
        return;
    }
    http_rx_reset(&c->rx); /* a request cut short gets no answer */
    conn_check_done(c);
}

static void conn_read(http_conn *c)
{
    char *buf = c->srv->scratch;
    int rounds = 0;
    for (; rounds < 8 && conn_may_read(c); rounds++) {
        if (c->pend_len) {
            conn_take_pending(c);
            continue;
        }
        ssize_t n = conn_recv(c, buf, HTTP_READ_CHUNK);
        if (n > 0) {
            c->last_active = bosun_monotonic();
            conn_input(c, buf, (size_t)n);
            /* A short read emptied the socket: asking again would only
             * hear EAGAIN (TLS may hold more of a record, so it asks). */
            if (!c->ssl && (size_t)n < HTTP_READ_CHUNK)
                return;
            continue;
        }
        if (n == 0)
            conn_eof(c);
        else if (errno != EAGAIN)
            conn_fail(c);
        return;
    }
    /* Others get their turn; what is left (buffered by TLS too) next. */
    if (rounds == 8 && conn_may_read(c))
        ev_feed_event(c->srv->ctx->loop, &c->io, EV_READ);
}

/* ------------------------------------------------------------ events */

static void conn_update(http_conn *c)
{
    if (c->dead)
        return;
    int ev = 0;
    if (c->handshaking)
        ev = c->rwant ? c->rwant : EV_READ;
    else {
        if (conn_may_read(c))
            ev |= c->rwant ? c->rwant : EV_READ;
        if (out_pending(c) > 0)
            ev |= c->wwant ? c->wwant : EV_WRITE;
    }
    if (ev == c->events)
        return;
    struct ev_loop *loop = c->srv->ctx->loop;
    ev_io_stop(loop, &c->io);
    ev_io_set(&c->io, c->fd, ev);
    if (ev)
        ev_io_start(loop, &c->io);
    c->events = ev;
}

static void conn_handshake(http_conn *c)
{
    int want = 0;
    char why[160];
    int rc = http_tls_handshake(c->ssl, &want, why, sizeof why);
    if (rc < 0) {
        http_notice(c->srv, HTTP_NOTE_TLS, "http: %s: TLS handshake failed: %s", c->peer, why);
        conn_fail(c);
        return;
    }
    if (rc == 0) {
        c->rwant = want == HTTP_WANT_WRITE ? EV_WRITE : EV_READ;
        return;
    }
    c->handshaking = false;
    c->rwant = EV_READ;
    c->last_active = bosun_monotonic();
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    http_conn *c = w->data;
    if (c->dead)
        return;
    if (c->handshaking) {
        conn_handshake(c);
        if (c->handshaking || c->dead) {
            conn_update(c);
            return;
        }
        revents |= EV_READ; /* data may have come with the handshake */
    }
    if (out_pending(c) > 0 && (revents & c->wwant))
        conn_flush(c, true);
    if (!c->dead && (revents & (c->rwant ? c->rwant : EV_READ)))
        conn_read(c);
    if (!c->dead) {
        conn_update(c);
        conn_arm(c);
    }
}

static double min_deadline(double a, double b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

static double conn_deadline(const http_conn *c)
{
    if (c->handshaking)
        return c->accepted_at + c->lim->header_timeout;
    if (c->closing || c->lingering)
        return c->close_by;
    if (c->mode == MODE_STREAM)
        return 0;
    double d = 0;
    if (out_pending(c) > 0)
        d = c->last_write + c->lim->idle_timeout;
    if (http_rx_busy(&c->rx))
        d = min_deadline(d, c->rx.headers_done ? c->rx.t_headers + c->lim->body_timeout
                                               : c->rx.t_begin + c->lim->header_timeout);
    else if (!c->head && out_pending(c) == 0)
        d = min_deadline(d, c->last_active + c->lim->idle_timeout);
    return d;
}

/* Lazy: a deadline later than the running timer leaves it running. */
static void conn_arm(http_conn *c)
{
    if (c->dead)
        return;
    double d = conn_deadline(c);
    if (d == 0 || (c->timer_at != 0 && c->timer_at <= d))
        return;
    struct ev_loop *loop = c->srv->ctx->loop;
    double now = bosun_monotonic();
    ev_timer_stop(loop, &c->timer);
    ev_timer_set(&c->timer, d > now ? d - now : 0., 0.);
    ev_timer_start(loop, &c->timer);
    c->timer_at = d;
}

/* A request not read in time: 408, then the connection closes. */
static void conn_timeout_request(http_conn *c)
{
    bool body = c->rx.headers_done;
    http_req *q = c->rx.cur ? c->rx.cur : http_req_new();
    c->rx.cur = NULL;
    c->rx.failed = true;
    if (!q) {
        conn_fail(c);
        return;
    }
    q->rx_error = 408;
    q->rx_why = body ? "request body not received in time" : "request headers not received in time";
    conn_request(c, q);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    http_conn *c = w->data;
    c->timer_at = 0;
    if (c->dead) {
        conn_destroy(c);
        return;
    }
    double now = bosun_monotonic();
    double d = conn_deadline(c);
    if (d == 0)
        return;
    if (d > now) {
        conn_arm(c);
        return;
    }
    if (c->handshaking) {
        http_notice(c->srv, HTTP_NOTE_TLS, "http: %s: TLS handshake not done in time", c->peer);
        conn_fail(c);
    } else if (c->closing || c->lingering) {
        conn_fail(c);
    } else if (http_rx_busy(&c->rx)) {
        conn_timeout_request(c);
    } else if (out_pending(c) > 0) {
        http_notice(c->srv, HTTP_NOTE_SEND_QUEUE, "http: %s: client does not read its responses",
                    c->peer);
        conn_fail(c);
    } else {
        http_notice(c->srv, HTTP_NOTE_IDLE, "http: %s: idle for %.1f s (idle_timeout): closed",
                    c->peer, c->lim->idle_timeout);
        conn_fail(c);
    }
    if (!c->dead) {
        conn_update(c);
        conn_arm(c);
    }
}

/* ------------------------------------------------------------ lifetime */

http_conn *http_conn_new(http_server *srv, int fd, unsigned listener_id, const char *peer)
{
    http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = srv;
    c->fd = fd;
    c->listener_id = listener_id;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->lim = limits_hold(srv);
    if (!c->lim) {
        free(c);
        return NULL;
    }
    http_rx_init(&c->rx, c->lim, conn_body_limit, c);
    if (srv->tls) {
        c->ssl = http_tls_conn_new(srv->tls, fd);
        if (!c->ssl) {
            limits_drop(c->lim);
            free(c);
            return NULL;
        }
        c->handshaking = true;
    }
    c->accepted_at = c->last_active = c->last_write = bosun_monotonic();
    ev_io_init(&c->io, on_io, fd, EV_READ);
    c->io.data = c;
    c->events = EV_READ;
    ev_timer_init(&c->timer, on_timer, 0., 0.);
    c->timer.data = c;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->n_conns++;
    ev_io_start(srv->ctx->loop, &c->io);
    conn_arm(c);
    return c;
}

static void conn_close_soon(http_conn *c)
{
    if (c->dead)
        return;
    if (c->mode == MODE_STREAM) {
        http_stream_close(c);
        return;
    }
    if (!c->head && !http_rx_busy(&c->rx) && out_pending(c) == 0) {
        conn_fail(c);
        return;
    }
    c->no_more = true;
    http_rx_reset(&c->rx);
    for (http_req *q = c->head; q; q = q->next)
        q->close_after = true;
    if (!c->head)
        conn_start_closing(c);
    conn_update(c);
    conn_arm(c);
}

void http_conns_close_listener(http_server *srv, unsigned listener_id)
{
    for (http_conn *c = srv->conns; c; c = c->next)
        if (c->listener_id == listener_id)
            conn_close_soon(c);
}

void http_conns_close_all(http_server *srv)
{
    while (srv->conns) {
        http_conn *c = srv->conns;
        c->ops = NULL; /* the hub is gone: no on_close at stop */
        if (!c->dead)
            conn_flush(c, false);
        conn_destroy(c);
    }
    if (srv->conn_limits) {
        limits_drop(&srv->conn_limits->lim);
        srv->conn_limits = NULL;
    }
}

/* ------------------------------------------------------------ streams */

/* The connection leaves HTTP after q's response (in q->out): from then on
 * its bytes are the stream's, handed to ops. */
static http_conn *conn_switch(http_req *q, int status, const http_stream_ops *ops, void *arg)
{
    http_conn *c = q->conn;
    q->status = status;
    q->responded = true;
    q->close_after = false;
    c->switch_req = q;
    c->ops = ops;
    c->ops_arg = arg;
    http_conn_response_ready(q);
    return c;
}

/* Whether q's connection can still carry a streamed response: alive, and
 * no request queued behind q whose answer would land inside the stream. */
static bool stream_possible(const http_req *q)
{
    const http_conn *c = q->conn;
    return c && !c->dead && !c->closing && !q->next && !c->switch_req;
}

http_conn *http_upgrade(http_request *r, const char *extra_headers, const http_stream_ops *ops,
                        void *arg)
{
    http_req *q = HTTP_REQ(r);
    http_conn *c = q->conn;
    if (!c || c->dead || c->closing || q->responded) {
        http_respond_error(r, 500, "internal", "the connection is gone");
        return NULL;
    }
    if (!q->upgrade) {
        http_respond_error(r, 400, "bad_request", "this request does not ask for an upgrade");
        return NULL;
    }
    const char *proto = http_header(r, "upgrade");
    size_t cap = 128 + strlen(proto ? proto : "") + strlen(extra_headers ? extra_headers : "");
    q->out = malloc(cap);
    if (!q->out) {
        http_respond_error(r, 500, "internal", "out of memory");
        return NULL;
    }
    int n = snprintf(q->out, cap,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\n"
                     "Connection: Upgrade\r\n%s\r\n",
                     proto ? proto : "", extra_headers ? extra_headers : "");
    q->out_len = (size_t)n;
    return conn_switch(q, 101, ops, arg);
}

/* A response whose body is a stream the handler writes (server-sent
 * events): no Content-Length, the body ends when the connection closes
 * (HTTP/1.1 allows it, and nothing is parsed after it). Only when no
 * request is queued behind it: their answers would land inside the
 * stream. */
http_conn *http_respond_stream(http_request *r, const char *content_type,
                               const http_stream_ops *ops, void *arg)
{
    http_req *q = HTTP_REQ(r);
    if (q->responded)
        return NULL;
    if (!stream_possible(q)) {
        http_respond_error(r, 500, "internal", "the connection cannot carry a stream now");
        return NULL;
    }
    http_conn *c = q->conn;
    size_t cap = 256 + q->rhdr_len + strlen(content_type);
    q->out = malloc(cap);
    if (!q->out) {
        http_respond_error(r, 500, "internal", "out of memory");
        return NULL;
    }
    int n =
        snprintf(q->out, cap,
                 "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Type: %s\r\n"
                 "Cache-Control: no-store\r\n%.*sConnection: close\r\n\r\n",
                 http_server_date(c->srv), content_type, (int)q->rhdr_len, q->rhdr ? q->rhdr : "");
    q->out_len = n > 0 && (size_t)n < cap ? (size_t)n : 0;
    c->no_more = true;
    return conn_switch(q, 200, ops, arg);
}

bool http_stream_can_start(const http_request *r)
{
    const http_req *q = (const http_req *)r;
    return !q->responded && stream_possible(q);
}

/* Stream bytes queued past this are written at once rather than from the
 * loop: a quarter of the bound, at most 16 KiB. */
#define STREAM_BATCH_MAX 16384

static size_t stream_batch_max(const http_conn *c)
{
    size_t q = c->lim->send_queue_max / 4;
    return q < STREAM_BATCH_MAX ? q : STREAM_BATCH_MAX;
}

bool http_stream_send(http_conn *c, const void *data, size_t len)
{
    if (c->dead || c->closing)
        return false;
    if (http_stream_queued(c) + len > c->lim->send_queue_max)
        return false;
    if (c->mode != MODE_STREAM) {
        /* The 101 waits behind earlier responses: these bytes follow it. */
        char *p = realloc(c->early, c->early_len + len);
        if (!p)
            return false;
        memcpy(p + c->early_len, data, len);
        c->early = p;
        c->early_len += len;
        return true;
    }
    if (!out_append(c, data, len))
        return false;
    /* Written when the loop next finds the socket writable, not here: the
     * pieces of a message (a frame header, then its payload) and the
     * messages of one loop turn leave in one send() or SSL_write instead
     * of one each, whose tiny segments filled the receivers' buffers.
     * What waits unwritten stays small (STREAM_BATCH_MAX) so that the
     * send_queue_max bound still measures what the client did not take. */
    if (out_pending(c) >= stream_batch_max(c))
        conn_flush(c, false);
    if (!c->dead && out_pending(c) > 0) {
        c->drain_wanted = true;
        conn_update(c);
    }
    return true;
}

void http_stream_pause(http_conn *c, bool paused)
{
    if (c->dead || c->stream_paused == paused)
        return;
    c->stream_paused = paused;
    conn_update(c);
    /* What TLS holds decrypted is read at once, not on the next bytes. */
    if (!paused)
        conn_resume(c);
}

size_t http_stream_queued(const http_conn *c)
{
    return out_pending(c) + c->early_len;
}

void http_stream_close(http_conn *c)
{
    if (c->dead || c->closing)
        return;
    conn_start_closing(c);
    conn_update(c);
    conn_arm(c);
}

const char *http_stream_peer(const http_conn *c)
{
    return c->peer;
}
