/* Budgets on runs: what a run spends is added to the totals that outlive
 * it (its task's, its agent's and the machine's UTC day) as usage arrives,
 * and every budget that applies is checked at once; a run over one is
 * stopped (stop signal, SIGKILL after stop_timeout), ends with exit class
 * BUDGET and is never restarted.  New runs are refused while a task or day
 * budget is spent (bosun.yaml(5), "budget"). */
#include "config.h"

#include "proc_internal.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#include <bosun/log.h>
#include <bosun/sys.h>

static spend_run spent_of(const run *r)
{
    long long tokens = 0;
    for (size_t i = 0; i < 4; i++)
        tokens += r->tokens[i] + r->live_tokens[i];
    return (spend_run){.agent = r->agent_name,
                       .task = r->task,
                       .usd = r->cost_usd + r->live_usd,
                       .tokens = tokens};
}

/* Adds what the run spent since the last call to the totals. */
static void count(run *r, const spend_run *s)
{
    double delta = s->usd - r->counted_usd;
    if (delta > 0) {
        spend_totals_add(r->p->spend, r->agent_name, r->task, delta, bosun_now());
        r->counted_usd = s->usd;
    }
}

void run_budget_seen(run *r)
{
    r->counted_usd = r->cost_usd;
}

void run_budget_check(run *r)
{
    spend_run s = spent_of(r);
    count(r, &s);
    if (r->budget_hit || !r->agent || !run_active(r) || r->state == RS_STOPPING)
        return;
    spend_over o;
    if (!spend_check(&r->agent->budget, &r->p->global_budget, r->p->spend, &s, true, bosun_now(),
                     &o))
        return;
    r->budget_hit = o.which;
    bool tokens = strcmp(o.which, "tokens_per_run") == 0;
    char why[256];
    if (tokens)
        snprintf(why, sizeof why, "budget tokens_per_run exceeded: %.0f tokens of %.0f", o.spent,
                 o.limit);
    else
        snprintf(why, sizeof why, "budget %s exceeded: $%.4f spent of $%.4f", o.which, o.spent,
                 o.limit);
    log_notice("run %s (%s): %s; stopping it", r->id, r->agent_name, why);
    run_emit(r, "budget",
             json_pack("{s:s,s:f,s:f,s:f,s:I,s:s?}", "budget", o.which, "limit", o.limit, "spent",
                       o.spent, "run_usd", s.usd, "run_tokens", (json_int_t)s.tokens, "task",
                       r->task));
    run_stop(r, why);
}

/* One budget's limit, spent and left (never below 0), when it is set. */
static void add_left(json_t *o, const char *key, double limit, double spent)
{
    if (limit > 0)
        json_object_set_new(o, key,
                            json_pack("{s:f,s:f,s:f}", "limit", limit, "spent", spent, "left",
                                      spent < limit ? limit - spent : 0.0));
}

