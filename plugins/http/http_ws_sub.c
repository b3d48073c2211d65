/* /ws subscriptions: replay from the store after "since", then live, with
 * no gap and no duplicate, the way `bosunctl events -f` follows (see "The
 * stored feed" in bosun-bus(7)):
 *
 *   1. subscribe to "stored.<pattern>" on behalf of the client's principal
 *      (the per-pattern permission check: refused -> "forbidden");
 *   2. page through cmd.store.events (subject = pattern, since = the last
 *      seq sent), sending each event, while live ones are kept aside;
 *   3. on the last page take last_seq as the boundary, say "subscribed",
 *      then send the live ones kept aside above it and follow.
 *
 * Memory stays bounded: a page is sent only as far as the client's send
 * queue has room, the rest waits for it to drain; live events kept aside
 * during a replay are bounded by send_queue_max bytes, and when they pass
 * it they are dropped and read again from the store (where they are)
 * before the replay ends.  Once live, a client whose queue is full is
 * closed with 1013 (http_ws.c).
 *
 * A "machine" filter (one id or a list) keeps the events of those machines
 * only, replayed and live: one id is the store's own filter; a list is
 * applied here, the skipped events counting as covered so that the next
 * page starts after them. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/log.h>
#include <bosun/store.h>

#include "http_api.h"
#include "http_ws_int.h"
#include "http_ws_machine.h"

#define WS_PAGE_EVENTS   500 /* events asked per page */
#define WS_CATCHUP_MAX   50  /* pages read again after live events were dropped */
#define WS_STORE_TIMEOUT 30  /* seconds for one page */

struct ws_sub {
    ws_sub *next;
    ws_conn *c;
    char sid[WS_SID_MAX + 1];
    char *sid_json; /* the sid as a JSON string, for "msg" frames */
    char pattern[BUS_SUBJECT_MAX + 1];
    bus_sub *live;
    json_int_t last; /* highest seq sent (or known to be covered) */
    bool replaying;
    bool live_only; /* no "since": from the store's last seq on */
    uint64_t req;   /* page request in flight, 0 when none */
    json_t *page;   /* events of the current page, from page_i on not yet sent */
    size_t page_i;
    bool page_more;
    json_int_t page_last_seq;
    json_t *aside; /* live events that came during the replay */
    size_t aside_bytes;
    bool dropped; /* some were dropped: read the store once more */
    int catchups;
    json_t *machines; /* the "machine" filter as an array of ids, or NULL */
    char task[72];    /* the "task" filter (forced for a share link), or "" */
};

/* Whether the sub's filters keep the stored event ev. */
static bool sub_wants(const ws_sub *s, const json_t *ev)
{
    if (!ws_machine_wants(s->machines, ev))
        return false;
    if (!s->task[0])
        return true;
    const char *t = json_string_value(json_object_get(ev, "task"));
    return t && strcmp(t, s->task) == 0;
}

/* ------------------------------------------------------------ serializing */

/* The part of a "msg" frame that is the same for every client:
 * ,"seq":N,"subject":S,"time":T,"data":D,"machine":M} (and on a hub
 * "machine_seq" for a machine's event) -- dumped once per event. */
static const bosun_json_buf *event_tail(http_ws_hub *hub, json_t *ev)
{
    json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
    if (hub->cache.data && hub->cache_seq == seq)
        return &hub->cache;
    hub->cache.len = 0;
    json_t *o =
        json_pack("{s:I,s:O,s:O,s:O}", "seq", seq, "subject", json_object_get(ev, "subject"),
                  "time", json_object_get(ev, "time"), "data", json_object_get(ev, "data"));
    static const char *const whose[] = {"machine", "machine_seq"};
    for (size_t i = 0; o && i < sizeof whose / sizeof whose[0]; i++)
        if (json_object_get(ev, whose[i]))
            json_object_set(o, whose[i], json_object_get(ev, whose[i]));
    if (o && bosun_json_append(&hub->cache, o, 0) != 0) {
        /* The store kept it, but its data cannot be put in a frame (nested
         * too deep with the frame's own levels): the client gets the event
         * without its data and is told why, so that it neither misses a
         * seq nor stalls on it when it asks again from there. */
        json_object_set_new(o, "data", json_null());
        json_object_set_new(o, "error",
                            json_pack("{s:s,s:s}", "code", "unencodable", "message",
                                      "this event's data is nested too deep to be encoded "
                                      "in a frame"));
        hub->cache.len = 0;
        if (bosun_json_append(&hub->cache, o, 0) != 0)
            hub->cache.len = 0;
    }
    json_decref(o);
    if (hub->cache.len < 2) {
        hub->cache_seq = -1;
        return NULL;
    }
    hub->cache.data[0] = ','; /* follows the per-client "sid" */
    hub->cache_seq = seq;
    return &hub->cache;
}

