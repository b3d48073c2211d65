/* The byte stream to the hub (see uplink_net.h).
 *
 * DNS: getaddrinfo_a (glibc) runs the lookup in its own thread; the loop
 * polls it every 10 ms with gai_error, so that no callback of another
 * thread ever touches our memory.  A lookup still running when the stream
 * is dropped is cancelled, or, when it cannot be, kept aside until it ends
 * (glibc writes into its request meanwhile).
 *
 * TLS: OpenSSL on the non-blocking socket, as the http plugin's listener
 * uses it; as a client it sends SNI for a host name and checks the
 * certificate's chain (CA file or the system's) and that it names the
 * host (DNS name or IP address), unless the configuration turned checks
 * off explicitly. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "uplink.h"
#include "uplink_net.h"

#define GAI_POLL   0.01
#define READ_CHUNK 65536
#define READS_MAX  16 /* reads per wakeup: other clients of the loop get their turn */
#define PEER_MAX   (INET6_ADDRSTRLEN + 16)

typedef struct gai_req {
    struct gaicb cb;
    struct addrinfo hints;
    char host[UPLINK_HOST_MAX + 1];
    char port[16];
    /* A numeric host's addresses, found without a resolver thread; NULL
     * for a lookup that getaddrinfo_a runs. */
    struct addrinfo *numeric;
    struct gai_req *next;
} gai_req;

/* Lookups that could not be cancelled, freed once they end. */
static gai_req *orphans;

enum net_state { N_RESOLVING, N_CONNECTING, N_HANDSHAKE, N_OPEN, N_FAILED };

struct uplink_net {
    struct ev_loop *loop;
    uplink_net_ops ops;
    void *arg;
    enum net_state state;
    char host[UPLINK_HOST_MAX + 1];
    char port[16];
    char peer[PEER_MAX];
    SSL_CTX *ctx;
    SSL *ssl;
    bool insecure;
    gai_req *gai;
    ev_timer gai_timer;
    struct addrinfo *ai, *ai_next;
    int fd;
    ev_io io;
    char last_err[128];
    char *q;
    size_t q_head, q_len, q_cap;
    int depth;
    bool doomed;
};

static void reap_orphans(void)
{
    for (gai_req **p = &orphans; *p;) {
        gai_req *r = *p;
        if (gai_error(&r->cb) == EAI_INPROGRESS) {
            p = &r->next;
            continue;
        }
        if (r->cb.ar_result)
            freeaddrinfo(r->cb.ar_result);
        *p = r->next;
        free(r);
    }
}

/* A lookup we no longer want. */
static void drop_lookup(gai_req *r)
{
    if (r->numeric) {
        freeaddrinfo(r->numeric);
        free(r);
        return;
    }
    int rc = gai_cancel(&r->cb);
    if (rc == EAI_NOTCANCELED || gai_error(&r->cb) == EAI_INPROGRESS) {
        r->next = orphans;
        orphans = r;
        return;
    }
    if (r->cb.ar_result)
        freeaddrinfo(r->cb.ar_result);
    free(r);
}

