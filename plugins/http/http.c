/* http — the plugin: check, init, start, reload, stop; the server's
 * accessors; /health.
 *
 * Readiness: /health answers 503 "starting" until the daemon says its
 * start is complete (sys.<machine_id>.ready, or "state" in the reply to
 * cmd.daemon.status for a plugin started later), and 503 "stopping" from
 * the first SIGTERM or SIGINT on (the daemon is stopping its runs, which
 * can take their stop_timeout); responses then also close their
 * connections. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bosun/bosun.h>
#include <bosun/sys.h>
#include <bosun/task.h>

#include "http_int.h"

/* ------------------------------------------------------------ accessors */

const bosun_ctx *http_server_ctx(const http_server *srv)
{
    return srv->ctx;
}

bus_t *http_server_bus(const http_server *srv)
{
    return srv->ctx->bus;
}

const http_config *http_server_config(const http_server *srv)
{
    return &srv->cfg;
}

http_auth *http_server_auth(const http_server *srv)
{
    return srv->auth;
}

http_ws_hub *http_server_ws(const http_server *srv)
{
    return srv->ws;
}

const http_web *http_server_web(const http_server *srv)
{
    return srv->web;
}

http_mcp_hub *http_server_mcp(const http_server *srv)
{
    return srv->mcp;
}

/* Tells the supervisor where agents on this machine reach /mcp. */
static void announce_mcp_url(http_server *srv)
{
    char url[sizeof srv->mcp_url];
    http_listeners_mcp_url(srv, url, sizeof url);
    snprintf(srv->mcp_url, sizeof srv->mcp_url, "%s", url);
    json_t *m = json_pack("{s:s?}", "url", url[0] ? url : NULL);
    if (bus_publish_new(srv->ctx->bus, BOSUN_HTTP_MCP_URL, NULL, m) != 0)
        log_warning("http: cannot announce the /mcp URL");
}

http_fleet_hub *http_server_fleet(const http_server *srv)
{
    return srv->fleet;
}

bool http_server_ready(const http_server *srv)
{
    return srv->ready && !srv->stopping;
}

