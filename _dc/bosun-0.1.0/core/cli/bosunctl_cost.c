/* bosunctl cost: what runs spent, from the store's usage projection
 * (cmd.store.cost, bosun-bus(7)), as a table with a total line or as JSON. */
#include "config.h"

#include "bosunctl.h"
#include "ctl_output.h"

#include <stdio.h>
#include <string.h>

#include <bosun/date.h>
#include <bosun/store.h>

/* Pages of the store's list followed at most (each up to 1000 keys). */
#define COST_PAGES_MAX 100

static const char *const cost_bys[] = {"run", "task", "agent", "machine", "day", NULL};

static const char *const cost_usage =
    "usage: bosunctl cost [--by run|task|agent|machine|day] [--since DATE] [--until DATE] "
    "[--agent A] [--task ID] [--machine M] [--json]";

/* The options, checked here so that a typo is a usage error before the
 * daemon is asked (the store checks them again). */
static int cost_check(const opts *o)
{
    bool known = !o->by;
    for (size_t i = 0; !known && cost_bys[i]; i++)
        known = strcmp(cost_bys[i], o->by) == 0;
    if (!known)
        return die(EX_USAGE_, "--by: '%s' is not one of run, task, agent, machine, day", o->by);
    char why[200];
    double t;
    if (o->since_text && !bosun_date_parse(o->since_text, false, &t, why, sizeof why))
        return die(EX_USAGE_, "--since: %s", why);
    if (o->until && !bosun_date_parse(o->until, true, &t, why, sizeof why))
        return die(EX_USAGE_, "--until: %s", why);
    return 0;
}

static json_t *cost_args(const opts *o, const char *cursor)
{
    return json_pack("{s:s,s:s*,s:s*,s:s*,s:s*,s:s*,s:s*}", "by", o->by ? o->by : "agent", "since",
                     o->since_text, "until", o->until, "agent", o->agent, "task", o->task,
                     "machine", o->machine, "cursor", cursor);
}

/* Every page: {"items", "total", "next": null}, or NULL (*rc set). */
static json_t *cost_fetch(ctl_conn *conn, const opts *o, int *rc)
{
    json_t *all = NULL;
    for (int page = 0; page < COST_PAGES_MAX; page++) {
        const char *cursor = all ? json_string_value(json_object_get(all, "next")) : NULL;
        json_t *d = bus_call(conn, BOSUN_STORE_COST, cost_args(o, cursor), 30, rc);
        if (!d) {
            json_decref(all);
            return NULL;
        }
        if (!all) {
            all = d;
        } else {
            json_array_extend(json_object_get(all, "items"), json_object_get(d, "items"));
            json_object_set(all, "next", json_object_get(d, "next"));
            json_decref(d);
        }
        if (!json_is_string(json_object_get(all, "next")))
            return all;
    }
    fprintf(stderr, "bosunctl: cost: more than %d pages; showing the first ones\n", COST_PAGES_MAX);
    return all;
}

static void cost_cells(json_t *v, char cells[6][32])
{
    static const char *const keys[] = {"input_tokens", "output_tokens", "cache_read_tokens",
                                       "cache_creation_tokens"};
    for (int i = 0; i < 4; i++)
        snprintf(cells[i], 32, "%lld", (long long)json_integer_value(json_object_get(v, keys[i])));
    format_cost(json_object_get(v, "cost_usd"), cells[4], 32);
    snprintf(cells[5], 32, "%lld", (long long)json_integer_value(json_object_get(v, "runs")));
}

static void cost_print(const opts *o, json_t *all)
{
    const char *by = o->by ? o->by : "agent";
    bool by_run = strcmp(by, "run") == 0;
    char title[16];
    snprintf(title, sizeof title, "%s", by);
    for (char *p = title; *p; p++)
        *p = (char)(*p - 'a' + 'A');
    const char *headers[] = {title,  "INPUT", "OUTPUT", "CACHE_READ", "CACHE_WRITE",
                             "COST", "RUNS",  NULL,     NULL,         NULL};
    if (by_run) {
        headers[7] = "AGENT";
        headers[8] = "TASK";
    }
    table *t = table_new(headers);
    size_t i;
    json_t *v;
    char cells[6][32];
    json_array_foreach(json_object_get(all, "items"), i, v)
    {
        cost_cells(v, cells);
        const char *key = json_string_value(json_object_get(v, "key"));
        const char *row[] = {key ? key : "-",
                             cells[0],
                             cells[1],
                             cells[2],
                             cells[3],
                             cells[4],
                             cells[5],
                             json_string_value(json_object_get(v, "agent")),
                             json_string_value(json_object_get(v, "task")),
                             NULL};
        table_add_row(t, row);
    }
    cost_cells(json_object_get(all, "total"), cells);
    const char *total[] = {"TOTAL",  cells[0], cells[1], cells[2], cells[3],
                           cells[4], cells[5], NULL,     NULL,     NULL};
    table_add_row(t, total);
    table_print(t, stdout);
    table_free(t);
}

int cmd_cost(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 0)
        return die(EX_USAGE_, "%s", cost_usage);
    int rc = cost_check(o);
    if (rc)
        return rc;
    json_t *all = cost_fetch(conn, o, &rc);
    if (!all)
        return rc;
    if (o->json)
        print_json(all);
    else
        cost_print(o, all);
    json_decref(all);
    return 0;
}
