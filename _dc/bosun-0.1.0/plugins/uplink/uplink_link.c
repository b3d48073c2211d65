/* The WebSocket session to the hub: the upgrade over the byte stream,
 * then <bosun/ws.h> (wslay, client role: masked frames) with the
 * message bound of UPLINK_RX_MAX.  Any bytes from the hub count as a sign
 * of life (on_rx); the plugin decides when silence means a dead link.
 *
 * The link may be freed from inside any of its callbacks: entries from
 * the stream count their depth, and the memory goes when the outermost
 * returns. */
#include "config.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/ws.h>

#include "uplink.h"
#include "uplink_net.h"

enum link_state { L_CONNECTING, L_UPGRADING, L_OPEN, L_DONE };

struct uplink_link {
    struct ev_loop *loop;
    uplink_link_ops ops;
    void *arg;
    enum link_state state;
    uplink_net *net;
    char *host_header, *path;
    uplink_upgrade *up;
    bosun_ws *ws;
    int depth;
    bool doomed;
};

static void destroy(uplink_link *l)
{
    uplink_net_free(l->net);
    uplink_upgrade_free(l->up);
    bosun_ws_free(l->ws);
    free(l->host_header);
    free(l->path);
    free(l);
}

static void enter(uplink_link *l)
{
    l->depth++;
}

static void leave(uplink_link *l)
{
    if (--l->depth == 0 && l->doomed)
        destroy(l);
}

/* Tells the owner, once. */
static void finish(uplink_link *l, const char *why)
{
    if (l->state == L_DONE || l->doomed)
        return;
    l->state = L_DONE;
    l->ops.on_closed(l->arg, why);
}

/* ------------------------------------------------------------ session */

static bool ws_write(void *arg, const void *data, size_t len)
{
    uplink_link *l = arg;
    return uplink_net_write(l->net, data, len);
}

static void ws_text(void *arg, const char *text, size_t len)
{
    uplink_link *l = arg;
    if (l->state == L_OPEN && !l->doomed)
        l->ops.on_text(l->arg, text, len);
}

static void ws_close(void *arg, unsigned code, const char *reason)
{
    uplink_link *l = arg;
    char why[UPLINK_WHY_MAX], r[BOSUN_WS_REASON_MAX + 1];
    uplink_printable(reason, BOSUN_WS_REASON_MAX, r, sizeof r);
    if (code == BOSUN_WS_ABNORMAL)
        snprintf(why, sizeof why, "the connection to the hub failed");
    else if (bosun_ws_ended_by_us(l->ws)) /* e.g. a close code never sent */
        snprintf(why, sizeof why, "the hub broke the WebSocket protocol (we closed with %u: %s)",
                 code, r);
    else
        snprintf(why, sizeof why, "the hub closed the link (%u%s%s)", code, r[0] ? ": " : "", r);
    uplink_net_flush(l->net); /* our answering close frame */
    finish(l, why);
}

static int open_session(uplink_link *l)
{
    static const bosun_ws_ops ops = {.write = ws_write, .on_text = ws_text, .on_close = ws_close};
    bosun_ws_limits lim = {.frame_max = UPLINK_RX_MAX, .message_max = UPLINK_RX_MAX};
    l->ws = bosun_ws_new(BOSUN_WS_CLIENT, &lim, &ops, l);
    if (!l->ws)
        return -1;
    l->state = L_OPEN;
    uplink_upgrade_free(l->up);
    l->up = NULL;
    return 0;
}

/* ------------------------------------------------------------ stream */

static void net_connected(void *arg)
{
    uplink_link *l = arg;
    enter(l);
    char *req = NULL;
    size_t len = 0;
    l->up = uplink_upgrade_new(l->host_header, l->path, &req, &len);
    if (!l->up)
        finish(l, "out of memory");
    else if (!uplink_net_write(l->net, req, len))
        finish(l, "cannot queue the upgrade request");
    else
        l->state = L_UPGRADING;
    free(req);
    leave(l);
}

static void net_data(void *arg, const char *buf, size_t len)
{
    uplink_link *l = arg;
    enter(l);
    if (l->ops.on_rx)
        l->ops.on_rx(l->arg);
    if (l->state == L_UPGRADING && !l->doomed) {
        size_t used = 0;
        int status = 0;
        char why[UPLINK_WHY_MAX];
        enum uplink_upgrade_result r =
            uplink_upgrade_feed(l->up, buf, len, &used, &status, why, sizeof why);
        if (r == UPLINK_UPGRADE_FAIL)
            finish(l, why);
        else if (r == UPLINK_UPGRADE_DONE) {
            if (open_session(l) != 0)
                finish(l, "out of memory");
            else {
                l->ops.on_open(l->arg);
                buf += used;
                len -= used;
            }
        }
        if (r != UPLINK_UPGRADE_DONE)
            len = 0;
    }
    if (len > 0 && l->state == L_OPEN && !l->doomed && bosun_ws_feed(l->ws, buf, len) != 0)
        finish(l, "the WebSocket session with the hub ended");
    leave(l);
}

static void net_drained(void *arg)
{
    uplink_link *l = arg;
    enter(l);
    if (l->state == L_OPEN && l->ops.on_drained)
        l->ops.on_drained(l->arg);
    leave(l);
}

static void net_failed(void *arg, const char *why)
{
    uplink_link *l = arg;
    enter(l);
    finish(l, why);
    leave(l);
}

/* ------------------------------------------------------------ API */

uplink_link *uplink_link_new(struct ev_loop *loop, const uplink_cfg *cfg, void *tls_ctx,
                             const uplink_link_ops *ops, void *arg)
{
    static const uplink_net_ops net_ops = {.on_connected = net_connected,
                                           .on_data = net_data,
                                           .on_drained = net_drained,
                                           .on_failed = net_failed};
    uplink_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->loop = loop;
    l->ops = *ops;
    l->arg = arg;
    l->host_header = strdup(cfg->host_header);
    l->path = strdup(cfg->path);
    if (l->host_header && l->path)
        l->net = uplink_net_new(loop, cfg->host, cfg->port, cfg->tls ? tls_ctx : NULL,
                                cfg->insecure, &net_ops, l);
    if (!l->net) {
        destroy(l);
        return NULL;
    }
    return l;
}

int uplink_link_send(uplink_link *l, const char *text, size_t len)
{
    if (l->state != L_OPEN || l->doomed)
        return -1;
    return bosun_ws_send_text(l->ws, text, len);
}

int uplink_link_ping(uplink_link *l)
{
    if (l->state != L_OPEN || l->doomed)
        return -1;
    return bosun_ws_ping(l->ws, "bosun", 5);
}

size_t uplink_link_queued(const uplink_link *l)
{
    return l->net ? uplink_net_queued(l->net) : 0;
}

void uplink_link_close(uplink_link *l, unsigned code, const char *reason)
{
    if (!l)
        return;
    if (l->state == L_OPEN && !l->doomed && bosun_ws_close(l->ws, code, reason) == 0)
        uplink_net_flush(l->net);
    uplink_link_free(l);
}

void uplink_link_free(uplink_link *l)
{
    if (!l)
        return;
    l->doomed = true;
    l->state = L_DONE;
    if (l->depth == 0)
        destroy(l);
}