/* Sends one stored event; false when the client had no room (it is then
 * being closed, or, during a replay, the caller waits for a drain). */
static bool send_event(ws_sub *s, json_t *ev, bool may_wait)
{
    ws_conn *c = s->c;
    if (!c->hub)
        return false;
    const bosun_json_buf *tail = event_tail(c->hub, ev);
    if (!tail) { /* memory ran out: the client would miss this event */
        ws_close(c, BOSUN_WS_INTERNAL, "internal error: an event could not be encoded");
        return false;
    }
    static const char head[] = "{\"op\":\"msg\",\"sid\":";
    size_t len = sizeof head - 1 + strlen(s->sid_json) + tail->len;
    if (may_wait &&
        http_stream_queued(c->w.conn) + len + WS_CLOSE_RESERVE > ws_limits(c)->send_queue_max / 2 &&
        http_stream_queued(c->w.conn) > 0)
        return false;
    if (!ws_room(c, len))
        return false;
    bosun_ws_piece p[3] = {
        {head, sizeof head - 1}, {s->sid_json, strlen(s->sid_json)}, {tail->data, tail->len}};
    bosun_ws_send_textv(c->w.ws, p, 3);
    s->last = json_integer_value(json_object_get(ev, "seq"));
    return true;
}

/* ------------------------------------------------------------ replay */

static void request_page(ws_sub *s);

static void sub_free(ws_sub *s)
{
    bus_t *bus = s->c->hub ? http_server_bus(s->c->hub->srv) : NULL;
    if (bus && s->live)
        bus_unsubscribe(bus, s->live);
    if (bus && s->req)
        bus_request_cancel(bus, s->req);
    json_decref(s->page);
    json_decref(s->aside);
    json_decref(s->machines);
    free(s->sid_json);
    free(s);
}

static void sub_remove(ws_sub *s)
{
    ws_conn *c = s->c;
    for (ws_sub **pp = &c->subs; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            c->n_subs--;
            break;
        }
    }
    sub_free(s);
}

/* The replay reached the store's end: live from here. */
static void go_live(ws_sub *s)
{
    if (s->page_last_seq > s->last)
        s->last = s->page_last_seq;
    s->replaying = false;
    ws_send_json(s->c, json_pack("{s:s,s:s,s:I}", "op", "subscribed", "sid", s->sid, "last_seq",
                                 (json_int_t)s->last));
    json_t *aside = s->aside;
    s->aside = NULL;
    s->aside_bytes = 0;
    size_t i;
    json_t *ev;
    json_array_foreach(aside, i, ev)
    {
        if (s->c->w.closing)
            break;
        if (json_integer_value(json_object_get(ev, "seq")) > s->last && sub_wants(s, ev) &&
            !send_event(s, ev, false))
            break;
    }
    json_decref(aside);
}

/* Sends what is left of the page as far as there is room; then asks for
 * the next one, or goes live. */
static void pump(ws_sub *s)
{
    while (s->page && s->page_i < json_array_size(s->page)) {
        if (s->c->w.closing)
            return;
        json_t *ev = json_array_get(s->page, s->page_i);
        json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
        if (seq > s->last && !sub_wants(s, ev))
            s->last = seq; /* another machine's or task's: covered, not sent */
        else if (seq > s->last && !send_event(s, ev, true))
            return; /* ws_subs_drained() goes on */
        s->page_i++;
    }
    json_decref(s->page);
    s->page = NULL;
    if (s->page_more) {
        request_page(s);
    } else if (s->dropped && s->catchups < WS_CATCHUP_MAX) {
        /* live events were dropped: the store has them */
        s->dropped = false;
        s->catchups++;
        request_page(s);
    } else if (s->dropped) {
        ws_close(s->c, BOSUN_WS_TRY_AGAIN, "slow consumer");
    } else {
        go_live(s);
    }
}

static void on_page(bus_t *bus, enum bus_reply_status st, const bus_msg *msg, void *arg)
{
    (void)bus;
    ws_sub *s = arg;
    s->req = 0;
    if (st == BUS_REPLY_CANCELLED)
        return;
    json_t *d = st == BUS_REPLY_OK ? msg->data : NULL;
    json_t *events = json_object_get(d, "events");
    if (!json_is_array(events)) {
        json_t *err = json_object_get(d, "error");
        const char *why = json_string_value(json_object_get(err, "message"));
        ws_send_error(s->c, "sid", json_string(s->sid), "unavailable", "replay failed: %s",
                      why                             ? why
                      : st == BUS_REPLY_TIMEOUT       ? "the store did not answer"
                      : st == BUS_REPLY_NO_RESPONDERS ? "no store is loaded"
                                                      : "bad reply from the store");
        sub_remove(s);
        return;
    }
    s->page = json_incref(events);
    s->page_i = 0;
    s->page_more = json_is_true(json_object_get(d, "more"));
    s->page_last_seq = json_integer_value(json_object_get(d, "last_seq"));
    if (s->live_only) {
        s->last = s->page_last_seq; /* from here on */
        s->live_only = false;
    }
    pump(s);
}

