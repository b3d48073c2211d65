/* notify_dedup — one message per thing that happened, and a flapping agent
 * told about once per window.
 *
 * A key seen before (the same question, approval, failed attempt: events
 * can come twice, from a replay or a hub relaying a machine's) is dropped.
 * The first failure of an agent goes out at once and opens a window; the
 * agent's further failures within it are counted, and when it ends one
 * "failed N times" message goes out and a new window opens; a window
 * without failures closes.  Both tables are bounded. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"

#define SEEN_MAX 8192          /* keys remembered */
#define SEEN_TTL (24 * 3600.0) /* and for how long */
#define FLAP_MAX 1024          /* agents with an open window */

typedef struct flap {
    struct flap *next;
    struct notify_dedup *dd;
    char *agent;
    int count;        /* failures since the window opened, after the first */
    notify_msg *last; /* the latest of them */
    ev_timer timer;
} flap;

struct notify_dedup {
    struct ev_loop *loop;
    double window;
    notify_emit_fn emit;
    void *arg;
    json_t *seen; /* key -> monotonic time first seen; insertion-ordered */
    flap *flaps;
    size_t n_flaps;
    size_t suppressed;
};

notify_dedup *notify_dedup_new(struct ev_loop *loop, double window, notify_emit_fn emit, void *arg)
{
    notify_dedup *dd = calloc(1, sizeof *dd);
    if (!dd)
        return NULL;
    dd->seen = json_object();
    if (!dd->seen) {
        free(dd);
        return NULL;
    }
    dd->loop = loop;
    dd->window = window;
    dd->emit = emit;
    dd->arg = arg;
    return dd;
}

static void flap_free(notify_dedup *dd, flap *f)
{
    ev_timer_stop(dd->loop, &f->timer);
    notify_msg_unref(f->last);
    free(f->agent);
    free(f);
}

static void flap_unlink(notify_dedup *dd, flap *f)
{
    for (flap **p = &dd->flaps; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            dd->n_flaps--;
            return;
        }
}

void notify_dedup_free(notify_dedup *dd)
{
    if (!dd)
        return;
    while (dd->flaps) {
        flap *f = dd->flaps;
        dd->flaps = f->next;
        flap_free(dd, f);
    }
    json_decref(dd->seen);
    free(dd);
}

size_t notify_dedup_suppressed(const notify_dedup *dd)
{
    return dd->suppressed;
}

/* Forgets keys past their time, then the oldest while over the bound. */
static void seen_prune(notify_dedup *dd, double now)
{
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(dd->seen, tmp, key, v)
    {
        if (json_object_size(dd->seen) < SEEN_MAX && now - json_real_value(v) < SEEN_TTL)
            break;
        json_object_del(dd->seen, key);
    }
}

/* Whether key was seen; records it otherwise. */
static bool seen_before(notify_dedup *dd, const char *key)
{
    if (json_object_get(dd->seen, key))
        return true;
    double now = ev_now(dd->loop);
    seen_prune(dd, now);
    json_object_set_new(dd->seen, key, json_real(now));
    return false;
}

static flap *flap_find(notify_dedup *dd, const char *agent)
{
    for (flap *f = dd->flaps; f; f = f->next)
        if (strcmp(f->agent, agent) == 0)
            return f;
    return NULL;
}

/* The "failed N times" message, from the window's latest failure. */
static notify_msg *coalesced(const flap *f, double window)
{
    notify_msg *m = notify_msg_ref(f->last);
    char *title = NULL;
    if (asprintf(&title, "bosun: agent %s failed %d times within %g s", f->agent, f->count + 1,
                 window) < 0)
        return m;
    free(m->title);
    m->title = title;
    m->count = f->count + 1;
    return m;
}

static void on_window(struct ev_loop *loop, ev_timer *w, int revents)
{
    flap *f = w->data;
    notify_dedup *dd = f->dd;
    if (f->count == 0) {
        flap_unlink(dd, f);
        flap_free(dd, f);
        return;
    }
    notify_msg *m = coalesced(f, dd->window);
    f->count = 0;
    notify_msg_unref(f->last);
    f->last = NULL;
    ev_timer_set(&f->timer, dd->window, 0);
    ev_timer_start(loop, &f->timer);
    dd->emit(m, dd->arg);
}

/* true when the failure was counted into an open window. */
static bool flap_count(notify_dedup *dd, notify_msg *m)
{
    flap *f = flap_find(dd, m->agent);
    if (f) {
        f->count++;
        notify_msg_unref(f->last);
        f->last = m;
        dd->suppressed++;
        return true;
    }
    if (dd->n_flaps >= FLAP_MAX || !(f = calloc(1, sizeof *f)))
        return false;
    if (!(f->agent = strdup(m->agent))) {
        free(f);
        return false;
    }
    f->dd = dd;
    ev_timer_init(&f->timer, on_window, dd->window, 0);
    f->timer.data = f;
    ev_timer_start(dd->loop, &f->timer);
    f->next = dd->flaps;
    dd->flaps = f;
    dd->n_flaps++;
    return false;
}

void notify_dedup_push(notify_dedup *dd, notify_msg *m)
{
    if (seen_before(dd, m->key)) {
        dd->suppressed++;
        notify_msg_unref(m);
        return;
    }
    if (m->kind == NK_RUN_FAILED && m->agent && flap_count(dd, m))
        return;
    dd->emit(m, dd->arg);
}

double notify_dedup_window(const notify_dedup *dd)
{
    return dd->window;
}
