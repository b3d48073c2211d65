/* Paced restarts: the spawns a restart storm asks for, a few a loop turn.
 *
 * A crashing agent's back-off timer used to spawn it at once.  With many
 * crashers and no back-off, every loop turn then spawned all of them (each
 * spawn waits in vfork until the child has exec'd, milliseconds on a busy
 * machine) and each spawn and exit published a handful of events: the bus
 * queue grew faster than the store could take it (71,000 messages and
 * 3 GB after ten minutes of 100 crashers), and a `ps` request, queued
 * behind them, was never answered.
 *
 * So a due restart joins a FIFO here, and an idle watcher spawns a few of
 * them a loop turn (PACE_BATCH, PACE_TURN_SECS), and none while the bus
 * holds more than PACE_QUEUE_MAX messages or a consumer (the store) marks
 * it congested:
 * the control socket is read between two batches, and what the storm
 * publishes waits behind a short queue.  Restarts still all happen, in
 * order, as fast as the store takes their events; none is dropped. */
#include "config.h"

#include "proc_internal.h"
#include "proc_spawn.h"

#include <bosun/log.h>
#include <bosun/sys.h>

/* Spawns a loop turn: at most PACE_BATCH, and no more once PACE_TURN_SECS
 * have gone in them.  A spawn waits in vfork until the child has exec'd:
 * ~0.3 ms on an idle machine, several ms when the CPUs are busy (then a
 * batch of 8 made a ps wait ~40 ms at the median, 2 made it ~17 ms); the
 * time bound keeps a turn short there and still lets an idle machine
 * restart many a turn. */
#define PACE_BATCH     16
#define PACE_TURN_SECS 0.004
/* The bus delivers up to 1,024 messages a turn: below this a request
 * queued now is delivered within a turn or two. */
#define PACE_QUEUE_MAX 1024

static bool pace_pressured(const proc *p)
{
    return bus_congested(p->bus) || bus_queue_length(p->bus) > PACE_QUEUE_MAX;
}

static run *pace_pop(proc *p)
{
    run *r = p->pace_head;
    if (!r)
        return NULL;
    p->pace_head = r->pace_next;
    if (!p->pace_head)
        p->pace_tail = NULL;
    r->pace_next = NULL;
    r->pace_queued = false;
    return r;
}

static void on_pace_idle(struct ev_loop *loop, ev_idle *w, int revents)
{
    proc *p = w->data;
    double t0 = bosun_monotonic();
    /* Started a few together, as many as spawn at once (proc_spawn.c),
     * so that the time bound is checked after each few spawns. */
    unsigned together = spawn_parallelism(), in_batch = 0;
    run_spawn_batch_begin(p);
    for (int i = 0; i < PACE_BATCH && p->pace_head; i++) {
        if (in_batch >= together) {
            run_spawn_batch_end(p);
            run_spawn_batch_begin(p);
            in_batch = 0;
        }
        if (pace_pressured(p) || (i > 0 && bosun_monotonic() - t0 >= PACE_TURN_SECS))
            break;
        run *r = pace_pop(p);
        /* Stopped, or given a new back-off, while it waited. */
        if (r->state != RS_BACKOFF || ev_is_active(&r->timer))
            continue;
        r->restarts++;
        run_spawn(r);
        in_batch++;
    }
    run_spawn_batch_end(p);
    /* Under pressure the idle stops rather than spin; proc_pace_check
     * starts it again once the consumers have caught up. */
    if (!p->pace_head || pace_pressured(p))
        ev_idle_stop(loop, w);
}

void proc_pace_init(proc *p)
{
    ev_idle_init(&p->pace_idle, on_pace_idle);
    /* The bus's own priority: run every loop turn, whatever else is
     * pending (a busy agent's output must not hold restarts back). */
    ev_set_priority(&p->pace_idle, EV_MAXPRI);
    p->pace_idle.data = p;
}

void proc_pace_stop(proc *p)
{
    ev_idle_stop(p->loop, &p->pace_idle);
    while (pace_pop(p))
        ;
}

void proc_pace_spawn(proc *p, run *r)
{
    if (r->pace_queued)
        return;
    r->pace_queued = true;
    r->pace_next = NULL;
    if (p->pace_tail)
        p->pace_tail->pace_next = r;
    else
        p->pace_head = r;
    p->pace_tail = r;
    if (!pace_pressured(p))
        ev_idle_start(p->loop, &p->pace_idle);
}

void proc_pace_forget(proc *p, run *r)
{
    if (!r->pace_queued)
        return;
    run *prev = NULL;
    for (run *q = p->pace_head; q; prev = q, q = q->pace_next) {
        if (q != r)
            continue;
        if (prev)
            prev->pace_next = r->pace_next;
        else
            p->pace_head = r->pace_next;
        if (p->pace_tail == r)
            p->pace_tail = prev;
        break;
    }
    r->pace_next = NULL;
    r->pace_queued = false;
}

void proc_pace_check(proc *p)
{
    if (p->pace_head && !ev_is_active(&p->pace_idle) && !pace_pressured(p))
        ev_idle_start(p->loop, &p->pace_idle);
}
