/* The supervisor: agents from the configuration, their runs, requests on
 * cmd.proc.*, crash recovery, back-pressure and shutdown. */
#include "config.h"

#include "proc_internal.h"
#include "fsafe.h"
#include "proc_spawn.h"
#include "remote.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bosun/agent_stream.h>
#include <bosun/log.h>
#include <bosun/store.h>
#include <bosun/task.h>

/* Output reading pauses while this many messages wait on the bus, or while
 * a consumer marks the bus congested (the store, when its commits lag or
 * fail), and resumes below the low mark: the consumers set the pace. */
#define PRESSURE_HIGH 20000
#define PRESSURE_LOW  5000
#define PROMPT_MAX    (1024 * 1024)

void proc_reply_error(bus_t *bus, const bus_msg *m, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *d = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    bus_reply(bus, m, d);
    json_decref(d);
}

static agent_config *find_agent(proc *p, const char *name)
{
    for (size_t i = 0; p->agents && p->agents[i]; i++)
        if (strcmp(p->agents[i]->name, name) == 0)
            return p->agents[i];
    return NULL;
}

/* The runs of one (agent, instance) slot: usually one, a few while a
 * run waits for an answer.  Kept in p->slots so that autostart, ps and
 * the start of a run cost O(1) per slot however many runs there are. */
typedef struct run_slot {
    run *head; /* linked by run.slot_next */
} run_slot;

/* "agent/instance": agent names are at most AGENT_NAME_MAX bytes without
 * '/', so the key is unique and fits. */
static size_t slot_key(char *buf, size_t size, const char *agent, unsigned instance)
{
    int n = snprintf(buf, size, "%s/%u", agent, instance);
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

#define SLOT_KEY_MAX (AGENT_NAME_MAX + 16)

static run_slot *find_slot(proc *p, const char *agent, unsigned instance)
{
    char key[SLOT_KEY_MAX];
    size_t len = slot_key(key, sizeof key, agent, instance);
    return hmap_getn(&p->slots, key, len);
}

/* The run that holds (agent, instance): the active one, else the latest. */
static run *slot_run(proc *p, const char *agent, unsigned instance)
{
    run_slot *s = find_slot(p, agent, instance);
    run *latest = NULL;
    for (run *r = s ? s->head : NULL; r; r = r->slot_next) {
        if (run_active(r))
            return r;
        if (!latest || strcmp(r->id, latest->id) > 0)
            latest = r;
    }
    return latest;
}

/* Adds a new run to the list, the id index and its slot. */
static void link_run(proc *p, run *r)
{
    r->prev = NULL;
    r->next = p->runs;
    if (p->runs)
        p->runs->prev = r;
    p->runs = r;
    hmap_put(&p->by_id, r->id, r);
    char key[SLOT_KEY_MAX];
    size_t len = slot_key(key, sizeof key, r->agent_name, r->instance);
    run_slot *s = hmap_getn(&p->slots, key, len);
    if (!s) {
        s = xcalloc(1, sizeof *s);
        hmap_putn(&p->slots, key, len, s);
    }
    r->slot_next = s->head;
    s->head = r;
}

static void unlink_run(proc *p, run *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else if (p->runs == r)
        p->runs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->next = r->prev = NULL;
    hmap_del(&p->by_id, r->id);
    char key[SLOT_KEY_MAX];
    size_t len = slot_key(key, sizeof key, r->agent_name, r->instance);
    run_slot *s = hmap_getn(&p->slots, key, len);
    for (run **pp = s ? &s->head : NULL; pp && *pp; pp = &(*pp)->slot_next)
        if (*pp == r) {
            *pp = r->slot_next;
            break;
        }
    r->slot_next = NULL;
    if (s && !s->head)
        free(hmap_deln(&p->slots, key, len));
}

/* Keeps memory bounded: a slot remembers only its latest finished run. */
static void forget_older_runs(proc *p, const run *keep)
{
    run_slot *s = find_slot(p, keep->agent_name, keep->instance);
    for (run *r = s ? s->head : NULL, *next; r; r = next) {
        next = r->slot_next;
        /* A run waiting for an answer stays: answering must find it. */
        if (r != keep && !run_active(r) && !r->n_asks && r->n_waiters == 0) {
            unlink_run(p, r); /* s is freed only with its last run: keep is in it */
            run_free(r);
        }
    }
}

static run *start_run(proc *p, agent_config *a, unsigned instance, const char *task,
                      const char *prompt, char *err, size_t err_size)
{
    /* proc_shutdown has sent its stops: a run started now would outlive them. */
    if (p->shutting_down) {
        snprintf(err, err_size, "bosund is stopping");
        return NULL;
    }
    char why[512];
    if (proc_budget_refuses(p, a, task, why, sizeof why)) {
        snprintf(err, err_size, "agent '%s': %s", a->name, why);
        return NULL;
    }
    run *r = run_new(p, a, NULL, instance, task, prompt, err, err_size);
    if (!r)
        return NULL;
    link_run(p, r);
    forget_older_runs(p, r);
    log_info("run %s: starting agent %s (instance %u%s%s)", r->id, a->name, instance,
             task ? ", task " : "", task ? task : "");
    run_spawn(r);
    return r;
}

/* ------------------------------------------------------------ shutdown */

static void check_shutdown_done(proc *p)
{
    if (p->shutting_down && p->shutdown_done && proc_active_count(p) == 0 && !p->git_ending.head)
        ev_idle_start(p->loop, &p->shutdown_idle);
}

static void git_settled(void *arg)
{
    check_shutdown_done(arg);
}

static void on_shutdown_idle(struct ev_loop *loop, ev_idle *w, int revents)
{
    proc *p = w->data;
    ev_idle_stop(loop, w);
    void (*done)(void *) = p->shutdown_done;
    p->shutdown_done = NULL;
    if (done)
        done(p->shutdown_arg);
}

static void autostart(proc *p, agent_config *a, unsigned from);

static void on_autostart_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    proc *p = w->data;
    run_spawn_batch_begin(p);
    for (size_t i = 0; p->agents && p->agents[i]; i++)
        autostart(p, p->agents[i], 0);
    run_spawn_batch_end(p);
}

