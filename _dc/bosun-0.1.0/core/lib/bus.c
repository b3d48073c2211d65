/* The in-process message bus: a FIFO of published messages drained from the
 * event loop by an idle watcher, a subject trie to find the subscriptions a
 * message matches, and request/reply on top through one wildcard inbox
 * subscription per bus.
 *
 * Re-entrancy rules, since handlers may call anything:
 * - a handler's publishes go to the tail of the queue, never straight to
 *   other handlers, so delivery is FIFO overall;
 * - bus_flush() and the idle watcher do nothing while a drain is running, so
 *   a handler that flushes or runs the loop cannot reorder messages;
 * - an unsubscribed subscription is taken out of the trie at once, flagged
 *   dead so that the current dispatch skips it, and freed when the outermost
 *   dispatch ends;
 * - bus_free() from inside a handler is not supported (it aborts with a log
 *   line rather than let the dispatch use freed memory).  A request's
 *   callback may free the bus unless it runs from a dispatch, i.e. it may
 *   after a timeout but not after a reply or "no responders". */
#include "config.h"

#include <bosun/bus.h>
#include <bosun/log.h>
#include <bosun/secret.h>

#include "bus_trie.h"
#include "hmap.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <ev.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages delivered per idle callback before other watchers get a turn. */
#define DRAIN_BATCH 1024
/* Matches kept on the stack during a dispatch; more go to the heap. */
#define DISPATCH_INLINE 16
/* Above this many matches, sort with qsort rather than insertion sort. */
#define SMALL_SORT 32

struct bus_sub {
    bus_handler handler;
    void *arg;
    uint64_t seq;                /* subscription order = delivery order among matches */
    bool dead;                   /* unsubscribed during a dispatch, not yet freed */
    bool internal;               /* the request inbox: not counted by bus_sub_count */
    bool congested;              /* its consumer cannot take more (bus_set_congested) */
    struct bus_sub *prev, *next; /* bus->subs, or bus->dead (next only) */
    char pattern[];
};

struct qmsg {
    struct qmsg *next;
    json_t *data;
    double time;
    const char *reply; /* into text, or NULL */
    char text[];       /* subject, NUL, reply, NUL */
};

struct pending {
    ev_timer timer;
    bus_t *bus;
    uint64_t id;
    bus_reply_cb cb;
    void *arg;
};

struct bus {
    struct ev_loop *loop;
    ev_idle idle;
    bus_trie *trie;
    struct bus_sub *subs;
    struct bus_sub *dead;
    size_t n_subs;
    size_t n_congested; /* live subscriptions marked congested */
    uint64_t next_seq;

    struct qmsg *head, *tail;
    size_t queued;
    unsigned dispatching; /* depth of dispatches in progress */
    bool draining;
    bool freeing;

    char inbox[32]; /* "_INBOX.<16 hex digits>." */
    size_t inbox_len;
    struct bus_sub *inbox_sub; /* created by the first request */
    hmap pending;              /* request id -> struct pending */
    uint64_t next_req;
};

static void idle_cb(struct ev_loop *loop, ev_idle *w, int revents);

/* ------------------------------------------------------------------ life cycle */

/* The prefix keeps this bus's inboxes apart from any other bus's, here or
 * (once subjects cross machines) elsewhere, so it must not be guessable. */
static void make_inbox_prefix(bus_t *bus)
{
    static unsigned fallback_counter;
    uint64_t r;
    if (bosun_random_bytes(&r, sizeof r) < 0) {
        log_warning("bus: no random bytes for the inbox prefix, using clock and address");
        r = (uint64_t)(bosun_monotonic() * 1e9) ^ (uint64_t)(uintptr_t)bus ^
            ((uint64_t)++fallback_counter << 48);
    }
    int n = snprintf(bus->inbox, sizeof bus->inbox, "_INBOX.%016" PRIx64 ".", r);
    bus->inbox_len = (size_t)n;
}

bus_t *bus_new(struct ev_loop *loop)
{
    if (!loop) {
        errno = EINVAL;
        return NULL;
    }
    bus_t *bus = xcalloc(1, sizeof *bus);
    bus->loop = loop;
    bus->trie = bus_trie_new();
    ev_idle_init(&bus->idle, idle_cb);
    /* Highest priority: a busy socket must not starve delivery. */
    ev_set_priority(&bus->idle, EV_MAXPRI);
    bus->idle.data = bus;
    hmap_init_u64(&bus->pending);
    make_inbox_prefix(bus);
    return bus;
}

