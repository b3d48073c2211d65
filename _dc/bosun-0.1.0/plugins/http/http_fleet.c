/* /fleet: machines' links to this hub (bosun-fleet(7); bosun-http(7),
 * "FLEET LINKS").
 *
 * The socket stays here, with the listener's TLS, connection counts and
 * WebSocket limits (the connection layer is http_wsconn.c, shared with
 * /ws); what the frames mean is the fleet plugin's.  Each text
 * frame of a link goes, in order, as a request on fleet.link.in
 * {conn, peer, frame}; the answer {frames:[…], close, limits?} says what to
 * send back and whether to close.  Frames the hub sends on its own (a
 * replacement, a revocation, a command, a dead link) come on
 * fleet.link.out {conn, frames, close}.  fleet.link.closed {conn} tells the
 * fleet plugin a link is gone.  Without the fleet plugin nobody answers
 * fleet.link.in and a link is closed at its first frame.
 *
 * The route is anonymous: a machine proves who it is with the token in its
 * first frame (machine.register), which only the fleet plugin can check.
 * Until then a link may have one frame in flight; after it, FL_REQS_MAX.
 * A link not registered within limits.ws_auth_timeout is closed with 1008
 * "register timeout", as /ws without credentials is: an anonymous peer that
 * sends nothing (or nothing the fleet plugin takes) must not keep a
 * connection of the hub's for ever.
 * The limits the fleet plugin gives with a successful register (max_message,
 * send_queue, rate) then hold for that link: a frame over max_message is
 * closed with 1009, a link sending faster than rate frames/s (a burst of
 * one second's worth) with 1008, and a link whose unsent frames would pass
 * send_queue with 1013 "slow consumer", so one stuck machine never holds
 * the hub's memory or its other clients.
 *
 * Reading is paced by the answers: a link with FL_READ_AHEAD frames
 * waiting for the fleet plugin (a machine.events batch waits until the
 * store has committed it), or any link while the hub has FL_HUB_AHEAD
 * frames waiting in all, is not read until fewer wait.  The machines'
 * bytes then wait in the kernel and TCP holds them back, instead of the
 * hub parsing every window of every machine at once (1,000 machines with
 * 4,096 events in flight each took the hub to 1.5 GB and stalled its loop
 * past every timeout).  Reaching FL_HUB_AHEAD pauses every registered
 * link at once, so that no more than a read of each comes on top. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/json.h>
#include <bosun/log.h>
#include <bosun/sys.h>
#include <bosun/ws.h>

#include "http_int.h"
#include "http_wsconn.h"

#define FL_REQS_MAX      64 /* frames of one link waiting for the fleet plugin */
#define FL_ID_MAX        32
#define FL_TIMEOUT       30.0 /* seconds the fleet plugin has to answer a frame */
#define FL_CLOSE_RESERVE 256
#define FL_READ_AHEAD    4  /* frames of a link waiting before it is not read */
#define FL_HUB_AHEAD     64 /* frames of all links waiting before none is read */

typedef struct fl_conn fl_conn;

typedef struct fl_req {
    struct fl_req *next;
    fl_conn *c;
    uint64_t bus_id;
} fl_req;

struct fl_conn {
    http_wsconn w;       /* first: the upgraded connection (http_wsconn.h) */
    http_fleet_hub *hub; /* NULL once the hub is gone */
    char id[FL_ID_MAX];
    bool registered : 1; /* the fleet plugin gave limits: it took the register */
    fl_req *reqs;
    size_t n_reqs;
    /* The fleet plugin's limits for this link, once registered. */
    size_t max_message, send_queue;
    double rate, tokens, tokens_at;
    ev_timer register_timer; /* until registered */
};

struct http_fleet_hub {
    http_server *srv;
    http_wsconn_list conns;
    unsigned long long next_id;
    bus_sub *out;
    size_t n_reqs; /* frames of all links waiting for the fleet plugin */
    bool full;     /* n_reqs reached FL_HUB_AHEAD: links may wait for it */
};

static struct ev_loop *hub_loop(const http_fleet_hub *hub)
{
    return http_server_ctx(hub->srv)->loop;
}

static fl_conn *fl_of(http_wsconn *w)
{
    return (fl_conn *)w; /* w is its first member */
}

static const http_limits *limits_of(const fl_conn *c)
{
    return http_wsconn_limits(&c->w);
}

/* ------------------------------------------------------------ lifetime */

static void fl_who(const http_wsconn *w, char *buf, size_t size)
{
    snprintf(buf, size, "link %s", ((const fl_conn *)w)->id);
}

/* ------------------------------------------------------------ pacing */

static void set_paused(fl_conn *c, bool paused)
{
    if (c->w.paused == paused)
        return;
    c->w.paused = paused;
    if (c->w.conn)
        http_stream_pause(c->w.conn, paused);
}

