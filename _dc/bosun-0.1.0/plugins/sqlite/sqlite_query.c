/* sqlite store — answering cmd.store.* requests (see <bosun/store.h>).
 *
 * Queries read only what is committed, and "last_seq" is the highest
 * committed seq.  A query that arrives while events received before it wait
 * for their commit is parked (sqlstore_defer) and answered once the writer
 * has committed them (read your writes), unless commits are failing: then
 * it is answered from what is committed.  The loop never waits for the
 * writer meanwhile.  Together with the stored.* feed, which is published
 * after each commit, this lets a client replay and then follow without a
 * gap or a duplicate.
 *
 * Arguments are checked strictly: a wrong type, an out-of-range number, an
 * invalid pattern or an unknown key is a bad_request, so a typo ("limt")
 * never silently returns something else than what was asked. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_store.h"

#define SQLSTORE_LIMIT_MAX     10000
#define SQLSTORE_LIMIT_DEFAULT 1000
/* Bytes of stored event text one events reply holds at most (at least one
 * event, whatever its size): a reply goes out in one line, and escaping on
 * the way can triple it, so this keeps it far below what a client may have
 * queued (16 MiB on the control socket).  The rest is paged ("more"). */
#define SQLSTORE_REPLY_BYTES (2 * 1024 * 1024)
/* Runs and tasks are one row per object, not a log: a caller may ask for all
 * of them at once (the core asks for every active run at start). */
#define SQLSTORE_OBJECTS_LIMIT_MAX 1000000
#define SQLSTORE_HASH_HEX_LEN      64
/* Requests parked at once, at most: each is answered within a commit or two,
 * so only a flood of them gets here, and is told to retry. */
#define SQLSTORE_PARKED_MAX 10000

/* ------------------------------------------------------------ SQL function */

/* bosun_match(pattern, subject): bus wildcard matching inside queries. */
static void sqlstore_fn_match(sqlite3_context *c, int argc, sqlite3_value **argv)
{
    const char *pattern = (const char *)sqlite3_value_text(argv[0]);
    const char *subject = (const char *)sqlite3_value_text(argv[1]);
    sqlite3_result_int(c, pattern && subject && bus_pattern_matches(pattern, subject));
}

int sqlstore_register_functions(sqlite3 *db)
{
    return sqlite3_create_function(db, "bosun_match", 2,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   sqlstore_fn_match, NULL, NULL);
}

/* ------------------------------------------------------------ arguments */

bool sqlstore_bad(sqlstore_err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return false;
}

/* Arguments are an object; null (or nothing) means {}. */
bool sqlstore_check_args(const json_t *args, const char *const *allowed, sqlstore_err *e)
{
    if (json_is_null(args))
        return true;
    if (!json_is_object(args))
        return sqlstore_bad(e, "arguments must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)args, key, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i])
            return sqlstore_bad(e, "unknown argument '%s'", key);
    }
    return true;
}

/* A member that is absent or null keeps the default already in *out. */
const json_t *sqlstore_arg(const json_t *args, const char *key)
{
    const json_t *v = json_object_get(args, key);
    return json_is_null(v) ? NULL : v;
}

bool sqlstore_arg_int(const json_t *args, const char *key, json_int_t min, json_int_t max,
                      json_int_t *out, sqlstore_err *e)
{
    const json_t *v = sqlstore_arg(args, key);
    if (!v)
        return true;
    json_int_t n = json_integer_value(v);
    if (json_is_integer(v) && n >= min && n <= max) {
        *out = n;
        return true;
    }
    if (max == INT64_MAX)
        return sqlstore_bad(e, "'%s' must be an integer of at least %lld", key, (long long)min);
    return sqlstore_bad(e, "'%s' must be an integer between %lld and %lld", key, (long long)min,
                        (long long)max);
}

bool sqlstore_arg_str(const json_t *args, const char *key, const char **out, sqlstore_err *e)
{
    const json_t *v = sqlstore_arg(args, key);
    if (!v)
        return true;
    if (!json_is_string(v))
        return sqlstore_bad(e, "'%s' must be a string", key);
    *out = json_string_value(v);
    return true;
}

bool sqlstore_arg_bool(const json_t *args, const char *key, int *out, sqlstore_err *e)
{
    const json_t *v = sqlstore_arg(args, key);
    if (!v)
        return true;
    if (!json_is_boolean(v))
        return sqlstore_bad(e, "'%s' must be true or false", key);
    *out = json_is_true(v);
    return true;
}

static bool sqlstore_arg_limit(const json_t *args, const char *key, json_int_t *out,
                               sqlstore_err *e)
{
    return sqlstore_arg_int(args, key, 1, SQLSTORE_LIMIT_MAX, out, e);
}

static bool sqlstore_arg_objects_limit(const json_t *args, json_int_t *out, sqlstore_err *e)
{
    return sqlstore_arg_int(args, "limit", 1, SQLSTORE_OBJECTS_LIMIT_MAX, out, e);
}

/* ------------------------------------------------------------ replies */