const char *http_server_date(http_server *srv)
{
    double now = bosun_now();
    if (now - srv->date_at >= 1.0 || now < srv->date_at) {
        time_t t = (time_t)now;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(srv->date, sizeof srv->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        srv->date_at = (double)t;
    }
    return srv->date;
}

void http_notice(http_server *srv, enum http_notice_kind kind, const char *fmt, ...)
{
    struct http_notice_state *n = &srv->notices[kind];
    double now = bosun_monotonic();
    if (n->last != 0 && now - n->last < 1.0) {
        n->quiet++;
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n->quiet)
        log_notice("%s (and %lu more like it in the last %.0f s)", msg, n->quiet, now - n->last);
    else
        log_notice("%s", msg);
    n->last = now;
    n->quiet = 0;
}

/* ------------------------------------------------------------ /health */

/* No allocation but the response's: it is what load balancers hit. */
static void health(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    const http_server *srv = r->srv;
    const char *status = srv->stopping ? "stopping" : srv->ready ? "ok" : "starting";
    char body[256];
    int n =
        snprintf(body, sizeof body,
                 "{\"status\":\"%s\",\"version\":\"%s\",\"machine\":\"%s\",\"uptime\":%.3f}",
                 status, bosun_version(), srv->ctx->machine_id, bosun_now() - srv->ctx->start_time);
    if (n < 0 || (size_t)n >= sizeof body)
        n = 0;
    http_add_header(r, "Cache-Control", "no-store");
    http_respond(r, http_server_ready(srv) ? 200 : 503, "application/json", body, (size_t)n);
}

const http_route http_core_routes[] = {
    {"GET", "/health", health, HTTP_ALLOW_ANON, HTTP_BODY_NONE},
};
const size_t http_core_n_routes = sizeof http_core_routes / sizeof http_core_routes[0];

/* ------------------------------------------------------------ TLS files */

/* The daemon calls reload only for a section that changed, and renewing a
 * certificate changes files, not the section: so the files themselves are
 * watched, and a new pair that loads serves new connections from then on.
 * (A pair that does not load, such as a certificate renewed before its
 * key, is logged once and the old one kept; a reload meanwhile is refused
 * by the check, which loads them too.) */
#define TLS_WATCH_EVERY 2.0

static void tls_signature(const http_config *cfg, char *buf, size_t size)
{
    struct stat a = {0}, b = {0};
    if (stat(cfg->tls_cert, &a) != 0 || stat(cfg->tls_key, &b) != 0) {
        snprintf(buf, size, "missing");
        return;
    }
    snprintf(buf, size, "%lu:%lld:%lld.%09ld/%lu:%lld:%lld.%09ld", (unsigned long)a.st_ino,
             (long long)a.st_size, (long long)a.st_mtim.tv_sec, a.st_mtim.tv_nsec,
             (unsigned long)b.st_ino, (long long)b.st_size, (long long)b.st_mtim.tv_sec,
             b.st_mtim.tv_nsec);
}

static void on_tls_watch(struct ev_loop *loop, ev_timer *w, int revents)
{
    http_server *srv = w->data;
    http_web_watch(srv->web); /* the dashboard's files are watched on the same tick */
    if (!srv->cfg.tls_cert)
        return;
    char sig[sizeof srv->tls_sig];
    tls_signature(&srv->cfg, sig, sizeof sig);
    if (strcmp(sig, srv->tls_sig) == 0)
        return;
    snprintf(srv->tls_sig, sizeof srv->tls_sig, "%s", sig);
    cfg_diag d;
    cfg_diag_init(&d);
    http_tls *t = http_tls_new(srv->cfg.tls_cert, srv->cfg.tls_key, &d, NULL);
    if (t) {
        http_tls_free(srv->tls);
        srv->tls = t;
        log_notice("http: TLS certificate %s and key %s loaded again", srv->cfg.tls_cert,
                   srv->cfg.tls_key);
    } else {
        for (size_t i = 0; i < d.n; i++)
            log_warning("%s; the TLS files loaded before are kept", d.msgs[i]);
    }
    cfg_diag_free(&d);
}

/* ------------------------------------------------------------ plugin */

static bool http_check(const cfg_node *config, cfg_diag *d)
{
    http_config cfg;
    bool ok = http_config_parse(config, &cfg, d);
    http_config_free(&cfg);
    return ok;
}

static void on_daemon_ready(bus_t *bus, const bus_msg *msg, void *arg)
{
    http_server *srv = arg;
    if (!srv->ready)
        log_info("http: the daemon is ready: /health answers 200");
    srv->ready = true;
    announce_mcp_url(srv);
}

/* Started by a reload, the plugin hears no sys.<machine_id>.ready: it asks.
 * At the daemon's own start nobody answers yet, and the event tells. */
static void on_daemon_status(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    http_server *srv = arg;
    srv->status_req = 0;
    const char *state =
        st == BUS_REPLY_OK ? json_string_value(json_object_get(m->data, "state")) : NULL;
    if (state && strcmp(state, "starting") != 0)
        on_daemon_ready(bus, m, srv);
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    http_server *srv = w->data;
    if (!srv->stopping)
        log_info("http: the daemon is stopping: /health answers 503");
    srv->stopping = true;
}

static void server_free(http_server *srv)
{
    if (!srv)
        return;
    http_ws_hub_free(srv->ws);
    http_fleet_hub_free(srv->fleet);
    http_mcp_hub_free(srv->mcp);
    http_web_free(srv->web);
    http_listeners_close_all(srv);
    http_conns_close_all(srv);
    http_refusals_free_all(srv);
    http_auth_free(srv->auth);
    http_tls_free(srv->tls);
    http_ipcount_free_all(srv);
    http_config_free(&srv->cfg);
    if (srv->spare_fd >= 0)
        close(srv->spare_fd);
    free(srv->scratch);
    free(srv);
}

static int http_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    http_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        cfg_error(d, NULL, "http: out of memory");
        return -1;
    }
    srv->ctx = ctx;
    srv->spare_fd = -1;
    if (!http_config_parse(config, &srv->cfg, d))
        goto fail;
    srv->scratch = malloc(HTTP_READ_CHUNK);
    if (!srv->scratch) {
        cfg_error(d, NULL, "http: out of memory");
        goto fail;
    }
    if (srv->cfg.tls_cert) {
        srv->tls = http_tls_new(srv->cfg.tls_cert, srv->cfg.tls_key, d, cfg_get(config, "tls"));
        if (!srv->tls)
            goto fail;
    }
    srv->auth = http_auth_new(srv, &srv->cfg, d);
    if (!srv->auth)
        goto fail;
    srv->ws = http_ws_hub_new(srv);
    if (!srv->ws) {
        cfg_error(d, NULL, "http: cannot start the /ws hub");
        goto fail;
    }
    srv->fleet = http_fleet_hub_new(srv);
    if (!srv->fleet) {
        cfg_error(d, NULL, "http: cannot start the /fleet links");
        goto fail;
    }
    srv->mcp = http_mcp_hub_new(srv);
    if (!srv->mcp) {
        cfg_error(d, NULL, "http: out of memory");
        goto fail;
    }
    srv->web = http_web_new(srv->cfg.web_root);
    if (!srv->web) {
        cfg_error(d, NULL, "http: out of memory");
        goto fail;
    }
    srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ev_signal_init(&srv->sigterm, on_stop_signal, SIGTERM);
    ev_signal_init(&srv->sigint, on_stop_signal, SIGINT);
    srv->sigterm.data = srv->sigint.data = srv;
    ev_timer_init(&srv->tls_watch, on_tls_watch, TLS_WATCH_EVERY, TLS_WATCH_EVERY);
    srv->tls_watch.data = srv;
    if (srv->cfg.tls_cert)
        tls_signature(&srv->cfg, srv->tls_sig, sizeof srv->tls_sig);
    *state = srv;
    return 0;
