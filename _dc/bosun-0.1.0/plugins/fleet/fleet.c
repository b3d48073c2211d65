/* fleet — the hub side of the machine uplink (kind transport).
 *
 * Serves the machine registry on the bus (cmd.machine.token.create, list,
 * show, revoke) and the link protocol of bosun-http(7) "/fleet": the http
 * plugin owns the socket and relays each text frame of a /fleet connection
 * as a request on fleet.link.in {conn, peer, frame}; the reply says which
 * frames to send back and whether to close.  Frames the hub sends on its own
 * (a replacement, a revocation, a dead link) are published on
 * fleet.link.out {conn, frames, close}.  Keeping the socket in the http
 * plugin means its frame-size and send-queue limits hold for machines too. */
#include "config.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/bosun.h>

#include "fleet_events.h"
#include "fleet_registry.h"
#include "fleet_route.h"
#include "fleet_store.h"

#define LINKS_MAX 4096
#define CONN_MAX  64

typedef struct fleet_link {
    char conn[CONN_MAX + 1];
    char machine[FLEET_ID_MAX + 1];
    double last_frame;
} fleet_link;

/* A first registration waiting for the registry to be written. */
typedef struct fleet_pending {
    struct fleet_pending *next;
    char *reply; /* the relay's request (NULL: nobody waits) */
    char conn[CONN_MAX + 1];
    char *peer;
    json_t *frame, *out;
    fleet_trade trade; /* undone when the write fails */
    bool gone;         /* the link closed meanwhile */
} fleet_pending;

/* A request that came before the registry was loaded, handled once it is. */
typedef struct fleet_held {
    struct fleet_held *next;
    bus_handler fn;
    char *subject, *reply;
    json_t *data;
    double time;
} fleet_held;

#define HELD_MAX 4096

typedef struct fleet {
    const bosun_ctx *ctx;
    fleet_registry *reg;
    fleet_route *route;
    fleet_events *ev; /* machine.events and acked_seq (fleet_events.c) */
    double heartbeat_timeout;
    unsigned long long max_message, send_queue;
    long long rate;
    fleet_link *links;
    size_t nlinks;
    ev_timer timer;
    ev_timer flush; /* writes the registry once for the pending */
    fleet_pending *pending, **pending_tail;
    fleet_store *store; /* the registry's rows in the store (fleet_store.c) */
    bool loaded;        /* the registry is filled from the store */
    bool stopping;
    struct fleet_batch *batches; /* written, not committed yet */
    fleet_held *held, **held_tail;
    size_t nheld;
    bus_sub *subs[6];
} fleet;

static const char *const fleet_keys[] = {"heartbeat_timeout", "max_message", "send_queue", "rate",
                                         NULL};

typedef struct fleet_cfg {
    double heartbeat_timeout;
    unsigned long long max_message, send_queue;
    long long rate;
} fleet_cfg;

static bool read_config(const cfg_node *c, fleet_cfg *out, cfg_diag *d)
{
    bool ok = cfg_check_keys(c, fleet_keys, d);
    ok = cfg_get_duration(c, "heartbeat_timeout", 90.0, 0.1, 86400.0, &out->heartbeat_timeout, d) &&
         ok;
    ok = cfg_get_size(c, "max_message", 1u << 20, 1024, 64u << 20, &out->max_message, d) && ok;
    ok = cfg_get_size(c, "send_queue", 4u << 20, 4096, 1u << 30, &out->send_queue, d) && ok;
    ok = cfg_get_int(c, "rate", 1000, 1, 1000000, &out->rate, d) && ok;
    return ok;
}

static void apply(fleet *fl, const fleet_cfg *c)
{
    fl->heartbeat_timeout = c->heartbeat_timeout;
    fl->max_message = c->max_message;
    fl->send_queue = c->send_queue;
    fl->rate = c->rate;
}

static bool fleet_check(const cfg_node *config, cfg_diag *d)
{
    fleet_cfg c;
    return read_config(config, &c, d);
}

/* ------------------------------------------------------------ events */

/* Answers a request, taking data. */
static void bus_reply_new(bus_t *bus, const bus_msg *m, json_t *data)
{
    if (m->reply)
        bus_publish_new(bus, m->reply, NULL, data);
    else
        json_decref(data);
}

#define bus_reply_error(bus, m, ...) bus_reply_new(bus, m, bus_error_json(__VA_ARGS__))

