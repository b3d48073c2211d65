/* uplink — a machine's link to its hub (kind transport; bosun-fleet(7)).
 *
 * Once the daemon is ready (sys.<machine>.ready) the plugin links to the
 * hub's /fleet, registers with its permanent token (or, the first time,
 * a registration token, traded for a permanent one that it writes to
 * token_file), then heartbeats, forwards its events (uplink_forward.c) and
 * runs the hub's commands (uplink_cmd.c).
 *
 * Attempts: every failure before a successful register waits the next
 * back-off (1 s doubling to backoff_max, +-20 %) and tries again, for ever;
 * the loss of a registered link first waits a random splay of up to
 * reconnect_splay (uplink_backoff.c says why), then the back-off goes on.
 * Except when the hub refuses the permanent token (token_revoked,
 * token_invalid) or says the machine was revoked: retrying cannot help, so
 * it stops until a reload.  Every attempt and its wait are logged at info,
 * the first failure of a series at notice.  An attempt has connect_timeout
 * to reach a registered link.
 *
 * A dead link: the plugin pings every heartbeat; no byte from the hub for
 * three heartbeats (a link cut without a close: a frozen network) closes
 * it and reconnects. */
#include "config.h"

#include <ev.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/ws.h>

#include "uplink.h"

#define DEAD_BEATS   3
#define REFUSED_POLL 5.0 /* seconds between looks at a refused token's file */

enum up_state {
    S_IDLE,        /* not started, or waiting for the daemon to be ready */
    S_WAIT,        /* backing off */
    S_CONNECTING,  /* resolving, connecting, TLS, upgrade */
    S_REGISTERING, /* machine.register sent */
    S_LINKED,
    S_REFUSED, /* the hub refused the permanent token: until a reload */
};

typedef struct uplink {
    const bosun_ctx *ctx;
    uplink_cfg cfg;
    void *tls;
    uplink_backoff backoff;
    enum up_state state;
    uplink_link *link;
    uplink_agents *agents;
    uplink_fwd *fwd;
    uplink_cmd *cmd;
    ev_timer timer; /* the back-off wait, or the attempt's deadline */
    ev_timer beat;  /* heartbeats and the dead-link check */
    double last_rx;
    unsigned attempt;  /* of this series, from 1 */
    unsigned failures; /* since the last successful register */
    bool splaying;     /* the link was lost and not registered again: every
                        * wait until then has a splay of its own */
    unsigned long n_register;
    char reg_reply[32];
    char *token; /* for this attempt's machine.register, until it is sent */
    bool token_is_reg;
    bool ready;
    bus_sub *ready_sub;
    uint64_t status_req;
    char refused_code[65];  /* the last registration refusal logged */
    struct stat refused_st; /* token_file when its token was refused */
    bool refused_st_ok;
} uplink;

static void attempt(uplink *u);

/* ------------------------------------------------------------ sending */

static int send_text(void *arg, const char *text, size_t len)
{
    uplink *u = arg;
    return u->link && u->state == S_LINKED ? uplink_link_send(u->link, text, len) : -1;
}

static size_t queued(void *arg)
{
    uplink *u = arg;
    return u->link ? uplink_link_queued(u->link) : 0;
}

static int send_frame(uplink *u, const char *subject, const char *reply, json_t *data)
{
    size_t len;
    char *text = uplink_frame(subject, reply, data, &len);
    if (!text)
        return -1;
    int rc = u->link ? uplink_link_send(u->link, text, len) : -1;
    explicit_bzero(text, len); /* machine.register holds a token */
    free(text);
    return rc;
}

/* ------------------------------------------------------------ attempts */

static double jitter_random(void)
{
    uint32_t r = 0;
    if (bosun_random_bytes(&r, sizeof r) != 0)
        return 0.5;
    return r / 4294967296.0;
}

static void forget_token(uplink *u)
{
    if (u->token) {
        explicit_bzero(u->token, strlen(u->token));
        free(u->token);
        u->token = NULL;
    }
}