static void request_page(ws_sub *s)
{
    bus_t *bus = http_server_bus(s->c->hub->srv);
    json_t *q = json_pack("{s:I,s:s,s:i}", "since", (json_int_t)s->last, "subject", s->pattern,
                          "limit", WS_PAGE_EVENTS);
    if (q && json_array_size(s->machines) == 1)
        json_object_set(q, "machine", json_array_get(s->machines, 0));
    if (q && s->task[0])
        json_object_set_new(q, "task", json_string(s->task));
    /* Asked with the plugin's own rights: the client's right to these
     * events was checked on the subscription (a principal allowed
     * cmd.store.events could ask for any subject). */
    s->req = q ? bus_request(bus, BOSUN_STORE_EVENTS, q, WS_STORE_TIMEOUT, on_page, s) : 0;
    json_decref(q);
    if (!s->req) {
        ws_send_error(s->c, "sid", json_string(s->sid), "internal", "cannot query the store");
        sub_remove(s);
    }
}

/* ------------------------------------------------------------ live */

static void on_live(bus_t *bus, const bus_msg *msg, void *arg)
{
    (void)bus;
    ws_sub *s = arg;
    if (s->c->w.closing || !json_is_object(msg->data))
        return;
    json_int_t seq = json_integer_value(json_object_get(msg->data, "seq"));
    if (!sub_wants(s, msg->data))
        return;
    if (!s->replaying) {
        if (seq > s->last)
            send_event(s, msg->data, false);
        return;
    }
    if (s->dropped)
        return;
    const bosun_json_buf *tail = event_tail(s->c->hub, msg->data);
    size_t bytes = tail ? tail->len : 0;
    if (s->aside_bytes + bytes > ws_limits(s->c)->send_queue_max) {
        /* bounded: these are in the store, read them from there */
        log_info("http: /ws %s: sid %s: live events during the replay passed %zu bytes: "
                 "reading them from the store",
                 s->c->w.peer, s->sid, ws_limits(s->c)->send_queue_max);
        json_decref(s->aside);
        s->aside = NULL;
        s->aside_bytes = 0;
        s->dropped = true;
        return;
    }
    if (!s->aside)
        s->aside = json_array();
    json_array_append(s->aside, msg->data);
    s->aside_bytes += bytes;
}

/* ------------------------------------------------------------ ops */

static ws_sub *find_sub(ws_conn *c, const char *sid)
{
    for (ws_sub *s = c->subs; s; s = s->next)
        if (strcmp(s->sid, sid) == 0)
            return s;
    return NULL;
}

static const char *frame_sid(ws_conn *c, json_t *frame)
{
    const char *sid = json_string_value(json_object_get(frame, "sid"));
    if (!sid || !sid[0] || strlen(sid) > WS_SID_MAX) {
        ws_send_error(c, NULL, NULL, "bad_request", "'sid' must be a string of 1 to %d bytes",
                      WS_SID_MAX);
        return NULL;
    }
    return sid;
}

/* The checks of a "sub" frame; the error frame is sent on failure. */
static bool sub_args(ws_conn *c, json_t *frame, const char **sid, const char **pattern,
                     json_int_t *since, json_t **machines, const char **task)
{
    *machines = NULL;
    if (!(*sid = frame_sid(c, frame)))
        return false;
    *pattern = json_string_value(json_object_get(frame, "subject"));
    json_t *jsince = json_object_get(frame, "since");
    const json_t *jtask = json_object_get(frame, "task");
    *task = json_string_value(jtask);
    if (jtask && (!*task || !api_id_ok(*task))) {
        ws_send_error(c, "sid", json_string(*sid), "bad_request",
                      "'task' must be a task id (1 to 64 of A-Z a-z 0-9 _ -)");
        return false;
    }
    if (c->id.cred == HTTP_CRED_SHARE) {
        /* A share link follows its own task, whatever it asked. */
        if (*task && strcmp(*task, c->id.task) != 0) {
            ws_send_error(c, "sid", json_string(*sid), "not_found", "no task '%s'", *task);
            return false;
        }
        *task = c->id.task;
    }
    if (!*pattern || strlen(*pattern) + strlen(BOSUN_STORED_PREFIX) > BUS_SUBJECT_MAX ||
        bus_pattern_check(*pattern) != 0) {
        ws_send_error(c, "sid", json_string(*sid), "bad_request",
                      "'subject' must be a subject pattern");
    } else if (jsince && (!json_is_integer(jsince) || json_integer_value(jsince) < 0)) {
        ws_send_error(c, "sid", json_string(*sid), "bad_request",
                      "'since' must be a sequence number");
    } else if (!ws_machine_filter(json_object_get(frame, "machine"), machines)) {
        ws_send_error(c, "sid", json_string(*sid), "bad_request",
                      "'machine' must be a machine id (1 to %d of A-Z a-z 0-9 _ -) or a list "
                      "of 1 to %d of them",
                      WS_MACHINE_MAX, WS_MACHINES_MAX);
    } else if (find_sub(c, *sid)) {
        ws_send_error(c, "sid", json_string(*sid), "bad_request", "sid '%s' is in use", *sid);
    } else if (c->n_subs >= ws_limits(c)->ws_subs_max) {
        if (!c->subs_noted)
            log_notice("http: /ws %s: sid %s refused: %zu subscriptions (ws_subs_max); "
                       "logged once per connection",
                       c->w.peer, *sid, c->n_subs);
        c->subs_noted = true;
        ws_send_error(c, "sid", json_string(*sid), "too_many",
                      "at most %zu subscriptions per connection", ws_limits(c)->ws_subs_max);
    } else {
        /* no since: live only, from the store's last seq */
        *since = jsince ? json_integer_value(jsince) : -1;
        return true;
    }
    json_decref(*machines);
    *machines = NULL;
    return false;
}

