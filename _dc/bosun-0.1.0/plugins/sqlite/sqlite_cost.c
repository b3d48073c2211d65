/* sqlite store — the usage projection: what runs spent, from their
 * "usage" and "result" events (evt.run.<agent>.<run>.usage|result).
 *
 * One row of the usage table per result, plus at most one "live" row per
 * run that sums the usage events since the run's last result.  A result
 * carries the totals of the process (or turn) it ends, which include the
 * turns reported live before it, so it replaces the run's live row instead
 * of adding to it: the same rule the supervisor's budgets follow
 * (core/daemon/supervise/proc_session.c), so that what is stored here and
 * what `ps` and the budgets count agree.  Each row keeps the time of the
 * last event folded into it, which is what --since/--until and the UTC
 * day of `cost --by day` go by.
 *
 * The rows are written in the transaction of the events they come from
 * (sqlite_events.c), so a crash never leaves one without the other, and
 * can be rebuilt from the events table alone (sqlstore_cost_rebuild, run by
 * the schema migration that creates the table). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "sqlite_store.h"

/* Counts and costs past these are no real report: counted as 0, as the
 * supervisor counts them (proc_session.c). */
#define SQLSTORE_COST_TOKENS_MAX (1ll << 50)
#define SQLSTORE_COST_USD_MAX    1e9

const char sqlstore_cost_schema_sql[] =
    "CREATE TABLE usage ("
    " id INTEGER PRIMARY KEY,"
    " run TEXT NOT NULL, agent TEXT, task TEXT, machine TEXT,"
    " time REAL NOT NULL, live INTEGER NOT NULL,"
    " input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,"
    " cache_read_tokens INTEGER NOT NULL, cache_creation_tokens INTEGER NOT NULL,"
    " cost_usd REAL NOT NULL);"
    "CREATE UNIQUE INDEX usage_live ON usage(run) WHERE live = 1;"
    "CREATE INDEX usage_time ON usage(time);"
    "CREATE INDEX usage_run ON usage(run);"
    "CREATE INDEX usage_task ON usage(task) WHERE task IS NOT NULL;";

/* Parameters of both inserts: ?1 run, ?2 agent, ?3 task, ?4 machine,
 * ?5 time, ?6..?9 tokens, ?10 cost. */
static const char sqlstore_cost_live_sql[] =
    "INSERT INTO usage(run, agent, task, machine, time, live, input_tokens, output_tokens,"
    " cache_read_tokens, cache_creation_tokens, cost_usd)"
    " VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT(run) WHERE live = 1 DO UPDATE SET time = MAX(time, excluded.time),"
    " input_tokens = input_tokens + excluded.input_tokens,"
    " output_tokens = output_tokens + excluded.output_tokens,"
    " cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,"
    " cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,"
    " cost_usd = cost_usd + excluded.cost_usd";

static const char sqlstore_cost_unlive_sql[] = "DELETE FROM usage WHERE run = ?1 AND live = 1";

static const char sqlstore_cost_result_sql[] =
    "INSERT INTO usage(run, agent, task, machine, time, live, input_tokens, output_tokens,"
    " cache_read_tokens, cache_creation_tokens, cost_usd)"
    " VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?9, ?10)";

/* The agent types' token keys (<bosun/agent_stream.h>), in column order:
 * Claude's cache creation is what the events call cache writes. */
static const char *const sqlstore_cost_token_keys[4] = {"input_tokens", "output_tokens",
                                                        "cache_read_tokens", "cache_write_tokens"};