static void drop_link(uplink *u)
{
    forget_token(u);
    ev_timer_stop(u->ctx->loop, &u->timer);
    ev_timer_stop(u->ctx->loop, &u->beat);
    uplink_fwd_unlinked(u->fwd);
    uplink_cmd_unlinked(u->cmd);
    uplink_link_free(u->link);
    u->link = NULL;
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents);

static void wait_then_attempt(uplink *u, double secs)
{
    u->state = S_WAIT;
    ev_timer_stop(u->ctx->loop, &u->timer);
    ev_timer_set(&u->timer, secs, 0.0);
    ev_timer_start(u->ctx->loop, &u->timer);
}

/* The attempt failed, or the link was lost: the next wait. */
static void failed(uplink *u, const char *why)
{
    bool was_linked = u->state == S_LINKED;
    drop_link(u);
    /* A lost link: every machine of the hub may have lost it at once. */
    bool splay = was_linked && u->cfg.reconnect_splay > 0;
    if (was_linked) {
        u->attempt = 0;
        u->failures = 0;
        u->splaying = splay;
    }
    double wait = splay ? uplink_splay(u->cfg.reconnect_splay, jitter_random())
                        : uplink_backoff_next(&u->backoff, jitter_random());
    /* Those of the herd that tried while the hub was still down would come
     * back together, 1 s and 2 s later, as it is up again: each of their
     * waits gets a fresh splay too, until they are registered. */
    double extra = !splay && u->splaying && u->cfg.reconnect_splay > 0
                       ? uplink_splay(u->cfg.reconnect_splay, jitter_random())
                       : 0;
    wait += extra;
    if (++u->failures > 1 && extra > 0)
        log_info("uplink: attempt %u to link to the hub at %s failed: %s; trying again in %.2f s "
                 "(the back-off's %.2f s and a splay of %.2f s)",
                 u->attempt, u->cfg.hub, why, wait, wait - extra, extra);
    else if (u->failures > 1)
        log_info("uplink: attempt %u to link to the hub at %s failed: %s; trying again in %.2f s",
                 u->attempt, u->cfg.hub, why, wait);
    else if (splay)
        log_notice("uplink: the link to the hub at %s was lost: %s; reconnecting in %.2f s (a "
                   "random splay of at most %.2f s, reconnect_splay)",
                   u->cfg.hub, why, wait, u->cfg.reconnect_splay);
    else if (was_linked)
        log_notice("uplink: the link to the hub at %s was lost: %s; reconnecting in %.2f s",
                   u->cfg.hub, why, wait);
    else
        log_notice("uplink: cannot link to the hub at %s: %s; trying again in %.2f s", u->cfg.hub,
                   why, wait);
    wait_then_attempt(u, wait);
}

/* Retrying cannot help: until the token file changes (a new registration
 * token, the old token file removed) or the uplink: section does. */
static void refused(uplink *u, const char *what)
{
    drop_link(u);
    u->state = S_REFUSED;
    u->refused_st_ok = stat(u->cfg.token_file, &u->refused_st) == 0;
    log_error("uplink: %s; not retrying until %s changes or the uplink: section is reloaded", what,
              u->cfg.token_file);
    ev_timer_set(&u->timer, REFUSED_POLL, REFUSED_POLL);
    ev_timer_start(u->ctx->loop, &u->timer);
}

static bool token_file_changed(uplink *u)
{
    struct stat st;
    bool ok = stat(u->cfg.token_file, &st) == 0;
    if (ok != u->refused_st_ok)
        return true;
    return ok && (st.st_ino != u->refused_st.st_ino || st.st_dev != u->refused_st.st_dev ||
                  st.st_size != u->refused_st.st_size ||
                  st.st_mtim.tv_sec != u->refused_st.st_mtim.tv_sec ||
                  st.st_mtim.tv_nsec != u->refused_st.st_mtim.tv_nsec);
}

/* The token for this attempt: the permanent one, else a registration
 * token; NULL with why. */