json_t *run_budget_json(const run *r)
{
    if (!r->agent)
        return NULL;
    const spend_limits *b = &r->agent->budget, *g = &r->p->global_budget;
    spend_run s = spent_of(r);
    double now = bosun_now();
    json_t *o = json_object();
    add_left(o, "usd_per_run", b->usd_per_run, s.usd);
    add_left(o, "tokens_per_run", (double)b->tokens_per_run, (double)s.tokens);
    if (r->task)
        add_left(o, "usd_per_task", b->usd_per_task, spend_totals_task(r->p->spend, r->task));
    add_left(o, "usd_per_day", b->usd_per_day, spend_totals_day(r->p->spend, r->agent_name, now));
    add_left(o, "global_usd_per_day", g->usd_per_day, spend_totals_day(r->p->spend, NULL, now));
    if (json_object_size(o) == 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

bool proc_budget_refuses(proc *p, const agent_config *a, const char *task, char *err,
                         size_t err_size)
{
    spend_run s = {.agent = a->name, .task = task};
    spend_over o;
    if (!spend_check(&a->budget, &p->global_budget, p->spend, &s, false, bosun_now(), &o))
        return false;
    spend_refusal_text(&o, a->name, task, err, err_size);
    return true;
}

void proc_set_budget(proc *p, const spend_limits *global)
{
    p->global_budget = *global;
}

void proc_budget_seed(proc *p, const char *agent, const char *task, double usd, double when)
{
    spend_totals_add(p->spend, agent, task, usd, when);
}

/* Start-up: every stored run of this machine adds its cost to its task's
 * total and to its agent's day, the UTC day of its last update (a run
 * that spanned midnight counts wholly to the later day). */
void proc_budget_seed_runs(proc *p, const json_t *runs)
{
    size_t i;
    json_t *row;
    json_array_foreach(runs, i, row)
    {
        const char *agent = json_string_value(json_object_get(row, "agent"));
        json_t *cost = json_object_get(row, "cost_usd");
        if (!agent || !json_is_number(cost) || !(json_number_value(cost) > 0) ||
            json_number_value(cost) >= 1e9)
            continue;
        json_t *when = json_object_get(row, "updated_at");
        proc_budget_seed(p, agent, json_string_value(json_object_get(row, "task")),
                         json_number_value(cost),
                         json_is_number(when) ? json_number_value(when) : bosun_now());
    }
}

/* ------------------------------------------------------------ listing */

/* One budget in force: spent is what counts against it now, or null for a
 * budget that applies to each run (or to each task when none was named),
 * which has no one figure. */
static json_t *budget_row(const char *agent, const char *which, const char *per, bool tokens,
                          double limit, const double *spent)
{
    json_t *row = json_pack("{s:s?,s:s,s:s,s:s,s:f}", "agent", agent, "budget", which, "per", per,
                            "unit", tokens ? "tokens" : "usd", "limit", limit);
    if (!spent) {
        json_object_set_new(row, "spent", json_null());
        json_object_set_new(row, "left", json_null());
        json_object_set_new(row, "exceeded", json_null());
        return row;
    }
    double left = limit - *spent;
    json_object_set_new(row, "spent", json_real(*spent));
    json_object_set_new(row, "left", json_real(left > 0 ? left : 0));
    /* The check's own rule: a budget is spent once the total reaches it. */
    json_object_set_new(row, "exceeded", json_boolean(*spent >= limit));
    return row;
}

static void agent_rows(proc *p, const agent_config *a, const char *task, json_t *items)
{
    const spend_limits *b = &a->budget;
    double now = bosun_now();
    if (b->usd_per_day > 0) {
        double s = spend_totals_day(p->spend, a->name, now);
        json_array_append_new(items,
                              budget_row(a->name, "usd_per_day", "day", false, b->usd_per_day, &s));
    }
    if (b->usd_per_task > 0) {
        double s = task ? spend_totals_task(p->spend, task) : 0;
        json_t *row =
            budget_row(a->name, "usd_per_task", "task", false, b->usd_per_task, task ? &s : NULL);
        if (task)
            json_object_set_new(row, "task", json_string(task));
        json_array_append_new(items, row);
    }
    if (b->usd_per_run > 0)
        json_array_append_new(
            items, budget_row(a->name, "usd_per_run", "run", false, b->usd_per_run, NULL));
    if (b->tokens_per_run > 0)
        json_array_append_new(items, budget_row(a->name, "tokens_per_run", "run", true,
                                                (double)b->tokens_per_run, NULL));
}

void proc_budget_list(bus_t *bus, const bus_msg *m, void *arg)
{
    proc *p = arg;
    if (!m->reply)
        return;
    json_t *task_j = json_object_get(m->data, "task");
    const char *task = json_string_value(task_j);
    /* The rule of cmd.proc.start's task. */
    if (task_j && !json_is_null(task_j) && !proc_valid_token(task, 64))
        return proc_reply_error(bus, m, "bad_request",
                                "'task' must be an id of 1 to 64 of A-Z a-z 0-9 _ -");
    json_t *items = json_array();
    if (p->global_budget.usd_per_day > 0) {
        double s = spend_totals_day(p->spend, NULL, bosun_now());
        json_array_append_new(items, budget_row(NULL, "global usd_per_day", "day", false,
                                                p->global_budget.usd_per_day, &s));
    }
    for (size_t i = 0; p->agents && p->agents[i]; i++)
        agent_rows(p, p->agents[i], task, items);
    json_t *d = json_pack("{s:o,s:s}", "items", items, "machine", p->machine_id);
    bus_reply(bus, m, d);
    json_decref(d);
}
