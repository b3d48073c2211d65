/* What the core takes from an agent type's events: the run's session id
 * (the first one only) and what its agent reports spent (the sums of the
 * "result" events), and the last result for classify_exit. */
#include "config.h"

#include "proc_internal.h"
#include "util.h"

#include <string.h>

#include <bosun/agent_stream.h>
#include <bosun/log.h>
#include <bosun/price.h>

static const char *const token_keys[4] = {"input_tokens", "output_tokens", "cache_read_tokens",
                                          "cache_write_tokens"};

/* A token count an agent reported, or 0 when it is none (absent, not a
 * positive integer, or beyond any real count). */
static long long count(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < (1ll << 50)
               ? (long long)json_integer_value(v)
               : 0;
}

/* An event's cost_usd, when it has a plausible one. */
static bool cost_of(const json_t *ev, double *usd)
{
    json_t *cost = json_object_get(ev, "cost_usd");
    *usd = json_number_value(cost);
    return json_is_number(cost) && *usd >= 0 && *usd < 1e9;
}

/* A result's cost and tokens add to the run's: each result covers one
 * process (or one turn, for a CLI without totals), never an earlier one. */
static void add_spent(run *r, const json_t *ev)
{
    double usd;
    if (cost_of(ev, &usd)) {
        r->cost_usd += usd;
        r->has_cost = true;
    }
    json_t *u = json_object_get(ev, "usage");
    for (size_t i = 0; i < 4; i++)
        r->tokens[i] += count(u, token_keys[i]);
}

/* A turn's usage (tokens, and cost_usd when the type prices it) while the
 * process runs: budgets are checked before its result arrives. */
static void add_live(run *r, const json_t *ev)
{
    double usd;
    if (cost_of(ev, &usd))
        r->live_usd += usd;
    for (size_t i = 0; i < 4; i++)
        r->live_tokens[i] += count(ev, token_keys[i]);
}

/* The run's model: what the agent reported (a `session` event's "model"),
 * else the agent's `model:` setting; NULL when neither says. */
static const char *run_model(const run *r)
{
    if (r->model)
        return r->model;
    const cfg_node *m = r->agent && r->agent->node ? cfg_get(r->agent->node, "model") : NULL;
    return m && m->type == CFG_SCALAR ? m->value : NULL;
}

/* An event with token counts (a result's in "usage", a usage event's at
 * its top) but no cost_usd (Codex, Gemini and bosun-llm report tokens
 * only) is priced from the table in force, and the cost written into the
 * event, so that what is stored, the run's total and a rebuilt projection
 * agree.  Cache writes, which neither CLI reports, are billed as input. */
static void price_counts(run *r, json_t *ev, const json_t *counts)
{
    const char *model = run_model(r);
    bosun_price pr;
    if (json_object_get(ev, "cost_usd") || !json_is_object(counts) ||
        !bosun_prices_lookup(r->p->prices, model, &pr))
        return;
    double cost =
        bosun_price_cost(&pr, count(counts, "input_tokens") + count(counts, "cache_write_tokens"),
                         count(counts, "output_tokens"), count(counts, "cache_read_tokens"));
    json_object_set_new(ev, "cost_usd", json_real(cost));
    json_object_set_new(ev, "cost_source", json_string("prices"));
    if (!json_object_get(ev, "model"))
        json_object_set_new(ev, "model", json_string(model));
}

void run_restore_spent(run *r, const json_t *stored)
{
    json_t *t = json_object_get(stored, "tokens");
    json_t *as_result =
        json_pack("{s:O?,s:O?}", "cost_usd", json_object_get(stored, "cost_usd"), "usage", t);
    add_spent(r, as_result);
    json_decref(as_result);
}

json_t *run_spent_tokens(const run *r, bool live)
{
    json_t *o = json_object();
    for (size_t i = 0; i < 4; i++)
        json_object_set_new(o, token_keys[i],
                            json_integer(r->tokens[i] + (live ? r->live_tokens[i] : 0)));
    return o;
}

bool run_set_session(run *r, const char *id)
{
    if (r->session_id)
        return strcmp(r->session_id, id) == 0;
    r->session_id = xstrdup(id);
    /* Stored at once: a crash or a daemon restart from here on finds it. */
    run_publish_state(r);
    return true;
}

/* What the core itself takes from a type's events: the session id (the
 * first one only: an id bosun assigned is never replaced by what a later
 * line claims) and the last result, for classify_exit. */
void run_note_event(run *r, const char *kind, json_t *ev)
{
    if (strcmp(kind, "session") == 0) {
        const char *id = json_string_value(json_object_get(ev, "session_id"));
        if (!bosun_session_id_valid(id)) {
            json_object_set_new(ev, "kept", json_false());
            return;
        }
        const char *model = json_string_value(json_object_get(ev, "model"));
        if (model && !r->model && strlen(model) <= 200)
            r->model = xstrdup(model);
        bool had = r->session_id != NULL;
        if (!run_set_session(r, id)) {
            log_notice("run %s: the agent reports session %.*s; keeping %s", r->id,
                       BOSUN_SESSION_ID_MAX, id, r->session_id);
            json_object_set_new(ev, "kept", json_false());
        } else if (had) {
            json_object_set_new(ev, "kept", json_true());
        }
    } else if (strcmp(kind, "result") == 0) {
        json_decref(r->last_result);
        r->last_result = json_incref(ev);
        price_counts(r, ev, json_object_get(ev, "usage"));
        add_spent(r, ev);
        /* The result's totals include the turns counted live. */
        memset(r->live_tokens, 0, sizeof r->live_tokens);
        r->live_usd = 0;
        run_budget_check(r);
    } else if (strcmp(kind, "usage") == 0) {
        /* Priced as it arrives, so that a dollar budget stops a run
         * between its turns, not only at its result (an interactive llm
         * run may have none for hours). */
        price_counts(r, ev, ev);
        add_live(r, ev);
        run_budget_check(r);
    }
}