void proc_run_settled(proc *p, run *r)
{
    check_shutdown_done(p);
    /* An answered run that found every instance busy may find one now. */
    for (run *o = p->runs; o; o = o->next)
        if (o != r && o->state == RS_WAITING_INPUT && !o->alive && ask_answered(o)) {
            proc_resume_later(p, o);
            break;
        }
    /* The slot an orphan held is free now: bring the service back. */
    if (r->orphan_stop && r->agent && r->agent->autostart && p->began && !p->shutting_down &&
        !ev_is_active(&p->autostart_timer)) {
        /* libev forbids setting an active timer; one already pending does the same work. */
        ev_timer_set(&p->autostart_timer, 0, 0);
        ev_timer_start(p->loop, &p->autostart_timer);
    }
}

size_t proc_active_count(const proc *p)
{
    size_t n = 0;
    for (const run *r = p->runs; r; r = r->next)
        n += run_active(r);
    return n;
}

void proc_shutdown(proc *p, void (*done)(void *arg), void *arg)
{
    p->shutting_down = true;
    p->shutdown_done = done;
    p->shutdown_arg = arg;
    size_t n = proc_active_count(p);
    if (n)
        log_notice("stopping %zu runs", n);
    for (run *r = p->runs; r; r = r->next)
        if (run_active(r))
            run_stop(r, "bosund is stopping");
    check_shutdown_done(p);
}

void proc_kill_all(proc *p)
{
    for (run *r = p->runs; r; r = r->next)
        if (run_active(r) && r->pid > 0)
            kill(-r->pid, SIGKILL);
}

/* ------------------------------------------------------------ waiters */

void waiter_done(proc *p, run_waiter *w, run *r)
{
    if (--w->pending > 0)
        return;
    json_t *d = json_pack("{s:O}", w->verb, w->runs);
    bus_publish_new(p->bus, w->reply, NULL, d);
    json_decref(w->runs);
    free(w->reply);
    free(w);
}

/* ------------------------------------------------------------ requests */

bool proc_valid_token(const char *s, size_t max)
{
    return s && *s && strlen(s) <= max && !strchr(s, '.') && bus_subject_check(s) == 0;
}

/* Starts a run in the first free instance of agent `name` and answers m. */
static void start_and_reply(proc *p, const bus_msg *m, const char *name, const char *task,
                            const char *prompt)
{
    if (p->shutting_down)
        return proc_reply_error(p->bus, m, "shutting_down", "bosund is stopping");
    agent_config *a = find_agent(p, name);
    if (!a)
        return proc_reply_error(
            p->bus, m, "unknown_agent",
            "no agent named '%.64s' in the configuration; only configured agents "
            "can be started",
            name);
    char why[512];
    if (proc_budget_refuses(p, a, task, why, sizeof why))
        return proc_reply_error(p->bus, m, "budget_exceeded", "agent '%s': %s", a->name, why);
    for (unsigned i = 0; i < a->instances; i++) {
        run *cur = slot_run(p, a->name, i);
        if (cur && run_active(cur))
            continue;
        char err[512];
        run *r = start_run(p, a, i, task, prompt, err, sizeof err);
        if (!r)
            return proc_reply_error(p->bus, m, "spawn_failed", "%s", err);
        json_t *d = json_pack("{s:s,s:s,s:i,s:s}", "run", r->id, "agent", a->name, "instance",
                              (int)i, "state", run_state_name(r->state));
        bus_reply(p->bus, m, d);
        json_decref(d);
        return;
    }
    proc_reply_error(p->bus, m, "busy", "all %u instance(s) of agent '%s' are running",
                     a->instances, a->name);
}

static void on_start(bus_t *bus, const bus_msg *m, void *arg)
{
    proc *p = arg;
    if (!m->reply || remote_route(bus, m, p->machine_id))
        return;
    const char *name = json_string_value(json_object_get(m->data, "agent"));
    json_t *task_j = json_object_get(m->data, "task"),
           *prompt_j = json_object_get(m->data, "prompt");
    const char *task = json_string_value(task_j), *prompt = json_string_value(prompt_j);
    if (!name)
        return proc_reply_error(bus, m, "bad_request", "'agent' (a string) is required");
    if ((task_j && !json_is_null(task_j) && !proc_valid_token(task, 64)))
        return proc_reply_error(bus, m, "bad_request",
                                "'task' must be an id of 1 to 64 of A-Z a-z 0-9 _ -");
    if (prompt_j && !json_is_null(prompt_j) && (!prompt || strlen(prompt) > PROMPT_MAX))
        return proc_reply_error(bus, m, "bad_request",
                                "'prompt' must be a string of at most %d bytes", PROMPT_MAX);
    start_and_reply(p, m, name, task, prompt);
}

/* Runs named by target: a run id, or every active run of an agent. */
static size_t select_runs(proc *p, const char *target, run ***out, bool active_only)
{
    size_t n = 0;
    *out = NULL;
    run *byid = hmap_get(&p->by_id, target);
    if (byid && active_only && !run_active(byid))
        return 0;
    if (byid) {
        *out = xmalloc(sizeof **out);
        (*out)[n++] = byid;
        return n;
    }
    for (run *r = p->runs; r; r = r->next)
        if (strcmp(r->agent_name, target) == 0 && (!active_only || run_active(r))) {
            *out = xrealloc(*out, (n + 1) * sizeof **out);
            (*out)[n++] = r;
        }
    return n;
}

