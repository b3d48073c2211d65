/* sqlite store — answering cmd.store.* requests (see <bosun/store.h>).
 *
 * Queries read only what is committed; the pending batch is invisible to
 * them, and "last_seq" is the highest committed seq.  Together with the
 * stored.* feed, which is published after each commit, this lets a client
 * replay and then follow without a gap or a duplicate.
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
/* Runs and tasks are one row per object, not a log: a caller may ask for all
 * of them at once (the core asks for every active run at start). */
#define SQLSTORE_OBJECTS_LIMIT_MAX 1000000

typedef struct sqlstore_err {
    char msg[300];
} sqlstore_err;

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

static bool sqlstore_bad(sqlstore_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fills e and returns false, so that checks can "return sqlstore_bad(...)". */
static bool sqlstore_bad(sqlstore_err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return false;
}

/* Arguments are an object; null (or nothing) means {}. */
static bool sqlstore_check_args(const json_t *args, const char *const *allowed, sqlstore_err *e)
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
static const json_t *sqlstore_arg(const json_t *args, const char *key)
{
    const json_t *v = json_object_get(args, key);
    return json_is_null(v) ? NULL : v;
}

static bool sqlstore_arg_int(const json_t *args, const char *key, json_int_t min, json_int_t max,
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

static bool sqlstore_arg_str(const json_t *args, const char *key, const char **out, sqlstore_err *e)
{
    const json_t *v = sqlstore_arg(args, key);
    if (!v)
        return true;
    if (!json_is_string(v))
        return sqlstore_bad(e, "'%s' must be a string", key);
    *out = json_string_value(v);
    return true;
}

static bool sqlstore_arg_bool(const json_t *args, const char *key, int *out, sqlstore_err *e)
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

static json_t *sqlstore_error_reply(const char *code, const char *message)
{
    return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
}

static json_t *sqlstore_db_error(sqlstore *s)
{
    char msg[300];
    snprintf(msg, sizeof msg, "%s: %s", s->path, sqlite3_errmsg(s->db));
    log_warning("sqlite: query failed: %s", msg);
    return sqlstore_error_reply("store_error", msg);
}

/* A column as JSON: numbers stay numbers, text stays text. */
static json_t *sqlstore_column_json(sqlite3_stmt *st, int i)
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
static json_t *sqlstore_column_parsed(sqlite3_stmt *st, int i)
{
    const char *text = (const char *)sqlite3_column_text(st, i);
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    return v ? v : json_null();
}

static const char *sqlstore_column_str(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* ------------------------------------------------------------ events */

typedef struct sqlstore_events_args {
    json_int_t since;
    const char *subject;
    const char *run;
    const char *task;
    json_int_t limit;
    json_int_t tail; /* 0: no tail */
} sqlstore_events_args;

static const char *const sqlstore_events_keys[] = {"since", "subject", "run", "task",
                                                   "limit", "tail",    NULL};

static bool sqlstore_events_parse(const json_t *args, sqlstore_events_args *a, sqlstore_err *e)
{
    *a = (sqlstore_events_args){.subject = "evt.>", .limit = SQLSTORE_LIMIT_DEFAULT};
    if (!sqlstore_check_args(args, sqlstore_events_keys, e) ||
        !sqlstore_arg_int(args, "since", 0, INT64_MAX, &a->since, e) ||
        !sqlstore_arg_str(args, "subject", &a->subject, e) ||
        !sqlstore_arg_str(args, "run", &a->run, e) ||
        !sqlstore_arg_str(args, "task", &a->task, e) ||
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

/* Parameters: ?1 since, ?2 subject, ?3 run, ?4 task, ?5 row count. */
static void sqlstore_events_sql(const sqlstore_events_args *a, char *sql, size_t size)
{
    const char *subject = "";
    if (!sqlstore_pattern_is_all(a->subject))
        subject = strpbrk(a->subject, "*>") ? " AND bosun_match(?2, subject)" : " AND subject = ?2";
    snprintf(sql, size,
             "SELECT seq, time, subject, machine, run, task, data FROM events"
             " WHERE seq > ?1%s%s%s ORDER BY seq %s LIMIT ?5",
             subject, a->run ? " AND run = ?3" : "", a->task ? " AND task = ?4" : "",
             a->tail ? "DESC" : "ASC");
}

static json_t *sqlstore_event_row(sqlite3_stmt *st)
{
    json_t *data = sqlstore_column_parsed(st, 6);
    json_t *form = sqlstore_stored_form(
        sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1), sqlstore_column_str(st, 2),
        sqlstore_column_str(st, 3), sqlstore_column_str(st, 4), sqlstore_column_str(st, 5), data);
    json_decref(data);
    return form;
}

/* Fetches up to want rows into rows; *more tells whether another one
 * followed.  Returns SQLITE_OK or the error of the failed step. */
static int sqlstore_fetch_events(sqlite3_stmt *st, json_int_t want, json_t *rows, bool *more)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && (json_int_t)json_array_size(rows) < want)
        json_array_append_new(rows, sqlstore_event_row(st));
    *more = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static json_t *sqlstore_reversed(json_t *rows)
{
    json_t *out = json_array();
    for (size_t i = json_array_size(rows); i-- > 0;)
        json_array_append(out, json_array_get(rows, i));
    json_decref(rows);
    return out;
}

static int sqlstore_events_bind(sqlite3_stmt *st, const sqlstore_events_args *a, json_int_t rows)
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
    return rc;
}

/* One row more than asked tells whether there is more: after the last one
 * returned for "since", before the first one for "tail". */
static json_t *sqlstore_events_run(sqlstore *s, const sqlstore_events_args *a)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    json_int_t want = a->tail ? a->tail : a->limit;
    sqlstore_events_sql(a, sql, sizeof sql);
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlstore_events_bind(st, a, want + 1);
    json_t *rows = json_array();
    bool more = false;
    if (rc == SQLITE_OK)
        rc = sqlstore_fetch_events(st, want, rows, &more);
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        json_decref(rows);
        return sqlstore_db_error(s);
    }
    if (a->tail)
        rows = sqlstore_reversed(rows);
    return json_pack("{s:o,s:I,s:b}", "events", rows, "last_seq", (json_int_t)s->last_seq, "more",
                     more);
}