static void complete(bus_t *bus, uint64_t id, enum bus_reply_status status, const bus_msg *msg);

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Ids are collected first because a callback may cancel other requests. */
static void cancel_all(bus_t *bus)
{
    size_t n = hmap_count(&bus->pending);
    if (n == 0)
        return;
    uint64_t *ids = xmalloc(n * sizeof *ids);
    size_t pos = 0, i = 0;
    while (i < n && hmap_next_u64(&bus->pending, &pos, &ids[i]))
        i++;
    qsort(ids, i, sizeof *ids, cmp_u64);
    for (size_t j = 0; j < i; j++)
        complete(bus, ids[j], BUS_REPLY_CANCELLED, NULL);
    free(ids);
}

static void drop_queue(bus_t *bus)
{
    while (bus->head) {
        struct qmsg *q = bus->head;
        bus->head = q->next;
        json_decref(q->data);
        free(q);
    }
    bus->tail = NULL;
    bus->queued = 0;
}

static void free_sub_list(struct bus_sub *s)
{
    while (s) {
        struct bus_sub *next = s->next;
        free(s);
        s = next;
    }
}

void bus_free(bus_t *bus)
{
    if (!bus)
        return;
    if (bus->dispatching || bus->freeing) {
        log_error("bus: bus_free called from a bus handler or callback, which is not supported");
        abort();
    }
    /* Callbacks run first, while the bus is still whole: they may publish or
     * unsubscribe; new requests are refused. */
    bus->freeing = true;
    cancel_all(bus);
    ev_idle_stop(bus->loop, &bus->idle);
    drop_queue(bus);
    free_sub_list(bus->subs);
    free_sub_list(bus->dead);
    bus_trie_free(bus->trie);
    hmap_destroy(&bus->pending);
    free(bus);
}

/* ------------------------------------------------------------------ subscriptions */

static bus_sub *sub_add(bus_t *bus, const char *pattern, bus_handler handler, void *arg,
                        bool internal)
{
    size_t len = strlen(pattern);
    bus_sub *s = xmalloc(sizeof *s + len + 1);
    *s = (bus_sub){.handler = handler, .arg = arg, .internal = internal};
    memcpy(s->pattern, pattern, len + 1);
    if (bus_trie_insert(bus->trie, s->pattern, s) < 0) {
        int saved = errno;
        free(s);
        errno = saved;
        return NULL;
    }
    s->seq = ++bus->next_seq;
    s->next = bus->subs;
    if (bus->subs)
        bus->subs->prev = s;
    bus->subs = s;
    if (!internal)
        bus->n_subs++;
    return s;
}

bus_sub *bus_subscribe(bus_t *bus, const char *pattern, bus_handler handler, void *arg)
{
    if (!bus || !handler || bus_pattern_check(pattern) < 0) {
        errno = EINVAL;
        return NULL;
    }
    return sub_add(bus, pattern, handler, arg, false);
}

void bus_unsubscribe(bus_t *bus, bus_sub *sub)
{
    if (!bus || !sub || sub->dead)
        return;
    if (bus_trie_remove(bus->trie, sub->pattern, sub) < 0)
        log_error("bus: subscription to %s missing from the trie", sub->pattern);
    if (sub->prev)
        sub->prev->next = sub->next;
    else
        bus->subs = sub->next;
    if (sub->next)
        sub->next->prev = sub->prev;
    if (!sub->internal)
        bus->n_subs--;
    if (sub->congested)
        bus->n_congested--;
    sub->congested = false;
    sub->dead = true;
    if (bus->dispatching) {
        /* A dispatch array may still point at it. */
        sub->prev = NULL;
        sub->next = bus->dead;
        bus->dead = sub;
    } else {
        free(sub);
    }
}

const char *bus_sub_pattern(const bus_sub *sub)
{
    return sub->pattern;
}

size_t bus_sub_count(const bus_t *bus)
{
    return bus->n_subs;
}

/* ------------------------------------------------------------------ publish */

/* Takes ownership of data (a reference, or NULL for json null). */
static int enqueue(bus_t *bus, const char *subject, const char *reply, json_t *data)
{
    if (!bus || bus_subject_check(subject) < 0 || (reply && bus_subject_check(reply) < 0)) {
        json_decref(data);
        errno = EINVAL;
        return -1;
    }
    /* Everything the store keeps passes here (events, and artifacts put
     * through cmd.store.>): a secret the daemon issued never reaches it. */
    if (data && (strncmp(subject, "evt.", 4) == 0 || strncmp(subject, "cmd.store.", 10) == 0)) {
        json_t *clean = bosun_secret_redact_json(data);
        json_decref(data);
        data = clean;
    }
    size_t slen = strlen(subject) + 1;
    size_t rlen = reply ? strlen(reply) + 1 : 0;
    struct qmsg *q = xmalloc(sizeof *q + slen + rlen);
    memcpy(q->text, subject, slen);
    q->reply = NULL;
    if (reply) {
        memcpy(q->text + slen, reply, rlen);
        q->reply = q->text + slen;
    }
    q->data = data ? data : json_null();
    q->time = bosun_now();
    q->next = NULL;
    if (bus->tail)
        bus->tail->next = q;
    else
        bus->head = q;
    bus->tail = q;
    bus->queued++;
    ev_idle_start(bus->loop, &bus->idle); /* no-op when already active */
    return 0;
}