static void stop_or_restart(proc *p, const bus_msg *m, bool restart)
{
    if (remote_route(p->bus, m, p->machine_id))
        return;
    const char *target = json_string_value(json_object_get(m->data, "target"));
    if (!target)
        return proc_reply_error(p->bus, m, "bad_request",
                                "'target' (a run id or agent name) is required");
    run **list;
    size_t n = select_runs(p, target, &list, true);
    if (n == 0) {
        free(list);
        run *ended = hmap_get(&p->by_id, target);
        agent_config *a = find_agent(p, target);
        if (!a && !ended) /* a hub: perhaps a run of one of its machines */
            return remote_ask(p->bus, m->subject, m->reply, m->data, NULL,
                              bus_error_json("not_found", "no run or agent named '%.64s'", target));
        if (ended && restart)
            return proc_reply_error(p->bus, m, "not_running",
                                    "run %s has ended (%s); start its agent again", ended->id,
                                    run_state_name(ended->state));
        if (restart) /* an agent with nothing running: restarting it starts it */
            return start_and_reply(p, m, a->name, NULL, NULL);
        json_t *d = json_pack("{s:[]}", "stopped");
        bus_reply(p->bus, m, d);
        json_decref(d);
        return;
    }
    run_waiter *w = xcalloc(1, sizeof *w);
    w->reply = xstrdup(m->reply);
    w->runs = json_array();
    w->verb = restart ? "restarted" : "stopped";
    w->pending = (unsigned)n + 1; /* +1 until every run has been asked */
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(w->runs, json_string(list[i]->id));
        run_add_waiter(list[i], w);
        if (restart)
            run_restart(list[i]);
        else
            run_stop(list[i], "stopped on request");
    }
    free(list);
    waiter_done(p, w, NULL);
}

static void on_stop(bus_t *bus, const bus_msg *m, void *arg)
{
    if (m->reply)
        stop_or_restart(arg, m, false);
}

static void on_restart(bus_t *bus, const bus_msg *m, void *arg)
{
    if (m->reply)
        stop_or_restart(arg, m, true);
}

#define PS_TRIM_ROWS 64

static json_t *ps_row(const proc *p, const run *r, const agent_config *a, unsigned instance)
{
    if (!r)
        return json_pack("{s:s,s:i,s:n,s:s,s:i,s:i,s:n,s:n,s:n,s:n,s:f,s:s}", "agent", a->name,
                         "instance", (int)instance, "run", "state", "STOPPED", "pid", 0, "restarts",
                         0, "task", "exit_code", "exit_signal", "reason", "uptime", 0.0, "machine",
                         p->machine_id);
    json_t *o = run_to_json(r);
    /* Spent so far: a live run's results and the turns reported since
     * (the stored state has the results' only, which the store counts
     * with the usage events). */
    if (r->has_cost || r->live_usd > 0)
        json_object_set_new(o, "cost_usd", json_real(r->cost_usd + r->live_usd));
    json_object_set_new(o, "tokens", run_spent_tokens(r, true));
    json_t *budget = run_budget_json(r);
    if (budget)
        json_object_set_new(o, "budget", budget);
    double up = run_active(r) && r->started_at > 0 ? bosun_now() - r->started_at : 0;
    json_object_set_new(o, "uptime", json_real(up));
    return o;
}

static void on_ps(bus_t *bus, const bus_msg *m, void *arg)
{
    proc *p = arg;
    if (!m->reply)
        return;
    json_t *rows = json_array();
    for (size_t i = 0; p->agents && p->agents[i]; i++) {
        agent_config *a = p->agents[i];
        for (unsigned k = 0; k < a->instances; k++)
            json_array_append_new(rows, ps_row(p, slot_run(p, a->name, k), a, k));
    }
    /* Runs of agents no longer configured, while they still run. */
    for (run *r = p->runs; r; r = r->next)
        if (!r->agent && run_active(r))
            json_array_append_new(rows, ps_row(p, r, NULL, r->instance));
    if (p->ps_extra)
        p->ps_extra(p->ps_extra_arg, rows);
    size_t n = json_array_size(rows);
    json_t *d = json_pack("{s:o}", "rows", rows);
    bus_reply(bus, m, d);
    json_decref(d);
    /* A large reply is about 2.5 kB of JSON a row, freed once it is sent,
     * among the runs' long-lived objects: give it back soon after rather
     * than keep it for the next ps (500 rows polled while 500 agents
     * start: about 1.2 MiB). */
    if (n >= PS_TRIM_ROWS && !ev_is_active(&p->trim_timer))
        ev_timer_start(p->loop, &p->trim_timer);
}

void proc_set_ps_extra(proc *p, void (*rows)(void *arg, json_t *rows), void *arg)
{
    p->ps_extra = rows;
    p->ps_extra_arg = arg;
}

/* ------------------------------------------------------------ children */

static void on_child(struct ev_loop *loop, ev_child *w, int revents)
{
    proc *p = w->data;
    run *r = hmap_del_u64(&p->by_pid, (uint64_t)w->rpid);
    if (!r)
        return; /* e.g. a vfork child that failed to exec */
    run_child_exited(r, w->rstatus);
}