static json_t *sqlstore_events_query(sqlstore *s, const json_t *args)
{
    sqlstore_events_args a;
    sqlstore_err e;
    if (!sqlstore_events_parse(args, &a, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    return sqlstore_events_run(s, &a);
}

/* ------------------------------------------------------------ runs */

static const char *const sqlstore_runs_keys[] = {"run", "agent", "active", "limit", NULL};

/* Parameters: ?1 run, ?2 agent, ?3 limit. */
static char *sqlstore_runs_sql(const sqlstore *s, const char *run, const char *agent, int active)
{
    const char *state = "";
    if (active == 1)
        state = " AND IFNULL(state, '') NOT IN ";
    else if (active == 0)
        state = " AND state IN ";
    return sqlite3_mprintf("SELECT data FROM runs WHERE 1%s%s%s%s"
                           " ORDER BY COALESCE(created_at, updated_at) DESC, rowid DESC LIMIT ?3",
                           run ? " AND id = ?1" : "", agent ? " AND agent = ?2" : "", state,
                           active >= 0 ? s->terminal_sql : "");
}

static json_t *sqlstore_runs_run(sqlstore *s, const char *run, const char *agent, int active,
                                 json_int_t limit)
{
    char *sql = sqlstore_runs_sql(s, run, agent, active);
    sqlite3_stmt *st = NULL;
    int rc = sql ? sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, agent, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, limit);
    json_t *runs = json_array();
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = sqlstore_column_parsed(st, 0);
        if (json_is_object(o))
            json_array_append_new(runs, o);
        else
            json_decref(o);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(runs);
        return sqlstore_db_error(s);
    }
    return json_pack("{s:o}", "runs", runs);
}

static json_t *sqlstore_runs_query(sqlstore *s, const json_t *args)
{
    const char *run = NULL, *agent = NULL;
    int active = -1; /* -1: any state */
    json_int_t limit = SQLSTORE_LIMIT_DEFAULT;
    sqlstore_err e;
    if (!sqlstore_check_args(args, sqlstore_runs_keys, &e) ||
        !sqlstore_arg_str(args, "run", &run, &e) || !sqlstore_arg_str(args, "agent", &agent, &e) ||
        !sqlstore_arg_bool(args, "active", &active, &e) ||
        !sqlstore_arg_objects_limit(args, &limit, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    return sqlstore_runs_run(s, run, agent, active, limit);
}

/* ------------------------------------------------------------ tasks */

static const char *const sqlstore_tasks_keys[] = {"task", "limit", NULL};

/* Column names, in SELECT order, as the keys of a task object. */
static const char *const sqlstore_task_columns[] = {
    "task", "title", "prompt", "status", "agent", "owner", "created_at", "updated_at", NULL,
};

static json_t *sqlstore_task_row(sqlite3_stmt *st)
{
    json_t *o = json_object();
    for (int i = 0; sqlstore_task_columns[i]; i++)
        json_object_set_new(o, sqlstore_task_columns[i], sqlstore_column_json(st, i));
    return o;
}

static json_t *sqlstore_tasks_run(sqlstore *s, const char *task, json_int_t limit)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                task ? "SELECT id, title, prompt, status, agent, owner, created_at,"
                                       " updated_at FROM tasks WHERE id = ?1 LIMIT ?2"
                                     : "SELECT id, title, prompt, status, agent, owner, created_at,"
                                       " updated_at FROM tasks"
                                       " ORDER BY updated_at DESC, rowid DESC LIMIT ?2",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, task, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, limit);
    json_t *tasks = json_array();
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_array_append_new(tasks, sqlstore_task_row(st));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(tasks);
        return sqlstore_db_error(s);
    }
    return json_pack("{s:o}", "tasks", tasks);
}