static void machine_event(fleet *fl, const char *id, const char *what, json_t *data)
{
    char subject[160];
    snprintf(subject, sizeof subject, "evt.machine.%s.%s", id, what);
    if (!data)
        data = json_object();
    json_object_set_new(data, "machine", json_string(id));
    bus_publish_new(fl->ctx->bus, subject, NULL, data);
}

static json_t *frame(const char *subject, json_t *data)
{
    return json_pack("{s:s,s:o,s:f}", "subject", subject, "data", data, "time", bosun_now());
}

/* Tells the http plugin to send a machine.close and close the link. */
static void close_link(fleet *fl, const char *conn, const char *reason, int code)
{
    json_t *frames = json_pack("[o]", frame("machine.close", json_pack("{s:s}", "reason", reason)));
    bus_publish_new(fl->ctx->bus, "fleet.link.out", NULL,
                    json_pack("{s:s,s:o,s:i}", "conn", conn, "frames", frames, "close", code));
}

/* ------------------------------------------------------------ links */

static fleet_link *link_find(fleet *fl, const char *conn)
{
    for (size_t i = 0; i < fl->nlinks; i++)
        if (strcmp(fl->links[i].conn, conn) == 0)
            return &fl->links[i];
    return NULL;
}

static fleet_link *link_of_machine(fleet *fl, const char *id)
{
    for (size_t i = 0; i < fl->nlinks; i++)
        if (strcmp(fl->links[i].machine, id) == 0)
            return &fl->links[i];
    return NULL;
}

static void link_drop(fleet *fl, fleet_link *l)
{
    fleet_route_gone(fl->route, l->conn);
    if (fleet_registry_offline(fl->reg, l->machine))
        machine_event(fl, l->machine, "offline", NULL);
    *l = fl->links[--fl->nlinks];
}

/* A second link for a machine replaces the first, which is told and closed. */
static fleet_link *link_bind(fleet *fl, const char *conn, const char *id)
{
    fleet_link *old = link_of_machine(fl, id);
    if (old && strcmp(old->conn, conn) != 0) {
        log_notice("fleet: machine %s: link %s replaces link %s", id, conn, old->conn);
        close_link(fl, old->conn, "replaced", 1008);
        fleet_route_gone(fl->route, old->conn);
        *old = fl->links[--fl->nlinks];
    }
    fleet_link *l = link_find(fl, conn);
    if (l && strcmp(l->machine, id) != 0) { /* the link now speaks for another */
        fleet_route_gone(fl->route, conn);
        if (fleet_registry_offline(fl->reg, l->machine))
            machine_event(fl, l->machine, "offline", NULL);
    }
    if (!l) {
        if (fl->nlinks >= LINKS_MAX)
            return NULL;
        if (fl->nlinks % 64 == 0)
            fl->links = realloc(fl->links, (fl->nlinks + 64) * sizeof *fl->links);
        l = &fl->links[fl->nlinks++];
        snprintf(l->conn, sizeof l->conn, "%s", conn);
    }
    snprintf(l->machine, sizeof l->machine, "%s", id);
    l->last_frame = bosun_now();
    return l;
}