static void on_pressure_check(struct ev_loop *loop, ev_check *w, int revents)
{
    proc *p = w->data;
    proc_pace_check(p);
    size_t q = bus_queue_length(p->bus);
    /* A consumer such as the store may also say it cannot take more. */
    bool pause = bus_congested(p->bus) || (p->paused ? q > PRESSURE_LOW : q > PRESSURE_HIGH);
    if (pause == p->paused)
        return;
    p->paused = pause;
    log_debug("output reading %s (%zu messages queued on the bus)", pause ? "paused" : "resumed",
              q);
    for (run *r = p->runs; r; r = r->next)
        run_pause_output(r, pause);
}

/* ------------------------------------------------------------ agents */

static void publish_agent(proc *p, const agent_config *a, bool removed)
{
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.agent.%s.%s", a->name,
             removed ? "removed" : "configured");
    json_t *d = removed ? json_pack("{s:s,s:s}", "agent", a->name, "machine", p->machine_id)
                        : json_pack("{s:s,s:s,s:s,s:o}", "agent", a->name, "type", a->type,
                                    "machine", p->machine_id, "config", agent_config_to_json(a));
    bus_publish_new(p->bus, subject, NULL, d);
}

static void autostart(proc *p, agent_config *a, unsigned from)
{
    if (!a->autostart || p->shutting_down)
        return;
    run_spawn_batch_begin(p);
    for (unsigned i = from; i < a->instances; i++) {
        run *cur = slot_run(p, a->name, i);
        if (cur && run_active(cur))
            continue;
        char err[512];
        if (!start_run(p, a, i, NULL, NULL, err, sizeof err))
            log_error("agent %s: cannot start: %s", a->name, err);
    }
    run_spawn_batch_end(p);
}

static void apply_changed(proc *p, agent_config *old, agent_config *a)
{
    bool relaunch = agent_config_launch_changed(old, a);
    for (run *r = p->runs; r; r = r->next) {
        if (strcmp(r->agent_name, a->name) != 0)
            continue;
        r->agent = a;
        if (!run_active(r))
            continue;
        if (r->instance >= a->instances)
            run_stop(r, "instance removed from the configuration");
        else if (relaunch)
            run_restart(r);
    }
    if (relaunch)
        log_info("agent %s: launch settings changed; its runs restart", a->name);
    if (a->instances > old->instances && p->began)
        autostart(p, a, old->instances);
}

static agent_config *find_in(agent_config **list, const char *name)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i]->name, name) == 0)
            return list[i];
    return NULL;
}

static void remove_agent(proc *p, agent_config *old)
{
    log_info("agent %s removed from the configuration; stopping its runs", old->name);
    for (run *r = p->runs; r; r = r->next) {
        if (r->agent != old)
            continue;
        if (run_active(r))
            run_stop(r, "agent removed from the configuration");
        r->agent = NULL; /* never restarted again */
    }
    publish_agent(p, old, true);
}

void proc_set_prices(proc *p, bosun_prices *prices)
{
    bosun_prices_free(p->prices);
    p->prices = prices;
}

void proc_set_agents(proc *p, agent_config **agents)
{
    agent_config **old = p->agents;
    p->agents = agents;
    for (size_t i = 0; old && old[i]; i++) {
        agent_config *a = find_agent(p, old[i]->name);
        if (!a) {
            remove_agent(p, old[i]);
            continue;
        }
        if (!cfg_equal(old[i]->node, a->node))
            publish_agent(p, a, false);
        apply_changed(p, old[i], a);
    }
    run_spawn_batch_begin(p);
    for (size_t i = 0; agents && agents[i]; i++) {
        if (find_in(old, agents[i]->name))
            continue;
        publish_agent(p, agents[i], false);
        if (p->began)
            autostart(p, agents[i], 0);
    }
    run_spawn_batch_end(p);
    /* No run refers to the old configs any more. */
    agent_config_free_all(old);
}

/* ------------------------------------------------------------ recovery */

/* A recovered run's prompt, from the file kept in its state directory,
 * read without following a link; the agent gets its copy again. */
static char *read_prompt(run *r)
{
    char *text = run_read_state_file(r, "prompt", 1024 * 1024);
    if (!text)
        return NULL;
    r->state_dir_made = true;
    char err[256];
    /* Rewrites the kept copy too: the same bytes, now the daemon's. */
    r->prompt_file = run_write_state_file(r, "prompt", text, err, sizeof err);
    if (!r->prompt_file)
        log_error("run %s: %s", r->id, err);
    return text;
}

static unsigned free_instance(proc *p, agent_config *a, unsigned preferred, bool *found);

/* A run's prompt from its state directory, never through a link. */
static char *read_kept_prompt(proc *p, const char *id)
{
    char *dir = xasprintf("%s/runs/%s", p->state_dir, id);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    free(dir);
    if (dfd < 0)
        return NULL;
    size_t len;
    char *text = fsafe_read(dfd, "prompt", PROMPT_MAX, &len);
    close(dfd);
    return text;
}

/* resume: on-crash after a daemon (or machine) restart: the run that was
 * active when bosund went away and whose process is gone carries on in its
 * session as a new run, resumed_from it, with the interrupted turn. */
static void resume_lost(proc *p, agent_config *a, json_t *stored, const char *id)
{
    const char *sid = json_string_value(json_object_get(stored, "session_id"));
    if (a->resume < RESUME_ON_CRASH || !bosun_session_id_valid(sid) || p->shutting_down)
        return;
    bool found;
    unsigned i = free_instance(
        p, a, (unsigned)json_integer_value(json_object_get(stored, "instance")), &found);
    if (!found) {
        log_error("run %s: cannot resume session %s: all instances of %s are busy", id, sid,
                  a->name);
        return;
    }
    char err[256];
    char *prompt = read_kept_prompt(p, id);
    run *r = run_new(p, a, NULL, i, json_string_value(json_object_get(stored, "task")), prompt, err,
                     sizeof err);
    free(prompt);
    if (!r) {
        log_error("run %s: cannot resume session %s: %s", id, sid, err);
        return;
    }
    r->resumed_from = xstrdup(id);
    r->session_id = xstrdup(sid);
    r->resume_crash = true;
    link_run(p, r);
    log_notice("run %s: resuming session %s of lost run %s (resume: %s)", r->id, sid, id,
               a->resume == RESUME_ALWAYS ? "always" : "on-crash");
    run_spawn(r);
}

