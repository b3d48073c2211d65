/* Listeners: the listen: addresses, accepting, and the connection limits
 * per client address and in all.
 *
 * A reload keeps the listeners whose address stays (and their
 * connections), opens the new ones first, and closes the removed ones
 * only once every new one is open, so that a failed reload changes
 * nothing.  Connections over a limit get a short canned answer (429 over
 * conns_per_ip, 503 over conns_max) and are closed (http_refuse.c). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_int.h"

#define ACCEPT_BATCH 64
#define ACCEPT_RETRY 0.5
#define IP_BUCKETS   4096

struct http_listener {
    http_server *srv;
    http_listener *next;
    unsigned id;
    int fd;
    ev_io io;
    ev_timer retry;
    char *text; /* as configured */
    char bound[HTTP_ADDR_MAX + 8];
};

/* ------------------------------------------------------------ per address */

struct http_ipcount {
    http_ipcount *next;
    size_t n;
    char addr[HTTP_ADDR_MAX];
};

static size_t ip_hash(const char *s)
{
    size_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % IP_BUCKETS;
}

bool http_ipcount_inc(http_server *srv, const char *addr, size_t limit)
{
    if (!srv->ipbuckets) {
        srv->ipbuckets = calloc(IP_BUCKETS, sizeof *srv->ipbuckets);
        if (!srv->ipbuckets)
            return false;
        srv->n_ipbuckets = IP_BUCKETS;
    }
    http_ipcount **b = &srv->ipbuckets[ip_hash(addr)];
    for (http_ipcount *e = *b; e; e = e->next)
        if (strcmp(e->addr, addr) == 0) {
            if (e->n >= limit)
                return false;
            e->n++;
            return true;
        }
    http_ipcount *e = calloc(1, sizeof *e);
    if (!e)
        return false;
    snprintf(e->addr, sizeof e->addr, "%s", addr);
    e->n = 1;
    e->next = *b;
    *b = e;
    return true;
}

void http_ipcount_dec(http_server *srv, const char *addr)
{
    if (!srv->ipbuckets)
        return;
    for (http_ipcount **p = &srv->ipbuckets[ip_hash(addr)]; *p; p = &(*p)->next)
        if (strcmp((*p)->addr, addr) == 0) {
            if (--(*p)->n == 0) {
                http_ipcount *e = *p;
                *p = e->next;
                free(e);
            }
            return;
        }
}

void http_ipcount_free_all(http_server *srv)
{
    for (size_t i = 0; srv->ipbuckets && i < srv->n_ipbuckets; i++)
        for (http_ipcount *e = srv->ipbuckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(srv->ipbuckets);
    srv->ipbuckets = NULL;
}

/* ------------------------------------------------------------ accepting */

/* An IPv4 client of a dual-stack socket reads as itself, not ::ffff:. */
static void addr_text(const struct sockaddr_storage *ss, char *buf, size_t size)
{
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, (socklen_t)size);
            return;
        }
        inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)size);
    } else if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)size);
    } else {
        snprintf(buf, size, "unknown");
    }
}

/* Out of descriptors, the listening socket stays readable and its watcher
 * would fire again at once, for ever (as on the control socket): the
 * spare descriptor lets one waiting client be accepted and closed, then
 * accepting pauses until a timer tries again. */
static void accept_pause(http_listener *l, int err)
{
    http_server *srv = l->srv;
    bosun_complain(&srv->accept_complaint, LOG_LEVEL_WARNING,
                   "http: %s: accept failed: %s; not accepting for %.1f s", l->bound, strerror(err),
                   ACCEPT_RETRY);
    if ((err == EMFILE || err == ENFILE) && srv->spare_fd >= 0) {
        close(srv->spare_fd);
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            close(fd);
        srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    ev_io_stop(srv->ctx->loop, &l->io);
    ev_timer_stop(srv->ctx->loop, &l->retry);
    ev_timer_set(&l->retry, ACCEPT_RETRY, 0.);
    ev_timer_start(srv->ctx->loop, &l->retry);
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    http_listener *l = w->data;
    if (l->srv->spare_fd < 0)
        l->srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ev_io_start(loop, &l->io);
}

static void accept_one(http_listener *l, int fd, const struct sockaddr_storage *ss)
{
    http_server *srv = l->srv;
    const http_limits *lim = &srv->cfg.limits;
    char peer[HTTP_ADDR_MAX];
    addr_text(ss, peer, sizeof peer);
    if (srv->n_conns >= lim->conns_max) {
        http_notice(srv, HTTP_NOTE_LIMIT_TOTAL, "http: %s: 503, %zu connections (conns_max)", peer,
                    srv->n_conns);
        http_refuse(srv, fd, 503);
        return;
    }
    if (!http_ipcount_inc(srv, peer, lim->conns_per_ip)) {
        http_notice(srv, HTTP_NOTE_LIMIT_PEER,
                    "http: %s: 429, %zu connections from it (conns_per_ip)", peer,
                    lim->conns_per_ip);
        http_refuse(srv, fd, 429);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!http_conn_new(srv, fd, l->id, peer)) {
        log_warning("http: %s: cannot take the connection (out of memory)", peer);
        http_ipcount_dec(srv, peer);
        close(fd);
    }
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    http_listener *l = w->data;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                accept_pause(l, errno);
            return;
        }
        bosun_complain_release(&l->srv->accept_complaint, LOG_LEVEL_NOTICE,
                               "http: accepting connections again");
        accept_one(l, fd, &ss);
    }
}

