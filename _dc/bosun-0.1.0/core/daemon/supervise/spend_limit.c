/* Spending limits: parsing "budget:" and the totals runs add to.  The
 * per-run sums live on the run (proc_session.c); what outlives a run
 * (a task's sum, an agent's and the machine's UTC day) lives here, seeded
 * from the store's runs at start-up. */
#include "config.h"

#include "spend_limit.h"
#include "util.h"

#include <bosun/sys.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const agent_keys[] = {"usd_per_run", "usd_per_task", "usd_per_day",
                                         "tokens_per_run", NULL};
static const char *const global_keys[] = {"usd_per_day", NULL};

#define SPEND_USD_MAX    1e6
#define SPEND_TOKENS_MAX (1ll << 50)

static bool number_at(const cfg_node *map, const char *key, double max, double *out, cfg_diag *d)
{
    const cfg_node *n = cfg_get(map, key);
    if (!n || n->type == CFG_NULL)
        return true;
    char path[256], *end = NULL;
    double v = n->type == CFG_SCALAR ? strtod(n->value, &end) : 0;
    if (n->type != CFG_SCALAR || end == n->value || *end || !(v > 0 && v <= max))
        return cfg_error(d, n, "'%s': expected a number above 0 and at most %.0f",
                         cfg_path(n, path, sizeof path), max);
    *out = v;
    return true;
}

bool spend_limits_parse(const cfg_node *section, bool agent, spend_limits *out, cfg_diag *d)
{
    memset(out, 0, sizeof *out);
    const cfg_node *b = cfg_get(section, "budget");
    if (!b || b->type == CFG_NULL)
        return true;
    char path[256];
    if (b->type != CFG_MAP)
        return cfg_error(d, b, "'%s': expected a map (%s)", cfg_path(b, path, sizeof path),
                         agent ? "usd_per_run, usd_per_task, usd_per_day, tokens_per_run"
                               : "usd_per_day");
    const char *const *keys = agent ? agent_keys : global_keys;
    bool ok = true;
    for (size_t i = 0; i < b->n_items; i++) {
        const cfg_node *k = b->items[i];
        bool known = false;
        for (size_t j = 0; keys[j]; j++)
            known = known || strcmp(keys[j], k->key) == 0;
        if (known)
            continue;
        cfg_node at = *k;
        at.line = k->key_line;
        at.col = k->key_col;
        ok = cfg_error(d, &at, "unknown key '%s' in '%s' (%s)", k->key,
                       cfg_path(b, path, sizeof path),
                       agent ? "usd_per_run, usd_per_task, usd_per_day, tokens_per_run"
                             : "only usd_per_day is global");
    }
    ok = number_at(b, "usd_per_day", SPEND_USD_MAX, &out->usd_per_day, d) && ok;
    if (!agent)
        return ok;
    ok = number_at(b, "usd_per_run", SPEND_USD_MAX, &out->usd_per_run, d) && ok;
    ok = number_at(b, "usd_per_task", SPEND_USD_MAX, &out->usd_per_task, d) && ok;
    double tokens = 0;
    const cfg_node *tn = cfg_get(b, "tokens_per_run");
    if (number_at(b, "tokens_per_run", (double)SPEND_TOKENS_MAX, &tokens, d)) {
        if (tokens != floor(tokens))
            ok = cfg_error(d, tn, "'%s': expected a whole number of tokens",
                           cfg_path(tn, path, sizeof path));
        out->tokens_per_run = (long long)tokens;
    } else {
        ok = false;
    }
    return ok;
}

/* ------------------------------------------------------------ totals */

enum { SPEND_TASK, SPEND_DAY };

typedef struct spend_entry {
    struct spend_entry *next;
    int kind;
    long day;  /* UTC days since the epoch (SPEND_DAY) */
    char *key; /* task id, or agent name */
    double usd;
} spend_entry;

struct spend_totals {
    spend_entry *head;
};

static long utc_day(double when)
{
    return (long)floor(when / 86400.0);
}

spend_totals *spend_totals_new(void)
{
    return xcalloc(1, sizeof(spend_totals));
}