static void settle_orphan(proc *p, json_t *stored)
{
    const char *id = json_string_value(json_object_get(stored, "run"));
    const char *agent = json_string_value(json_object_get(stored, "agent"));
    const char *state = json_string_value(json_object_get(stored, "state"));
    pid_t pid = (pid_t)json_integer_value(json_object_get(stored, "pid"));
    unsigned long long start =
        (unsigned long long)json_integer_value(json_object_get(stored, "pid_start"));
    if (!id || !agent || hmap_get(&p->by_id, id) || !ulid_valid(id))
        return;
    agent_config *a = find_agent(p, agent);
    bool alive = proc_alive(pid, start);
    const char *waiting = json_string_value(json_object_get(stored, "waiting_input"));
    /* Its process exited waiting for a human, under this bosund or while
     * none ran (a run that asked stays active until it exits): resumable. */
    bool asked = state && (strcmp(state, "WAITING_INPUT") == 0 ||
                           bosun_run_state_class(state) == BOSUN_RUN_CLASS_ACTIVE);
    if (!alive && a && asked && waiting && ulid_valid(waiting)) {
        char err[256];
        run *r =
            run_new(p, a, id, (unsigned)json_integer_value(json_object_get(stored, "instance")),
                    json_string_value(json_object_get(stored, "task")), NULL, err, sizeof err);
        if (r) {
            r->state = RS_WAITING_INPUT;
            ask_add(r, waiting);
            const char *sid = json_string_value(json_object_get(stored, "session_id"));
            r->session_id = bosun_session_id_valid(sid) ? xstrdup(sid) : NULL;
            run_restore_spent(r, stored);
            run_budget_seen(r); /* seeded from the store already */
            r->prompt = read_prompt(r);
            r->created_at = json_number_value(json_object_get(stored, "created_at"));
            r->reason = xstrdup(json_string_value(json_object_get(stored, "reason")) ?: "waiting");
            link_run(p, r);
            if (strcmp(state, "WAITING_INPUT") != 0) {
                char why[128];
                snprintf(why, sizeof why,
                         "its process exited while bosund was away; waiting "
                         "for input %s",
                         waiting);
                run_set_state(r, RS_WAITING_INPUT, why);
            }
            ask_recover(p, r);
            return;
        }
    }
    if (alive && a) {
        char err[256];
        run *r =
            run_new(p, a, id, (unsigned)json_integer_value(json_object_get(stored, "instance")),
                    json_string_value(json_object_get(stored, "task")), NULL, err, sizeof err);
        if (r) {
            r->pid = pid;
            r->pid_start = start;
            r->restarts = (unsigned)json_integer_value(json_object_get(stored, "restarts"));
            r->started_at = json_number_value(json_object_get(stored, "started_at"));
            r->created_at = json_number_value(json_object_get(stored, "created_at"));
            r->started_mono = bosun_monotonic();
            run_restore_spent(r, stored);
            run_budget_seen(r); /* seeded from the store already */
            const char *sid = json_string_value(json_object_get(stored, "session_id"));
            r->session_id = bosun_session_id_valid(sid) ? xstrdup(sid) : NULL;
            r->state = RS_RUNNING; /* as the store has it; run_adopt moves on from here */
            if (waiting && ulid_valid(waiting))
                ask_add(r, waiting); /* its exit waits for the answer */
            link_run(p, r);
            log_notice("run %s (%s): process %d survived a daemon restart; %s", id, agent, (int)pid,
                       p->adopt_orphans ? "adopting it" : "stopping it");
            run_emit(r, p->adopt_orphans ? "adopted" : "orphan_stopping",
                     json_pack("{s:i,s:s}", "pid", (int)pid, "previous_state", state ? state : ""));
            run_adopt(r, !p->adopt_orphans);
            ask_recover(p, r);
            return;
        }
        log_error("run %s: cannot take over pid %d: %s", id, (int)pid, err);
    }
    if (alive) {
        /* Nobody can supervise it (its agent is gone from the config, or it
         * could not be taken over): it must not keep running unwatched. */
        kill(-pid, SIGTERM);
    }
    char reason[256];
    snprintf(reason, sizeof reason, "bosund stopped while the run was %s; its process (pid %d) %s",
             state ? state : "?", (int)pid,
             !alive ? "is gone"
             : a    ? "could not be taken over and was sent SIGTERM"
                    : "was sent SIGTERM (agent no longer configured)");
    json_t *o = json_deep_copy(stored);
    json_object_set_new(o, "state", json_string("LOST"));
    json_object_set_new(o, "reason", json_string(reason));
    json_object_set_new(o, "ended_at", json_real(bosun_now()));
    json_object_set_new(o, "updated_at", json_real(bosun_now()));
    json_object_set_new(o, "machine", json_string(p->machine_id));
    /* An agent name is a subject token, but for the attached runs'
     * "claude-code:attached", whose subjects say claude-code_attached. */
    char subject[2 * BUS_SUBJECT_MAX], token[BUS_SUBJECT_MAX];
    snprintf(token, sizeof token, "%s", agent);
    for (char *c = token; *c; c++)
        if (*c == ':')
            *c = '_';
    snprintf(subject, sizeof subject, "evt.run.%s.%s.state", token, id);
    log_notice("run %s (%s): %s", id, agent, reason);
    bus_publish_new(p->bus, subject, NULL, o);
    if (!alive && a && bosun_run_state_class(state ? state : "") == BOSUN_RUN_CLASS_ACTIVE)
        resume_lost(p, a, stored, id);
}

