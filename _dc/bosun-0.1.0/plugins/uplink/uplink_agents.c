/* What the machine has: its configured agents (for machine.register and
 * for refusing to start anything else) and how many runs are active (for
 * heartbeats), kept from the supervisor's events:
 *   evt.agent.<name>.configured {"agent","type"}, ….removed
 *   evt.run.<agent>.<run>.state, a run object with "run" and "state".
 * At a daemon's start the plugin is started before the supervisor
 * publishes any of them.  A plugin added by a reload missed them: it reads
 * the agents' events back from the store and the active runs from
 * cmd.proc.ps, and what it hears live meanwhile wins. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "uplink.h"

#define AGENTS_MAX 4096
#define RUNS_MAX   65536
#define NAME_MAX_  128

typedef struct agent {
    char *name, *type;
    bool live; /* heard from an event, not from the store's past */
} agent;

struct uplink_agents {
    bus_t *bus;
    agent *a;
    size_t n, cap;
    char **runs; /* active run ids */
    size_t n_runs, cap_runs;
    bus_sub *subs[3];
    uint64_t reqs[3];
};

/* ------------------------------------------------------------ tables */

static agent *find(const uplink_agents *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->a[i].name, name) == 0)
            return &t->a[i];
    return NULL;
}

static void set_agent(uplink_agents *t, const char *name, const char *type, bool live)
{
    if (!name || strlen(name) > NAME_MAX_ || (type && strlen(type) > NAME_MAX_))
        return;
    agent *a = find(t, name);
    if (a && !live && a->live)
        return;
    if (!a) {
        if (t->n >= AGENTS_MAX)
            return;
        if (t->n == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 16;
            agent *na = realloc(t->a, cap * sizeof *na);
            if (!na)
                return;
            t->a = na;
            t->cap = cap;
        }
        a = &t->a[t->n];
        a->name = strdup(name);
        a->type = NULL;
        a->live = false;
        if (!a->name)
            return;
        t->n++;
    }
    char *ty = strdup(type ? type : "");
    if (ty) {
        free(a->type);
        a->type = ty;
    }
    a->live = a->live || live;
}

static void remove_agent(uplink_agents *t, const char *name, bool live)
{
    agent *a = name ? find(t, name) : NULL;
    if (!a || (!live && a->live))
        return;
    free(a->name);
    free(a->type);
    *a = t->a[--t->n];
}

static size_t run_index(const uplink_agents *t, const char *run)
{
    for (size_t i = 0; i < t->n_runs; i++)
        if (strcmp(t->runs[i], run) == 0)
            return i;
    return (size_t)-1;
}

static void set_run(uplink_agents *t, const char *run, bool active)
{
    if (!run || strlen(run) > NAME_MAX_)
        return;
    size_t i = run_index(t, run);
    if (!active) {
        if (i != (size_t)-1) {
            free(t->runs[i]);
            t->runs[i] = t->runs[--t->n_runs];
        }
        return;
    }
    if (i != (size_t)-1 || t->n_runs >= RUNS_MAX)
        return;
    if (t->n_runs == t->cap_runs) {
        size_t cap = t->cap_runs ? 2 * t->cap_runs : 16;
        char **nr = realloc(t->runs, cap * sizeof *nr);
        if (!nr)
            return;
        t->runs = nr;
        t->cap_runs = cap;
    }
    if ((t->runs[t->n_runs] = strdup(run)) != NULL)
        t->n_runs++;
}

/* ------------------------------------------------------------ events */

static void on_configured(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus;
    set_agent(arg, json_string_value(json_object_get(m->data, "agent")),
              json_string_value(json_object_get(m->data, "type")), true);
}

static void on_removed(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus;
    remove_agent(arg, json_string_value(json_object_get(m->data, "agent")), true);
}

static bool state_active(const char *state)
{
    return state && bosun_run_state_class(state) == BOSUN_RUN_CLASS_ACTIVE;
}

