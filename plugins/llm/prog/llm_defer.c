/* Deferred work on bosun-llm's loop (llm_defer.h). */
#include "llm_defer.h"

static void run(llm_defer *d)
{
    llm_defer_stop(d);
    d->fn(d->arg);
}

static void on_idle(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)loop;
    (void)revents;
    run(w->data);
}

/* Before each wait: a loop kept busy (no idle turn) still gets it done. */
static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop;
    (void)revents;
    llm_defer *d = w->data;
    if (++d->turns >= LLM_DEFER_TURNS)
        run(d);
}

void llm_defer_init(llm_defer *d, struct ev_loop *loop, void (*fn)(void *), void *arg)
{
    d->loop = loop;
    d->fn = fn;
    d->arg = arg;
    d->turns = 0;
    ev_idle_init(&d->idle, on_idle);
    ev_prepare_init(&d->prep, on_prepare);
    d->idle.data = d->prep.data = d;
}

void llm_defer_arm(llm_defer *d)
{
    if (ev_is_active(&d->idle))
        return;
    d->turns = 0;
    ev_idle_start(d->loop, &d->idle);
    ev_prepare_start(d->loop, &d->prep);
}

void llm_defer_stop(llm_defer *d)
{
    ev_idle_stop(d->loop, &d->idle);
    ev_prepare_stop(d->loop, &d->prep);
}
