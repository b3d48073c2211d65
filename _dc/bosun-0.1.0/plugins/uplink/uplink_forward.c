/* Events up the link (bosun-fleet(7), machine.events).
 *
 * The machine's store is the buffer: events are always read back from it
 * with cmd.store.events in pages after the last seq sent, never kept here,
 * so that nothing is lost while the link is down and a reconnect (or a
 * restart of either side) resumes from the hub's acked_seq with no gap and
 * no duplicate.  Live events only say that there is more to read.  One
 * query at a time; at most UPLINK_WINDOW events sent and not acknowledged,
 * and nothing read while the link's send queue is long (the hub reads
 * slowly), so memory stays bounded whatever the backlog.
 *
 * Only this machine's own events go up (a machine that is also a hub
 * keeps its machines' events to itself). */
#include "config.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uplink.h"

#define QUEUE_LOW     (256u << 10) /* read more only below this */
#define QUERY_TIMEOUT 30.0
#define RETRY_AFTER   2.0

struct uplink_fwd {
    struct ev_loop *loop;
    bus_t *bus;
    char *machine_id;
    uplink_sender out;
    bool linked;
    json_int_t acked, sent;
    uint64_t req;
    bool dirty;    /* the store may hold events after sent */
    bool compared; /* the first page after linking was checked */
    bus_sub *trigger;
    ev_timer retry;
    bosun_complaint failing;
};

static void pump(uplink_fwd *f);

static void on_event(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus, (void)m;
    uplink_fwd *f = arg;
    f->dirty = true;
    pump(f);
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    uplink_fwd *f = w->data;
    f->dirty = true;
    pump(f);
}

static void retry_later(uplink_fwd *f, const char *why)
{
    bosun_complain(&f->failing, LOG_LEVEL_WARNING,
                   "uplink: cannot read the events to forward from the store: %s", why);
    ev_timer_stop(f->loop, &f->retry);
    ev_timer_set(&f->retry, RETRY_AFTER, 0.0);
    ev_timer_start(f->loop, &f->retry);
}

/* ------------------------------------------------------------ a batch */

static const char batch_head[] = "{\"subject\":\"machine.events\",\"data\":{\"events\":[";

/* Appends one stored event as the hub wants it; false when it does not fit
 * in the batch (buf unchanged). */
static bool append_event(bosun_json_buf *b, json_t *ev, json_int_t seq, size_t count)
{
    size_t mark = b->len;
    json_t *item =
        json_pack("{s:I,s:O,s:O,s:O}", "seq", seq, "subject", json_object_get(ev, "subject"),
                  "time", json_object_get(ev, "time"), "data", json_object_get(ev, "data"));
    if (!item)
        return false;
    json_t *run = json_object_get(ev, "run"), *task = json_object_get(ev, "task");
    if (json_is_string(run))
        json_object_set(item, "run", run);
    if (json_is_string(task))
        json_object_set(item, "task", task);
    bool ok =
        (count == 0 || bosun_json_append_raw(b, ",", 1) == 0) && bosun_json_append(b, item, 0) == 0;
    size_t size = b->len - mark;
    if (ok && size > UPLINK_EVENT_MAX) {
        /* The hub's message bound would close the link at every resend:
         * the seq goes up without its data, and the log says so. */
        log_warning("uplink: event %lld (%.120s) is %zu bytes encoded, over %u: sent without "
                    "its data",
                    (long long)seq, json_string_value(json_object_get(ev, "subject")), size,
                    UPLINK_EVENT_MAX);
        b->len = mark;
        json_object_set_new(item, "data",
                            json_pack("{s:b,s:I}", "truncated", 1, "bytes", (json_int_t)size));
        ok = (count == 0 || bosun_json_append_raw(b, ",", 1) == 0) &&
             bosun_json_append(b, item, 0) == 0;
        size = b->len - mark;
    }
    json_decref(item);
    if (!ok || (count > 0 && b->len > UPLINK_BATCH_MAX)) {
        b->len = mark;
        if (b->data)
            b->data[mark] = '\0';
        return false;
    }
    return true;
}

