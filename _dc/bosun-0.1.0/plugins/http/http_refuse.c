/* Refusals: the short answer of a connection over conns_per_ip (429) or
 * conns_max (503), then its close.
 *
 * On a plain listener the answer is written at once, never waited for.
 * On a TLS listener it can only be written after a handshake, so the
 * connection waits in a pool of its own: not counted as a connection (it
 * is over the limits that count them), at most HTTP_REFUSALS_MAX of them,
 * each for at most HTTP_REFUSAL_TIME from its accept, holding nothing but
 * its socket, its SSL and a few bytes of state.  Over the pool's bound a
 * refused TLS connection is closed without an answer, as a flood of them
 * must not hold what the limits protect. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bosun/sys.h>

#include "http_int.h"

enum refusal_phase { PHASE_HANDSHAKE, PHASE_WRITE, PHASE_LINGER };

struct http_refusal {
    http_server *srv;
    http_refusal *prev, *next;
    int fd;
    void *ssl;
    ev_io io;
    ev_timer timer;
    enum refusal_phase phase;
    int want;     /* EV_READ or EV_WRITE, what the SSL waits for */
    int watching; /* what the watcher is set to */
    char msg[384];
    size_t len, off;
};

/* The answer: an error body like every other, Retry-After, and the
 * close. */
static size_t refusal_text(int status, char *buf, size_t size)
{
    const char *body = status == 429 ? "{\"error\":{\"code\":\"rate_limited\",\"message\":"
                                       "\"too many connections from this address\"}}"
                                     : "{\"error\":{\"code\":\"busy\",\"message\":"
                                       "\"too many connections\"}}";
    int n = snprintf(buf, size,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s",
                     status, status == 429 ? "Too Many Requests" : "Service Unavailable",
                     strlen(body), body);
    return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

/* What the client already sent is read first: closing with unread data
 * would reset the connection and could lose the answer. */
static void refuse_plain(int fd, int status)
{
    char junk[4096], msg[384];
    (void)!recv(fd, junk, sizeof junk, MSG_DONTWAIT);
    size_t n = refusal_text(status, msg, sizeof msg);
    (void)!send(fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    close(fd);
}

static void refusal_free(http_refusal *r)
{
    http_server *srv = r->srv;
    ev_io_stop(srv->ctx->loop, &r->io);
    ev_timer_stop(srv->ctx->loop, &r->timer);
    http_tls_conn_free(r->ssl);
    close(r->fd);
    if (r->prev)
        r->prev->next = r->next;
    else
        srv->refusals = r->next;
    if (r->next)
        r->next->prev = r->prev;
    srv->n_refusals--;
    free(r);
}

static int want_events(int want)
{
    return want == HTTP_WANT_WRITE ? EV_WRITE : EV_READ;
}

/* Reads and drops what the client sends; false once it is done (its end,
 * an error). */
static bool refusal_drain(http_refusal *r)
{
    char junk[4096];
    for (int i = 0; i < 8; i++) {
        int want = 0;
        ssize_t n = http_tls_recv(r->ssl, junk, sizeof junk, &want);
        if (n > 0)
            continue;
        if (n < 0 && errno == EAGAIN) {
            r->want = want_events(want);
            return true;
        }
        return false;
    }
    r->want = EV_READ;
    return true;
}

/* One step of handshake, answer, close_notify, then reading until the
 * client's end; false when the refusal is over. */
static bool refusal_step(http_refusal *r)
{
    int want = 0;
    char why[160];
    if (r->phase == PHASE_HANDSHAKE) {
        int rc = http_tls_handshake(r->ssl, &want, why, sizeof why);
        if (rc < 0)
            return false;
        if (rc == 0) {
            r->want = want_events(want);
            return true;
        }
        r->phase = PHASE_WRITE;
    }
    if (r->phase == PHASE_WRITE) {
        /* The request that came with the handshake, read before the
         * answer; more is read while lingering. */
        if (!refusal_drain(r))
            return false;
        while (r->off < r->len) {
            ssize_t n = http_tls_send(r->ssl, r->msg + r->off, r->len - r->off, &want);
            if (n > 0) {
                r->off += (size_t)n;
                continue;
            }
            if (n < 0 && errno == EAGAIN) {
                r->want = want_events(want);
                return true;
            }
            return false;
        }
        http_tls_shutdown(r->ssl);
        shutdown(r->fd, SHUT_WR);
        r->phase = PHASE_LINGER;
    }
    return refusal_drain(r);
}

static void refusal_watch(http_refusal *r)
{
    struct ev_loop *loop = r->srv->ctx->loop;
    if (r->watching == r->want)
        return;
    ev_io_stop(loop, &r->io);
    ev_io_set(&r->io, r->fd, r->want);
    ev_io_start(loop, &r->io);
    r->watching = r->want;
}

static void on_refusal_io(struct ev_loop *loop, ev_io *w, int revents)
{
    http_refusal *r = w->data;
    if (!refusal_step(r))
        refusal_free(r);
    else
        refusal_watch(r);
}

static void on_refusal_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    http_refusal *r = w->data;
    if (r->phase == PHASE_HANDSHAKE)
        http_notice(r->srv, HTTP_NOTE_TLS,
                    "http: refused TLS connection: handshake not done in "
                    "time, closed without an answer");
    refusal_free(r);
}

/* The pool's bounds: in number and in time from the accept (shorter
 * when header_timeout is). */
static double refusal_time(const http_server *srv)
{
    double t = srv->cfg.limits.header_timeout;
    return t > 0 && t < HTTP_REFUSAL_TIME ? t : HTTP_REFUSAL_TIME;
}

static void refuse_tls(http_server *srv, int fd, int status)
{
    if (srv->n_refusals >= HTTP_REFUSALS_MAX) {
        http_notice(srv, HTTP_NOTE_REFUSALS,
                    "http: %zu refused TLS connections already being answered "
                    "(at most %d): another closed without an answer",
                    srv->n_refusals, HTTP_REFUSALS_MAX);
        close(fd);
        return;
    }
    http_refusal *r = calloc(1, sizeof *r);
    if (r)
        r->ssl = http_tls_conn_new(srv->tls, fd);
    if (!r || !r->ssl) {
        free(r);
        close(fd);
        return;
    }
    r->srv = srv;
    r->fd = fd;
    r->len = refusal_text(status, r->msg, sizeof r->msg);
    r->want = EV_READ;
    ev_io_init(&r->io, on_refusal_io, fd, EV_READ);
    r->io.data = r;
    ev_timer_init(&r->timer, on_refusal_timer, refusal_time(srv), 0.);
    r->timer.data = r;
    r->next = srv->refusals;
    if (srv->refusals)
        srv->refusals->prev = r;
    srv->refusals = r;
    srv->n_refusals++;
    ev_timer_start(srv->ctx->loop, &r->timer);
    /* The client's hello is usually there already. */
    on_refusal_io(srv->ctx->loop, &r->io, EV_READ);
}

void http_refuse(http_server *srv, int fd, int status)
{
    if (srv->tls)
        refuse_tls(srv, fd, status);
    else
        refuse_plain(fd, status);
}

void http_refusals_free_all(http_server *srv)
{
    while (srv->refusals)
        refusal_free(srv->refusals);
}