void uplink_net_shutdown(void)
{
    /* Bounded: a resolver that hangs past this is left to the exit. */
    for (int i = 0; orphans && i < 200; i++) {
        reap_orphans();
        if (orphans) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    reap_orphans();
}

/* ------------------------------------------------------------ failure */

static void release(uplink_net *n)
{
    if (n->gai) {
        drop_lookup(n->gai);
        n->gai = NULL;
    }
    ev_timer_stop(n->loop, &n->gai_timer);
    if (n->fd >= 0) {
        ev_io_stop(n->loop, &n->io);
        if (n->ssl) {
            ERR_clear_error();
            SSL_shutdown(n->ssl);
            ERR_clear_error();
        }
        close(n->fd);
        n->fd = -1;
    }
    if (n->ssl) {
        SSL_free(n->ssl);
        n->ssl = NULL;
    }
}

static void fail(uplink_net *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(uplink_net *n, const char *fmt, ...)
{
    if (n->state == N_FAILED || n->doomed)
        return;
    char why[UPLINK_WHY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    n->state = N_FAILED;
    release(n);
    n->ops.on_failed(n->arg, why);
}

static const char *ssl_error_text(char *buf, size_t size)
{
    unsigned long e = ERR_get_error();
    if (!e)
        snprintf(buf, size, "%s", errno ? strerror(errno) : "the connection closed");
    else
        ERR_error_string_n(e, buf, size);
    ERR_clear_error();
    return buf;
}

/* ------------------------------------------------------------ TLS */

void *uplink_tls_new(const uplink_cfg *cfg, char *why, size_t ws)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    char err[200];
    if (!ctx) {
        snprintf(why, ws, "cannot make a TLS context: %s", ssl_error_text(err, sizeof err));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* A hub that goes away without close_notify reads as a close: the
     * WebSocket frames carry their own lengths, nothing can be cut short
     * unseen. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    ERR_clear_error();
    int ok = cfg->ca_file ? SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL)
                          : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        snprintf(why, ws, "%s: cannot load CA certificates: %s",
                 cfg->ca_file ? cfg->ca_file : "the system's CA store",
                 ssl_error_text(err, sizeof err));
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, cfg->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    return ctx;
}

void uplink_tls_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

static bool is_ip_literal(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

static void set_events(uplink_net *n, int events)
{
    if (n->fd < 0)
        return;
    ev_io_stop(n->loop, &n->io);
    ev_io_set(&n->io, n->fd, events);
    ev_io_start(n->loop, &n->io);
}

static void open_stream(uplink_net *n);

static void handshake(uplink_net *n)
{
    ERR_clear_error();
    errno = 0;
    int rc = SSL_do_handshake(n->ssl);
    if (rc == 1) {
        open_stream(n);
        return;
    }
    int e = SSL_get_error(n->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        set_events(n, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
        return;
    }
    long v = SSL_get_verify_result(n->ssl);
    char err[200];
    if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
        fail(n, "TLS with %s: the hub's certificate does not name %s", n->peer, n->host);
    else if (v != X509_V_OK)
        fail(n, "TLS with %s: the hub's certificate was refused: %s", n->peer,
             X509_verify_cert_error_string(v));
    else
        fail(n, "TLS with %s failed: %s", n->peer, ssl_error_text(err, sizeof err));
}

static void start_tls(uplink_net *n)
{
    n->ssl = SSL_new(n->ctx);
    if (!n->ssl || SSL_set_fd(n->ssl, n->fd) != 1) {
        fail(n, "TLS: out of memory");
        return;
    }
    SSL_set_connect_state(n->ssl);
    bool ip = is_ip_literal(n->host);
    if (!ip)
        SSL_set_tlsext_host_name(n->ssl, n->host);
    if (!n->insecure) {
        int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(n->ssl), n->host)
                    : SSL_set1_host(n->ssl, n->host);
        if (ok != 1) {
            fail(n, "TLS: cannot check the certificate against %s", n->host);
            return;
        }
    }
    n->state = N_HANDSHAKE;
    handshake(n);
}

/* ------------------------------------------------------------ bytes */

static void open_stream(uplink_net *n)
{
    n->state = N_OPEN;
    set_events(n, EV_READ | (n->q_len ? EV_WRITE : 0));
    n->ops.on_connected(n->arg);
}

/* >0 bytes, 0 at the peer's end, -1 on error (errno EAGAIN: try later). */
static ssize_t raw_recv(uplink_net *n, char *buf, size_t len)
{
    if (!n->ssl) {
        ssize_t r = recv(n->fd, buf, len, 0);
        return r;
    }
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(n->ssl, buf, (int)len);
    if (r > 0)
        return r;
    int e = SSL_get_error(n->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
        return 0;
    if (e == SSL_ERROR_SSL) {
        ssl_error_text(n->last_err, sizeof n->last_err);
        errno = EPROTO;
        return -1;
    }
    if (errno == 0 || errno == EAGAIN)
        errno = EPROTO;
    snprintf(n->last_err, sizeof n->last_err, "%s", strerror(errno));
    ERR_clear_error();
    return -1;
}

static ssize_t raw_send(uplink_net *n, const char *buf, size_t len)
{
    if (!n->ssl)
        return send(n->fd, buf, len, MSG_NOSIGNAL);
    ERR_clear_error();
    errno = 0;
    int r = SSL_write(n->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    if (r > 0)
        return r;
    int e = SSL_get_error(n->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        errno = EAGAIN;
    else if (errno == 0 || errno == EAGAIN)
        errno = EPIPE;
    ERR_clear_error();
    return -1;
}

/* -1 when the stream failed. */
static int flush(uplink_net *n)
{
    size_t before = n->q_len;
    while (n->q_len > 0) {
        ssize_t w = raw_send(n, n->q + n->q_head, n->q_len);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            fail(n, "sending to the hub at %s: %s", n->peer, strerror(errno));
            return -1;
        }
        n->q_head += (size_t)w;
        n->q_len -= (size_t)w;
    }
    if (n->q_len == 0)
        n->q_head = 0;
    if (before > 0 && n->q_len == 0 && n->ops.on_drained)
        n->ops.on_drained(n->arg);
    return 0;
}

static void read_some(uplink_net *n)
{
    char buf[READ_CHUNK];
    for (int i = 0; i < READS_MAX && n->state == N_OPEN && !n->doomed; i++) {
        ssize_t r = raw_recv(n, buf, sizeof buf);
        if (r > 0) {
            n->ops.on_data(n->arg, buf, (size_t)r);
            continue;
        }
        if (r == 0)
            fail(n, "the hub at %s closed the connection", n->peer);
        else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            fail(n, "reading from the hub at %s: %s", n->peer,
                 n->ssl ? n->last_err : strerror(errno));
        return;
    }
}

static void try_next(uplink_net *n);

static void connected(uplink_net *n)
{
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(n->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        err = errno;
    if (err) {
        snprintf(n->last_err, sizeof n->last_err, "%s: %s", n->peer, strerror(err));
        ev_io_stop(n->loop, &n->io);
        close(n->fd);
        n->fd = -1;
        try_next(n);
        return;
    }
    if (n->ctx)
        start_tls(n);
    else
        open_stream(n);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    uplink_net *n = w->data;
    n->depth++;
    if (n->state == N_CONNECTING)
        connected(n);
    else if (n->state == N_HANDSHAKE)
        handshake(n);
    else if (n->state == N_OPEN) {
        /* TLS may need to read to write or the reverse: try both. */
        if (flush(n) == 0 && (revents & EV_READ))
            read_some(n);
        if (n->state == N_OPEN && !n->doomed)
            set_events(n, EV_READ | (n->q_len ? EV_WRITE : 0));
    }
    if (--n->depth == 0 && n->doomed)
        uplink_net_free(n);
}

/* ------------------------------------------------------------ connect */

static bool loopback_addr(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

static void name_peer(uplink_net *n, const struct sockaddr *sa)
{
    char a[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof a);
        port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
        snprintf(n->peer, sizeof n->peer, "%s:%d", a, port);
    } else {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, a, sizeof a);
        port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
        snprintf(n->peer, sizeof n->peer, "[%s]:%d", a, port);
    }
}

static void try_next(uplink_net *n)
{
    while (n->ai_next) {
        struct addrinfo *ai = n->ai_next;
        n->ai_next = ai->ai_next;
        name_peer(n, ai->ai_addr);
        if (!n->ctx && !loopback_addr(ai->ai_addr)) {
            snprintf(n->last_err, sizeof n->last_err,
                     "%s is not a loopback address (ws:// goes to this host only)", n->peer);
            continue;
        }
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            snprintf(n->last_err, sizeof n->last_err, "socket: %s", strerror(errno));
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            n->fd = fd;
            n->state = N_CONNECTING;
            ev_io_init(&n->io, on_io, fd, EV_WRITE);
            n->io.data = n;
            ev_io_start(n->loop, &n->io);
            return;
        }
        snprintf(n->last_err, sizeof n->last_err, "%s: %s", n->peer, strerror(errno));
        close(fd);
    }
    n->peer[0] = '\0';
    fail(n, "cannot connect to %s port %s: %s", n->host, n->port,
         n->last_err[0] ? n->last_err : "no address");
}

static void on_gai_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    uplink_net *n = w->data;
    reap_orphans();
    int rc = n->gai->numeric ? 0 : gai_error(&n->gai->cb);
    if (rc == EAI_INPROGRESS)
        return;
    ev_timer_stop(n->loop, &n->gai_timer);
    gai_req *r = n->gai;
    n->gai = NULL;
    n->depth++;
    if (rc != 0) {
        free(r);
        fail(n, "cannot look up %s: %s", n->host, gai_strerror(rc));
    } else {
        n->ai = n->ai_next = r->numeric ? r->numeric : r->cb.ar_result;
        free(r);
        try_next(n);
    }
    if (--n->depth == 0 && n->doomed)
        uplink_net_free(n);
}

static int start_lookup(uplink_net *n)
{
    gai_req *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    snprintf(r->host, sizeof r->host, "%s", n->host);
    snprintf(r->port, sizeof r->port, "%s", n->port);
    r->hints.ai_family = AF_UNSPEC;
    r->hints.ai_socktype = SOCK_STREAM;
    r->hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    r->cb.ar_name = r->host;
    r->cb.ar_service = r->port;
    r->cb.ar_request = &r->hints;
    /* A numeric address is parsed at once (AI_NUMERICHOST never blocks),
     * so no resolver thread is started for it: glibc's helper threads
     * linger after a lookup, and one still exiting when bosund exits has
     * made LeakSanitizer's tracer crash.  Its result is still taken on the
     * timer, so callbacks never run inside uplink_net_new. */
    struct addrinfo numeric_hints = r->hints;
    numeric_hints.ai_flags |= AI_NUMERICHOST;
    if (getaddrinfo(r->host, r->port, &numeric_hints, &r->numeric) != 0) {
        r->numeric = NULL;
        struct gaicb *list[1] = {&r->cb};
        if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0) {
            free(r);
            return -1;
        }
    }
    n->gai = r;
    ev_timer_init(&n->gai_timer, on_gai_timer, 0.0, GAI_POLL);
    n->gai_timer.data = n;
    ev_timer_start(n->loop, &n->gai_timer);
    return 0;
}

uplink_net *uplink_net_new(struct ev_loop *loop, const char *host, const char *port, void *tls_ctx,
                           bool insecure, const uplink_net_ops *ops, void *arg)
{
    reap_orphans();
    uplink_net *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->loop = loop;
    n->ops = *ops;
    n->arg = arg;
    n->fd = -1;
    n->ctx = tls_ctx;
    if (n->ctx)
        SSL_CTX_up_ref(n->ctx); /* a reload may free the plugin's */
    n->insecure = insecure;
    snprintf(n->host, sizeof n->host, "%s", host);
    snprintf(n->port, sizeof n->port, "%s", port);
    snprintf(n->peer, sizeof n->peer, "%s", host);
    ev_timer_init(&n->gai_timer, on_gai_timer, 0.0, GAI_POLL);
    n->gai_timer.data = n;
    if (start_lookup(n) != 0) {
        SSL_CTX_free(n->ctx);
        free(n);
        return NULL;
    }
    return n;
}

bool uplink_net_write(uplink_net *n, const void *data, size_t len)
{
    if (n->doomed || n->state == N_FAILED)
        return false;
    if (len > UPLINK_QUEUE_MAX - n->q_len)
        return false;
    if (n->q_head + n->q_len + len > n->q_cap) {
        if (n->q_head > 0) {
            memmove(n->q, n->q + n->q_head, n->q_len);
            n->q_head = 0;
        }
        size_t cap = n->q_cap ? n->q_cap : 16384;
        while (cap < n->q_len + len)
            cap *= 2;
        if (cap != n->q_cap) {
            char *q = realloc(n->q, cap);
            if (!q)
                return false;
            n->q = q;
            n->q_cap = cap;
        }
    }
    memcpy(n->q + n->q_head + n->q_len, data, len);
    n->q_len += len;
    /* Sent from the loop, never from here: a failure must not call back
     * into the writer. */
    if (n->state == N_OPEN)
        set_events(n, EV_READ | EV_WRITE);
    return true;
}

size_t uplink_net_queued(const uplink_net *n)
{
    return n->q_len;
}

const char *uplink_net_peer(const uplink_net *n)
{
    return n->peer;
}

void uplink_net_flush(uplink_net *n)
{
    if (n->state != N_OPEN || n->doomed)
        return;
    /* A goodbye: whatever goes now; a failure is not reported. */
    while (n->q_len > 0) {
        ssize_t w = raw_send(n, n->q + n->q_head, n->q_len);
        if (w <= 0)
            break;
        n->q_head += (size_t)w;
        n->q_len -= (size_t)w;
    }
}

void uplink_net_free(uplink_net *n)
{
    if (!n)
        return;
    if (!n->doomed) {
        n->doomed = true;
        release(n);
    }
    if (n->depth > 0)
        return;
    if (n->ai)
        freeaddrinfo(n->ai);
    SSL_CTX_free(n->ctx);
    if (n->q)
        explicit_bzero(n->q, n->q_cap); /* it held the token */
    free(n->q);
    free(n);
}