static json_t *error_frame(const char *reply, const char *code, const char *msg)
{
    return frame(reply ? reply : "machine.error",
                 json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", code, "message", msg));
}

/* What the http plugin holds a registered link to. */
static json_t *link_limits(const fleet *fl)
{
    return json_pack("{s:I,s:I,s:I}", "max_message", (json_int_t)fl->max_message, "send_queue",
                     (json_int_t)fl->send_queue, "rate", (json_int_t)fl->rate);
}

/* The answer to a register the registry has decided (out, taken); NULL
 * when it is answered later on inbox (fleet_events.c), once the store has
 * said the machine's acked_seq. */
static json_t *registered(fleet *fl, const char *inbox, const char *conn, const char *peer,
                          json_t *f, json_t *out, int *close)
{
    const char *reply = json_string_value(json_object_get(f, "reply"));
    json_t *data = json_object_get(f, "data");
    const char *id = json_string_value(json_object_get(data, "machine_id"));
    if (!json_is_true(json_object_get(out, "ok")) || !link_bind(fl, conn, id)) {
        log_warning("fleet: link %s (%s): register refused: %s", conn, peer ? peer : "?",
                    json_string_value(json_object_get(json_object_get(out, "error"), "code"))
                        ?: "links");
        *close = 1008;
    } else {
        machine_event(fl, id, "online",
                      json_pack("{s:O,s:s?}", "agents",
                                json_object_get(data, "agents") ?: json_null(), "address", peer));
        fleet_events_register(fl->ev, inbox, conn, id, reply ? reply : "machine.register", out,
                              link_limits(fl));
        return NULL;
    }
    return frame(reply ? reply : "machine.register", out);
}

/* A register's answer to the relay: the http plugin holds the link to
 * these limits from now on. */
static void add_limits(fleet *fl, json_t *out)
{
    json_object_set_new(out, "limits", link_limits(fl));
}

static void link_answer(fleet *fl, const char *reply, json_t *frame_out, int close)
{
    json_t *frames = json_array();
    if (frame_out)
        json_array_append_new(frames, frame_out);
    json_t *out = json_pack("{s:o,s:i}", "frames", frames, "close", close);
    if (out && !close)
        add_limits(fl, out);
    bus_publish_new(fl->ctx->bus, reply, NULL, out);
}

static void pending_free(fleet_pending *p)
{
    free(p->reply);
    free(p->peer);
    json_decref(p->frame);
    json_decref(p->out);
    free(p);
}

/* The registrations of one write, answered once it is committed. */
typedef struct fleet_batch {
    struct fleet_batch *next;
    fleet *fl;
    fleet_pending *list;
} fleet_batch;

static void pending_answer(fleet *fl, fleet_pending *p, const char *err)
{
    int close = 1008;
    json_t *ans;
    const char *reply = json_string_value(json_object_get(p->frame, "reply"));
    if (!err && !p->gone) {
        close = 0;
        ans = registered(fl, p->reply, p->conn, p->peer, p->frame, json_incref(p->out), &close);
        if (!ans) /* answered by fleet_events.c */
            return;
    } else {
        ans = error_frame(reply ? reply : "machine.register", "bad_request",
                          p->gone ? "the link closed" : "the hub cannot store the machine");
    }
    if (p->reply)
        link_answer(fl, p->reply, ans, close);
    else
        json_decref(ans);
}

static void on_flushed(void *arg, const char *err)
{
    fleet_batch *b = arg;
    fleet *fl = b->fl;
    for (fleet_batch **q = &fl->batches; *q; q = &(*q)->next)
        if (*q == b) {
            *q = b->next;
            break;
        }
    for (fleet_pending *p = b->list, *next; p; p = next) {
        next = p->next;
        if (err) {
            /* Not in the store: the trade is taken back, its registration
             * token good again, as it is after a restart. */
            fleet_registry_untrade(fl->reg, &p->trade);
            log_warning("fleet: machine %s not registered: %s", p->trade.machine, err);
        }
        if (!fl->stopping)
            pending_answer(fl, p, err);
        pending_free(p);
    }
    free(b);
}

/* One write of the registry for every registration that came meanwhile,
 * then their answers: a burst of machines costs one store transaction, not
 * one each, and none is answered before its token's hash is committed. */
static void on_flush(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    fleet *fl = w->data;
    fleet_batch *b = calloc(1, sizeof *b);
    if (!b) { /* tried again on the next turn */
        ev_timer_set(&fl->flush, 0.1, 0.0);
        ev_timer_start(fl->ctx->loop, &fl->flush);
        return;
    }
    b->fl = fl;
    b->list = fl->pending;
    fl->pending = NULL;
    fl->pending_tail = &fl->pending;
    b->next = fl->batches;
    fl->batches = b;
    fleet_store_write(fl->store, on_flushed, b);
}

/* machine.register: answered now, or once the registry is written. */
static json_t *on_register(fleet *fl, const bus_msg *m, const char *conn, const char *peer,
                           json_t *f, int *close)
{
    fleet_trade trade;
    json_t *out = fleet_registry_register(fl->reg, json_object_get(f, "data"), peer, &trade);
    if (!trade.is)
        return registered(fl, m->reply, conn, peer, f, out, close);
    fleet_pending *p = calloc(1, sizeof *p);
    if (p) {
        p->reply = m->reply ? strdup(m->reply) : NULL;
        p->peer = peer ? strdup(peer) : NULL;
    }
    if (!p || (m->reply && !p->reply) || (peer && !p->peer)) {
        if (p)
            pending_free(p);
        fleet_registry_untrade(fl->reg, &trade);
        *close = 1008;
        json_decref(out);
        return error_frame(json_string_value(json_object_get(f, "reply")), "bad_request",
                           "the hub is out of memory");
    }
    snprintf(p->conn, sizeof p->conn, "%s", conn);
    p->frame = json_incref(f);
    p->out = out;
    p->trade = trade;
    *fl->pending_tail = p;
    fl->pending_tail = &p->next;
    if (!ev_is_active(&fl->flush)) {
        ev_timer_set(&fl->flush, 0.0, 0.0);
        ev_timer_start(fl->ctx->loop, &fl->flush);
    }
    return NULL;
}

/* A frame of a registered link: the frame to answer with, or NULL (none,
 * or with *later set: the answer goes to m's reply subject later). */
static json_t *on_frame(fleet *fl, fleet_link *l, const bus_msg *m, json_t *f, int *close,
                        bool *later)
{
    const char *subject = json_string_value(json_object_get(f, "subject"));
    json_t *data = json_object_get(f, "data");
    l->last_frame = bosun_now();
    if (fleet_route_reply(fl->route, l->machine, subject, data))
        return NULL;
    if (strcmp(subject, "machine.heartbeat") == 0) {
        fleet_registry_seen(fl->reg, l->machine,
                            json_string_value(json_object_get(data, "version")));
        machine_event(fl, l->machine, "heartbeat", json_deep_copy(data));
        return NULL;
    }
    if (strcmp(subject, "machine.events") == 0) {
        /* The relay's size of the frame (0: not given, measured). */
        json_int_t bytes = json_integer_value(json_object_get(m->data, "bytes"));
        json_t *err = fleet_events_batch(fl->ev, m->reply, l->conn, l->machine, data,
                                         bytes > 0 ? (size_t)bytes : 0, close);
        *later = !err && m->reply;
        return err;
    }
    *close = 0;
    return error_frame(json_string_value(json_object_get(f, "reply")), "bad_request",
                       "unknown subject on the fleet link");
}

static bool hold(fleet *fl, const bus_msg *m, bus_handler fn);

/* fleet.link.in {conn, peer, frame} -> {frames:[…], close: code|0}. */
static void on_link_in(bus_t *bus, const bus_msg *m, void *arg)
{
    fleet *fl = arg;
    if (hold(fl, m, on_link_in))
        return;
    const char *conn = json_string_value(json_object_get(m->data, "conn"));
    const char *peer = json_string_value(json_object_get(m->data, "peer"));
    json_t *f = json_object_get(m->data, "frame");
    const char *subject = json_string_value(json_object_get(f, "subject"));
    if (!conn || strlen(conn) > CONN_MAX)
        return bus_reply_error(bus, m, "bad_request", "'conn' must be a link id");
    json_t *frames = json_array();
    int close = 0;
    bool registered = false; /* (a register answered later carries them itself) */
    fleet_link *l = link_find(fl, conn);
    if (!json_is_object(f) || !subject || !json_is_object(json_object_get(f, "data"))) {
        json_array_append_new(frames, error_frame(NULL, "bad_request",
                                                  "a frame is {\"subject\",\"reply\"?,\"data\"}"));
        close = l ? 0 : 1008;
    } else if (strcmp(subject, "machine.register") == 0) {
        json_t *ans = on_register(fl, m, conn, peer, f, &close);
        if (!ans) { /* answered by on_flush or fleet_events.c */
            json_decref(frames);
            return;
        }
        json_array_append_new(frames, ans);
        registered = true;
    } else if (!l) {
        json_array_append_new(frames,
                              error_frame(json_string_value(json_object_get(f, "reply")),
                                          "unauthorized", "machine.register must come first"));
        close = 1008;
    } else {
        bool later = false;
        json_t *out = on_frame(fl, l, m, f, &close, &later);
        if (later) { /* the store's commit answers it (fleet_events.c) */
            json_decref(frames);
            return;
        }
        if (out)
            json_array_append_new(frames, out);
    }
    json_t *out = json_pack("{s:o,s:i}", "frames", frames, "close", close);
    if (out && registered && !close)
        add_limits(fl, out);
    bus_reply_new(bus, m, out);
}

/* fleet.link.closed {conn}: the socket went away. */
static void on_link_closed(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus;
    fleet *fl = arg;
    if (hold(fl, m, on_link_closed))
        return;
    const char *conn = json_string_value(json_object_get(m->data, "conn"));
    for (fleet_pending *p = fl->pending; conn && p; p = p->next)
        if (strcmp(p->conn, conn) == 0)
            p->gone = true;
    for (struct fleet_batch *b = fl->batches; conn && b; b = b->next)
        for (fleet_pending *p = b->list; p; p = p->next)
            if (strcmp(p->conn, conn) == 0)
                p->gone = true;
    fleet_link *l = conn ? link_find(fl, conn) : NULL;
    if (l) {
        log_info("fleet: machine %s: link %s closed", l->machine, l->conn);
        link_drop(fl, l);
    }
}

/* Three missed heartbeats: heartbeat_timeout without a frame. */
static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    fleet *fl = w->data;
    double now = bosun_now();
    for (size_t i = 0; i < fl->nlinks;) {
        fleet_link *l = &fl->links[i];
        if (now - l->last_frame < fl->heartbeat_timeout) {
            i++;
            continue;
        }
        log_warning("fleet: machine %s: no frame for %.1f s, link %s closed", l->machine,
                    now - l->last_frame, l->conn);
        close_link(fl, l->conn, "heartbeat timeout", 1001);
        link_drop(fl, l);
    }
}