json_t *sqlstore_error_reply(const char *code, const char *message)
{
    return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
}

json_t *sqlstore_db_error(sqlstore *s)
{
    char msg[300];
    snprintf(msg, sizeof msg, "%s: %s", s->path, sqlite3_errmsg(s->db));
    log_warning("sqlite: query failed: %s", msg);
    return sqlstore_error_reply("store_error", msg);
}

/* A column as JSON: numbers stay numbers, text stays text. */
json_t *sqlstore_column_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_integer((json_int_t)sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT: {
        /* Text not valid as UTF-8 (written by something else) reads as null. */
        json_t *v = json_stringn((const char *)sqlite3_column_text(st, i),
                                 (size_t)sqlite3_column_bytes(st, i));
        return v ? v : json_null();
    }
    default:
        return json_null();
    }
}

/* A JSON text column parsed back; null when absent or unreadable. */
json_t *sqlstore_column_parsed(sqlite3_stmt *st, int i)
{
    const char *text = (const char *)sqlite3_column_text(st, i);
    json_t *v = text ? bosun_json_parse(text, (size_t)sqlite3_column_bytes(st, i), 0, NULL) : NULL;
    return v ? v : json_null();
}

const char *sqlstore_column_str(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* ------------------------------------------------------------ events */

typedef struct sqlstore_events_args {
    json_int_t since;
    const char *subject;
    const char *run;
    const char *task;
    const char *machine;
    json_int_t limit;
    json_int_t tail; /* 0: no tail */
} sqlstore_events_args;

static const char *const sqlstore_events_keys[] = {"since", "subject", "run",     "task",
                                                   "limit", "tail",    "machine", NULL};

static bool sqlstore_events_parse(const json_t *args, sqlstore_events_args *a, sqlstore_err *e)
{
    *a = (sqlstore_events_args){.subject = "evt.>", .limit = SQLSTORE_LIMIT_DEFAULT};
    if (!sqlstore_check_args(args, sqlstore_events_keys, e) ||
        !sqlstore_arg_int(args, "since", 0, INT64_MAX, &a->since, e) ||
        !sqlstore_arg_str(args, "subject", &a->subject, e) ||
        !sqlstore_arg_str(args, "run", &a->run, e) ||
        !sqlstore_arg_str(args, "task", &a->task, e) ||
        !sqlstore_arg_str(args, "machine", &a->machine, e) ||
        !sqlstore_arg_limit(args, "limit", &a->limit, e) ||
        !sqlstore_arg_limit(args, "tail", &a->tail, e))
        return false;
    if (bus_pattern_check(a->subject) != 0)
        return sqlstore_bad(e, "'subject' is not a valid subject pattern: '%s'", a->subject);
    /* "tail" picks the window itself: combined with "since" or "limit" it
     * would be unclear which one wins, so say so instead of guessing. */
    if (a->tail && sqlstore_arg(args, "since"))
        return sqlstore_bad(e, "'tail' cannot be combined with 'since'");
    if (a->tail && sqlstore_arg(args, "limit"))
        return sqlstore_bad(e, "'tail' cannot be combined with 'limit'");
    return true;
}

/* Every stored subject starts with "evt.", so these filter nothing. */
static bool sqlstore_pattern_is_all(const char *p)
{
    return strcmp(p, ">") == 0 || strcmp(p, "evt.>") == 0;
}

/* Parameters: ?1 since, ?2 subject, ?3 run, ?4 task, ?5 row count, ?6
 * offset, ?7 machine.  columns: what to select. */
static void sqlstore_events_sql(const sqlstore_events_args *a, const char *columns, bool desc,
                                char *sql, size_t size)
{
    const char *subject = "";
    if (!sqlstore_pattern_is_all(a->subject))
        subject = strpbrk(a->subject, "*>") ? " AND bosun_match(?2, subject)" : " AND subject = ?2";
    snprintf(sql, size,
             "SELECT %s FROM events"
             " WHERE seq > ?1%s%s%s%s ORDER BY seq %s LIMIT ?5 OFFSET ?6",
             columns, subject, a->run ? " AND run = ?3" : "", a->task ? " AND task = ?4" : "",
             a->machine ? " AND machine = ?7" : "", desc ? "DESC" : "ASC");
}

static json_t *sqlstore_event_row(sqlite3_stmt *st)
{
    json_t *data = sqlstore_column_parsed(st, 6);
    json_t *form = sqlstore_stored_form(
        sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1), sqlstore_column_str(st, 2),
        sqlstore_column_str(st, 3), sqlstore_column_str(st, 4), sqlstore_column_str(st, 5), data);
    sqlstore_stored_mseq(form, sqlite3_column_int64(st, 7));
    json_decref(data);
    return form;
}

/* Fetches up to want rows into rows, and no more than
 * SQLSTORE_REPLY_BYTES of them after the first; *more tells whether
 * another one followed (and was left for the next page).  Returns
 * SQLITE_OK or the error of the failed step. */