static char *token_for_attempt(uplink *u, char *why, size_t ws)
{
    bool missing;
    char *t = uplink_token_read(u->cfg.token_file, "bsn_mch_", &missing, why, ws);
    u->token_is_reg = false;
    if (t || !missing)
        return t;
    u->token_is_reg = true;
    if (u->cfg.reg_token)
        return strdup(u->cfg.reg_token);
    if (u->cfg.reg_token_file)
        return uplink_token_read(u->cfg.reg_token_file, "bsn_reg_", &missing, why, ws);
    snprintf(why, ws,
             "no token: %s does not exist and neither registration_token nor "
             "registration_token_file is set",
             u->cfg.token_file);
    return NULL;
}

/* ------------------------------------------------------------ link events */

static void on_open(void *arg)
{
    uplink *u = arg;
    snprintf(u->reg_reply, sizeof u->reg_reply, "r.%lu", ++u->n_register);
    json_t *d = u->token ? json_pack("{s:s,s:s,s:s,s:s,s:o}", "token", u->token, "machine_id",
                                     u->ctx->machine_id, "name", u->cfg.name, "version",
                                     bosun_version(), "agents", uplink_agents_json(u->agents))
                         : NULL;
    forget_token(u);
    u->state = S_REGISTERING;
    if (!d || send_frame(u, "machine.register", u->reg_reply, d) != 0)
        failed(u, "cannot send machine.register");
}

static void on_registered(uplink *u, const uplink_msg *m)
{
    uplink_registered r;
    char why[UPLINK_WHY_MAX + 256], code[65], msg[161];
    if (uplink_registered_read(m->data, &r, why, sizeof why) != 0) {
        failed(u, why);
        return;
    }
    if (!r.ok) {
        uplink_printable(r.code, 64, code, sizeof code);
        uplink_printable(r.message ? r.message : "", 160, msg, sizeof msg);
        if (!u->token_is_reg &&
            (strcmp(r.code, "token_revoked") == 0 || strcmp(r.code, "token_invalid") == 0)) {
            snprintf(why, sizeof why, "the hub refused this machine's token (%s: %s)", code, msg);
            refused(u, why);
            return;
        }
        /* A registration token used, expired or unknown: a new one (in the
         * file, which every attempt reads again) is what helps. */
        if (strcmp(u->refused_code, code) != 0) {
            log_error("uplink: the hub refused the %s token (%s: %s)%s",
                      u->token_is_reg ? "registration" : "machine's", code, msg,
                      u->token_is_reg ? "; give the machine a new registration token" : "");
            snprintf(u->refused_code, sizeof u->refused_code, "%s", code);
        }
        snprintf(why, sizeof why, "registration refused (%s)", code);
        failed(u, why);
        return;
    }
    if (r.machine_token) {
        bosun_secret_add(r.machine_token, 8);
        if (uplink_token_write(u->cfg.token_file, r.machine_token, why, sizeof why) != 0)
            log_error("uplink: cannot keep the machine token the hub issued: %s; this machine "
                      "will need a new registration token after a restart",
                      why);
        else
            log_notice("uplink: the hub issued a machine token, kept in %s", u->cfg.token_file);
    }
    if (r.machine_id && strcmp(r.machine_id, u->ctx->machine_id) != 0) {
        uplink_printable(r.machine_id, 64, code, sizeof code);
        log_warning("uplink: the hub registered this machine as '%s', not '%s'", code,
                    u->ctx->machine_id);
    }
    u->state = S_LINKED;
    u->refused_code[0] = '\0';
    u->attempt = 0;
    u->failures = 0;
    u->splaying = false;
    uplink_backoff_reset(&u->backoff);
    ev_timer_stop(u->ctx->loop, &u->timer);
    ev_timer_set(&u->beat, u->cfg.heartbeat, u->cfg.heartbeat);
    ev_timer_start(u->ctx->loop, &u->beat);
    log_notice("uplink: registered with the hub at %s as %s, the hub has its events up to seq "
               "%lld",
               u->cfg.hub, u->ctx->machine_id, (long long)r.acked_seq);
    uplink_fwd_linked(u->fwd, r.acked_seq);
}