/* Start-up asks the store two things at once: every stored run of this
 * machine (the budgets' totals: a spent budget stays spent across a
 * restart) and the runs left active by an earlier bosund (recovery).  The
 * totals are seeded before anything is settled or started, once both have
 * answered: one store round trip at start, not two in a row. */
static git_run **run_is_live(void *arg, const char *id)
{
    proc *p = arg;
    run *r = hmap_get(&p->by_id, id);
    /* a run waiting for its answer goes on in its worktree once resumed */
    return r && (run_active(r) || r->state == RS_WAITING_INPUT) ? &r->git : NULL;
}

static void begin_when_answered(proc *p)
{
    if (--p->begin_pending > 0)
        return;
    if (p->begin_spent)
        proc_budget_seed_runs(p, json_object_get(p->begin_spent, "runs"));
    if (p->begin_unfinished) {
        size_t i;
        json_t *row;
        json_array_foreach(json_object_get(p->begin_unfinished, "runs"), i, row)
            settle_orphan(p, row);
    }
    json_decref(p->begin_spent);
    json_decref(p->begin_unfinished);
    p->begin_spent = p->begin_unfinished = NULL;
    p->began = true;
    /* What a dead bosund's runs left: after recovery, so that a run it
     * adopted keeps its worktree. */
    git_run_recover(p->loop, p->bus, p->state_dir, p->machine_id, run_is_live, p, &p->git_ending);
    run_spawn_batch_begin(p);
    for (size_t i = 0; p->agents && p->agents[i]; i++)
        autostart(p, p->agents[i], 0);
    run_spawn_batch_end(p);
    /* Starting many agents at once leaves much freed memory behind once
     * their events are stored: give it back right after, not at the next
     * periodic trim. */
    ev_timer_start(p->loop, &p->trim_timer);
    if (p->began_cb)
        p->began_cb(p->began_arg);
}

/* The reply's data when it holds a list of runs, else NULL. */
static json_t *runs_reply(enum bus_reply_status st, const bus_msg *m)
{
    return st == BUS_REPLY_OK && json_is_array(json_object_get(m->data, "runs"))
               ? json_incref(m->data)
               : NULL;
}

static void on_spent(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    proc *p = arg;
    if (st == BUS_REPLY_CANCELLED)
        return;
    if (!(p->begin_spent = runs_reply(st, m)))
        log_notice("no store answered %s: task and day budgets count from zero", BOSUN_STORE_RUNS);
    begin_when_answered(p);
}

static void on_unfinished(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    proc *p = arg;
    if (st == BUS_REPLY_CANCELLED)
        return;
    if (!(p->begin_unfinished = runs_reply(st, m)))
        log_notice("no store answered %s: runs left active by an earlier bosund are not "
                   "recovered",
                   BOSUN_STORE_RUNS);
    begin_when_answered(p);
}

static void ask_runs(proc *p, json_t *q, bus_reply_cb cb)
{
    if (!bus_request(p->bus, BOSUN_STORE_RUNS, q, 10.0, cb, p))
        cb(p->bus, BUS_REPLY_NO_RESPONDERS, NULL, p);
    json_decref(q);
}

void proc_begin(proc *p, void (*began)(void *arg), void *arg)
{
    p->began_cb = began;
    p->began_arg = arg;
    p->begin_pending = 2;
    ask_runs(p, json_pack("{s:s,s:i}", "machine", p->machine_id, "limit", 100000), on_spent);
    /* Only this machine's: on a hub the store also holds its machines' runs
     * (bosun-fleet(7)), which are theirs to recover, not this one's. */
    ask_runs(p, json_pack("{s:b,s:b,s:i}", "active", 1, "remote", 0, "limit", 100000),
             on_unfinished);
}

/* ------------------------------------------------------------ input */

bool proc_has_agent(proc *p, const char *agent)
{
    return find_agent(p, agent) != NULL;
}

const char *proc_machine_id(const proc *p)
{
    return p->machine_id;
}

const agent_config *proc_agent(proc *p, const char *agent)
{
    return find_agent(p, agent);
}

static unsigned free_instance(proc *p, agent_config *a, unsigned preferred, bool *found)
{
    *found = true;
    run *cur = preferred < a->instances ? slot_run(p, a->name, preferred) : NULL;
    if (preferred < a->instances && !(cur && run_active(cur)))
        return preferred;
    for (unsigned i = 0; i < a->instances; i++) {
        cur = slot_run(p, a->name, i);
        if (!(cur && run_active(cur)))
            return i;
    }
    *found = false;
    return 0;
}

int proc_start(proc *p, const char *agent, const char *task, const char *prompt, char *run_id,
               char *err, size_t err_size)
{
    agent_config *a = find_agent(p, agent);
    if (!a) {
        snprintf(err, err_size, "no agent named '%.64s' in the configuration", agent);
        return -1;
    }
    bool found;
    unsigned i = free_instance(p, a, 0, &found);
    if (!found) {
        snprintf(err, err_size, "all %u instance(s) of agent '%s' are running", a->instances,
                 a->name);
        return -1;
    }
    run *r = start_run(p, a, i, task, prompt, err, err_size);
    if (!r)
        return -1;
    snprintf(run_id, ULID_LEN + 1, "%s", r->id);
    return 0;
}

