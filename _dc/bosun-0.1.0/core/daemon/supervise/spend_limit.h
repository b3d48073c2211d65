/* Spending limits ("budget:" of an agent, and the global one): what a run,
 * a task and a UTC day may cost, checked as usage arrives.  Not the memory
 * budget of <bosun/budget.h>. */
#ifndef BOSUN_SPEND_LIMIT_H
#define BOSUN_SPEND_LIMIT_H

#include <bosun/cfg.h>
#include <stdbool.h>
#include <stddef.h>

/* 0 means no limit. */
typedef struct spend_limits {
    double usd_per_run;
    double usd_per_task;
    double usd_per_day;
    long long tokens_per_run;
} spend_limits;

/* The map at key "budget" of section (absent or null: no limits).  An
 * agent's may hold all four keys; the global one (agent false) only
 * usd_per_day.  Errors name FILE:LINE:COL. */
bool spend_limits_parse(const cfg_node *section, bool agent, spend_limits *out, cfg_diag *d);

/* Totals of spending that outlive one run: per task and per (agent, UTC
 * day), and the machine's per UTC day. */
typedef struct spend_totals spend_totals;

spend_totals *spend_totals_new(void);
void spend_totals_free(spend_totals *t);
/* Adds usd spent now by a run of agent (task may be NULL) at time `when`. */
void spend_totals_add(spend_totals *t, const char *agent, const char *task, double usd,
                      double when);
double spend_totals_task(const spend_totals *t, const char *task);
/* agent NULL: every agent's (the global day). */
double spend_totals_day(const spend_totals *t, const char *agent, double when);

/* What a run has spent (its own sums) for spend_check. */
typedef struct spend_run {
    const char *agent;
    const char *task;
    double usd;
    long long tokens;
} spend_run;

/* Which budget a run (or a new run, usd and tokens 0) is over: fills
 * which/limit/spent and returns true; false when all allow it.  `strict`
 * false asks "may a new run start", where a run budget never refuses. */
typedef struct spend_over {
    const char *which; /* "usd_per_run", "tokens_per_run", "usd_per_task", "usd_per_day",
                          "global usd_per_day" */
    double limit, spent;
} spend_over;
bool spend_check(const spend_limits *agent, const spend_limits *global, const spend_totals *t,
                 const spend_run *r, bool running, double now, spend_over *over);

/* A sentence for a refused start: which budget, spent/limit, when it
 * allows again. */
void spend_refusal_text(const spend_over *o, const char *agent, const char *task, char *buf,
                        size_t size);

#endif