static bool may_read(const fl_conn *c)
{
    return c->n_reqs < FL_READ_AHEAD && c->hub && c->hub->n_reqs < FL_HUB_AHEAD;
}

/* After an answer: c, and once the hub is down to half its bound after
 * reaching it, every paused link (one walk each time the bound was hit). */
static void pace_resume(http_fleet_hub *hub, fl_conn *c)
{
    if (c && c->w.paused && may_read(c))
        set_paused(c, false);
    if (!hub->full || hub->n_reqs >= FL_HUB_AHEAD / 2)
        return;
    hub->full = false;
    for (http_wsconn *w = hub->conns.head; w; w = w->next)
        if (w->paused && may_read(fl_of(w)))
            set_paused(fl_of(w), false);
}

static void reqs_free(fl_conn *c)
{
    bus_t *bus = c->hub ? http_server_bus(c->hub->srv) : NULL;
    size_t n = c->n_reqs;
    while (c->reqs) {
        fl_req *q = c->reqs;
        c->reqs = q->next;
        if (bus)
            bus_request_cancel(bus, q->bus_id);
        free(q);
    }
    c->n_reqs = 0;
    set_paused(c, false);
    if (c->hub) {
        c->hub->n_reqs -= n;
        pace_resume(c->hub, NULL); /* those frames may have been the hub's last */
    }
}

/* Closing began: no register deadline, no answers still awaited. */
static void fl_on_stop(http_wsconn *w)
{
    fl_conn *c = fl_of(w);
    if (c->hub)
        ev_timer_stop(hub_loop(c->hub), &c->register_timer);
    reqs_free(c);
}

/* Tells the fleet plugin the link is gone (once). */
static void fl_teardown(http_wsconn *w)
{
    fl_conn *c = fl_of(w);
    http_fleet_hub *hub = c->hub;
    c->hub = NULL;
    bus_publish_new(http_server_bus(hub->srv), "fleet.link.closed", NULL,
                    json_pack("{s:s}", "conn", c->id));
}

static void fl_free(http_wsconn *w)
{
    free(fl_of(w));
}

static void fl_close(fl_conn *c, unsigned code, const char *reason)
{
    http_wsconn_close(&c->w, code, reason);
}

/* ------------------------------------------------------------ sending */

static void send_frame(fl_conn *c, json_t *frame)
{
    if (c->w.closing || !c->w.conn)
        return;
    size_t len = 0;
    char *text = bosun_json_dump(frame, 0, &len);
    if (!text) {
        fl_close(c, BOSUN_WS_INTERNAL, "internal error: a frame could not be encoded");
        return;
    }
    /* The fleet plugin's send_queue can only lower the listener's bound:
     * past send_queue_max http_stream_send refuses the bytes, and the
     * close frame's reserve must fit under the bound that holds. */
    size_t max = limits_of(c)->send_queue_max;
    if (c->send_queue && (!max || c->send_queue < max))
        max = c->send_queue;
    if (!http_wsconn_fits(&c->w, len, max)) {
        log_warning("http: /fleet %s (link %s): %zu bytes unsent, over the send queue (%zu)",
                    c->w.peer, c->id, http_stream_queued(c->w.conn) + len, max);
        fl_close(c, BOSUN_WS_TRY_AGAIN, "slow consumer");
    } else if (bosun_ws_send_text(c->w.ws, text, len) != 0) {
        log_warning("http: /fleet %s (link %s): a %zu-byte frame could not be queued", c->w.peer,
                    c->id, len);
        fl_close(c, BOSUN_WS_TRY_AGAIN, "slow consumer");
    }
    free(text);
}

/* {frames:[…], close: code|0}: sends the frames, then closes if asked. */
static void apply_answer(fl_conn *c, json_t *data)
{
    json_t *frames = json_object_get(data, "frames"), *f;
    size_t i;
    json_array_foreach(frames, i, f)
    {
        if (json_is_object(f))
            send_frame(c, f);
    }
    json_int_t code = json_integer_value(json_object_get(data, "close"));
    if (code == 0)
        return;
    if (code < 0 || code > 4999 || !bosun_ws_code_sendable((unsigned)code)) {
        /* 1005, 1006, 1015 and the reserved ones never go on the wire (RFC
         * 6455 7.4); the fleet plugin still meant the link to end. */
        log_error("http: /fleet %s (link %s): the fleet plugin asked for close code %lld, which "
                  "may not be sent; closing with %d",
                  c->w.peer, c->id, (long long)code, BOSUN_WS_INTERNAL);
        fl_close(c, BOSUN_WS_INTERNAL, "internal error");
        return;
    }
    fl_close(c, (unsigned)code,
             code == BOSUN_WS_POLICY ? "refused by the hub" : "closed by the hub");
}