static void on_close_msg(uplink *u, const uplink_msg *m)
{
    char reason[160];
    uplink_printable(json_string_value(json_object_get(m->data, "reason")), 120, reason,
                     sizeof reason);
    if (strcmp(reason, "revoked") == 0) {
        refused(u, "the hub revoked this machine (machine.close: revoked)");
        return;
    }
    char why[UPLINK_WHY_MAX];
    snprintf(why, sizeof why, "the hub closed the link (%s)", reason[0] ? reason : "no reason");
    failed(u, why);
}

static void on_error_msg(const uplink_msg *m)
{
    json_t *e = json_object_get(m->data, "error");
    char code[80], msg[200];
    uplink_printable(json_string_value(json_object_get(e, "code")), 64, code, sizeof code);
    uplink_printable(json_string_value(json_object_get(e, "message")), 160, msg, sizeof msg);
    log_warning("uplink: the hub reports an error: %s: %s", code, msg);
}

static void on_text(void *arg, const char *text, size_t len)
{
    uplink *u = arg;
    uplink_msg m;
    char why[UPLINK_WHY_MAX], s[80];
    if (uplink_msg_parse(text, len, &m, why, sizeof why) != 0) {
        char w2[UPLINK_WHY_MAX + 40];
        snprintf(w2, sizeof w2, "the hub sent an invalid frame: %s", why);
        failed(u, w2);
        return;
    }
    if (m.kind == UPLINK_MSG_CLOSE)
        on_close_msg(u, &m);
    else if (m.kind == UPLINK_MSG_ERROR)
        on_error_msg(&m);
    else if (u->state == S_REGISTERING) {
        if (m.kind == UPLINK_MSG_REPLY && strcmp(m.subject, u->reg_reply) == 0)
            on_registered(u, &m);
        else
            log_warning("uplink: the hub sent %s before answering machine.register; ignored",
                        uplink_printable(m.subject, 64, s, sizeof s));
    } else if (u->state == S_LINKED) {
        if (m.kind == UPLINK_MSG_ACK) {
            if (!uplink_fwd_ack(u->fwd, m.seq))
                log_warning("uplink: the hub acknowledged seq %lld, beyond the %lld sent; ignored",
                            (long long)m.seq, (long long)uplink_fwd_sent(u->fwd));
        } else if (m.kind == UPLINK_MSG_COMMAND)
            uplink_cmd_run(u->cmd, &m);
        else
            log_debug("uplink: ignored %s from the hub",
                      uplink_printable(m.subject, 64, s, sizeof s));
    }
    uplink_msg_clear(&m);
}

static void on_rx(void *arg)
{
    uplink *u = arg;
    u->last_rx = bosun_monotonic();
}

static void on_closed(void *arg, const char *why)
{
    failed(arg, why);
}

static void on_drained(void *arg)
{
    uplink *u = arg;
    if (u->state == S_LINKED)
        uplink_fwd_kick(u->fwd);
}

/* ------------------------------------------------------------ timers */

static void attempt(uplink *u)
{
    static const uplink_link_ops ops = {.on_open = on_open,
                                        .on_text = on_text,
                                        .on_rx = on_rx,
                                        .on_closed = on_closed,
                                        .on_drained = on_drained};
    char why[UPLINK_WHY_MAX];
    u->attempt++;
    u->state = S_CONNECTING;
    log_info("uplink: linking to the hub at %s (attempt %u)", u->cfg.hub, u->attempt);
    /* The token first: without one, connecting is pointless. */
    forget_token(u);
    if (!(u->token = token_for_attempt(u, why, sizeof why))) {
        failed(u, why);
        return;
    }
    bosun_secret_add(u->token, 8);
    if (u->cfg.tls && u->cfg.insecure)
        log_warning("uplink: insecure_skip_verify is set: the hub's certificate is not checked, "
                    "anyone on the way can pose as the hub");
    u->last_rx = bosun_monotonic();
    u->link = uplink_link_new(u->ctx->loop, &u->cfg, u->tls, &ops, u);
    if (!u->link) {
        failed(u, "out of memory");
        return;
    }
    ev_timer_stop(u->ctx->loop, &u->timer);
    ev_timer_set(&u->timer, u->cfg.connect_timeout, 0.0);
    ev_timer_start(u->ctx->loop, &u->timer);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    uplink *u = w->data;
    char why[UPLINK_WHY_MAX];
    if (u->state == S_WAIT)
        attempt(u);
    else if (u->state == S_REFUSED) {
        if (!token_file_changed(u))
            return;
        log_notice("uplink: %s changed: linking to the hub again", u->cfg.token_file);
        ev_timer_stop(u->ctx->loop, &u->timer);
        u->attempt = u->failures = 0;
        u->splaying = false;
        uplink_backoff_reset(&u->backoff);
        attempt(u);
    } else if (u->state == S_CONNECTING || u->state == S_REGISTERING) {
        snprintf(why, sizeof why, "no registered link within %.1f s (connect_timeout)%s",
                 u->cfg.connect_timeout,
                 u->state == S_REGISTERING ? ": the hub did not answer machine.register" : "");
        failed(u, why);
    }
}