static void on_state(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus;
    set_run(arg, json_string_value(json_object_get(m->data, "run")),
            state_active(json_string_value(json_object_get(m->data, "state"))));
}

/* ------------------------------------------------------------ seeding */

static void on_past_agents(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    uplink_agents *t = arg;
    t->reqs[1] = 0;
    if (st != BUS_REPLY_OK)
        return;
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(m->data, "events"), i, ev)
    {
        const char *subject = json_string_value(json_object_get(ev, "subject"));
        json_t *d = json_object_get(ev, "data");
        const char *name = json_string_value(json_object_get(d, "agent"));
        size_t sl = subject ? strlen(subject) : 0;
        if (sl > 11 && strcmp(subject + sl - 11, ".configured") == 0)
            set_agent(t, name, json_string_value(json_object_get(d, "type")), false);
        else if (sl > 8 && strcmp(subject + sl - 8, ".removed") == 0)
            remove_agent(t, name, false);
    }
}

static void on_ps(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    uplink_agents *t = arg;
    t->reqs[2] = 0;
    if (st != BUS_REPLY_OK)
        return;
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(m->data, "rows"), i, row)
    {
        const char *state = json_string_value(json_object_get(row, "state"));
        if (state_active(state))
            set_run(t, json_string_value(json_object_get(row, "run")), true);
    }
}

static void on_status(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    uplink_agents *t = arg;
    t->reqs[0] = 0;
    const char *state =
        st == BUS_REPLY_OK ? json_string_value(json_object_get(m->data, "state")) : NULL;
    if (!state || strcmp(state, "running") != 0)
        return; /* the daemon is starting: the events are still to come */
    json_t *q = json_pack("{s:s,s:i}", "subject", "evt.agent.>", "tail", 10000);
    t->reqs[1] = bus_request(bus, BOSUN_STORE_EVENTS, q, 30.0, on_past_agents, t);
    json_decref(q);
    json_t *e = json_object();
    t->reqs[2] = bus_request(bus, "cmd.proc.ps", e, 30.0, on_ps, t);
    json_decref(e);
}

void uplink_agents_seed(uplink_agents *t)
{
    if (t->reqs[0])
        return;
    json_t *e = json_object();
    t->reqs[0] = bus_request(t->bus, "cmd.daemon.status", e, 30.0, on_status, t);
    json_decref(e);
}

/* ------------------------------------------------------------ API */

uplink_agents *uplink_agents_new(bus_t *bus)
{
    uplink_agents *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->bus = bus;
    t->subs[0] = bus_subscribe(bus, "evt.agent.*.configured", on_configured, t);
    t->subs[1] = bus_subscribe(bus, "evt.agent.*.removed", on_removed, t);
    t->subs[2] = bus_subscribe(bus, "evt.run.*.*.state", on_state, t);
    if (!t->subs[0] || !t->subs[1] || !t->subs[2]) {
        uplink_agents_free(t);
        return NULL;
    }
    return t;
}

void uplink_agents_free(uplink_agents *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < 3; i++) {
        if (t->subs[i])
            bus_unsubscribe(t->bus, t->subs[i]);
        if (t->reqs[i])
            bus_request_cancel(t->bus, t->reqs[i]);
    }
    for (size_t i = 0; i < t->n; i++) {
        free(t->a[i].name);
        free(t->a[i].type);
    }
    for (size_t i = 0; i < t->n_runs; i++)
        free(t->runs[i]);
    free(t->a);
    free(t->runs);
    free(t);
}

bool uplink_agents_has(const uplink_agents *t, const char *name)
{
    return name && find(t, name) != NULL;
}

json_t *uplink_agents_json(const uplink_agents *t)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < t->n; i++)
        json_array_append_new(a, json_pack("{s:s,s:s}", "name", t->a[i].name, "type",
                                           t->a[i].type ? t->a[i].type : ""));
    return a;
}

size_t uplink_agents_running(const uplink_agents *t)
{
    return t->n_runs;
}