/* The limits the fleet plugin gives with a successful register. */
static void take_limits(fl_conn *c, json_t *lim)
{
    if (!json_is_object(lim))
        return;
    json_int_t mm = json_integer_value(json_object_get(lim, "max_message"));
    json_int_t sq = json_integer_value(json_object_get(lim, "send_queue"));
    json_int_t rate = json_integer_value(json_object_get(lim, "rate"));
    if (mm > 0)
        c->max_message = (size_t)mm;
    if (sq > 0)
        c->send_queue = (size_t)sq;
    if (rate > 0) {
        c->rate = (double)rate;
        c->tokens = c->rate;
        c->tokens_at = bosun_monotonic();
    }
    c->registered = true;
    if (c->hub)
        ev_timer_stop(hub_loop(c->hub), &c->register_timer);
}

/* ------------------------------------------------------------ receiving */

static void req_unlink(fl_req *q)
{
    fl_conn *c = q->c;
    for (fl_req **pp = &c->reqs; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            c->n_reqs--;
            if (c->hub)
                c->hub->n_reqs--;
            return;
        }
    }
}

static void on_answer(bus_t *bus, enum bus_reply_status st, const bus_msg *msg, void *arg)
{
    (void)bus;
    fl_req *q = arg;
    fl_conn *c = q->c;
    req_unlink(q);
    free(q);
    if (st == BUS_REPLY_CANCELLED || c->w.closing)
        return;
    if (c->hub)
        pace_resume(c->hub, c);
    if (st != BUS_REPLY_OK || !json_is_array(json_object_get(msg->data, "frames"))) {
        log_error("http: /fleet %s (link %s): the fleet plugin %s", c->w.peer, c->id,
                  st == BUS_REPLY_OK        ? "answered without frames"
                  : st == BUS_REPLY_TIMEOUT ? "did not answer in time"
                                            : "is not loaded");
        fl_close(c, BOSUN_WS_INTERNAL,
                 st == BUS_REPLY_OK || st == BUS_REPLY_TIMEOUT ? "internal error"
                                                               : "this daemon is not a fleet hub");
        return;
    }
    take_limits(c, json_object_get(msg->data, "limits"));
    apply_answer(c, msg->data);
}

/* A token bucket of rate frames/s holding one second's worth, on the
 * monotonic clock: a wall clock set back would drain it for as long. */
static bool within_rate(fl_conn *c)
{
    if (c->rate <= 0)
        return true;
    double now = bosun_monotonic();
    c->tokens += (now - c->tokens_at) * c->rate;
    c->tokens_at = now;
    if (c->tokens > c->rate)
        c->tokens = c->rate;
    if (c->tokens < 1.0)
        return false;
    c->tokens -= 1.0;
    return true;
}

static void fl_on_text(http_wsconn *w, const char *text, size_t len)
{
    fl_conn *c = fl_of(w);
    if (c->w.closing || !c->hub)
        return;
    if (c->max_message && len > c->max_message) {
        log_warning("http: /fleet %s (link %s): a %zu-byte frame, over max_message (%zu)",
                    c->w.peer, c->id, len, c->max_message);
        fl_close(c, BOSUN_WS_TOO_BIG, "frame over max_message");
        return;
    }
    if (!within_rate(c)) {
        log_warning("http: /fleet %s (link %s): more than %.0f frames/s", c->w.peer, c->id,
                    c->rate);
        fl_close(c, BOSUN_WS_POLICY, "rate limit");
        return;
    }
    /* One frame at a time until the register is taken: an unknown peer
     * cannot make the hub hold more. */
    if (c->n_reqs >= (c->registered ? FL_REQS_MAX : 1)) {
        log_warning("http: /fleet %s (link %s): %zu frames waiting for the hub", c->w.peer, c->id,
                    c->n_reqs);
        fl_close(c, BOSUN_WS_POLICY, "too many frames in flight");
        return;
    }
    bosun_json_error err;
    json_t *frame = bosun_json_parse(text, len, BOSUN_JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(frame)) {
        char why[320];
        if (frame)
            snprintf(why, sizeof why, "a frame must be a JSON object");
        else
            snprintf(why, sizeof why, "invalid JSON at column %d: %s", err.column, err.text);
        json_decref(frame);
        json_t *e =
            json_pack("{s:s,s:{s:b,s:{s:s,s:s}},s:f}", "subject", "machine.error", "data", "ok", 0,
                      "error", "code", "bad_request", "message", why, "time", bosun_now());
        send_frame(c, e);
        json_decref(e);
        fl_close(c, BOSUN_WS_POLICY, "bad frame");
        return;
    }
    json_t *d = json_pack("{s:s,s:s,s:o,s:I}", "conn", c->id, "peer", c->w.peer, "frame", frame,
                          "bytes", (json_int_t)len);
    fl_req *q = d ? calloc(1, sizeof *q) : NULL;
    if (q) {
        q->c = c;
        q->bus_id =
            bus_request(http_server_bus(c->hub->srv), "fleet.link.in", d, FL_TIMEOUT, on_answer, q);
    }
    json_decref(d);
    if (!q || !q->bus_id) {
        free(q);
        fl_close(c, BOSUN_WS_INTERNAL, "internal error: out of memory");
        return;
    }
    q->next = c->reqs;
    c->reqs = q;
    c->n_reqs++;
    if (++c->hub->n_reqs >= FL_HUB_AHEAD && !c->hub->full) {
        /* Every link at once: each one read before its turn came would
         * bring another window's batch (1,000 links, 1,000 batches). */
        c->hub->full = true;
        for (http_wsconn *o = c->hub->conns.head; o; o = o->next)
            if (fl_of(o)->registered)
                set_paused(fl_of(o), true);
    }
    if (!may_read(c))
        set_paused(c, true);
}