static int sqlstore_fetch_events(sqlite3_stmt *st, json_int_t want, json_t *rows, bool *more)
{
    int rc;
    size_t bytes = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && (json_int_t)json_array_size(rows) < want) {
        size_t row = (size_t)sqlite3_column_bytes(st, 6) + (size_t)sqlite3_column_bytes(st, 2) +
                     (size_t)sqlite3_column_bytes(st, 4) + 128;
        if (json_array_size(rows) > 0 && bytes + row > SQLSTORE_REPLY_BYTES)
            break;
        bytes += row;
        json_array_append_new(rows, sqlstore_event_row(st));
    }
    *more = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int sqlstore_events_bind(sqlite3_stmt *st, const sqlstore_events_args *a, json_int_t rows,
                                json_int_t offset)
{
    int rc = sqlite3_bind_int64(st, 1, a->since);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, a->subject, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, a->run, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 4, a->task, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, rows);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 6, offset);
    if (rc == SQLITE_OK && a->machine)
        rc = sqlite3_bind_text(st, 7, a->machine, -1, SQLITE_STATIC);
    return rc;
}

/* Where the tail window starts: *since becomes the seq just before its
 * first event (a->since when there are fewer than tail), and *before tells
 * whether matching events precede the window.  Only seqs are read. */
static int sqlstore_tail_start(sqlstore *s, const sqlstore_events_args *a, json_int_t *since,
                               bool *before)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    sqlstore_events_sql(a, "seq", true, sql, sizeof sql);
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlstore_events_bind(st, a, 2, a->tail - 1);
    *since = a->since;
    *before = false;
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *since = sqlite3_column_int64(st, 0) - 1;
        rc = sqlite3_step(st);
        *before = rc == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* One row more than asked tells whether there is more after the last one
 * returned.  A tail is read forwards from where its window starts, so that
 * a window too large for one reply is cut at its end: the reply then says
 * "partial" and the caller reads on with "since". */
static json_t *sqlstore_events_run(sqlstore *s, const sqlstore_events_args *a)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    json_int_t since = a->since, want = a->tail ? a->tail : a->limit;
    bool before = false;
    int rc = a->tail ? sqlstore_tail_start(s, a, &since, &before) : SQLITE_OK;
    sqlstore_events_args from = *a;
    from.since = since;
    sqlstore_events_sql(&from, "seq, time, subject, machine, run, task, data, mseq", false, sql,
                        sizeof sql);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlstore_events_bind(st, &from, want + 1, 0);
    json_t *rows = json_array();
    bool more = false;
    if (rc == SQLITE_OK)
        rc = sqlstore_fetch_events(st, want, rows, &more);
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        json_decref(rows);
        return sqlstore_db_error(s);
    }
    bool partial = a->tail && (json_int_t)json_array_size(rows) < want && more;
    json_t *reply = json_pack("{s:o,s:I,s:b}", "events", rows, "last_seq", (json_int_t)s->last_seq,
                              "more", a->tail ? before : more);
    if (partial)
        json_object_set_new(reply, "partial", json_true());
    return reply;
}