static void heartbeat(uplink *u)
{
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) != 3)
        load[0] = load[1] = load[2] = 0;
    json_t *d = json_pack("{s:I,s:[f,f,f],s:s}", "agents_running",
                          (json_int_t)uplink_agents_running(u->agents), "load", load[0], load[1],
                          load[2], "version", bosun_version());
    if (uplink_link_ping(u->link) != 0 || send_frame(u, "machine.heartbeat", NULL, d) != 0)
        failed(u, "cannot send to the hub (its queue is full or the session failed)");
}

static void on_beat(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    uplink *u = w->data;
    if (u->state != S_LINKED)
        return;
    double silent = bosun_monotonic() - u->last_rx;
    if (silent >= DEAD_BEATS * u->cfg.heartbeat) {
        char why[UPLINK_WHY_MAX];
        snprintf(why, sizeof why,
                 "no pong nor any frame from the hub for %.1f s (%d heartbeats of %.1f s): the "
                 "link is dead",
                 silent, DEAD_BEATS, u->cfg.heartbeat);
        log_warning("uplink: %s", why);
        failed(u, why);
        return;
    }
    heartbeat(u);
}

/* ------------------------------------------------------------ readiness */

static void begin(uplink *u)
{
    if (u->ready)
        return;
    u->ready = true;
    if (u->state == S_IDLE)
        attempt(u);
}

static void on_ready(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus, (void)m;
    begin(arg);
}

static void on_status(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    uplink *u = arg;
    u->status_req = 0;
    const char *state =
        st == BUS_REPLY_OK ? json_string_value(json_object_get(m->data, "state")) : NULL;
    if (state && strcmp(state, "running") == 0)
        begin(u); /* added by a reload: sys.<machine>.ready was before us */
}

/* ------------------------------------------------------------ plugin */

static bool uplink_check(const cfg_node *config, cfg_diag *d)
{
    uplink_cfg c;
    if (!uplink_cfg_read(config, "/", "machine", &c, d))
        return false;
    uplink_cfg_free(&c);
    return true;
}

static void uplink_free(uplink *u)
{
    if (u->ready_sub)
        bus_unsubscribe(u->ctx->bus, u->ready_sub);
    if (u->status_req)
        bus_request_cancel(u->ctx->bus, u->status_req);
    uplink_cmd_free(u->cmd);
    uplink_fwd_free(u->fwd);
    uplink_agents_free(u->agents);
    uplink_tls_free(u->tls);
    uplink_cfg_free(&u->cfg);
    free(u);
}