static void on_register_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    fl_conn *c = w->data;
    log_notice("http: /fleet %s (link %s): not registered within ws_auth_timeout (%.0f s)",
               c->w.peer, c->id, limits_of(c)->ws_auth_timeout);
    fl_close(c, BOSUN_WS_POLICY, "register timeout");
}

/* ------------------------------------------------------------ fleet.link.out */

static void on_link_out(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus;
    http_fleet_hub *hub = arg;
    const char *id = json_string_value(json_object_get(m->data, "conn"));
    if (!id)
        return;
    for (http_wsconn *w = hub->conns.head; w; w = w->next) {
        fl_conn *c = fl_of(w);
        if (strcmp(c->id, id) == 0) {
            apply_answer(c, m->data);
            return;
        }
    }
    /* The link closed meanwhile: fleet.link.closed is on its way. */
    log_debug("http: /fleet: frames for link %s, which is gone", id);
}

/* ------------------------------------------------------------ upgrade */

static void fl_on_open(http_wsconn *w)
{
    fl_conn *c = fl_of(w);
    log_info("http: /fleet %s: link %s open", c->w.peer, c->id);
    ev_timer_start(hub_loop(c->hub), &c->register_timer);
}

static const http_wsconn_ops conn_ops = {
    .route = "/fleet",
    .who = fl_who,
    .on_text = fl_on_text,
    .on_open = fl_on_open,
    .on_drain = NULL,
    .room = NULL, /* pings go whatever the queue holds */
    .on_stop = fl_on_stop,
    .teardown = fl_teardown,
    .free = fl_free,
};

static fl_conn *conn_new(http_fleet_hub *hub, http_request *r)
{
    if (!hub->out)
        hub->out = bus_subscribe(http_server_bus(hub->srv), "fleet.link.out", on_link_out, hub);
    fl_conn *c = hub->out ? calloc(1, sizeof *c) : NULL;
    if (!c)
        return NULL;
    if (http_wsconn_init(&c->w, &conn_ops, hub->srv, &hub->conns, r) != 0) {
        free(c);
        return NULL;
    }
    const http_limits *lim = &http_server_config(hub->srv)->limits;
    c->hub = hub;
    snprintf(c->id, sizeof c->id, "f%llu", ++hub->next_id);
    ev_timer_init(&c->register_timer, on_register_timer,
                  lim->ws_auth_timeout > 0 ? lim->ws_auth_timeout : 10, 0);
    c->register_timer.data = c;
    return c;
}

static void fleet_handler(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    http_fleet_hub *hub = http_server_fleet(r->srv);
    char accept[BOSUN_WS_ACCEPT_LEN + 1];
    if (!http_wsconn_check(r, accept))
        return;
    fl_conn *c;
    if (!hub || !(c = conn_new(hub, r))) {
        http_respond_error(r, 500, "internal", "cannot open the fleet link");
        return;
    }
    http_wsconn_open(&c->w, r, accept);
}

const http_route http_fleet_routes[] = {
    {"GET", "/fleet", fleet_handler, HTTP_ALLOW_ANON, HTTP_BODY_NONE},
};
const size_t http_fleet_n_routes = sizeof http_fleet_routes / sizeof *http_fleet_routes;

/* ------------------------------------------------------------ hub */

http_fleet_hub *http_fleet_hub_new(http_server *srv)
{
    http_fleet_hub *hub = calloc(1, sizeof *hub);
    if (hub)
        hub->srv = srv;
    return hub;
}

void http_fleet_hub_free(http_fleet_hub *hub)
{
    if (!hub)
        return;
    while (hub->conns.head)
        http_wsconn_shutdown(hub->conns.head);
    if (hub->out)
        bus_unsubscribe(http_server_bus(hub->srv), hub->out);
    free(hub);
}