/* ------------------------------------------------------------ requests */

/* A request answered once its change is committed to the store. */
typedef struct fleet_wait {
    fleet *fl;
    char *reply; /* NULL: nobody waits */
    char id[FLEET_ID_MAX + 1];
    json_t *out; /* the answer, when committed */
    bool was;    /* revoke: the machine was revoked before */
} fleet_wait;

static fleet_wait *wait_new(fleet *fl, const bus_msg *m, const char *id)
{
    fleet_wait *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->fl = fl;
    w->reply = m->reply ? strdup(m->reply) : NULL;
    if (m->reply && !w->reply) {
        free(w);
        return NULL;
    }
    snprintf(w->id, sizeof w->id, "%s", id);
    return w;
}

static void wait_answer(fleet_wait *w, json_t *data)
{
    if (w->reply && !w->fl->stopping)
        bus_publish_new(w->fl->ctx->bus, w->reply, NULL, data);
    else
        json_decref(data);
    free(w->reply);
    free(w);
}

static void on_token_written(void *arg, const char *err)
{
    fleet_wait *w = arg;
    json_t *out = w->out;
    if (err) {
        fleet_registry_token_drop(w->fl->reg, w->id);
        log_error("fleet: registration token %s not issued: %s", w->id, err);
        json_decref(out); /* holds the secret: never sent */
        out = bus_error_json("internal", "cannot store the token: nothing issued (%s)", err);
    }
    wait_answer(w, out);
}