static void on_page(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    uplink_fwd *f = arg;
    f->req = 0;
    if (!f->linked)
        return;
    if (st != BUS_REPLY_OK || json_object_get(m->data, "error")) {
        retry_later(f, st == BUS_REPLY_NO_RESPONDERS ? "no store plugin answers cmd.store.events"
                       : st == BUS_REPLY_TIMEOUT     ? "no answer in 30 s"
                                                     : "it answered an error");
        return;
    }
    bosun_complain_release(&f->failing, LOG_LEVEL_NOTICE,
                           "uplink: the store answers again; forwarding goes on");
    json_t *events = json_object_get(m->data, "events");
    json_int_t last = json_integer_value(json_object_get(m->data, "last_seq"));
    if (!f->compared) {
        f->compared = true;
        if (f->acked > last)
            log_warning("uplink: the hub has this machine's events up to seq %lld but this "
                        "store ends at %lld (was the store replaced?): events up to %lld will "
                        "not be sent",
                        (long long)f->acked, (long long)last, (long long)f->acked);
    }
    bosun_json_buf b = {0};
    bosun_json_append_raw(&b, batch_head, sizeof batch_head - 1);
    size_t count = 0, i, n = json_array_size(events);
    json_int_t upto = f->sent;
    for (i = 0; i < n && count < UPLINK_EVENTS_MAX; i++) {
        json_t *ev = json_array_get(events, i);
        json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
        const char *machine = json_string_value(json_object_get(ev, "machine"));
        if (seq <= upto)
            continue;
        if (!machine || strcmp(machine, f->machine_id) == 0) {
            if (!append_event(&b, ev, seq, count))
                break;
            count++;
        }
        upto = seq;
    }
    int rc = 0;
    if (count > 0) {
        char tail[64];
        int tl = snprintf(tail, sizeof tail, "]},\"time\":%.6f}", bosun_now());
        if (bosun_json_append_raw(&b, tail, (size_t)tl) != 0)
            rc = -1;
        else
            rc = f->out.send(f->out.arg, b.data, b.len);
    }
    free(b.data);
    if (rc != 0)
        return; /* the link failed: the plugin is told by the link */
    f->sent = upto;
    if (i < n || json_is_true(json_object_get(m->data, "more")))
        f->dirty = true;
    pump(f);
}

/* ------------------------------------------------------------ flow */

static void pump(uplink_fwd *f)
{
    if (!f->linked || f->req || !f->dirty || ev_is_active(&f->retry))
        return;
    json_int_t in_flight = f->sent - f->acked;
    if (in_flight >= UPLINK_WINDOW || f->out.queued(f->out.arg) > QUEUE_LOW)
        return; /* an ack or the drained queue kicks again */
    json_int_t room = UPLINK_WINDOW - in_flight;
    json_t *q = json_pack("{s:I,s:s,s:I}", "since", f->sent, "subject", "evt.>", "limit",
                          room < UPLINK_EVENTS_MAX ? room : (json_int_t)UPLINK_EVENTS_MAX);
    f->dirty = false;
    f->req = bus_request(f->bus, BOSUN_STORE_EVENTS, q, QUERY_TIMEOUT, on_page, f);
    json_decref(q);
    if (!f->req)
        retry_later(f, "the request could not be made");
}

uplink_fwd *uplink_fwd_new(struct ev_loop *loop, bus_t *bus, const char *machine_id,
                           const uplink_sender *out)
{
    uplink_fwd *f = calloc(1, sizeof *f);
    if (!f || !(f->machine_id = strdup(machine_id))) {
        free(f);
        return NULL;
    }
    f->loop = loop;
    f->bus = bus;
    f->out = *out;
    ev_timer_init(&f->retry, on_retry, RETRY_AFTER, 0.0);
    f->retry.data = f;
    f->trigger = bus_subscribe(bus, "evt.>", on_event, f);
    if (!f->trigger) {
        uplink_fwd_free(f);
        return NULL;
    }
    return f;
}

void uplink_fwd_free(uplink_fwd *f)
{
    if (!f)
        return;
    uplink_fwd_unlinked(f);
    if (f->trigger)
        bus_unsubscribe(f->bus, f->trigger);
    free(f->machine_id);
    free(f);
}

void uplink_fwd_linked(uplink_fwd *f, json_int_t acked)
{
    uplink_fwd_unlinked(f);
    f->linked = true;
    f->acked = f->sent = acked;
    f->dirty = true;
    f->compared = false;
    pump(f);
}

void uplink_fwd_unlinked(uplink_fwd *f)
{
    f->linked = false;
    if (f->req)
        bus_request_cancel(f->bus, f->req);
    f->req = 0;
    ev_timer_stop(f->loop, &f->retry);
}

bool uplink_fwd_ack(uplink_fwd *f, json_int_t seq)
{
    if (seq > f->sent)
        return false;
    if (seq > f->acked)
        f->acked = seq;
    pump(f);
    return true;
}

void uplink_fwd_kick(uplink_fwd *f)
{
    pump(f);
}

json_int_t uplink_fwd_sent(const uplink_fwd *f)
{
    return f->sent;
}

json_int_t uplink_fwd_acked(const uplink_fwd *f)
{
    return f->acked;
}