int sqlstore_cost_prepare(sqlite3 *db, sqlstore_cost_stmts *c)
{
    int rc = sqlite3_prepare_v3(db, sqlstore_cost_live_sql, -1, SQLITE_PREPARE_PERSISTENT, &c->live,
                                NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(db, sqlstore_cost_unlive_sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &c->unlive, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(db, sqlstore_cost_result_sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &c->result, NULL);
    return rc;
}

void sqlstore_cost_finalize(sqlstore_cost_stmts *c)
{
    sqlite3_finalize(c->live);
    sqlite3_finalize(c->unlive);
    sqlite3_finalize(c->result);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------ one event */

typedef struct sqlstore_spent {
    const char *run, *agent, *task, *machine;
    double time;
    long long tokens[4];
    double usd;
} sqlstore_spent;

static long long sqlstore_cost_count(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    json_int_t n = json_integer_value(v);
    return json_is_integer(v) && n > 0 && n < SQLSTORE_COST_TOKENS_MAX ? (long long)n : 0;
}

static double sqlstore_cost_usd(const json_t *ev)
{
    json_t *cost = json_object_get(ev, "cost_usd");
    double usd = json_number_value(cost);
    return json_is_number(cost) && usd >= 0 && usd < SQLSTORE_COST_USD_MAX ? usd : 0;
}

static const char *sqlstore_cost_str(const json_t *data, const char *key, const char *dflt)
{
    const char *v = json_string_value(json_object_get(data, key));
    return v ? v : dflt;
}

static int sqlstore_cost_write(sqlite3_stmt *st, const sqlstore_spent *sp)
{
    int rc = sqlite3_bind_text(st, 1, sp->run, -1, SQLITE_STATIC);
    const char *text[3] = {sp->agent, sp->task, sp->machine};
    for (int i = 0; rc == SQLITE_OK && i < 3; i++)
        rc = text[i] ? sqlite3_bind_text(st, 2 + i, text[i], -1, SQLITE_STATIC)
                     : sqlite3_bind_null(st, 2 + i);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 5, sp->time);
    for (int i = 0; rc == SQLITE_OK && i < 4; i++)
        rc = sqlite3_bind_int64(st, 6 + i, sp->tokens[i]);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 10, sp->usd);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(sqlite3_db_handle(st));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int sqlstore_cost_unlive(sqlstore_cost_stmts *c, const char *run)
{
    int rc = sqlite3_bind_text(c->unlive, 1, run, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(c->unlive) == SQLITE_DONE ? SQLITE_OK
                                                    : sqlite3_errcode(sqlite3_db_handle(c->unlive));
    sqlite3_reset(c->unlive);
    sqlite3_clear_bindings(c->unlive);
    return rc;
}

int sqlstore_cost_project(sqlstore_cost_stmts *c, const sqlstore_event *e, const char *machine)
{
    const char *last = strrchr(e->subject, '.');
    bool result = last && strcmp(last, ".result") == 0;
    bool usage = last && strcmp(last, ".usage") == 0;
    if ((!result && !usage) || !json_is_object(e->data) ||
        !bus_pattern_matches(result ? "evt.run.*.*.result" : "evt.run.*.*.usage", e->subject))
        return SQLITE_OK;
    char run[BUS_SUBJECT_MAX], agent[BUS_SUBJECT_MAX];
    sqlstore_spent sp = {
        .run = sqlstore_cost_str(e->data, "run", sqlstore_token(e->subject, 3, run, sizeof run)),
        .agent =
            sqlstore_cost_str(e->data, "agent", sqlstore_token(e->subject, 2, agent, sizeof agent)),
        .task = sqlstore_cost_str(e->data, "task", NULL),
        .machine = sqlstore_cost_str(e->data, "machine", machine),
        .time = e->time,
        .usd = sqlstore_cost_usd(e->data),
    };
    /* A usage event has its counts at the top, a result in "usage". */
    const json_t *counts = result ? json_object_get(e->data, "usage") : e->data;
    for (int i = 0; i < 4; i++)
        sp.tokens[i] = sqlstore_cost_count(counts, sqlstore_cost_token_keys[i]);
    if (usage)
        return sqlstore_cost_write(c->live, &sp);
    int rc = sqlstore_cost_unlive(c, sp.run);
    return rc == SQLITE_OK ? sqlstore_cost_write(c->result, &sp) : rc;
}

/* ------------------------------------------------------------ rebuild */

static int sqlstore_cost_replay_row(sqlstore_cost_stmts *c, sqlite3_stmt *rows)
{
    const char *subject = (const char *)sqlite3_column_text(rows, 1);
    const char *machine = (const char *)sqlite3_column_text(rows, 2);
    const char *text = (const char *)sqlite3_column_text(rows, 3);
    json_t *data = text ? json_loads(text, 0, NULL) : NULL;
    int rc = SQLITE_OK;
    if (subject && json_is_object(data)) {
        sqlstore_event e = {
            .subject = (char *)subject, .time = sqlite3_column_double(rows, 0), .data = data};
        rc = sqlstore_cost_project(c, &e, machine);
    }
    /* As when it was written: an odd event is skipped, not a failure. */
    if (rc != SQLITE_OK && sqlstore_event_fault(rc))
        rc = SQLITE_OK;
    json_decref(data);
    return rc;
}

/* GLOB, unlike LIKE, is case-sensitive, as subjects are; the exact match
 * is sqlstore_cost_project's. */
static const char sqlstore_cost_events_sql[] =
    "SELECT time, subject, machine, data FROM events"
    " WHERE subject GLOB 'evt.run.*.usage' OR subject GLOB 'evt.run.*.result' ORDER BY seq";

int sqlstore_cost_rebuild(sqlite3 *db)
{
    sqlstore_cost_stmts c = {0};
    sqlite3_stmt *rows = NULL;
    int rc = sqlstore_exec(db, "DELETE FROM usage");
    if (rc == SQLITE_OK)
        rc = sqlstore_cost_prepare(db, &c);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, sqlstore_cost_events_sql, -1, &rows, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(rows)) == SQLITE_ROW)
        rc = sqlstore_cost_replay_row(&c, rows);
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_finalize(rows);
    sqlstore_cost_finalize(&c);
    return rc;
}