int bus_publish(bus_t *bus, const char *subject, const char *reply, json_t *data)
{
    return enqueue(bus, subject, reply, data ? json_incref(data) : NULL);
}

int bus_publish_new(bus_t *bus, const char *subject, const char *reply, json_t *data)
{
    return enqueue(bus, subject, reply, data);
}

int bus_reply(bus_t *bus, const bus_msg *msg, json_t *data)
{
    if (!msg || !msg->reply) {
        errno = EINVAL;
        return -1;
    }
    return bus_publish(bus, msg->reply, NULL, data);
}

static void count_entry(void *entry, void *arg)
{
    (*(size_t *)arg)++;
}

bool bus_has_subscribers(bus_t *bus, const char *subject)
{
    size_t n = 0;
    return bus_trie_match(bus->trie, subject, count_entry, &n) > 0 && n > 0;
}

size_t bus_queue_length(const bus_t *bus)
{
    return bus->queued;
}

void bus_set_congested(bus_t *bus, bus_sub *sub, bool congested)
{
    if (!bus || !sub || sub->dead || sub->congested == congested)
        return;
    sub->congested = congested;
    if (congested)
        bus->n_congested++;
    else
        bus->n_congested--;
}

bool bus_congested(const bus_t *bus)
{
    return bus->n_congested > 0;
}

/* ------------------------------------------------------------------ delivery */

struct dispatch {
    bus_sub **subs;
    size_t n, cap;
    bus_sub *inline_subs[DISPATCH_INLINE];
};

static void dispatch_add(void *entry, void *arg)
{
    struct dispatch *d = arg;
    if (d->n == d->cap) {
        size_t cap = d->cap * 2;
        if (d->subs == d->inline_subs) {
            d->subs = xmalloc(cap * sizeof *d->subs);
            memcpy(d->subs, d->inline_subs, d->n * sizeof *d->subs);
        } else {
            d->subs = xrealloc(d->subs, cap * sizeof *d->subs);
        }
        d->cap = cap;
    }
    d->subs[d->n++] = entry;
}

static int cmp_sub_seq(const void *a, const void *b)
{
    uint64_t x = (*(bus_sub *const *)a)->seq, y = (*(bus_sub *const *)b)->seq;
    return (x > y) - (x < y);
}

/* Handlers run in subscription order, whatever trie path matched them: an
 * order users can predict.  The trie yields each node's subscriptions
 * already in that order, so insertion sort is near linear for small sets. */
static void sort_subs(bus_sub **subs, size_t n)
{
    if (n > SMALL_SORT) {
        qsort(subs, n, sizeof *subs, cmp_sub_seq);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        bus_sub *s = subs[i];
        size_t j = i;
        for (; j > 0 && subs[j - 1]->seq > s->seq; j--)
            subs[j] = subs[j - 1];
        subs[j] = s;
    }
}

static bool inbox_id(const bus_t *bus, const char *subject, uint64_t *id);

static void reap_dead(bus_t *bus)
{
    free_sub_list(bus->dead);
    bus->dead = NULL;
}

static void deliver(bus_t *bus, const struct qmsg *q)
{
    struct dispatch d = {.n = 0, .cap = DISPATCH_INLINE};
    d.subs = d.inline_subs;
    bus_trie_match(bus->trie, q->text, dispatch_add, &d);
    sort_subs(d.subs, d.n);
    bus_msg msg = {.subject = q->text, .reply = q->reply, .data = q->data, .time = q->time};
    uint64_t id;
    bus->dispatching++;
    for (size_t i = 0; i < d.n; i++)
        if (!d.subs[i]->dead)
            d.subs[i]->handler(bus, &msg, d.subs[i]->arg);
    if (d.n == 0 && q->reply && inbox_id(bus, q->reply, &id))
        complete(bus, id, BUS_REPLY_NO_RESPONDERS, NULL);
    if (--bus->dispatching == 0)
        reap_dead(bus);
    if (d.subs != d.inline_subs)
        free(d.subs);
}

