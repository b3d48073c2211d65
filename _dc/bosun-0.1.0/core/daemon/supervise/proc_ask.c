/* A run's blocking questions, from the ask to the resume that carries the
 * answer on.  The answer is what matters, not when it comes: one that
 * comes while the process still runs is kept and resumes the run once it
 * has exited, exactly like one that comes after; the resumed run takes
 * over the questions still open, so a second question's answer resumes
 * that run in its turn.  Each answer resumes once: it leaves the list as
 * its resumed run is made. */
#include "config.h"

#include "proc_internal.h"
#include "util.h"

#include <string.h>

#include <bosun/bus.h>
#include <bosun/log.h>
#include <bosun/store.h>

void ask_clear(run *r)
{
    for (size_t i = 0; i < r->n_asks; i++) {
        free(r->asks[i].input);
        free(r->asks[i].answer);
    }
    r->n_asks = 0;
}

static void ask_drop(run *r, size_t i)
{
    free(r->asks[i].input);
    free(r->asks[i].answer);
    memmove(&r->asks[i], &r->asks[i + 1], (r->n_asks - i - 1) * sizeof r->asks[0]);
    r->n_asks--;
}

void ask_add(run *r, const char *input)
{
    if (ask_find(r, input))
        return;
    if (r->n_asks == RUN_ASK_MAX) {
        /* An agent that asks without end must not grow the daemon: the
         * oldest open question goes (an answer already given stays). */
        size_t old = 0;
        while (old < r->n_asks - 1 && r->asks[old].answer)
            old++;
        log_warning("run %s (%s): more than %d blocking questions; it no longer waits for "
                    "input %s",
                    r->id, r->agent_name, RUN_ASK_MAX, r->asks[old].input);
        ask_drop(r, old);
    }
    r->asks[r->n_asks++] = (run_ask){.input = xstrdup(input)};
}

run_ask *ask_find(run *r, const char *input)
{
    for (size_t i = 0; i < r->n_asks; i++)
        if (strcmp(r->asks[i].input, input) == 0)
            return &r->asks[i];
    return NULL;
}

const char *ask_first(const run *r)
{
    return r->n_asks ? r->asks[0].input : NULL;
}

const char *ask_open(const run *r)
{
    for (size_t i = 0; i < r->n_asks; i++)
        if (!r->asks[i].answer)
            return r->asks[i].input;
    return NULL;
}

bool ask_answered(const run *r)
{
    for (size_t i = 0; i < r->n_asks; i++)
        if (r->asks[i].answer)
            return true;
    return false;
}

bool ask_take(run *r, char **input, char **answer)
{
    for (size_t i = 0; i < r->n_asks; i++) {
        if (!r->asks[i].answer)
            continue;
        *input = r->asks[i].input;
        *answer = r->asks[i].answer;
        memmove(&r->asks[i], &r->asks[i + 1], (r->n_asks - i - 1) * sizeof r->asks[0]);
        r->n_asks--;
        return true;
    }
    return false;
}

void ask_move(run *from, run *to)
{
    size_t i = 0;
    for (; i < from->n_asks && to->n_asks < RUN_ASK_MAX; i++)
        to->asks[to->n_asks++] = from->asks[i];
    memmove(from->asks, &from->asks[i], (from->n_asks - i) * sizeof from->asks[0]);
    from->n_asks -= i;
    ask_clear(from); /* none left: `to` is a new run */
}

/* ------------------------------------------------------------ recovery */

typedef struct {
    proc *p;
    char run[ULID_LEN + 1];
    char *input;
} ask_lookup;

static void on_ask_found(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    ask_lookup *l = arg;
    json_t *in = st == BUS_REPLY_OK ? json_array_get(json_object_get(m->data, "inputs"), 0) : NULL;
    const char *status = json_string_value(json_object_get(in, "status"));
    const char *answer = json_string_value(json_object_get(in, "answer"));
    run *r = st == BUS_REPLY_CANCELLED ? NULL : hmap_get(&l->p->by_id, l->run);
    run_ask *a = r ? ask_find(r, l->input) : NULL;
    if (st != BUS_REPLY_OK && st != BUS_REPLY_CANCELLED)
        log_error("run %s: no store answered about input %s: an answer it already has waits "
                  "for the next bosund start",
                  l->run, l->input);
    else if (a && !a->answer && status && strcmp(status, "answered") == 0 && answer) {
        log_info("run %s: input %s was answered before bosund restarted", l->run, l->input);
        a->answer = xstrdup(answer);
        if (r->state == RS_WAITING_INPUT && !r->alive)
            proc_resume_later(l->p, r);
    }
    free(l->input);
    free(l);
}

void ask_recover(proc *p, run *r)
{
    /* The answer may have come while the process still ran, or found no
     * free instance: it is in the store, not in this bosund's memory. */
    if (!r->n_asks || r->asks[0].answer)
        return;
    ask_lookup *l = xcalloc(1, sizeof *l);
    l->p = p;
    memcpy(l->run, r->id, sizeof l->run);
    l->input = xstrdup(r->asks[0].input);
    json_t *q = json_pack("{s:s}", "input", l->input);
    if (!bus_request(p->bus, BOSUN_STORE_INPUTS, q, 10.0, on_ask_found, l)) {
        log_error("run %s: cannot ask the store about input %s", r->id, l->input);
        free(l->input);
        free(l);
    }
    json_decref(q);
}
