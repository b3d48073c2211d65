/* Event lines on stdout (llm_out.h).  The daemon reads the pipe without
 * pause, so a blocking write is only as slow as the daemon; a line never
 * goes out in pieces mixed with another.  The lines go out together, in
 * one write when the loop has nothing else to do (llm_defer.h): every
 * write wakes bosund, which on a small machine takes the CPU from the
 * round in progress (the model's next request, the tool). */
#define _POSIX_C_SOURCE 200809L
#include <ev.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/json.h>
#include <bosun/log.h>
#include <bosun/sys.h>

#include "llm_defer.h"
#include "llm_out.h"

struct llm_out {
    struct ev_loop *loop;
    int fd;
    char *held; /* delta text not written yet */
    size_t held_len, held_cap;
    ev_timer timer;
    size_t delta_lines;
    bool broken;
    bosun_json_buf q; /* whole lines not written yet */
    llm_defer defer;
};

/* Past this many bytes the lines go out at once, not deferred: the
 * queue's memory stays bounded. */
#define QUEUE_MAX (256u << 10)

static void write_queued(llm_out *o)
{
    llm_defer_stop(&o->defer);
    if (o->q.len && !o->broken && bosun_write_all(o->fd, o->q.data, o->q.len) < 0) {
        o->broken = true;
        log_error("stdout: cannot write events; the daemon is gone?");
    }
    o->q.len = 0;
}

static void on_defer(void *arg)
{
    write_queued(arg);
}

/* The line's text straight onto the queue (rolled back, not half
 * queued, when memory runs out). */
static bool queue_line(llm_out *o, const json_t *ev)
{
    size_t before = o->q.len;
    if (bosun_json_append(&o->q, ev, BOSUN_JSON_ASCII) == 0 &&
        bosun_json_append_raw(&o->q, "\n", 1) == 0)
        return true;
    o->q.len = before;
    return false;
}

static void write_line(llm_out *o, json_t *ev)
{
    if (!o->broken && !queue_line(o, ev)) {
        /* No room to wait: what is queued goes now, then this line. */
        write_queued(o);
        if (!queue_line(o, ev)) {
            json_decref(ev);
            return;
        }
    }
    json_decref(ev);
    if (o->broken)
        return;
    if (o->q.len >= QUEUE_MAX)
        write_queued(o);
    else
        llm_defer_arm(&o->defer);
}

void llm_out_event(llm_out *o, const char *kind, json_t *ev)
{
    if (!ev)
        ev = json_object();
    json_object_set_new(ev, "kind", json_string(kind));
    write_line(o, ev);
}

void llm_out_flush(llm_out *o)
{
    ev_timer_stop(o->loop, &o->timer);
    if (!o->held_len)
        return;
    json_t *ev = json_object();
    json_object_set_new(ev, "text", json_stringn(o->held, o->held_len));
    o->held_len = 0;
    o->delta_lines++;
    llm_out_event(o, "message_delta", ev);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    llm_out_flush(w->data);
}

void llm_out_delta(llm_out *o, const char *text, size_t len)
{
    if (!len)
        return;
    if (o->held_len + len + 1 > o->held_cap) {
        size_t cap = (o->held_len + len + 1) * 2;
        char *grown = realloc(o->held, cap);
        if (!grown)
            return; /* the whole message still comes at the turn's end */
        o->held = grown;
        o->held_cap = cap;
    }
    memcpy(o->held + o->held_len, text, len);
    o->held_len += len;
    if (!ev_is_active(&o->timer)) {
        ev_timer_set(&o->timer, LLM_DELTA_INTERVAL, 0.);
        ev_timer_start(o->loop, &o->timer);
    }
}

void llm_out_reset(llm_out *o)
{
    ev_timer_stop(o->loop, &o->timer);
    o->held_len = 0;
}

size_t llm_out_delta_lines(const llm_out *o)
{
    return o->delta_lines;
}

llm_out *llm_out_new(struct ev_loop *loop, int fd)
{
    llm_out *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->loop = loop;
    o->fd = fd;
    ev_timer_init(&o->timer, on_timer, LLM_DELTA_INTERVAL, 0.);
    o->timer.data = o;
    llm_defer_init(&o->defer, loop, on_defer, o);
    return o;
}

void llm_out_free(llm_out *o)
{
    if (!o)
        return;
    ev_timer_stop(o->loop, &o->timer);
    write_queued(o); /* the last lines (the result) are not lost */
    free(o->held);
    free(o->q.data);
    free(o);
}