/* Pops before delivering so that the handlers see the queue without it. */
static void deliver_next(bus_t *bus)
{
    struct qmsg *q = bus->head;
    bus->head = q->next;
    if (!bus->head)
        bus->tail = NULL;
    bus->queued--;
    deliver(bus, q);
    json_decref(q->data);
    free(q);
}

static void drain_done(bus_t *bus)
{
    bus->draining = false;
    if (bus->head)
        ev_idle_start(bus->loop, &bus->idle);
    else
        ev_idle_stop(bus->loop, &bus->idle);
}

static void idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    bus_t *bus = w->data;
    if (bus->draining) {
        /* A handler runs the loop recursively: stay quiet rather than spin;
         * the outer drain restarts the watcher when it ends. */
        ev_idle_stop(loop, w);
        return;
    }
    bus->draining = true;
    for (int i = 0; i < DRAIN_BATCH && bus->head; i++)
        deliver_next(bus);
    drain_done(bus);
}

void bus_flush(bus_t *bus, unsigned max_rounds)
{
    if (bus->draining)
        return;
    bus->draining = true;
    for (unsigned round = 0; bus->head && (max_rounds == 0 || round < max_rounds); round++) {
        /* A round is what was queued when it began; handlers' messages
         * land behind it. */
        for (size_t n = bus->queued; n > 0 && bus->head; n--)
            deliver_next(bus);
    }
    drain_done(bus);
}

/* ------------------------------------------------------------------ request/reply */

/* The request id from "_INBOX.<prefix>.<id>", if subject is one of ours. */
static bool inbox_id(const bus_t *bus, const char *subject, uint64_t *id)
{
    if (strncmp(subject, bus->inbox, bus->inbox_len) != 0)
        return false;
    const char *p = subject + bus->inbox_len;
    uint64_t v = 0;
    if (*p == '\0')
        return false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *id = v;
    return v != 0;
}

/* Forgets the request before calling back, so that the callback may do
 * anything, cancelling this very id included. */
static void complete(bus_t *bus, uint64_t id, enum bus_reply_status status, const bus_msg *msg)
{
    struct pending *r = hmap_del_u64(&bus->pending, id);
    if (!r)
        return;
    ev_timer_stop(bus->loop, &r->timer);
    bus_reply_cb cb = r->cb;
    void *arg = r->arg;
    free(r);
    cb(bus, status, msg, arg);
}

static void inbox_handler(bus_t *bus, const bus_msg *msg, void *arg)
{
    uint64_t id;
    if (inbox_id(bus, msg->subject, &id))
        complete(bus, id, BUS_REPLY_OK, msg); /* later replies find nothing */
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct pending *r = w->data;
    complete(r->bus, r->id, BUS_REPLY_TIMEOUT, NULL);
}

static int inbox_ensure(bus_t *bus)
{
    if (bus->inbox_sub)
        return 0;
    char pattern[sizeof bus->inbox + 1];
    snprintf(pattern, sizeof pattern, "%s*", bus->inbox);
    bus->inbox_sub = sub_add(bus, pattern, inbox_handler, NULL, true);
    return bus->inbox_sub ? 0 : -1;
}

uint64_t bus_request(bus_t *bus, const char *subject, json_t *data, double timeout, bus_reply_cb cb,
                     void *arg)
{
    if (!bus || !cb || bus_subject_check(subject) < 0 || !(timeout > 0) || !isfinite(timeout)) {
        errno = EINVAL;
        return 0;
    }
    if (bus->freeing) {
        errno = ECANCELED;
        return 0;
    }
    if (inbox_ensure(bus) < 0)
        return 0;
    struct pending *r = xcalloc(1, sizeof *r);
    *r = (struct pending){.bus = bus, .id = ++bus->next_req, .cb = cb, .arg = arg};
    hmap_put_u64(&bus->pending, r->id, r);
    char reply[sizeof bus->inbox + 21];
    snprintf(reply, sizeof reply, "%s%" PRIu64, bus->inbox, r->id);
    /* A long-running callback may have left the loop's clock behind; the
     * timeout counts from now. */
    ev_now_update(bus->loop);
    ev_timer_init(&r->timer, timeout_cb, timeout, 0.);
    r->timer.data = r;
    ev_timer_start(bus->loop, &r->timer);
    bus_publish(bus, subject, reply, data);
    return r->id;
}

void bus_request_cancel(bus_t *bus, uint64_t id)
{
    struct pending *r = hmap_del_u64(&bus->pending, id);
    if (!r)
        return;
    ev_timer_stop(bus->loop, &r->timer);
    free(r);
}

json_t *bus_error_json(const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
}