static json_t *sqlstore_tasks_query(sqlstore *s, const json_t *args)
{
    const char *task = NULL;
    json_int_t limit = SQLSTORE_LIMIT_DEFAULT;
    sqlstore_err e;
    if (!sqlstore_check_args(args, sqlstore_tasks_keys, &e) ||
        !sqlstore_arg_str(args, "task", &task, &e) || !sqlstore_arg_objects_limit(args, &limit, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    return sqlstore_tasks_run(s, task, limit);
}

/* ------------------------------------------------------------ status */

static const char *const sqlstore_no_keys[] = {NULL};

static json_t *sqlstore_status_query(sqlstore *s, const json_t *args)
{
    sqlstore_err e;
    if (!sqlstore_check_args(args, sqlstore_no_keys, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    return json_pack("{s:s,s:s,s:I,s:I,s:i,s:I,s:s,s:I,s:b}", "backend", "sqlite", "path", s->path,
                     "events", (json_int_t)s->n_events, "last_seq", (json_int_t)s->last_seq,
                     "schema_version", s->schema_version, "pending", (json_int_t)s->n_batch,
                     "synchronous", s->sync_full ? "full" : "normal", "batch_max",
                     (json_int_t)s->batch_max, "failing", s->failing);
}

/* ------------------------------------------------------------ handlers */

typedef json_t *(*sqlstore_query_fn)(sqlstore *s, const json_t *args);

static void sqlstore_answer(bus_t *bus, const bus_msg *msg, sqlstore *s, sqlstore_query_fn fn)
{
    /* A published message nobody waits for would be answered into the void. */
    if (!msg->reply)
        return;
    json_t *reply = fn(s, msg->data);
    if (!reply)
        reply = sqlstore_error_reply("store_error", "out of memory");
    bus_reply(bus, msg, reply);
    json_decref(reply);
}

static void sqlstore_on_events(bus_t *bus, const bus_msg *msg, void *arg)
{
    sqlstore_answer(bus, msg, arg, sqlstore_events_query);
}

static void sqlstore_on_runs(bus_t *bus, const bus_msg *msg, void *arg)
{
    sqlstore_answer(bus, msg, arg, sqlstore_runs_query);
}

static void sqlstore_on_tasks(bus_t *bus, const bus_msg *msg, void *arg)
{
    sqlstore_answer(bus, msg, arg, sqlstore_tasks_query);
}

static void sqlstore_on_status(bus_t *bus, const bus_msg *msg, void *arg)
{
    sqlstore_answer(bus, msg, arg, sqlstore_status_query);
}

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

static bus_sub *sqlstore_sub(sqlstore *s, const char *subject, bus_handler fn, cfg_diag *d)
{
    bus_sub *sub = bus_subscribe(s->ctx->bus, subject, fn, s);
    if (!sub)
        cfg_error(d, NULL, "sqlite: cannot subscribe to %s", subject);
    return sub;
}

int sqlstore_query_start(sqlstore *s, cfg_diag *d)
{
    s->terminal_sql = sqlstore_terminal_sql();
    if (!s->terminal_sql) {
        cfg_error(d, NULL, "sqlite: out of memory");
        return -1;
    }
    s->q_events = sqlstore_sub(s, BOSUN_STORE_EVENTS, sqlstore_on_events, d);
    s->q_runs = sqlstore_sub(s, BOSUN_STORE_RUNS, sqlstore_on_runs, d);
    s->q_tasks = sqlstore_sub(s, BOSUN_STORE_TASKS, sqlstore_on_tasks, d);
    s->q_status = sqlstore_sub(s, BOSUN_STORE_STATUS, sqlstore_on_status, d);
    return s->q_events && s->q_runs && s->q_tasks && s->q_status ? 0 : -1;
}

static void sqlstore_unsub(sqlstore *s, bus_sub **sub)
{
    if (*sub)
        bus_unsubscribe(s->ctx->bus, *sub);
    *sub = NULL;
}

void sqlstore_query_stop(sqlstore *s)
{
    sqlstore_unsub(s, &s->q_events);
    sqlstore_unsub(s, &s->q_runs);
    sqlstore_unsub(s, &s->q_tasks);
    sqlstore_unsub(s, &s->q_status);
    sqlite3_free(s->terminal_sql);
    s->terminal_sql = NULL;
}
