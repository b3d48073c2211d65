/* Forwarded events on the hub (see fleet_events.h).
 *
 * A batch goes to the store as one cmd.store.append_remote; the store
 * answers once it is committed, with the highest machine seq it holds for
 * the machine, and that is the machine.ack.  Nothing is acknowledged that
 * is not on disk, and a batch sent again after a reconnect is skipped by
 * the store's unique (machine, mseq) index, so the copy has no gap and no
 * duplicate whichever side restarts.  If the store cannot take a batch
 * (failing commits, no store, no answer in time) the link is closed with
 * 1011: the machine keeps its events and sends them again after its
 * back-off, from the acked_seq of its next register.
 *
 * What waits for the store is bounded: per link the bytes of its batches
 * (a machine that sends faster than the store commits is told to come back
 * later, 1013), and in all the number of requests. */
#include "config.h"

#include "fleet_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/store.h>

#include "fleet_batch.h"
#include "fleet_store.h"

/* Below the http plugin's 30 s for a fleet.link.in answer: the machine is
 * told why, not closed for a late answer. */
#define STORE_TIMEOUT     20.0
#define LINK_BYTES_MAX    (16u << 20)
#define PENDING_MAX       4096
#define FLEET_CONN_MAX    64
#define FLEET_MACHINE_MAX 64

typedef struct pending {
    struct pending *next;
    fleet_events *fe;
    uint64_t req;
    char conn[FLEET_CONN_MAX + 1];
    char machine[FLEET_MACHINE_MAX + 1];
    size_t bytes, count; /* a batch's */
    char *reply;         /* a register reply's subject, */
    json_t *out;         /* its data (NULL: a batch), */
    char *inbox;         /* where it goes (NULL: fleet.link.out), */
    json_t *limits;      /* with the link's limits for the http plugin */
} pending;

struct fleet_events {
    bus_t *bus;
    pending *list;
    size_t n;
};

static json_t *frame(const char *subject, json_t *data)
{
    return json_pack("{s:s,s:o,s:f}", "subject", subject, "data", data, "time", bosun_now());
}

static json_t *error_data(const char *code, const char *msg)
{
    return json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", code, "message", msg);
}

/* One frame down conn, and a close when code is not 0. */
static void send_frame(fleet_events *fe, const char *conn, json_t *f, int code)
{
    bus_publish_new(fe->bus, "fleet.link.out", NULL,
                    json_pack("{s:s,s:[o],s:i}", "conn", conn, "frames", f, "close", code));
}

static void pending_unlink(fleet_events *fe, pending *p)
{
    for (pending **pp = &fe->list; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            fe->n--;
            return;
        }
}

static void pending_free(pending *p)
{
    free(p->inbox);
    json_decref(p->limits);
    free(p->reply);
    json_decref(p->out);
    free(p);
}

static size_t link_bytes(const fleet_events *fe, const char *conn)
{
    size_t sum = 0;
    for (const pending *p = fe->list; p; p = p->next)
        if (strcmp(p->conn, conn) == 0)
            sum += p->bytes;
    return sum;
}

static const char *store_failure(enum bus_reply_status st, const bus_msg *m)
{
    const char *why = fleet_store_failure(st, m, BOSUN_STORE_APPEND_REMOTE);
    if (why)
        return why;
    if (!json_is_integer(json_object_get(m->data, "acked_seq")))
        return "the store's answer has no acked_seq";
    return NULL;
}

/* ------------------------------------------------------------ batches */

/* The frame as the answer to the batch's fleet.link.in, or on
 * fleet.link.out. */
static void answer_batch(pending *p, json_t *f, int code)
{
    if (p->inbox)
        bus_publish_new(p->fe->bus, p->inbox, NULL,
                        json_pack("{s:[o],s:i}", "frames", f, "close", code));
    else
        send_frame(p->fe, p->conn, f, code);
}

static void on_stored(pending *p, enum bus_reply_status st, const bus_msg *m)
{
    const char *why = store_failure(st, m);
    if (why) {
        log_warning("fleet: machine %s: %zu events not stored (%s); link %s closed, the machine "
                    "sends them again",
                    p->machine, p->count, why, p->conn);
        if (st != BUS_REPLY_CANCELLED)
            answer_batch(p,
                         frame("machine.error", error_data("unavailable", "the hub cannot store "
                                                                          "events now; try again")),
                         1011);
        return;
    }
    json_int_t seq = json_integer_value(json_object_get(m->data, "acked_seq"));
    answer_batch(p, frame("machine.ack", json_pack("{s:I}", "seq", seq)), 0);
}

/* ------------------------------------------------------------ register */