static void on_token_create(bus_t *bus, const bus_msg *m, void *arg)
{
    fleet *fl = arg;
    if (hold(fl, m, on_token_create))
        return;
    json_t *name = json_object_get(m->data, "name"), *ttl = json_object_get(m->data, "ttl");
    if ((name && (!json_is_string(name) || json_string_length(name) > 128)) ||
        (ttl && (!json_is_number(ttl) || json_number_value(ttl) < 1 ||
                 json_number_value(ttl) > FLEET_TTL_MAX)))
        return bus_reply_error(bus, m, "bad_request",
                               "'name' is text of up to 128 bytes, 'ttl' seconds (1 to 30 d)");
    json_t *out = fleet_registry_token_create(fl->reg, json_string_value(name),
                                              ttl ? json_number_value(ttl) : 0);
    const char *id = json_string_value(json_object_get(json_object_get(out, "registration"), "id"));
    if (!id)
        return bus_reply_new(bus, m, out); /* the error */
    fleet_wait *w = wait_new(fl, m, id);
    if (!w) {
        fleet_registry_token_drop(fl->reg, id);
        json_decref(out);
        return bus_reply_error(bus, m, "internal", "out of memory: nothing issued");
    }
    /* Shown only once its hash is committed: a token the hub forgets after
     * a crash would be handed to a machine for nothing. */
    w->out = out;
    fleet_store_write(fl->store, on_token_written, w);
}

static void on_list(bus_t *bus, const bus_msg *m, void *arg)
{
    fleet *fl = arg;
    if (hold(fl, m, on_list))
        return;
    bus_reply_new(bus, m, fleet_registry_list(fl->reg));
}

