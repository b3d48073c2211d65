/* Event lines on stdout (llm_out.h).  The daemon reads the pipe without
 * pause, so a blocking write is only as slow as the daemon; a line never
 * goes out in pieces mixed with another. */
#define _POSIX_C_SOURCE 200809L
#include <ev.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/json.h>
#include <bosun/log.h>
#include <bosun/sys.h>

#include "llm_out.h"

struct llm_out {
    struct ev_loop *loop;
    int fd;
    char *held; /* delta text not written yet */
    size_t held_len, held_cap;
    ev_timer timer;
    size_t delta_lines;
    bool broken;
};

static void write_line(llm_out *o, json_t *ev)
{
    size_t len;
    char *line = bosun_json_dump(ev, BOSUN_JSON_ASCII, &len);
    json_decref(ev);
    if (!line || o->broken) {
        free(line);
        return;
    }
    line[len] = '\n'; /* bosun_json_dump leaves room for the NUL */
    if (bosun_write_all(o->fd, line, len + 1) < 0) {
        o->broken = true;
        log_error("stdout: cannot write events; the daemon is gone?");
    }
    free(line);
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
    return o;
}

void llm_out_free(llm_out *o)
{
    if (!o)
        return;
    ev_timer_stop(o->loop, &o->timer);
    free(o->held);
    free(o);
}