fail:
    server_free(srv);
    return -1;
}

static int http_start(void *state, cfg_diag *d)
{
    http_server *srv = state;
    if (http_listeners_apply(srv, &srv->cfg, d) != 0)
        return -1;
    srv->started = true;
    char subject[BUS_SUBJECT_MAX + 1];
    snprintf(subject, sizeof subject, "sys.%s.ready", srv->ctx->machine_id);
    srv->ready_sub = bus_subscribe(srv->ctx->bus, subject, on_daemon_ready, srv);
    json_t *q = json_object();
    srv->status_req =
        bus_request(srv->ctx->bus, "cmd.daemon.status", q, 10.0, on_daemon_status, srv);
    json_decref(q);
    ev_signal_start(srv->ctx->loop, &srv->sigterm);
    ev_signal_start(srv->ctx->loop, &srv->sigint);
    ev_timer_start(srv->ctx->loop, &srv->tls_watch);
    announce_mcp_url(srv);
    return 0;
}

/* New listeners and TLS files first; only when all of them work is the
 * old configuration given up.  Limits apply to connections accepted from
 * now on. */
static int http_reload(void *state, const cfg_node *config, cfg_diag *d)
{
    http_server *srv = state;
    http_config cfg;
    if (!http_config_parse(config, &cfg, d)) {
        http_config_free(&cfg);
        return -1;
    }
    http_tls *tls = NULL;
    if (cfg.tls_cert) {
        tls = http_tls_new(cfg.tls_cert, cfg.tls_key, d, cfg_get(config, "tls"));
        if (!tls) {
            http_config_free(&cfg);
            return -1;
        }
    }
    http_tls *old_tls = srv->tls;
    srv->tls = tls;
    if (http_listeners_apply(srv, &cfg, d) != 0) {
        srv->tls = old_tls;
        http_tls_free(tls);
        http_config_free(&cfg);
        return -1;
    }
    http_tls_free(old_tls);
    http_config old = srv->cfg;
    srv->cfg = cfg;
    srv->tls_sig[0] = '\0';
    if (srv->cfg.tls_cert)
        tls_signature(&srv->cfg, srv->tls_sig, sizeof srv->tls_sig);
    http_web_set_root(srv->web, srv->cfg.web_root);
    if (http_auth_reload(srv->auth, &srv->cfg, d) != 0)
        log_warning("http: auth kept part of its old settings (see the messages above)");
    http_config_free(&old);
    announce_mcp_url(srv);
    return 0;
}

static void http_stop(void *state)
{
    http_server *srv = state;
    if (srv->mcp_url[0])
        bus_publish_new(srv->ctx->bus, BOSUN_HTTP_MCP_URL, NULL, json_pack("{s:n}", "url"));
    if (srv->ready_sub)
        bus_unsubscribe(srv->ctx->bus, srv->ready_sub);
    if (srv->status_req)
        bus_request_cancel(srv->ctx->bus, srv->status_req);
    ev_signal_stop(srv->ctx->loop, &srv->sigterm);
    ev_signal_stop(srv->ctx->loop, &srv->sigint);
    ev_timer_stop(srv->ctx->loop, &srv->tls_watch);
    srv->stopping = true;
    server_free(srv);
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "http",
    .kind = BOSUN_PLUGIN_TRANSPORT,
    .description = "HTTP/1.1, WebSocket and TLS on the listen: addresses: /health, the REST API "
                   "v1, /ws",
    .version = BOSUN_VERSION,
    .check = http_check,
    .init = http_init,
    .start = http_start,
    .reload = http_reload,
    .stop = http_stop,
};