/* The live side of a sub.  A share link's is made with the plugin's own
 * rights, narrowed by its forced task filter (sub_wants), for events of
 * its task carry many subjects (runs, questions, the task) that its
 * principal's patterns cannot name; only evt. events, never another feed. */
static bus_sub *subscribe_live(ws_conn *c, ws_sub *s, const char *live)
{
    bus_t *bus = http_server_bus(c->hub->srv);
    if (c->id.cred != HTTP_CRED_SHARE)
        return bus_subscribe_as(bus, c->id.who, live, on_live, s);
    if (strncmp(s->pattern, "evt.", 4) != 0 && strcmp(s->pattern, ">") != 0) {
        errno = EACCES;
        return NULL;
    }
    char narrowed[BUS_SUBJECT_MAX + sizeof BOSUN_STORED_PREFIX]; /* the pattern was bounded */
    snprintf(narrowed, sizeof narrowed, "%s%s", BOSUN_STORED_PREFIX,
             strcmp(s->pattern, ">") == 0 ? "evt.>" : s->pattern);
    return bus_subscribe(bus, narrowed, on_live, s);
}

void ws_op_sub(ws_conn *c, json_t *frame)
{
    const char *sid, *pattern, *task;
    json_int_t since;
    json_t *machines;
    if (!sub_args(c, frame, &sid, &pattern, &since, &machines, &task))
        return;
    ws_sub *s = calloc(1, sizeof *s);
    json_t *sj = json_string(sid);
    if (!s || !sj || !(s->sid_json = bosun_json_dump(sj, 0, NULL))) {
        json_decref(machines);
        free(s);
        ws_send_error(c, "sid", sj, "internal", "out of memory"); /* steals sj */
        return;
    }
    s->c = c;
    s->machines = machines;
    snprintf(s->task, sizeof s->task, "%s", task ? task : "");
    snprintf(s->sid, sizeof s->sid, "%s", sid);
    snprintf(s->pattern, sizeof s->pattern, "%s", pattern);
    s->live_only = since < 0;
    s->last = s->live_only ? INT64_MAX : since;
    s->replaying = true;
    char live[BUS_SUBJECT_MAX + 1];
    snprintf(live, sizeof live, "%s%s", BOSUN_STORED_PREFIX, pattern);
    s->live = subscribe_live(c, s, live);
    if (!s->live) {
        bool denied = errno == EACCES;
        ws_send_error(c, "sid", sj, denied ? "forbidden" : "bad_request",
                      denied ? "not allowed to subscribe to '%s'" : "cannot subscribe to '%s'",
                      pattern);
        sub_free(s);
        return;
    }
    json_decref(sj);
    s->next = c->subs;
    c->subs = s;
    c->n_subs++;
    request_page(s);
}

void ws_op_unsub(ws_conn *c, json_t *frame)
{
    const char *sid = frame_sid(c, frame);
    if (!sid)
        return;
    ws_sub *s = find_sub(c, sid);
    if (!s) {
        ws_send_error(c, "sid", json_string(sid), "not_found", "no subscription '%s'", sid);
        return;
    }
    sub_remove(s);
}

void ws_subs_drained(ws_conn *c)
{
    for (ws_sub *s = c->subs, *next; s && !c->w.closing; s = next) {
        next = s->next; /* pump may remove s */
        if (s->page && !s->req)
            pump(s);
    }
}

void ws_subs_free(ws_conn *c)
{
    while (c->subs) {
        ws_sub *s = c->subs;
        c->subs = s->next;
        sub_free(s);
    }
    c->n_subs = 0;
}