static void on_show(bus_t *bus, const bus_msg *m, void *arg)
{
    fleet *fl = arg;
    if (hold(fl, m, on_show))
        return;
    const char *id = json_string_value(json_object_get(m->data, "id"));
    json_t *o = id ? fleet_registry_show(fl->reg, id) : NULL;
    if (!o)
        return bus_reply_error(bus, m, "not_found", "no machine %s", id ? id : "(none)");
    bus_reply_new(bus, m, json_pack("{s:o}", "machine", o));
}

static void on_revoke_written(void *arg, const char *err)
{
    fleet_wait *w = arg;
    fleet *fl = w->fl;
    if (err) {
        if (!w->was)
            fleet_registry_unrevoke(fl->reg, w->id);
        return wait_answer(w, bus_error_json("internal", "cannot store the revocation: %s", err));
    }
    if (!fl->stopping) {
        log_notice("fleet: machine %s revoked", w->id);
        fleet_link *l = link_of_machine(fl, w->id);
        if (l) {
            close_link(fl, l->conn, "revoked", 1008);
            fleet_route_gone(fl->route, l->conn);
            *l = fl->links[--fl->nlinks];
        }
        if (fleet_registry_offline(fl->reg, w->id) || l)
            machine_event(fl, w->id, "offline", NULL);
        machine_event(fl, w->id, "revoked", NULL);
    }
    wait_answer(w, json_pack("{s:s,s:b}", "id", w->id, "revoked", 1));
}

/* The machine's token is refused at once; the link is closed and the
 * answer given once the revocation is committed. */
static void on_revoke(bus_t *bus, const bus_msg *m, void *arg)
{
    fleet *fl = arg;
    if (hold(fl, m, on_revoke))
        return;
    const char *id = json_string_value(json_object_get(m->data, "id"));
    int was = id ? fleet_registry_revoke(fl->reg, id) : -1;
    if (was == -1)
        return bus_reply_error(bus, m, "not_found", "no machine %s", id ? id : "(none)");
    fleet_wait *w = wait_new(fl, m, id);
    if (!w) {
        if (!was)
            fleet_registry_unrevoke(fl->reg, id);
        return bus_reply_error(bus, m, "internal", "out of memory");
    }
    w->was = was;
    fleet_store_write(fl->store, on_revoke_written, w);
}

/* ------------------------------------------------------------ loading */

/* Before the registry is loaded nothing can be answered right: requests
 * and link frames wait (in order, bounded) and are handled once it is. */
static bool hold(fleet *fl, const bus_msg *m, bus_handler fn)
{
    if (fl->loaded)
        return false;
    fleet_held *h = fl->nheld < HELD_MAX ? calloc(1, sizeof *h) : NULL;
    if (h) {
        h->subject = strdup(m->subject);
        h->reply = m->reply ? strdup(m->reply) : NULL;
    }
    if (!h || !h->subject || (m->reply && !h->reply)) {
        if (h) {
            free(h->subject);
            free(h->reply);
            free(h);
        }
        bus_reply_error(fl->ctx->bus, m, "unavailable",
                        "the hub is loading its machines registry; try again");
        return true;
    }
    h->fn = fn;
    h->data = json_incref(m->data);
    h->time = m->time;
    *fl->held_tail = h;
    fl->held_tail = &h->next;
    fl->nheld++;
    return true;
}

static void held_free(fleet_held *h)
{
    free(h->subject);
    free(h->reply);
    json_decref(h->data);
    free(h);
}

static void on_loaded(void *arg)
{
    fleet *fl = arg;
    fl->loaded = true;
    fleet_held *h = fl->held;
    fl->held = NULL;
    fl->held_tail = &fl->held;
    fl->nheld = 0;
    while (h) {
        fleet_held *next = h->next;
        bus_msg m = {.subject = h->subject, .reply = h->reply, .data = h->data, .time = h->time};
        h->fn(fl->ctx->bus, &m, fl);
        held_free(h);
        h = next;
    }
}

/* ------------------------------------------------------------ plugin */

static const char *conn_of(void *arg, const char *machine)
{
    fleet_link *l = link_of_machine(arg, machine);
    return l ? l->conn : NULL;
}