bool proc_run_accepts_token(proc *p, const char *run_id)
{
    run *r = hmap_get(&p->by_id, run_id);
    return r && (run_active(r) || r->state == RS_WAITING_INPUT);
}

bool proc_run_lookup(proc *p, const char *run_id, const char **agent, const char **task)
{
    run *r = hmap_get(&p->by_id, run_id);
    if (!r)
        return false;
    *agent = r->agent_name;
    *task = r->task;
    return true;
}

void proc_set_waiting(proc *p, const char *run_id, const char *input_id)
{
    run *r = hmap_get(&p->by_id, run_id);
    if (r)
        run_wait_for_input(r, input_id);
}

/* A new run of the same agent and task that carries on with the oldest
 * answer; the questions still open go with it. */
static run *resume_run(proc *p, run *old, char *err, size_t err_size)
{
    if (p->shutting_down) {
        snprintf(err, err_size, "bosund is stopping");
        return NULL;
    }
    agent_config *a = old->agent;
    if (!a) {
        snprintf(err, err_size, "agent %s is no longer configured", old->agent_name);
        return NULL;
    }
    if (a->resume == RESUME_NEVER) {
        err[0] = '\0'; /* not a failure: nothing to log */
        char why[160];
        snprintf(why, sizeof why, "input %s answered; not resumed (resume: never)", ask_first(old));
        ask_clear(old);
        log_info("run %s: %s", old->id, why);
        run_set_state(old, RS_EXITED, why);
        return NULL;
    }
    bool found;
    unsigned i = free_instance(p, a, old->instance, &found);
    if (!found) {
        snprintf(err, err_size, "all instances of agent %s are busy", a->name);
        return NULL;
    }
    run *r = run_new(p, a, NULL, i, old->task, old->prompt, err, err_size);
    if (!r)
        return NULL;
    r->resumed_from = xstrdup(old->id);
    /* The same worktree: the work goes on where it was left. */
    r->git = old->git;
    old->git = NULL;
    if (r->git)
        git_run_handover(r->git, r->id);
    /* The same conversation: the agent type resumes this session. */
    r->session_id = old->session_id ? xstrdup(old->session_id) : NULL;
    ask_take(old, &r->resume_input, &r->resume_answer);
    ask_move(old, r);
    char *answer_file = run_write_state_file(r, "answer", r->resume_answer, err, err_size);
    if (!answer_file)
        log_error("run %s: %s (the answer is still in BOSUN_INPUT_ANSWER)", r->id, err);
    free(answer_file);
    char why[128];
    snprintf(why, sizeof why, "input %s answered; resumed as run %s", r->resume_input, r->id);
    run_set_state(old, RS_EXITED, why);
    link_run(p, r);
    log_info("run %s: resuming run %s of agent %s with the answer to %s", r->id, old->id, a->name,
             r->resume_input);
    run_spawn(r);
    return r;
}

static bool resumable(const run *r)
{
    return r->state == RS_WAITING_INPUT && !r->alive && ask_answered(r);
}

static void on_resume_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    proc *p = w->data;
    if (p->shutting_down)
        return; /* the answers stay with their runs: no new run starts now */
    /* Resuming adds a run to the list: start over after each one.  A run
     * that cannot resume keeps its answer and is tried again when a run
     * ends (an instance may be free then). */
    bool again = true;
    while (again) {
        again = false;
        for (run *r = p->runs; r; r = r->next) {
            if (!resumable(r))
                continue;
            char err[256];
            if (resume_run(p, r, err, sizeof err)) {
                again = true;
                break;
            }
            if (err[0])
                log_error("run %s: cannot resume: %s", r->id, err);
        }
    }
}

void proc_resume_later(proc *p, run *r)
{
    /* libev forbids setting an active timer; one already pending resumes every answered run. */
    if (ev_is_active(&p->resume_timer))
        return;
    ev_timer_set(&p->resume_timer, 0, 0);
    ev_timer_start(p->loop, &p->resume_timer);
}

/* The run holding a question: the one that asked, or the run resumed from
 * it that took the question over. */
static run *asker_of(proc *p, const char *run_id, const char *input_id)
{
    run *r = hmap_get(&p->by_id, run_id);
    if (r && ask_find(r, input_id))
        return r;
    for (r = p->runs; r; r = r->next)
        if (ask_find(r, input_id))
            return r;
    return NULL;
}

void proc_input_answered(proc *p, const char *run_id, const char *input_id, const char *answer,
                         char *resumed, size_t resumed_size)
{
    resumed[0] = '\0';
    run *r = asker_of(p, run_id, input_id);
    run_ask *q = r ? ask_find(r, input_id) : NULL;
    if (!q || q->answer)
        return; /* not a question a run waits on, or answered already */
    q->answer = xstrdup(answer);
    if (r->state != RS_WAITING_INPUT || r->alive) {
        /* Its process still runs (or is about to): the answer waits for
         * its exit and resumes it then, as if it had come after. */
        log_info("run %s: input %s answered while its process runs; resumed when it exits", r->id,
                 input_id);
        if (r->state == RS_WAITING_INPUT && !ask_open(r)) {
            char why[160];
            snprintf(why, sizeof why, "input %s answered; resumed with it when its process exits",
                     input_id);
            run_set_state(r, RS_RUNNING, why);
        } else
            run_publish_state(r);
        return;
    }
    char err[256];
    run *n = resume_run(p, r, err, sizeof err);
    if (n)
        snprintf(resumed, resumed_size, "%s", n->id);
    else if (err[0])
        log_error("run %s: cannot resume: %s", r->id, err);
}

static void on_trim_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* ------------------------------------------------------------ object */