static json_t *sqlstore_events_query(sqlstore *s, const json_t *args)
{
    sqlstore_events_args a;
    sqlstore_err e;
    if (!sqlstore_events_parse(args, &a, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    return sqlstore_events_run(s, &a);
}

/* ------------------------------------------------------------ rows */

json_t *sqlstore_row_object(sqlite3_stmt *st, const char *const *names)
{
    json_t *o = json_object();
    for (int i = 0; names[i]; i++)
        json_object_set_new(o, names[i], sqlstore_column_json(st, i));
    return o;
}

json_t *sqlstore_collect(sqlstore *s, sqlite3_stmt *st, int rc, const char *key,
                         sqlstore_row_fn row)
{
    json_t *rows = json_array();
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = row(st);
        if (o)
            json_array_append_new(rows, o);
        rc = SQLITE_OK;
    }
    json_t *reply = rc == SQLITE_DONE ? json_pack("{s:o}", key, rows) : sqlstore_db_error(s);
    if (rc != SQLITE_DONE)
        json_decref(rows);
    sqlite3_finalize(st);
    return reply;
}

/* Prepares sql (from sqlite3_mprintf, freed here; NULL when out of memory). */
static int sqlstore_prepare_query(sqlstore *s, char *sql, sqlite3_stmt **st)
{
    *st = NULL;
    int rc = sql ? sqlite3_prepare_v2(s->db, sql, -1, st, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    return rc;
}

/* Binds text (or NULL) to parameter i if the statement was made so far. */
static int sqlstore_bind_arg(sqlite3_stmt *st, int rc, int i, const char *text)
{
    return rc == SQLITE_OK ? sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC) : rc;
}

/* The same for a parameter that only a given filter puts in the SQL: a
 * number beyond the statement's highest one would be SQLITE_RANGE. */
static int sqlstore_bind_opt(sqlite3_stmt *st, int rc, int i, const char *text)
{
    return text ? sqlstore_bind_arg(st, rc, i, text) : rc;
}

static int sqlstore_bind_limit(sqlite3_stmt *st, int rc, int i, json_int_t limit)
{
    return rc == SQLITE_OK ? sqlite3_bind_int64(st, i, limit) : rc;
}

/* " AND <clause>" when the filter is given, else "". */
static const char *sqlstore_filter(const char *value, const char *clause)
{
    return value ? clause : "";
}

/* ------------------------------------------------------------ runs */

static const char *const sqlstore_runs_keys[] = {
    "run", "agent", "task", "active", "state", "machine", "after", "limit", "cost", "remote", NULL};

typedef struct sqlstore_runs_args {
    const char *run, *agent, *task, *state, *machine, *after;
    int active; /* -1: any state */
    int cost;   /* cost_usd from the usage projection */
    int remote; /* -1: any machine, 1: other machines' only (a hub's), 0: this one's */
    json_int_t limit;
} sqlstore_runs_args;

/* Keyset paging: "after" names the last row of the previous page, and the
 * next page is what sorts after it.  Unlike an offset, rows added at the top
 * meanwhile do not shift the pages (rowids never change: see the upserts in
 * sqlite_events.c).  An unknown "after" gives an empty page. */
#define SQLSTORE_RUNS_ORDER_KEY "COALESCE(created_at, updated_at, 0), rowid"

/* Parameters: ?1 run, ?2 agent, ?3 task, ?4 limit, ?5 state, ?6 machine,
 * ?7 after, ?8 the local machine id. */
static char *sqlstore_runs_sql(const sqlstore *s, const sqlstore_runs_args *a)
{
    const char *state = "";
    if (a->active == 1)
        state = " AND IFNULL(state, '') NOT IN ";
    else if (a->active == 0)
        state = " AND state IN ";
    return sqlite3_mprintf(
        "SELECT data, status, status_message,"
        " (SELECT TOTAL(cost_usd) FROM usage WHERE usage.run = runs.id),"
        " (SELECT count(*) FROM usage WHERE usage.run = runs.id)"
        " FROM runs WHERE 1%s%s%s%s%s%s%s%s%s"
        " ORDER BY COALESCE(created_at, updated_at, 0) DESC, rowid DESC LIMIT ?4",
        sqlstore_filter(a->run, " AND id = ?1"), sqlstore_filter(a->agent, " AND agent = ?2"),
        sqlstore_filter(a->task, " AND task = ?3"), sqlstore_filter(a->state, " AND state = ?5"),
        sqlstore_filter(a->machine, " AND machine = ?6"),
        sqlstore_filter(a->after,
                        " AND (" SQLSTORE_RUNS_ORDER_KEY ") < (SELECT " SQLSTORE_RUNS_ORDER_KEY
                        " FROM runs WHERE id = ?7)"),
        a->remote < 0    ? ""
        : a->remote == 1 ? " AND IFNULL(machine, ?8) <> ?8"
                         : " AND IFNULL(machine, ?8) = ?8",
        state, a->active >= 0 ? s->terminal_sql : "");
}

/* The run object as the core published it, with the agent's own status. */
static json_t *sqlstore_run_row(sqlite3_stmt *st)
{
    json_t *o = sqlstore_column_parsed(st, 0);
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "status", sqlstore_column_json(st, 1));
    json_object_set_new(o, "status_message", sqlstore_column_json(st, 2));
    return o;
}

/* The same with cost_usd so far: the results' and what was reported live
 * since the last one (sqlite_cost.c).  Not the default: the supervisor
 * restores a run's own sum of results from cost_usd, and a result counts
 * the live turns before it again. */
static json_t *sqlstore_run_row_cost(sqlite3_stmt *st)
{
    json_t *o = sqlstore_run_row(st);
    if (o && sqlite3_column_int64(st, 4) > 0)
        json_object_set_new(o, "cost_usd", json_real(sqlite3_column_double(st, 3)));
    return o;
}

static json_t *sqlstore_runs_run(sqlstore *s, const sqlstore_runs_args *a)
{
    sqlite3_stmt *st;
    int rc = sqlstore_prepare_query(s, sqlstore_runs_sql(s, a), &st);
    rc = sqlstore_bind_arg(st, rc, 1, a->run);
    rc = sqlstore_bind_arg(st, rc, 2, a->agent);
    rc = sqlstore_bind_arg(st, rc, 3, a->task);
    rc = sqlstore_bind_limit(st, rc, 4, a->limit);
    rc = sqlstore_bind_opt(st, rc, 5, a->state);
    rc = sqlstore_bind_opt(st, rc, 6, a->machine);
    rc = sqlstore_bind_opt(st, rc, 7, a->after);
    rc = sqlstore_bind_opt(st, rc, 8, a->remote >= 0 ? s->ctx->machine_id : NULL);
    return sqlstore_collect(s, st, rc, "runs", a->cost ? sqlstore_run_row_cost : sqlstore_run_row);
}