static int fleet_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    fleet_cfg c;
    if (!read_config(config, &c, d))
        return -1;
    fleet *fl = calloc(1, sizeof *fl);
    if (!fl) {
        cfg_error(d, NULL, "fleet: out of memory");
        return -1;
    }
    fl->ctx = ctx;
    apply(fl, &c);
    fl->reg = fleet_registry_new();
    fl->ev = fleet_events_new(ctx->bus);
    fl->store = fl->reg ? fleet_store_new(ctx, fl->reg) : NULL;
    fl->route = fl->reg ? fleet_route_new(ctx, fl->reg, conn_of, fl) : NULL;
    if (!fl->reg || !fl->ev || !fl->store || !fl->route) {
        cfg_error(d, NULL, "fleet: out of memory");
        fleet_route_free(fl->route);
        fleet_store_free(fl->store);
        fleet_registry_free(fl->reg);
        fleet_events_free(fl->ev);
        free(fl);
        return -1;
    }
    ev_timer_init(&fl->timer, on_timer, 1.0, 1.0);
    fl->timer.data = fl;
    ev_timer_init(&fl->flush, on_flush, 0.0, 0.0);
    fl->flush.data = fl;
    fl->pending_tail = &fl->pending;
    fl->held_tail = &fl->held;
    *state = fl;
    return 0;
}

static void set_timer(fleet *fl)
{
    double every = fl->heartbeat_timeout / 3 < 1.0 ? fl->heartbeat_timeout / 3 : 1.0;
    ev_timer_stop(fl->ctx->loop, &fl->timer);
    ev_timer_set(&fl->timer, every, every);
    ev_timer_start(fl->ctx->loop, &fl->timer);
}

static int fleet_start(void *state, cfg_diag *d)
{
    fleet *fl = state;
    static const struct {
        const char *subject;
        bus_handler fn;
    } subs[] = {{"cmd.machine.token.create", on_token_create},
                {"cmd.machine.list", on_list},
                {"cmd.machine.show", on_show},
                {"cmd.machine.revoke", on_revoke},
                {"fleet.link.in", on_link_in},
                {"fleet.link.closed", on_link_closed}};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        fl->subs[i] = bus_subscribe(fl->ctx->bus, subs[i].subject, subs[i].fn, fl);
        if (!fl->subs[i]) {
            cfg_error(d, NULL, "fleet: cannot subscribe to %s", subs[i].subject);
            return -1;
        }
    }
    if (fleet_route_start(fl->route) != 0) {
        cfg_error(d, NULL, "fleet: cannot subscribe to fleet.route");
        return -1;
    }
    set_timer(fl);
    /* Requests wait (hold()) until the store has answered. */
    fleet_store_load(fl->store, on_loaded, fl);
    return 0;
}

static int fleet_reload(void *state, const cfg_node *config, cfg_diag *d)
{
    fleet *fl = state;
    fleet_cfg c;
    if (!read_config(config, &c, d))
        return -1;
    apply(fl, &c);
    set_timer(fl);
    return 0;
}

static void fleet_stop(void *state)
{
    fleet *fl = state;
    fl->stopping = true;
    ev_timer_stop(fl->ctx->loop, &fl->timer);
    ev_timer_stop(fl->ctx->loop, &fl->flush);
    /* Trades never answered are taken back: their registration tokens are
     * still good after a restart. */
    while (fl->pending) {
        fleet_pending *p = fl->pending;
        fl->pending = p->next;
        fleet_registry_untrade(fl->reg, &p->trade);
        pending_free(p);
    }
    fleet_store_free(fl->store); /* the waiting writes' callbacks free theirs */
    while (fl->held) {
        fleet_held *h = fl->held;
        fl->held = h->next;
        held_free(h);
    }
    for (size_t i = 0; i < sizeof fl->subs / sizeof fl->subs[0]; i++)
        if (fl->subs[i])
            bus_unsubscribe(fl->ctx->bus, fl->subs[i]);
    fleet_route_free(fl->route);
    fleet_events_free(fl->ev);
    fleet_registry_free(fl->reg);
    free(fl->links);
    free(fl);
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "fleet",
    .kind = BOSUN_PLUGIN_TRANSPORT,
    .description = "the hub side of the machine uplink: registry, tokens, /fleet links",
    .version = BOSUN_VERSION,
    .check = fleet_check,
    .init = fleet_init,
    .start = fleet_start,
    .reload = fleet_reload,
    .stop = fleet_stop,
};