/* The fleet.link.in reply, late, or the frame on fleet.link.out. */
static void answer_register(fleet_events *fe, const char *inbox, const char *conn, json_t *f,
                            json_t *limits)
{
    if (inbox)
        bus_publish_new(fe->bus, inbox, NULL,
                        json_pack("{s:[o],s:i,s:O?}", "frames", f, "close", 0, "limits", limits));
    else
        send_frame(fe, conn, f, 0);
}

static void on_acked(pending *p, enum bus_reply_status st, const bus_msg *m)
{
    const char *why = store_failure(st, m);
    if (st == BUS_REPLY_CANCELLED)
        return;
    /* The machine then sends everything again, which the store skips:
     * costly, never wrong.  The register itself must be answered: it may
     * carry the machine's new permanent token. */
    if (why)
        log_warning("fleet: machine %s: its acked_seq is not known (%s); it is told 0", p->machine,
                    why);
    else
        json_object_set(p->out, "acked_seq", json_object_get(m->data, "acked_seq"));
    answer_register(p->fe, p->inbox, p->conn, frame(p->reply, json_incref(p->out)), p->limits);
}

static void on_reply(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    pending *p = arg;
    pending_unlink(p->fe, p);
    if (p->out)
        on_acked(p, st, m);
    else
        on_stored(p, st, m);
    pending_free(p);
}

/* Asks the store; p is taken (freed on failure, -1). */
static int ask(fleet_events *fe, pending *p, json_t *req)
{
    p->fe = fe;
    p->req =
        req ? bus_request(fe->bus, BOSUN_STORE_APPEND_REMOTE, req, STORE_TIMEOUT, on_reply, p) : 0;
    json_decref(req);
    if (!p->req) {
        pending_free(p);
        return -1;
    }
    p->next = fe->list;
    fe->list = p;
    fe->n++;
    return 0;
}

static pending *pending_new(const char *conn, const char *machine)
{
    pending *p = calloc(1, sizeof *p);
    if (p) {
        snprintf(p->conn, sizeof p->conn, "%s", conn);
        snprintf(p->machine, sizeof p->machine, "%s", machine);
    }
    return p;
}

json_t *fleet_events_batch(fleet_events *fe, const char *inbox, const char *conn,
                           const char *machine, const json_t *data, size_t bytes, int *close)
{
    char err[200];
    fleet_batch_info info;
    if (!fleet_batch_check_sized(data, bytes, &info, err, sizeof err)) {
        log_warning("fleet: machine %s: bad batch, link %s closed: %s", machine, conn, err);
        *close = 1008;
        return frame("machine.error", error_data("bad_request", err));
    }
    if (fe->n >= PENDING_MAX || link_bytes(fe, conn) + info.bytes > LINK_BYTES_MAX) {
        log_warning("fleet: machine %s: the store is behind (%zu requests wait); link %s closed, "
                    "the machine comes back later",
                    machine, fe->n, conn);
        *close = 1013;
        return frame("machine.error", error_data("busy", "the hub's store is behind; try again"));
    }
    pending *p = pending_new(conn, machine);
    if (p && inbox && !(p->inbox = strdup(inbox))) {
        pending_free(p);
        p = NULL;
    }
    if (p) {
        p->bytes = info.bytes;
        p->count = info.count;
        json_t *req =
            json_pack("{s:s,s:O}", "machine", machine, "events", json_object_get(data, "events"));
        if (ask(fe, p, req) == 0)
            return NULL;
    }
    *close = 1011;
    return frame("machine.error", error_data("unavailable", "the hub is out of memory"));
}

void fleet_events_register(fleet_events *fe, const char *inbox, const char *conn,
                           const char *machine, const char *reply, json_t *out, json_t *limits)
{
    pending *p = pending_new(conn, machine);
    if (p && (p->reply = strdup(reply)) && (!inbox || (p->inbox = strdup(inbox)))) {
        p->limits = json_incref(limits);
        p->out = json_incref(out);
        if (ask(fe, p, json_pack("{s:s}", "machine", machine)) == 0) {
            json_decref(out); /* p holds them */
            json_decref(limits);
            return;
        }
    } else if (p) {
        pending_free(p);
    }
    log_warning("fleet: machine %s: its acked_seq is not known (cannot ask the store); it is "
                "told 0",
                machine);
    answer_register(fe, inbox, conn, frame(reply, out), limits);
    json_decref(limits);
}

/* ------------------------------------------------------------ object */

fleet_events *fleet_events_new(bus_t *bus)
{
    fleet_events *fe = calloc(1, sizeof *fe);
    if (fe)
        fe->bus = bus;
    return fe;
}

void fleet_events_free(fleet_events *fe)
{
    if (!fe)
        return;
    while (fe->list) {
        pending *p = fe->list;
        fe->list = p->next;
        bus_request_cancel(fe->bus, p->req);
        pending_free(p);
    }
    free(fe);
}