/* ------------------------------------------------------------ listeners */

static int bind_listen(const http_listen_addr *a, cfg_diag *d, char *bound, size_t bound_size)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(a->host, a->port, &hints, &ai);
    if (rc != 0) {
        cfg_error(d, NULL, "http: listen %s: %s", a->text, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        /* "[::]" means IPv6 only, so that "0.0.0.0" can be listed too. */
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        cfg_error(d, NULL, "http: cannot listen on %s: %s", a->text, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[HTTP_ADDR_MAX] = "?";
    unsigned port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        addr_text(&ss, host, sizeof host);
        port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    }
    snprintf(bound, bound_size, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
    return fd;
}

void http_listeners_mcp_url(const http_server *srv, char *out, size_t size)
{
    out[0] = '\0';
    if (srv->tls)
        return;
    for (const http_listener *l = srv->listeners; l; l = l->next) {
        if (strncmp(l->bound, "127.0.0.1:", 10) == 0 || strncmp(l->bound, "[::1]:", 6) == 0) {
            snprintf(out, size, "http://%s/mcp", l->bound);
            return;
        }
    }
}

static http_listener *listener_open(http_server *srv, const http_listen_addr *a, cfg_diag *d)
{
    http_listener *l = calloc(1, sizeof *l);
    if (!l) {
        cfg_error(d, NULL, "http: out of memory");
        return NULL;
    }
    l->fd = bind_listen(a, d, l->bound, sizeof l->bound);
    l->text = strdup(a->text);
    if (l->fd < 0 || !l->text) {
        if (l->fd >= 0)
            close(l->fd);
        free(l->text);
        free(l);
        return NULL;
    }
    l->srv = srv;
    l->id = ++srv->next_listener_id;
    ev_io_init(&l->io, on_accept, l->fd, EV_READ);
    l->io.data = l;
    ev_timer_init(&l->retry, on_retry, ACCEPT_RETRY, 0.);
    l->retry.data = l;
    return l;
}

static void listener_close(http_listener *l)
{
    ev_io_stop(l->srv->ctx->loop, &l->io);
    ev_timer_stop(l->srv->ctx->loop, &l->retry);
    close(l->fd);
    free(l->text);
    free(l);
}

static http_listener *take_existing(http_listener **list, const char *text)
{
    for (http_listener **p = list; *p; p = &(*p)->next)
        if (strcmp((*p)->text, text) == 0) {
            http_listener *l = *p;
            *p = l->next;
            l->next = NULL;
            return l;
        }
    return NULL;
}

int http_listeners_apply(http_server *srv, const http_config *cfg, cfg_diag *d)
{
    http_listener *old = srv->listeners, *fresh = NULL, **tail = &fresh;
    size_t n_opened = 0; /* the new ones, to undo a failure */
    int rc = 0;
    for (size_t i = 0; i < cfg->n_listen; i++) {
        http_listener *l = take_existing(&old, cfg->listen[i].text);
        if (!l) {
            l = listener_open(srv, &cfg->listen[i], d);
            if (!l) {
                rc = -1;
                break;
            }
            n_opened++;
        }
        *tail = l;
        tail = &l->next;
    }
    if (rc != 0) {
        /* Put the kept ones back, close the new ones. */
        for (http_listener *l = fresh, *next; l; l = next) {
            next = l->next;
            if (l->id > srv->next_listener_id - n_opened) {
                listener_close(l);
            } else {
                l->next = old;
                old = l;
            }
        }
        srv->listeners = old;
        return -1;
    }
    for (http_listener *l = old, *next; l; l = next) {
        next = l->next;
        log_notice("http: no longer listening on %s", l->bound);
        http_conns_close_listener(srv, l->id);
        listener_close(l);
    }
    srv->listeners = fresh;
    for (http_listener *l = fresh; l; l = l->next)
        if (!ev_is_active(&l->io) && !ev_is_active(&l->retry)) {
            ev_io_start(srv->ctx->loop, &l->io);
            log_notice("http: listening on %s%s", l->bound, srv->tls ? " (TLS)" : "");
        }
    return 0;
}

void http_listeners_close_all(http_server *srv)
{
    for (http_listener *l = srv->listeners, *next; l; l = next) {
        next = l->next;
        listener_close(l);
    }
    srv->listeners = NULL;
}