static json_t *sqlstore_runs_query(sqlstore *s, const json_t *args)
{
    sqlstore_runs_args a = {.active = -1, .remote = -1, .limit = SQLSTORE_LIMIT_DEFAULT};
    sqlstore_err e;
    if (!sqlstore_check_args(args, sqlstore_runs_keys, &e) ||
        !sqlstore_arg_str(args, "run", &a.run, &e) ||
        !sqlstore_arg_str(args, "agent", &a.agent, &e) ||
        !sqlstore_arg_str(args, "task", &a.task, &e) ||
        !sqlstore_arg_bool(args, "active", &a.active, &e) ||
        !sqlstore_arg_bool(args, "remote", &a.remote, &e) ||
        !sqlstore_arg_str(args, "state", &a.state, &e) ||
        !sqlstore_arg_str(args, "machine", &a.machine, &e) ||
        !sqlstore_arg_str(args, "after", &a.after, &e) ||
        !sqlstore_arg_bool(args, "cost", &a.cost, &e) ||
        !sqlstore_arg_objects_limit(args, &a.limit, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    return sqlstore_runs_run(s, &a);
}

/* ------------------------------------------------------------ tasks */

static const char *const sqlstore_tasks_keys[] = {"task",  "status",  "after",
                                                  "limit", "machine", NULL};

/* Column names, in SELECT order, as the keys of a task object. */
static const char *const sqlstore_task_columns[] = {
    "task",       "title",      "prompt",         "status",   "agent",   "owner",
    "created_at", "updated_at", "pending_inputs", "cost_usd", "machine", NULL,
};

static json_t *sqlstore_task_row(sqlite3_stmt *st)
{
    return sqlstore_row_object(st, sqlstore_task_columns);
}

/* Keyset paging as for runs.  updated_at moves, so a task updated while a
 * client pages may show up again on a later page, or be passed over: the
 * index is "last updated first", and a page is a look at it then. */
#define SQLSTORE_TASKS_ORDER_KEY "IFNULL(updated_at, 0), rowid"

/* Whose a task or an input is: rows from before schema 4 have no machine
 * and are the local machine's (?L, always bound). */
#define SQLSTORE_MACHINE_OF(table, l) "IFNULL(" table ".machine, ?" l ")"

/* Parameters: ?1 task, ?2 status, ?3 limit, ?4 after, ?5 machine, ?6 the
 * local machine id. */
static char *sqlstore_tasks_sql(const char *task, const char *status, const char *after,
                                const char *machine)
{
    return sqlite3_mprintf(
        "SELECT id, title, prompt, status, agent, owner, created_at, updated_at,"
        " (SELECT count(*) FROM inputs WHERE inputs.task = tasks.id AND inputs.status = 'pending'"
        " AND " SQLSTORE_MACHINE_OF("inputs", "6") " = " SQLSTORE_MACHINE_OF(
            "tasks", "6") "),"
                          " (SELECT TOTAL(cost_usd) FROM usage WHERE usage.task = "
                          "tasks.id), " SQLSTORE_MACHINE_OF(
                              "tasks", "6") " FROM tasks WHERE 1%s%s%s%s ORDER BY "
                                            "IFNULL(updated_at, 0) DESC, rowid DESC LIMIT ?3",
        sqlstore_filter(task, " AND id = ?1"), sqlstore_filter(status, " AND status = ?2"),
        sqlstore_filter(after,
                        " AND (" SQLSTORE_TASKS_ORDER_KEY ") < (SELECT " SQLSTORE_TASKS_ORDER_KEY
                        " FROM tasks WHERE id = ?4)"),
        sqlstore_filter(machine, " AND " SQLSTORE_MACHINE_OF("tasks", "6") " = ?5"));
}

typedef struct sqlstore_tasks_args {
    const char *task, *status, *after, *machine;
    json_int_t limit;
} sqlstore_tasks_args;

static json_t *sqlstore_tasks_run(sqlstore *s, const sqlstore_tasks_args *a)
{
    sqlite3_stmt *st;
    int rc = sqlstore_prepare_query(s, sqlstore_tasks_sql(a->task, a->status, a->after, a->machine),
                                    &st);
    rc = sqlstore_bind_arg(st, rc, 1, a->task);
    rc = sqlstore_bind_arg(st, rc, 2, a->status);
    rc = sqlstore_bind_limit(st, rc, 3, a->limit);
    rc = sqlstore_bind_opt(st, rc, 4, a->after);
    rc = sqlstore_bind_opt(st, rc, 5, a->machine);
    rc = sqlstore_bind_arg(st, rc, 6, s->ctx->machine_id);
    return sqlstore_collect(s, st, rc, "tasks", sqlstore_task_row);
}

static json_t *sqlstore_tasks_query(sqlstore *s, const json_t *args)
{
    sqlstore_tasks_args a = {.limit = SQLSTORE_LIMIT_DEFAULT};
    sqlstore_err e;
    if (!sqlstore_check_args(args, sqlstore_tasks_keys, &e) ||
        !sqlstore_arg_str(args, "task", &a.task, &e) ||
        !sqlstore_arg_str(args, "status", &a.status, &e) ||
        !sqlstore_arg_str(args, "after", &a.after, &e) ||
        !sqlstore_arg_str(args, "machine", &a.machine, &e) ||
        !sqlstore_arg_objects_limit(args, &a.limit, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    return sqlstore_tasks_run(s, &a);
}

/* ------------------------------------------------------------ inputs */

static const char *const sqlstore_inputs_keys[] = {"input", "task",  "run",     "status",
                                                   "after", "limit", "machine", NULL};

static const char *const sqlstore_input_statuses[] = {"pending", "answered", "cancelled", NULL};

/* Column names, in SELECT order, as the keys of an input object. */
static const char *const sqlstore_input_columns[] = {
    "input",  "task",   "run",         "agent",  "question",   "choices",     "blocking", "status",
    "answer", "choice", "answered_by", "reason", "created_at", "answered_at", "machine",  NULL,
};
#define SQLSTORE_INPUT_CHOICES  5
#define SQLSTORE_INPUT_BLOCKING 6

typedef struct sqlstore_inputs_args {
    const char *input, *task, *run, *status, *after, *machine;
    json_int_t limit;
} sqlstore_inputs_args;

static bool sqlstore_arg_input_status(const json_t *args, const char **out, sqlstore_err *e)
{
    if (!sqlstore_arg_str(args, "status", out, e))
        return false;
    if (!*out)
        return true;
    for (int i = 0; sqlstore_input_statuses[i]; i++)
        if (strcmp(*out, sqlstore_input_statuses[i]) == 0)
            return true;
    return sqlstore_bad(e, "'status' must be pending, answered or cancelled, got '%s'", *out);
}

static bool sqlstore_inputs_parse(const json_t *args, sqlstore_inputs_args *a, sqlstore_err *e)
{
    *a = (sqlstore_inputs_args){.limit = SQLSTORE_LIMIT_DEFAULT};
    return sqlstore_check_args(args, sqlstore_inputs_keys, e) &&
           sqlstore_arg_str(args, "input", &a->input, e) &&
           sqlstore_arg_str(args, "task", &a->task, e) &&
           sqlstore_arg_str(args, "run", &a->run, e) &&
           sqlstore_arg_input_status(args, &a->status, e) &&
           sqlstore_arg_str(args, "after", &a->after, e) &&
           sqlstore_arg_str(args, "machine", &a->machine, e) &&
           sqlstore_arg_objects_limit(args, &a->limit, e);
}

/* choices come back as the list they were, blocking as a boolean. */
static json_t *sqlstore_input_row(sqlite3_stmt *st)
{
    json_t *o = sqlstore_row_object(st, sqlstore_input_columns);
    json_object_set_new(o, "choices", sqlstore_column_parsed(st, SQLSTORE_INPUT_CHOICES));
    json_object_set_new(o, "blocking",
                        json_boolean(sqlite3_column_int(st, SQLSTORE_INPUT_BLOCKING) != 0));
    return o;
}

/* Keyset paging as for runs. */
#define SQLSTORE_INPUTS_ORDER_KEY "IFNULL(created_at, 0), rowid"

/* Parameters: ?1 input, ?2 task, ?3 run, ?4 status, ?5 limit, ?6 after, ?7
 * machine, ?8 the local machine id. */
static char *sqlstore_inputs_sql(const sqlstore_inputs_args *a)
{
    return sqlite3_mprintf(
        "SELECT id, task, run, agent, question, choices, blocking, status,"
        " answer, choice, answered_by, reason, created_at, answered_at, " SQLSTORE_MACHINE_OF(
            "inputs", "8") " FROM inputs WHERE 1%s%s%s%s%s%s"
                           " ORDER BY IFNULL(created_at, 0) DESC, rowid DESC LIMIT ?5",
        sqlstore_filter(a->input, " AND id = ?1"), sqlstore_filter(a->task, " AND task = ?2"),
        sqlstore_filter(a->run, " AND run = ?3"), sqlstore_filter(a->status, " AND status = ?4"),
        sqlstore_filter(a->after,
                        " AND (" SQLSTORE_INPUTS_ORDER_KEY ") < (SELECT " SQLSTORE_INPUTS_ORDER_KEY
                        " FROM inputs WHERE id = ?6)"),
        sqlstore_filter(a->machine, " AND " SQLSTORE_MACHINE_OF("inputs", "8") " = ?7"));
}

static json_t *sqlstore_inputs_query(sqlstore *s, const json_t *args)
{
    sqlstore_inputs_args a;
    sqlstore_err e;
    if (!sqlstore_inputs_parse(args, &a, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    sqlite3_stmt *st;
    int rc = sqlstore_prepare_query(s, sqlstore_inputs_sql(&a), &st);
    rc = sqlstore_bind_arg(st, rc, 1, a.input);
    rc = sqlstore_bind_arg(st, rc, 2, a.task);
    rc = sqlstore_bind_arg(st, rc, 3, a.run);
    rc = sqlstore_bind_arg(st, rc, 4, a.status);
    rc = sqlstore_bind_limit(st, rc, 5, a.limit);
    rc = sqlstore_bind_opt(st, rc, 6, a.after);
    rc = sqlstore_bind_opt(st, rc, 7, a.machine);
    rc = sqlstore_bind_arg(st, rc, 8, s->ctx->machine_id);
    return sqlstore_collect(s, st, rc, "inputs", sqlstore_input_row);
}

/* ------------------------------------------------------------ prs */

static const char *const sqlstore_prs_keys[] = {"task", NULL};

static const char *const sqlstore_pr_columns[] = {
    "task", "run", "url", "owner", "repo", "number", "linked_at", NULL,
};

static json_t *sqlstore_pr_row(sqlite3_stmt *st)
{
    return sqlstore_row_object(st, sqlstore_pr_columns);
}

/* Without a task, the pull requests of every task, in the order linked. */
static json_t *sqlstore_prs_query(sqlstore *s, const json_t *args)
{
    const char *task = NULL;
    sqlstore_err e;
    if (!sqlstore_check_args(args, sqlstore_prs_keys, &e) ||
        !sqlstore_arg_str(args, "task", &task, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    sqlite3_stmt *st;
    int rc = sqlstore_prepare_query(
        s,
        sqlite3_mprintf("SELECT task, run, url, owner, repo, number, linked_at FROM prs"
                        " WHERE 1%s ORDER BY linked_at, rowid",
                        sqlstore_filter(task, " AND task = ?1")),
        &st);
    if (task)
        rc = sqlstore_bind_arg(st, rc, 1, task);
    return sqlstore_collect(s, st, rc, "prs", sqlstore_pr_row);
}

/* ------------------------------------------------------------ tokens */

static const char *const sqlstore_tokens_keys[] = {"hash", NULL};

static const char *const sqlstore_token_columns[] = {
    "hash", "run", "task", "agent", "machine", "created_at", "expires_at", NULL,
};

/* A token hash is a SHA-256 in lowercase hex. */
static bool sqlstore_is_hash(const char *hash)
{
    size_t n = strspn(hash, "0123456789abcdef");
    return n == SQLSTORE_HASH_HEX_LEN && hash[n] == '\0';
}

static json_t *sqlstore_token_row(sqlite3_stmt *st)
{
    return sqlstore_row_object(st, sqlstore_token_columns);
}

static json_t *sqlstore_tokens_query(sqlstore *s, const json_t *args)
{
    const char *hash = NULL;
    sqlstore_err e;
    if (!sqlstore_check_args(args, sqlstore_tokens_keys, &e) ||
        !sqlstore_arg_str(args, "hash", &hash, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    if (!hash || !sqlstore_is_hash(hash))
        return sqlstore_error_reply("bad_request",
                                    "'hash' must be a SHA-256 as 64 lowercase hex digits");
    sqlite3_stmt *st;
    int rc = sqlstore_prepare_query(
        s,
        sqlite3_mprintf("SELECT hash, run, task, agent, machine, created_at, expires_at"
                        " FROM tokens WHERE hash = ?1"),
        &st);
    rc = sqlstore_bind_arg(st, rc, 1, hash);
    return sqlstore_collect(s, st, rc, "tokens", sqlstore_token_row);
}

/* ------------------------------------------------------------ status */

static const char *const sqlstore_no_keys[] = {NULL};

static json_t *sqlstore_status_query(sqlstore *s, const json_t *args)
{
    sqlstore_err e;
    if (!sqlstore_check_args(args, sqlstore_no_keys, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    json_t *o = json_pack(
        "{s:s,s:s,s:I,s:I,s:i,s:I,s:s,s:I,s:b,s:I,s:I,s:I,s:I,s:b,s:I,s:I}", "backend", "sqlite",
        "path", s->path, "events", (json_int_t)s->n_events, "last_seq", (json_int_t)s->last_seq,
        "schema_version", s->schema_version, "pending", (json_int_t)(s->n_batch + s->n_job),
        "synchronous", s->sync_full ? "full" : "normal", "batch_max", (json_int_t)s->batch_max,
        "failing", s->failing, "artifact_max_bytes", (json_int_t)s->artifact_max, "retained_bytes",
        (json_int_t)(s->bytes_batch + s->bytes_job), "retain_max_bytes", (json_int_t)s->retain_max,
        "dropped", (json_int_t)s->drop_total, "congested", s->congested, "parked",
        (json_int_t)s->n_parked, "failures", (json_int_t)s->failures);
    /* events / commits over a while: the mean transaction (bench_fleet.sh). */
    if (o)
        json_object_set_new(o, "commits", json_integer((json_int_t)s->commits));
    if (o && s->failing) {
        json_object_set_new(o, "failure", json_string(s->errmsg));
        json_object_set_new(o, "failing_since", json_real(s->failing_since));
    }
    return o;
}

/* ------------------------------------------------------------ handlers */

static void sqlstore_reply_now(sqlstore *s, const bus_msg *msg, sqlstore_query_fn fn)
{
    json_t *reply = fn(s, msg->data);
    if (!reply)
        reply = sqlstore_error_reply("store_error", "out of memory");
    bus_reply(s->ctx->bus, msg, reply);
    json_decref(reply);
}

static void sqlstore_parked_free(sqlstore_parked *p)
{
    free(p->subject);
    free(p->reply);
    json_decref(p->data);
    free(p);
}

static sqlstore_parked *sqlstore_park(sqlstore *s, const bus_msg *msg)
{
    sqlstore_parked *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->subject = strdup(msg->subject);
    p->reply = msg->reply ? strdup(msg->reply) : NULL;
    if (!p->subject || (msg->reply && !p->reply)) {
        sqlstore_parked_free(p);
        return NULL;
    }
    p->data = json_incref(msg->data);
    p->time = msg->time;
    p->need = s->received;
    if (!s->parked_tail)
        s->parked_tail = &s->parked;
    *s->parked_tail = p;
    s->parked_tail = &p->next;
    s->n_parked++;
    return p;
}

void sqlstore_defer(sqlstore *s, const bus_msg *msg, sqlstore_run_fn run, sqlstore_query_fn fn)
{
    /* Nothing received before it waits (or nothing will be written soon):
     * what is committed is the answer. */
    if ((s->n_batch == 0 && !sqlstore_writer_busy(s)) || s->failing || !s->wdb) {
        run(s, msg, fn);
        return;
    }
    if (s->n_parked >= SQLSTORE_PARKED_MAX) {
        if (msg->reply) {
            json_t *r = sqlstore_error_reply("busy", "too many requests wait for the store's "
                                                     "commit; try again");
            bus_reply(s->ctx->bus, msg, r);
            json_decref(r);
        }
        return;
    }
    sqlstore_parked *p = sqlstore_park(s, msg);
    if (!p) {
        log_error("sqlite: out of memory, answering %s without waiting for the commit",
                  msg->subject);
        run(s, msg, fn);
        return;
    }
    p->run = run;
    p->fn = fn;
    /* It waits for the batch: no commit_delay for it. */
    s->urgent = true;
}

void sqlstore_parked_run(sqlstore *s, bool all)
{
    /* FIFO, and need only grows along the list. */
    while (s->parked && (all || s->parked->need <= s->settled)) {
        sqlstore_parked *p = s->parked;
        s->parked = p->next;
        if (!s->parked)
            s->parked_tail = &s->parked;
        s->n_parked--;
        bus_msg msg = {.subject = p->subject, .reply = p->reply, .data = p->data, .time = p->time};
        p->run(s, &msg, p->fn);
        sqlstore_parked_free(p);
    }
}

void sqlstore_answer(bus_t *bus, const bus_msg *msg, sqlstore *s, sqlstore_query_fn fn)
{
    /* A published message nobody waits for would be answered into the void. */
    if (!msg->reply)
        return;
    sqlstore_defer(s, msg, sqlstore_reply_now, fn);
}

/* The status is the store's own state, in memory: answered at once, also
 * (above all) while a commit is slow or failing. */
static void sqlstore_on_status(bus_t *bus, const bus_msg *msg, void *arg)
{
    (void)bus;
    if (msg->reply)
        sqlstore_reply_now(arg, msg, sqlstore_status_query);
}

const sqlstore_route sqlstore_query_routes[] = {
    {BOSUN_STORE_EVENTS, sqlstore_events_query, NULL},
    {BOSUN_STORE_RUNS, sqlstore_runs_query, NULL},
    {BOSUN_STORE_TASKS, sqlstore_tasks_query, NULL},
    {BOSUN_STORE_STATUS, NULL, sqlstore_on_status},
    {BOSUN_STORE_INPUTS, sqlstore_inputs_query, NULL},
    {BOSUN_STORE_PRS, sqlstore_prs_query, NULL},
    {BOSUN_STORE_TOKENS, sqlstore_tokens_query, NULL},
    {NULL, NULL, NULL},
};

/* ------------------------------------------------------------ lifecycle */

/* "('STOPPED','EXITED',...)" from the list in <bosun/store.h>. */
static char *sqlstore_terminal_sql(void)
{
    static const char *const states[] = {BOSUN_RUN_TERMINAL_STATES};
    char *sql = sqlite3_mprintf("(");
    for (size_t i = 0; sql && i < sizeof states / sizeof states[0]; i++) {
        char *next = sqlite3_mprintf("%s%s%Q", sql, i ? "," : "", states[i]);
        sqlite3_free(sql);
        sql = next;
    }
    char *done = sql ? sqlite3_mprintf("%s)", sql) : NULL;
    sqlite3_free(sql);
    return done;
}

int sqlstore_query_start(sqlstore *s, cfg_diag *d)
{
    s->terminal_sql = sqlstore_terminal_sql();
    if (!s->terminal_sql) {
        cfg_error(d, NULL, "sqlite: out of memory");
        return -1;
    }
    return 0;
}

void sqlstore_query_stop(sqlstore *s)
{
    /* Stopping may wait: the parked requests get their answers first. */
    sqlstore_writer_wait(s);
    sqlstore_parked_run(s, true);
    sqlite3_free(s->terminal_sql);
    s->terminal_sql = NULL;
}