/* <dir>/runs is the daemon's.  The runtime one may be passed through but
 * not listed (0711): an agent running as another user reaches the files
 * given to it in its own run directory and learns nothing about the
 * others.  The state one is private (0750), like the state directory. */
static void prepare_runs_dir(const char *dir, mode_t mode)
{
    if (!dir)
        return;
    char *runs = xasprintf("%s/runs", dir);
    int fd = fsafe_dir(runs, mode);
    if (fd < 0 || fchmod(fd, mode) < 0)
        log_warning("cannot prepare %s: %s", runs, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(runs);
}

/* Where the http plugin serves /mcp for agents of this machine: what the
 * next runs' mcp-http.json names (runs already going keep theirs). */
static void on_mcp_url(bus_t *bus, const bus_msg *m, void *arg)
{
    proc *p = arg;
    const char *url = json_string_value(json_object_get(m->data, "url"));
    if (url && (strlen(url) >= 256 || strncmp(url, "http://", 7) != 0 || strchr(url, '"')))
        url = NULL; /* not one to hand an agent */
    if (!url ? !p->mcp_http_url : p->mcp_http_url && strcmp(url, p->mcp_http_url) == 0)
        return; /* unchanged */
    free(p->mcp_http_url);
    p->mcp_http_url = url ? xstrdup(url) : NULL;
    log_info("MCP over HTTP for Claude Code runs: %s", url ? url : "none (stdio)");
}

proc *proc_new(const proc_options *o)
{
    proc *p = xcalloc(1, sizeof *p);
    p->loop = o->loop;
    p->bus = o->bus;
    p->machine_id = xstrdup(o->machine_id);
    p->state_dir = xstrdup(o->state_dir);
    p->runtime_dir = xstrdup(o->runtime_dir);
    p->agent_socket = xstrdup(o->agent_socket ? o->agent_socket : "");
    p->mcp_command = xstrdup(o->mcp_command ? o->mcp_command : "bosun-mcp");
    p->token_ttl = o->token_ttl > 0 ? o->token_ttl : 86400;
    prepare_runs_dir(p->state_dir, 0750);
    prepare_runs_dir(p->runtime_dir, 0711);
    p->adopt_orphans = o->adopt_orphans;
    p->spend = spend_totals_new();
    hmap_init(&p->by_id);
    hmap_init(&p->slots);
    hmap_init_u64(&p->by_pid);
    p->git_ending.settled = git_settled;
    p->git_ending.arg = p;
    ev_child_init(&p->child_watcher, on_child, 0, 0);
    p->child_watcher.data = p;
    ev_child_start(p->loop, &p->child_watcher);
    ev_check_init(&p->pressure_check, on_pressure_check);
    p->pressure_check.data = p;
    ev_check_start(p->loop, &p->pressure_check);
    ev_idle_init(&p->shutdown_idle, on_shutdown_idle);
    p->shutdown_idle.data = p;
    ev_timer_init(&p->autostart_timer, on_autostart_timer, 0, 0);
    p->autostart_timer.data = p;
    ev_timer_init(&p->resume_timer, on_resume_timer, 0, 0);
    p->resume_timer.data = p;
    ev_timer_init(&p->trim_timer, on_trim_timer, 0.05, 0);
    proc_pace_init(p);
    p->subs[0] = bus_subscribe(p->bus, PROC_CMD_PS, on_ps, p);
    p->subs[1] = bus_subscribe(p->bus, PROC_CMD_START, on_start, p);
    p->subs[2] = bus_subscribe(p->bus, PROC_CMD_STOP, on_stop, p);
    p->subs[3] = bus_subscribe(p->bus, PROC_CMD_RESTART, on_restart, p);
    p->subs[4] = bus_subscribe(p->bus, PROC_CMD_BUDGETS, proc_budget_list, p);
    p->subs[5] = bus_subscribe(p->bus, BOSUN_HTTP_MCP_URL, on_mcp_url, p);
    return p;
}

void proc_free(proc *p)
{
    if (!p)
        return;
    free(p->mcp_http_url);
    for (size_t i = 0; i < sizeof p->subs / sizeof p->subs[0]; i++)
        if (p->subs[i])
            bus_unsubscribe(p->bus, p->subs[i]);
    git_run_list_free(&p->git_ending);
    ev_child_stop(p->loop, &p->child_watcher);
    ev_check_stop(p->loop, &p->pressure_check);
    ev_idle_stop(p->loop, &p->shutdown_idle);
    ev_timer_stop(p->loop, &p->autostart_timer);
    ev_timer_stop(p->loop, &p->resume_timer);
    ev_timer_stop(p->loop, &p->trim_timer);
    proc_pace_stop(p);
    run_spawn_batch_free(p);
    bosun_prices_free(p->prices);
    json_decref(p->begin_spent); /* a stop before the store answered */
    json_decref(p->begin_unfinished);
    while (p->runs) {
        run *r = p->runs;
        p->runs = r->next;
        for (size_t i = 0; i < r->n_waiters; i++)
            waiter_done(p, r->waiters[i], r);
        r->n_waiters = 0;
        run_free(r);
    }
    size_t pos = 0;
    for (run_slot *sl; (sl = hmap_next(&p->slots, &pos, NULL));)
        free(sl);
    hmap_destroy(&p->slots);
    hmap_destroy(&p->by_id);
    hmap_destroy(&p->by_pid);
    agent_config_free_all(p->agents);
    spend_totals_free(p->spend);
    free(p->machine_id);
    free(p->state_dir);
    free(p->runtime_dir);
    free(p->agent_socket);
    free(p->mcp_command);
    free(p->logbuf_spare);
    free(p);
}