static int uplink_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    uplink *u = calloc(1, sizeof *u);
    char why[UPLINK_WHY_MAX];
    if (!u)
        return cfg_error(d, NULL, "uplink: out of memory"), -1;
    u->ctx = ctx;
    if (!uplink_cfg_read(config, ctx->state_dir, ctx->machine_id, &u->cfg, d)) {
        free(u);
        return -1;
    }
    if (u->cfg.tls && !(u->tls = uplink_tls_new(&u->cfg, why, sizeof why))) {
        cfg_error(d, cfg_get(config, "ca_file"), "uplink: %s", why);
        uplink_free(u);
        return -1;
    }
    uplink_backoff_init(&u->backoff, u->cfg.backoff_max);
    ev_timer_init(&u->timer, on_timer, 1.0, 0.0);
    u->timer.data = u;
    ev_timer_init(&u->beat, on_beat, u->cfg.heartbeat, u->cfg.heartbeat);
    u->beat.data = u;
    uplink_sender out = {.send = send_text, .queued = queued, .arg = u};
    u->agents = uplink_agents_new(ctx->bus);
    u->fwd = u->agents ? uplink_fwd_new(ctx->loop, ctx->bus, ctx->machine_id, &out) : NULL;
    u->cmd = u->fwd ? uplink_cmd_new(ctx->bus, u->agents, &out) : NULL;
    if (!u->cmd) {
        cfg_error(d, NULL, "uplink: out of memory");
        uplink_free(u);
        return -1;
    }
    *state = u;
    return 0;
}

static int uplink_start(void *state, cfg_diag *d)
{
    uplink *u = state;
    char subject[BUS_SUBJECT_MAX + 1];
    snprintf(subject, sizeof subject, "sys.%s.ready", u->ctx->machine_id);
    u->ready_sub = bus_subscribe(u->ctx->bus, subject, on_ready, u);
    if (!u->ready_sub)
        return cfg_error(d, NULL, "uplink: cannot subscribe to %s", subject), -1;
    json_t *e = json_object();
    u->status_req = bus_request(u->ctx->bus, "cmd.daemon.status", e, 30.0, on_status, u);
    json_decref(e);
    uplink_agents_seed(u->agents);
    log_info("uplink: will link to the hub at %s once the daemon is ready", u->cfg.hub);
    return 0;
}

static int uplink_reload(void *state, const cfg_node *config, cfg_diag *d)
{
    uplink *u = state;
    uplink_cfg c;
    char why[UPLINK_WHY_MAX];
    if (!uplink_cfg_read(config, u->ctx->state_dir, u->ctx->machine_id, &c, d))
        return -1;
    void *tls = NULL;
    if (c.tls && !(tls = uplink_tls_new(&c, why, sizeof why))) {
        cfg_error(d, cfg_get(config, "ca_file"), "uplink: %s", why);
        uplink_cfg_free(&c);
        return -1;
    }
    bool relink = uplink_cfg_link_differs(&u->cfg, &c) || u->state == S_REFUSED;
    uplink_cfg_free(&u->cfg);
    u->cfg = c;
    uplink_tls_free(u->tls);
    u->tls = tls; /* open connections hold their own reference */
    u->backoff.cap = c.backoff_max;
    if (relink) {
        if (u->link && u->state == S_LINKED)
            uplink_link_close(u->link, BOSUN_WS_NORMAL, "reconfigured");
        else
            uplink_link_free(u->link);
        u->link = NULL;
        drop_link(u);
        uplink_backoff_reset(&u->backoff);
        u->attempt = 0;
        u->failures = 0;
        u->splaying = false;
        u->refused_code[0] = '\0';
        u->state = S_IDLE;
        log_notice("uplink: reconfigured: linking to the hub at %s again", u->cfg.hub);
        if (u->ready)
            attempt(u);
    } else if (u->state == S_LINKED) {
        ev_timer_stop(u->ctx->loop, &u->beat);
        ev_timer_set(&u->beat, c.heartbeat, c.heartbeat);
        ev_timer_start(u->ctx->loop, &u->beat);
    }
    return 0;
}

static void uplink_stop(void *state)
{
    uplink *u = state;
    if (u->link && u->state == S_LINKED)
        uplink_link_close(u->link, BOSUN_WS_GOING_AWAY, "the machine is stopping");
    else
        uplink_link_free(u->link);
    u->link = NULL;
    drop_link(u);
    uplink_free(u);
    uplink_net_shutdown();
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "uplink",
    .kind = BOSUN_PLUGIN_TRANSPORT,
    .description = "the machine side of the fleet: links to a hub, forwards events, runs its "
                   "commands",
    .version = BOSUN_VERSION,
    .check = uplink_check,
    .init = uplink_init,
    .start = uplink_start,
    .reload = uplink_reload,
    .stop = uplink_stop,
};