void spend_totals_free(spend_totals *t)
{
    if (!t)
        return;
    for (spend_entry *e = t->head, *next; e; e = next) {
        next = e->next;
        free(e->key);
        free(e);
    }
    free(t);
}

static spend_entry *find(const spend_totals *t, int kind, const char *key, long day)
{
    for (spend_entry *e = t->head; e; e = e->next)
        if (e->kind == kind && (kind == SPEND_TASK || e->day == day) && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void add_to(spend_totals *t, int kind, const char *key, long day, double usd)
{
    spend_entry *e = find(t, kind, key, day);
    if (!e) {
        e = xcalloc(1, sizeof *e);
        e->kind = kind;
        e->day = day;
        e->key = xstrdup(key);
        e->next = t->head;
        t->head = e;
    }
    e->usd += usd;
}

/* Days before yesterday are never asked about again. */
static void forget_old_days(spend_totals *t, long today)
{
    for (spend_entry **pp = &t->head; *pp;) {
        spend_entry *e = *pp;
        if (e->kind == SPEND_DAY && e->day < today - 1) {
            *pp = e->next;
            free(e->key);
            free(e);
        } else {
            pp = &e->next;
        }
    }
}

void spend_totals_add(spend_totals *t, const char *agent, const char *task, double usd, double when)
{
    if (!(usd > 0) || !agent)
        return;
    if (task)
        add_to(t, SPEND_TASK, task, 0, usd);
    long day = utc_day(when);
    add_to(t, SPEND_DAY, agent, day, usd);
    forget_old_days(t, utc_day(bosun_now()));
}

double spend_totals_task(const spend_totals *t, const char *task)
{
    const spend_entry *e = task ? find(t, SPEND_TASK, task, 0) : NULL;
    return e ? e->usd : 0;
}

double spend_totals_day(const spend_totals *t, const char *agent, double when)
{
    long day = utc_day(when);
    double sum = 0;
    for (const spend_entry *e = t->head; e; e = e->next)
        if (e->kind == SPEND_DAY && e->day == day && (!agent || strcmp(e->key, agent) == 0))
            sum += e->usd;
    return sum;
}

/* ------------------------------------------------------------ checks */

static bool over(spend_over *o, const char *which, double limit, double spent)
{
    if (!(limit > 0) || spent < limit)
        return false;
    o->which = which;
    o->limit = limit;
    o->spent = spent;
    return true;
}

bool spend_check(const spend_limits *agent, const spend_limits *global, const spend_totals *t,
                 const spend_run *r, bool running, double now, spend_over *o)
{
    if (agent && running &&
        (over(o, "usd_per_run", agent->usd_per_run, r->usd) ||
         over(o, "tokens_per_run", (double)agent->tokens_per_run, (double)r->tokens)))
        return true;
    if (agent && r->task &&
        over(o, "usd_per_task", agent->usd_per_task, spend_totals_task(t, r->task)))
        return true;
    if (agent && over(o, "usd_per_day", agent->usd_per_day, spend_totals_day(t, r->agent, now)))
        return true;
    return global &&
           over(o, "global usd_per_day", global->usd_per_day, spend_totals_day(t, NULL, now));
}

void spend_refusal_text(const spend_over *o, const char *agent, const char *task, char *buf,
                        size_t size)
{
    bool day = strstr(o->which, "per_day") != NULL;
    snprintf(buf, size, "budget %s exceeded: $%.4f spent of $%.4f%s%s%s; %s", o->which, o->spent,
             o->limit,
             strcmp(o->which, "usd_per_task") == 0
                 ? " by task "
                 : (day && o->which[0] == 'u' ? " today by agent " : ""),
             strcmp(o->which, "usd_per_task") == 0 ? task
                                                   : (day && o->which[0] == 'u' ? agent : ""),
             day ? " (UTC)" : "",
             day ? "new runs are refused until the next UTC day (00:00 UTC) or a reload raises "
                   "the limit"
                 : "new runs are refused until a reload raises the limit");
}
