/* sqlite store — persisting events with group commit.
 *
 * Every "evt.>" message is appended to an in-memory batch.  An ev_prepare
 * watcher, which libev runs each loop iteration just before it would block,
 * hands the whole batch to the writer thread (sqlite_writer.c), which writes
 * it in one transaction: a burst of events costs one commit.  With a
 * commit_delay, a batch younger than that waits for more events (a timer
 * wakes the loop for it).  One batch is in flight at a time; a batch that
 * reaches batch_max goes to the writer at once if it is free.
 *
 * Bounds.  The events not yet committed are held in memory, so the store
 * marks its subscription congested (bus_set_congested: the supervisor stops
 * reading agents' output, which then blocks in its pipe) once 4 x batch_max
 * of them wait, or half of retain_max_bytes is held, or commits fail; it
 * clears the mark once fewer than 2 x batch_max wait and less than a
 * quarter of retain_max_bytes is held.  Events that keep coming meanwhile
 * (from sources that cannot pause) are kept up to retain_max_bytes.  Past
 * that, while commits succeed, the loop waits for the commit in flight (the
 * last resort); while they fail, new events are dropped, counted, logged at
 * most once a second, and told in one "evt.store.dropped" event once there
 * is room again.
 *
 * Only after COMMIT is each event re-published on "stored.<subject>" with
 * its seq, so a subscriber to the stored feed only ever sees durable events.
 * Queries read only what is committed, after committing what is pending
 * (sqlstore_answer): that is what makes the replay-then-follow switch of
 * store.h exact.
 *
 * A failed commit (disk full, I/O error, a lock held too long) rolls back,
 * keeps the batch and retries; the error is logged at most once a second. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sqlite_store.h"

/* While failing, wait this long between attempts: rewriting a growing batch
 * on every loop turn would burn the CPU and stall the loop for nothing. */
#define SQLSTORE_RETRY_INTERVAL     0.25
#define SQLSTORE_ERROR_LOG_INTERVAL 1.0
#define SQLSTORE_DROPPED_SUBJECT    "evt.store.dropped"
/* Nesting past this is charged a flat amount (json_t trees are rarely deep;
 * the bound keeps the estimate's recursion small). */
#define SQLSTORE_COST_DEPTH 32

static void sqlstore_tell_drops(sqlstore *s, bool force);
static void sqlstore_commit_if_due(sqlstore *s);

/* ------------------------------------------------------------ statements */

/* A machine's event already stored (same machine and mseq: a resend after a
 * reconnect) is skipped, not an error; local events have no mseq. */
static const char sqlstore_insert_event_sql[] =
    "INSERT INTO events(time, subject, machine, task, run, data, mseq)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING";

/* The run fields in the order of parameters ?2.. of sqlstore_upsert_run_sql
 * (?1 is the id, ?18 the whole object, ?19 the local machine id). */
static const char *const sqlstore_run_fields[] = {
    "agent",     "instance",  "task",         "machine",    "state",      "pid",
    "pid_start", "exit_code", "exit_signal",  "created_at", "started_at", "ended_at",
    "restarts",  "reason",    "resumed_from", "updated_at", NULL,
};

/* An upsert rather than INSERT OR REPLACE: REPLACE deletes the row and gives
 * it a new rowid, which the runs query uses to order runs created in the same
 * second.  On a hub, ids are only unique per machine: a row is only updated
 * by events of its own machine (NULL: a row from before schema 4, local). */
static const char sqlstore_upsert_run_sql[] =
    "INSERT INTO runs(id, agent, instance, task, machine, state, pid, pid_start, exit_code,"
    " exit_signal, created_at, started_at, ended_at, restarts, reason, resumed_from,"
    " updated_at, data)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
    " ON CONFLICT(id) DO UPDATE SET agent = excluded.agent, instance = excluded.instance,"
    " task = excluded.task, machine = excluded.machine, state = excluded.state,"
    " pid = excluded.pid, pid_start = excluded.pid_start, exit_code = excluded.exit_code,"
    " exit_signal = excluded.exit_signal, created_at = excluded.created_at,"
    " started_at = excluded.started_at, ended_at = excluded.ended_at,"
    " restarts = excluded.restarts, reason = excluded.reason,"
    " resumed_from = excluded.resumed_from, updated_at = excluded.updated_at,"
    " data = excluded.data WHERE IFNULL(runs.machine, ?19) = IFNULL(excluded.machine, ?19)";

static const char sqlstore_upsert_agent_sql[] =
    "INSERT INTO agents(name, type, config, updated_at, removed) VALUES (?1, ?2, ?3, ?4, 0)"
    " ON CONFLICT(name) DO UPDATE SET type = excluded.type, config = excluded.config,"
    " updated_at = excluded.updated_at, removed = 0";

static const char sqlstore_remove_agent_sql[] =
    "INSERT INTO agents(name, updated_at, removed) VALUES (?1, ?2, 1)"
    " ON CONFLICT(name) DO UPDATE SET updated_at = excluded.updated_at, removed = 1";

/* Task fields missing from an update keep their values: each value ?N comes
 * with a flag ?N+1 saying whether the event carried it. */
static const char *const sqlstore_task_fields[] = {"title", "prompt", "status",
                                                   "agent", "owner",  NULL};

/* ?13 the event's machine, ?14 the local one. */
static const char sqlstore_upsert_task_sql[] =
    "INSERT INTO tasks(id, title, prompt, status, agent, owner, created_at, updated_at, machine)"
    " VALUES (?1, ?2, ?4, ?6, ?8, ?10, ?12, ?12, ?13)"
    " ON CONFLICT(id) DO UPDATE SET"
    " title = CASE WHEN ?3 THEN excluded.title ELSE title END,"
    " prompt = CASE WHEN ?5 THEN excluded.prompt ELSE prompt END,"
    " status = CASE WHEN ?7 THEN excluded.status ELSE status END,"
    " agent = CASE WHEN ?9 THEN excluded.agent ELSE agent END,"
    " owner = CASE WHEN ?11 THEN excluded.owner ELSE owner END,"
    " updated_at = excluded.updated_at WHERE IFNULL(tasks.machine, ?14) = excluded.machine";

/* Every event that names a task moves the task's updated_at (never back). */
static const char sqlstore_touch_task_sql[] =
    "UPDATE tasks SET updated_at = ?2 WHERE id = ?1 AND IFNULL(machine, ?4) = ?3"
    " AND (updated_at IS NULL OR updated_at < ?2)";

/* The agent's own report; the run object itself stays as the core sent it. */
static const char sqlstore_run_status_sql[] =
    "UPDATE runs SET status = ?2, status_message = ?3 WHERE id = ?1 AND IFNULL(machine, ?5) = ?4";

/* A request seen again (a replay) updates what it asks, not its answer. */
static const char sqlstore_request_input_sql[] =
    "INSERT INTO inputs(id, run, task, agent, question, choices, blocking, status, created_at,"
    " machine) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9)"
    " ON CONFLICT(id) DO UPDATE SET run = excluded.run, task = excluded.task,"
    " agent = excluded.agent, question = excluded.question, choices = excluded.choices,"
    " blocking = excluded.blocking WHERE IFNULL(inputs.machine, ?10) = excluded.machine";

static const char sqlstore_answer_input_sql[] =
    "UPDATE inputs SET status = 'answered', answer = ?2, choice = ?3, answered_by = ?4,"
    " answered_at = ?5 WHERE id = ?1 AND IFNULL(machine, ?7) = ?6";

static const char sqlstore_cancel_input_sql[] = "UPDATE inputs SET status = 'cancelled', reason = "
                                                "?2 WHERE id = ?1 AND IFNULL(machine, ?4) = ?3";

/* One row per task and url: linking again keeps the first linked_at. */
static const char sqlstore_link_pr_sql[] =
    "INSERT INTO prs(task, url, run, owner, repo, number, linked_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    " ON CONFLICT(task, url) DO UPDATE SET run = excluded.run, owner = excluded.owner,"
    " repo = excluded.repo, number = excluded.number";

static const char sqlstore_issue_token_sql[] =
    "INSERT INTO tokens(hash, run, task, agent, machine, created_at, expires_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    " ON CONFLICT(hash) DO UPDATE SET run = excluded.run, task = excluded.task,"
    " agent = excluded.agent, machine = excluded.machine, created_at = excluded.created_at,"
    " expires_at = excluded.expires_at";

static int sqlstore_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
}

int sqlstore_prepare_writer(sqlstore *s)
{
    sqlstore_writer *w = &s->w;
    int rc = sqlstore_prepare(s->wdb, sqlstore_insert_event_sql, &w->insert_event);
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare(s->wdb, sqlstore_upsert_run_sql, &w->upsert_run);
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare(s->wdb, sqlstore_upsert_agent_sql, &w->upsert_agent);
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare(s->wdb, sqlstore_remove_agent_sql, &w->remove_agent);
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare(s->wdb, sqlstore_upsert_task_sql, &w->upsert_task);
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare(s->wdb, sqlstore_touch_task_sql, &w->touch_task);
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare(s->wdb, sqlstore_run_status_sql, &w->run_status);
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare(s->wdb, sqlstore_request_input_sql, &w->request_input);
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare(s->wdb, sqlstore_answer_input_sql, &w->answer_input);
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare(s->wdb, sqlstore_cancel_input_sql, &w->cancel_input);
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare(s->wdb, sqlstore_link_pr_sql, &w->link_pr);
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare(s->wdb, sqlstore_issue_token_sql, &w->issue_token);
    if (rc == SQLITE_OK)
        rc = sqlstore_cost_prepare(s->wdb, &w->cost);
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare(s->wdb, sqlstore_decide_approval_sql, &w->decide_approval);
    return rc;
}

void sqlstore_finalize_writer(sqlstore *s)
{
    sqlstore_writer *w = &s->w;
    sqlite3_finalize(w->insert_event);
    sqlite3_finalize(w->upsert_run);
    sqlite3_finalize(w->upsert_agent);
    sqlite3_finalize(w->remove_agent);
    sqlite3_finalize(w->upsert_task);
    sqlite3_finalize(w->touch_task);
    sqlite3_finalize(w->run_status);
    sqlite3_finalize(w->request_input);
    sqlite3_finalize(w->answer_input);
    sqlite3_finalize(w->cancel_input);
    sqlite3_finalize(w->link_pr);
    sqlite3_finalize(w->issue_token);
    sqlstore_cost_finalize(&w->cost);
    sqlite3_finalize(w->decide_approval);
    memset(w, 0, sizeof *w);
}

/* Runs a fully bound statement once and makes it ready for the next use.
 * The bindings are cleared because strings are bound without a copy. */
static int sqlstore_run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Runs st if binding went well (rc), else only drops what was bound. */
static int sqlstore_finish(sqlite3_stmt *st, int rc)
{
    if (rc == SQLITE_OK)
        return sqlstore_run(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* ------------------------------------------------------------ binding */

/* The string member key of data, or NULL. */
static const char *sqlstore_str(const json_t *data, const char *key)
{
    return json_string_value(json_object_get(data, key));
}

const char *sqlstore_token(const char *subject, int idx, char *buf, size_t size)
{
    const char *p = subject;
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, '.');
        if (p)
            p++;
    }
    size_t n = p ? strcspn(p, ".") : 0;
    if (n >= size)
        n = size - 1;
    memcpy(buf, p ? p : "", n);
    buf[n] = '\0';
    return buf;
}

static int sqlstore_bind_text(sqlite3_stmt *st, int i, const char *text)
{
    return text ? sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* Objects and arrays are kept as JSON text; scalars as SQLite values. */
static int sqlstore_bind_json(sqlite3_stmt *st, int i, const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        return sqlite3_bind_text(st, i, json_string_value(v), (int)json_string_length(v),
                                 SQLITE_STATIC);
    case JSON_INTEGER:
        return sqlite3_bind_int64(st, i, json_integer_value(v));
    case JSON_REAL:
        return sqlite3_bind_double(st, i, json_real_value(v));
    case JSON_TRUE:
        return sqlite3_bind_int(st, i, 1);
    case JSON_FALSE:
        return sqlite3_bind_int(st, i, 0);
    case JSON_OBJECT:
    case JSON_ARRAY: {
        size_t len;
        char *text = bosun_json_dump(v, 0, &len);
        return text ? sqlite3_bind_text64(st, i, text, len, free, SQLITE_UTF8) : SQLITE_NOMEM;
    }
    default:
        return sqlite3_bind_null(st, i);
    }
}

/* Any value as JSON text (a string becomes "\"...\""), for JSON columns. */
static int sqlstore_bind_json_text(sqlite3_stmt *st, int i, const json_t *v)
{
    if (!v)
        return sqlite3_bind_null(st, i);
    size_t len;
    char *text = bosun_json_dump(v, 0, &len);
    return text ? sqlite3_bind_text64(st, i, text, len, free, SQLITE_UTF8) : SQLITE_NOMEM;
}

/* ------------------------------------------------------------ projections */

/* Whose event it is: data.machine (a machine's event on a hub always has
 * it, set by sqlite_remote.c), else this machine's. */
static const char *sqlstore_event_machine(const sqlstore *s, const sqlstore_event *e)
{
    return e->machine ? e->machine : s->ctx->machine_id;
}

/* Binds the event's machine to i and the local machine id to i + 1: the
 * pair each projection compares a row's machine with. */
static int sqlstore_bind_machines(sqlstore *s, sqlite3_stmt *st, int rc, int i,
                                  const sqlstore_event *e)
{
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_text(st, i, sqlstore_event_machine(s, e));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_text(st, i + 1, s->ctx->machine_id);
    return rc;
}

/* An upsert that changed nothing met a row of another machine with the same
 * id (ids are unique per machine only): that row is kept, and it is said. */
static int sqlstore_upserted(sqlstore *s, const sqlstore_event *e, const char *what, int rc)
{
    if (rc == SQLITE_OK && sqlite3_changes(s->wdb) == 0)
        log_warning("sqlite: %s of event %s (machine %s) has the id of another machine's; "
                    "not projected",
                    what, e->subject, sqlstore_event_machine(s, e));
    return rc;
}

/* data.<key> if it is a string, else token idx of the subject. */
static const char *sqlstore_id(const sqlstore_event *e, const char *key, int idx, char *buf,
                               size_t size)
{
    const char *id = sqlstore_str(e->data, key);
    return id ? id : sqlstore_token(e->subject, idx, buf, size);
}

static int sqlstore_project_run(sqlstore *s, const sqlstore_event *e)
{
    sqlite3_stmt *st = s->w.upsert_run;
    char agent[BUS_SUBJECT_MAX], run[BUS_SUBJECT_MAX];
    int rc = sqlstore_bind_text(st, 1, sqlstore_id(e, "run", 3, run, sizeof run));
    for (int i = 0; rc == SQLITE_OK && sqlstore_run_fields[i]; i++)
        rc = sqlstore_bind_json(st, i + 2, json_object_get(e->data, sqlstore_run_fields[i]));
    if (rc == SQLITE_OK && !sqlstore_str(e->data, "agent"))
        rc = sqlstore_bind_text(st, 2, sqlstore_token(e->subject, 2, agent, sizeof agent));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_json_text(st, 18, e->data);
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_text(st, 19, s->ctx->machine_id);
    return sqlstore_upserted(s, e, "the run", sqlstore_finish(st, rc));
}

static int sqlstore_project_agent(sqlstore *s, const sqlstore_event *e, bool removed)
{
    sqlite3_stmt *st = removed ? s->w.remove_agent : s->w.upsert_agent;
    char buf[BUS_SUBJECT_MAX];
    int rc = sqlstore_bind_text(st, 1, sqlstore_id(e, "agent", 2, buf, sizeof buf));
    if (removed) {
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_double(st, 2, e->time);
    } else {
        if (rc == SQLITE_OK)
            rc = sqlstore_bind_json(st, 2, json_object_get(e->data, "type"));
        if (rc == SQLITE_OK)
            rc = sqlstore_bind_json_text(st, 3, json_object_get(e->data, "config"));
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_double(st, 4, e->time);
    }
    return sqlstore_finish(st, rc);
}

static int sqlstore_project_agent_configured(sqlstore *s, const sqlstore_event *e)
{
    return sqlstore_project_agent(s, e, false);
}

static int sqlstore_project_agent_removed(sqlstore *s, const sqlstore_event *e)
{
    return sqlstore_project_agent(s, e, true);
}

static int sqlstore_project_task(sqlstore *s, const sqlstore_event *e)
{
    sqlite3_stmt *st = s->w.upsert_task;
    char buf[BUS_SUBJECT_MAX];
    int rc = sqlstore_bind_text(st, 1, sqlstore_id(e, "task", 2, buf, sizeof buf));
    for (int i = 0; rc == SQLITE_OK && sqlstore_task_fields[i]; i++) {
        json_t *v = json_object_get(e->data, sqlstore_task_fields[i]);
        rc = sqlstore_bind_json(st, 2 + 2 * i, v);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int(st, 3 + 2 * i, v != NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 12, e->time);
    rc = sqlstore_bind_machines(s, st, rc, 13, e);
    return sqlstore_upserted(s, e, "the task", sqlstore_finish(st, rc));
}

/* Binds data.<keys[i]> to parameter first + i, for each key. */
static int sqlstore_bind_fields(sqlite3_stmt *st, int first, const json_t *data,
                                const char *const *keys)
{
    int rc = SQLITE_OK;
    for (int i = 0; rc == SQLITE_OK && keys[i]; i++)
        rc = sqlstore_bind_json(st, first + i, json_object_get(data, keys[i]));
    return rc;
}

/* evt.run.<agent>.<run>.status {"state","message"} */
static int sqlstore_project_run_status(sqlstore *s, const sqlstore_event *e)
{
    static const char *const fields[] = {"state", "message", NULL};
    sqlite3_stmt *st = s->w.run_status;
    char buf[BUS_SUBJECT_MAX];
    int rc = sqlstore_bind_text(st, 1, sqlstore_id(e, "run", 3, buf, sizeof buf));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_fields(st, 2, e->data, fields);
    rc = sqlstore_bind_machines(s, st, rc, 4, e);
    return sqlstore_finish(st, rc);
}

/* Choices are kept as JSON text when they are a list, else as NULL. */
static int sqlstore_bind_choices(sqlite3_stmt *st, int i, const json_t *choices)
{
    return json_is_array(choices) ? sqlstore_bind_json(st, i, choices) : sqlite3_bind_null(st, i);
}

/* evt.input.<id>.requested {"input","run","task","agent","question",
 * "choices","blocking"} */
static int sqlstore_project_input_requested(sqlstore *s, const sqlstore_event *e)
{
    static const char *const fields[] = {"run", "task", "agent", "question", NULL};
    sqlite3_stmt *st = s->w.request_input;
    char buf[BUS_SUBJECT_MAX];
    const json_t *blocking = json_object_get(e->data, "blocking");
    int rc = sqlstore_bind_text(st, 1, sqlstore_id(e, "input", 2, buf, sizeof buf));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_fields(st, 2, e->data, fields);
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_choices(st, 6, json_object_get(e->data, "choices"));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 7, json_is_true(blocking));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 8, e->time);
    rc = sqlstore_bind_machines(s, st, rc, 9, e);
    return sqlstore_upserted(s, e, "the input", sqlstore_finish(st, rc));
}

/* evt.input.<id>.answered {"input","answer","choice","answered_by"} */
static int sqlstore_project_input_answered(sqlstore *s, const sqlstore_event *e)
{
    static const char *const fields[] = {"answer", "choice", "answered_by", NULL};
    sqlite3_stmt *st = s->w.answer_input;
    char buf[BUS_SUBJECT_MAX];
    int rc = sqlstore_bind_text(st, 1, sqlstore_id(e, "input", 2, buf, sizeof buf));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_fields(st, 2, e->data, fields);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 5, e->time);
    rc = sqlstore_bind_machines(s, st, rc, 6, e);
    return sqlstore_finish(st, rc);
}

/* evt.input.<id>.cancelled {"input","reason"} */
static int sqlstore_project_input_cancelled(sqlstore *s, const sqlstore_event *e)
{
    sqlite3_stmt *st = s->w.cancel_input;
    char buf[BUS_SUBJECT_MAX];
    int rc = sqlstore_bind_text(st, 1, sqlstore_id(e, "input", 2, buf, sizeof buf));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_json(st, 2, json_object_get(e->data, "reason"));
    rc = sqlstore_bind_machines(s, st, rc, 3, e);
    return sqlstore_finish(st, rc);
}

/* evt.pr.<task>.linked {"task","run","url","owner","repo","number"} */
static int sqlstore_project_pr(sqlstore *s, const sqlstore_event *e)
{
    static const char *const fields[] = {"url", "run", "owner", "repo", "number", NULL};
    sqlite3_stmt *st = s->w.link_pr;
    char buf[BUS_SUBJECT_MAX];
    int rc = sqlstore_bind_text(st, 1, sqlstore_id(e, "task", 2, buf, sizeof buf));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_fields(st, 2, e->data, fields);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 7, e->time);
    return sqlstore_finish(st, rc);
}

/* evt.run.<agent>.<run>.token_issued {"run","task","agent","machine","hash",
 * "expires_at"}: the hash only, the token itself is never on the bus. */
static int sqlstore_project_token(sqlstore *s, const sqlstore_event *e)
{
    sqlite3_stmt *st = s->w.issue_token;
    char run[BUS_SUBJECT_MAX], agent[BUS_SUBJECT_MAX];
    const char *machine = sqlstore_str(e->data, "machine");
    int rc = sqlstore_bind_json(st, 1, json_object_get(e->data, "hash"));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_text(st, 2, sqlstore_id(e, "run", 3, run, sizeof run));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_json(st, 3, json_object_get(e->data, "task"));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_text(st, 4, sqlstore_id(e, "agent", 2, agent, sizeof agent));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_text(st, 5, machine ? machine : s->ctx->machine_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 6, e->time);
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_json(st, 7, json_object_get(e->data, "expires_at"));
    return sqlstore_finish(st, rc);
}

/* evt.approval.<id>.decided {"id","agent","task","run","tool","decision",
 * "decided_by","always","sticky_rule"}: the rule only when "always" made
 * one, so that the sticky rules are the rows that have one. */
static int sqlstore_project_approval(sqlstore *s, const sqlstore_event *e)
{
    static const char *const fields[] = {"agent",    "task",       "run", "tool",
                                         "decision", "decided_by", NULL};
    sqlite3_stmt *st = s->w.decide_approval;
    char buf[BUS_SUBJECT_MAX];
    const json_t *rule = json_object_get(e->data, "sticky_rule");
    int rc = sqlstore_bind_text(st, 1, sqlstore_id(e, "id", 2, buf, sizeof buf));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_fields(st, 2, e->data, fields);
    if (rc == SQLITE_OK)
        rc = json_is_true(json_object_get(e->data, "always")) && json_is_string(rule)
                 ? sqlstore_bind_json(st, 8, rule)
                 : sqlite3_bind_null(st, 8);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 9, e->time);
    return sqlstore_finish(st, rc);
}

/* Any event whose data.task names a task moves that task's updated_at. */
static int sqlstore_touch_task(sqlstore *s, const sqlstore_event *e)
{
    const char *task = e->task;
    if (!task)
        return SQLITE_OK;
    sqlite3_stmt *st = s->w.touch_task;
    int rc = sqlstore_bind_text(st, 1, task);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 2, e->time);
    rc = sqlstore_bind_machines(s, st, rc, 3, e);
    return sqlstore_finish(st, rc);
}

typedef int (*sqlstore_projection)(sqlstore *s, const sqlstore_event *e);

/* Which projection an event subject feeds. */
/* local: only for this machine's own events.  A hub keeps runs, tasks and
 * inputs of its machines, but not their agents (the hub's agent table is
 * its own configuration; a machine's agents come with machine.register),
 * their token hashes (a machine's agent token must never open the hub's
 * MCP endpoint) or their pull requests (linked by the hub's integrations
 * only).  A pattern is written as its head and its last token, which every
 * pattern has literal: comparing last tokens first keeps the bulk of
 * events (output lines) from a full match against each. */
#define SQLSTORE_PROJECTION(head, last, fn, local)                                                 \
    {                                                                                              \
        head "." last, "." last, fn, local                                                         \
    }
static const struct {
    const char *pattern;
    const char *last; /* the pattern's last token with its dot */
    sqlstore_projection fn;
    bool local;
} sqlstore_projections[] = {
    SQLSTORE_PROJECTION("evt.run.*.*", "state", sqlstore_project_run, false),
    SQLSTORE_PROJECTION("evt.run.*.*", "status", sqlstore_project_run_status, false),
    SQLSTORE_PROJECTION("evt.run.*.*", "token_issued", sqlstore_project_token, true),
    SQLSTORE_PROJECTION("evt.agent.*", "configured", sqlstore_project_agent_configured, true),
    SQLSTORE_PROJECTION("evt.agent.*", "removed", sqlstore_project_agent_removed, true),
    SQLSTORE_PROJECTION("evt.task.*", "updated", sqlstore_project_task, false),
    SQLSTORE_PROJECTION("evt.input.*", "requested", sqlstore_project_input_requested, false),
    SQLSTORE_PROJECTION("evt.input.*", "answered", sqlstore_project_input_answered, false),
    SQLSTORE_PROJECTION("evt.input.*", "cancelled", sqlstore_project_input_cancelled, false),
    SQLSTORE_PROJECTION("evt.pr.*", "linked", sqlstore_project_pr, true),
    SQLSTORE_PROJECTION("evt.approval.*", "decided", sqlstore_project_approval, true),
};

/* Errors that come from one odd event rather than from the database: the
 * event is still stored, only its projection is skipped, so one bad event
 * cannot block the store. */
bool sqlstore_event_fault(int rc)
{
    int primary = rc & 0xff;
    return primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH || primary == SQLITE_TOOBIG ||
           primary == SQLITE_RANGE;
}

static int sqlstore_project_one(sqlstore *s, const sqlstore_event *e)
{
    const char *last = strrchr(e->subject, '.');
    if (!last)
        return SQLITE_OK;
    size_t n = sizeof sqlstore_projections / sizeof sqlstore_projections[0];
    for (size_t i = 0; i < n; i++) {
        if (strcmp(sqlstore_projections[i].last, last) == 0 &&
            bus_pattern_matches(sqlstore_projections[i].pattern, e->subject))
            return sqlstore_projections[i].local && e->mseq ? SQLITE_OK
                                                            : sqlstore_projections[i].fn(s, e);
    }
    return SQLITE_OK;
}

/* A fault of the event itself is logged and forgiven; anything else fails
 * the batch. */
static int sqlstore_forgive(const sqlstore_event *e, int rc)
{
    if (rc == SQLITE_OK || !sqlstore_event_fault(rc))
        return rc;
    log_warning("sqlite: event %lld (%s) stored but not projected: %s", (long long)e->seq,
                e->subject, sqlite3_errstr(rc));
    return SQLITE_OK;
}

static int sqlstore_project(sqlstore *s, const sqlstore_event *e)
{
    if (!json_is_object(e->data) || strncmp(e->subject, "evt.", 4) != 0)
        return SQLITE_OK;
    int rc = sqlstore_forgive(e, sqlstore_project_one(s, e));
    if (rc == SQLITE_OK)
        rc = sqlstore_forgive(e, sqlstore_touch_task(s, e));
    if (rc == SQLITE_OK)
        rc =
            sqlstore_forgive(e, sqlstore_cost_project(&s->w.cost, e, sqlstore_event_machine(s, e)));
    return rc;
}

/* ------------------------------------------------------------ writing */

/* Events are the bulk of all writes: their JSON goes into one buffer the
 * store keeps (bindings are cleared after every step, so SQLITE_STATIC is
 * safe) instead of a fresh allocation each. */
static int sqlstore_bind_dump(sqlstore *s, sqlite3_stmt *st, int i, const sqlstore_event *e)
{
    if (e->text && e->text_len <= INT_MAX)
        return sqlite3_bind_text(st, i, e->text, (int)e->text_len, SQLITE_STATIC);
    const json_t *v = e->data;
    s->dump.len = 0;
    if (bosun_json_append(&s->dump, v, 0) != 0 || s->dump.len > INT_MAX)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s->dump.data, (int)s->dump.len, SQLITE_STATIC);
}

static int sqlstore_insert_event(sqlstore *s, sqlstore_event *e)
{
    sqlite3_stmt *st = s->w.insert_event;
    int rc = sqlite3_bind_double(st, 1, e->time);
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_text(st, 2, e->subject);
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_text(st, 3, sqlstore_event_machine(s, e));
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_text(st, 4, e->task);
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_text(st, 5, e->run);
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_dump(s, st, 6, e);
    if (rc == SQLITE_OK && e->mseq)
        rc = sqlite3_bind_int64(st, 7, e->mseq);
    rc = sqlstore_finish(st, rc);
    if (rc == SQLITE_OK)
        e->seq = sqlite3_changes(s->wdb) ? sqlite3_last_insert_rowid(s->wdb) : 0;
    return rc;
}

/* One transaction for the whole batch, on the writer thread's connection.
 * On failure the transaction is rolled back (so seqs handed out in it are
 * handed out again next time: none of them was published) and the SQLite
 * message is kept in s->errmsg. */
int sqlstore_write_batch(sqlstore *s, sqlstore_event *events, size_t n)
{
    if (!sqlite3_get_autocommit(s->wdb))
        sqlstore_exec(s->wdb, "ROLLBACK");
    int rc = sqlstore_exec(s->wdb, "BEGIN IMMEDIATE");
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        rc = sqlstore_insert_event(s, &events[i]);
        if (rc == SQLITE_OK && events[i].seq) /* a duplicate was projected before */
            rc = sqlstore_project(s, &events[i]);
    }
    if (rc == SQLITE_OK)
        rc = sqlstore_exec(s->wdb, "COMMIT");
    if (rc == SQLITE_OK)
        return 0;
    snprintf(s->errmsg, sizeof s->errmsg, "%s", sqlite3_errmsg(s->wdb));
    if (!sqlite3_get_autocommit(s->wdb))
        sqlstore_exec(s->wdb, "ROLLBACK");
    return -1;
}

json_t *sqlstore_stored_form(int64_t seq, double time, const char *subject, const char *machine,
                             const char *run, const char *task, json_t *data)
{
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    json_object_set_new(o, "time", json_real(time));
    json_object_set_new(o, "subject", json_string(subject));
    json_object_set_new(o, "machine", machine ? json_string(machine) : json_null());
    json_object_set_new(o, "run", run ? json_string(run) : json_null());
    json_object_set_new(o, "task", task ? json_string(task) : json_null());
    json_object_set(o, "data", data ? data : json_null());
    return o;
}

void sqlstore_stored_mseq(json_t *form, int64_t mseq)
{
    if (form && mseq > 0)
        json_object_set_new(form, "machine_seq", json_integer((json_int_t)mseq));
}

/* Whether anyone follows stored.<subject>, asked of the bus once per run of
 * events with the same subject (a flood of output lines is one subject):
 * nothing subscribes while the copies of one job are published. */
typedef struct sqlstore_followers {
    const char *subject; /* the last event's subject, NULL at first */
    bool any;
} sqlstore_followers;

static bool sqlstore_followed(sqlstore *s, sqlstore_followers *f, const char *subject)
{
    if (!f->subject || strcmp(f->subject, subject) != 0) {
        char stored[BUS_SUBJECT_MAX + sizeof BOSUN_STORED_PREFIX];
        snprintf(stored, sizeof stored, "%s%s", BOSUN_STORED_PREFIX, subject);
        f->subject = subject;
        f->any = bus_has_subscribers(s->ctx->bus, stored);
    }
    return f->any;
}

static void sqlstore_publish_stored(sqlstore *s, sqlstore_followers *f, const sqlstore_event *e)
{
    /* Nobody follows it: the event is committed and a later subscriber
     * replays it, so building the copy would only cost time. */
    if (!sqlstore_followed(s, f, e->subject))
        return;
    char subject[BUS_SUBJECT_MAX + sizeof BOSUN_STORED_PREFIX];
    snprintf(subject, sizeof subject, "%s%s", BOSUN_STORED_PREFIX, e->subject);
    json_t *form = sqlstore_stored_form(e->seq, e->time, e->subject, sqlstore_event_machine(s, e),
                                        e->run, e->task, e->data);
    sqlstore_stored_mseq(form, e->mseq);
    /* Only a subject near the length limit fails here; the event is stored
     * and can be queried, it just has no live copy. */
    if (bus_publish_new(s->ctx->bus, subject, NULL, form) != 0)
        log_warning("sqlite: event %lld stored, but %s cannot be published", (long long)e->seq,
                    subject);
}

static void sqlstore_event_free(sqlstore_event *e)
{
    free(e->subject);
    free(e->text);
    json_decref(e->data);
}

static void sqlstore_events_free(sqlstore_event *events, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sqlstore_event_free(&events[i]);
    free(events);
}

/* A committed job's events are freed and its array kept, emptied, for a
 * coming batch (sqlstore_writer_submit takes it): a busy store would
 * otherwise grow a batch from 64 slots and free it at every commit, and
 * freeing a chunk that large makes malloc consolidate its fast bins. */
static void sqlstore_job_recycle(sqlstore *s, sqlstore_event *done, size_t n, size_t cap)
{
    for (size_t i = 0; i < n; i++)
        sqlstore_event_free(&done[i]);
    if (!done || s->spare) {
        free(done);
        return;
    }
    s->spare = done;
    s->cap_spare = cap;
}

static void sqlstore_commit_done(sqlstore *s)
{
    s->settled += s->n_job;
    s->commits++;
    s->bytes_job = 0;
    if (s->failing)
        log_notice("sqlite: writing to %s works again after %lu failed attempts; %zu events "
                   "stored",
                   s->path, s->failures, s->n_job);
    s->failing = false;
    s->failures = 0;
    ev_timer_stop(s->ctx->loop, &s->retry);
    /* A machine's event stored before has no seq of its own (0). */
    sqlstore_followers f = {0};
    for (size_t i = 0; i < s->n_job; i++) {
        if (!s->job[i].seq)
            continue;
        s->last_seq = s->job[i].seq;
        s->n_events++;
        sqlstore_publish_stored(s, &f, &s->job[i]);
    }
}

static void sqlstore_commit_failed(sqlstore *s)
{
    double now = bosun_monotonic();
    s->failures++;
    if (!s->failing || now - s->last_error_log >= SQLSTORE_ERROR_LOG_INTERVAL) {
        log_error("sqlite: cannot commit %zu events to %s: %s; keeping them and retrying "
                  "(%lu failed attempts)",
                  s->n_job + s->n_batch, s->path, s->errmsg, s->failures);
        s->last_error_log = now;
    }
    if (!s->failing)
        s->failing_since = bosun_now();
    s->failing = true;
    s->retry_after = now + SQLSTORE_RETRY_INTERVAL;
    /* The loop may have nothing else to do: make sure it wakes up to retry. */
    ev_timer_again(s->ctx->loop, &s->retry);
}

/* The failed job goes back in front of what came since, in order. */
static void sqlstore_job_requeue(sqlstore *s)
{
    sqlstore_event *merged = realloc(s->job, (s->n_job + s->n_batch) * sizeof *merged);
    if (!merged) {
        log_error("sqlite: out of memory; %zu events not stored", s->n_job);
        s->drop_count += s->n_job;
        s->drop_total += s->n_job;
        s->drop_bytes += s->bytes_job;
        s->settled += s->n_job;
        s->bytes_job = 0;
        sqlstore_events_free(s->job, s->n_job);
        return;
    }
    if (s->n_batch > 0) /* batch is NULL or an empty spare when empty */
        memcpy(merged + s->n_job, s->batch, s->n_batch * sizeof *merged);
    free(s->batch);
    s->batch = merged;
    s->n_batch += s->n_job;
    s->cap_batch = s->n_batch;
    s->bytes_batch += s->bytes_job;
    s->bytes_job = 0;
}

/* The caller saw !queued under the mutex, which orders job_rc and the
 * writer's work before this. */
static void sqlstore_job_end(sqlstore *s, bool next)
{
    bool ok = s->job_rc == 0;
    sqlstore_event *done = NULL;
    size_t n_done = 0, cap_done = 0;
    if (ok) {
        sqlstore_commit_done(s);
        done = s->job;
        n_done = s->n_job;
        cap_done = s->cap_job;
    } else {
        sqlstore_commit_failed(s);
        sqlstore_job_requeue(s);
    }
    s->job = NULL;
    s->n_job = s->cap_job = 0;
    if (ok)
        sqlstore_tell_drops(s, false);
    sqlstore_pressure_update(s);
    /* The writer is idle now: a parked put may write on the loop's
     * connection.  After a failure every parked request is answered from
     * what is committed, as one arriving while failing is. */
    sqlstore_parked_run(s, !ok);
    /* The next batch leaves before the committed one is freed: freeing
     * thousands of events takes the loop milliseconds, which the writer
     * would otherwise spend idle.  Not for a caller that waited for the
     * writer: it wants the writer idle. */
    if (next)
        sqlstore_commit_if_due(s);
    sqlstore_job_recycle(s, done, n_done, cap_done);
}

void sqlstore_job_finish(sqlstore *s)
{
    sqlstore_job_end(s, false);
}

void sqlstore_job_finish_next(sqlstore *s)
{
    sqlstore_job_end(s, true);
}

int sqlstore_commit(sqlstore *s)
{
    sqlstore_writer_wait(s);
    if (s->n_batch > 0) {
        sqlstore_writer_submit(s);
        sqlstore_writer_wait(s);
    }
    return s->failing ? -1 : 0;
}

/* ------------------------------------------------------------ loop glue */

static void sqlstore_commit_if_due(sqlstore *s)
{
    /* One batch at a time: the next is handed over when this one is done
     * (the writer's ev_async wakes the loop, and this runs again). */
    if (s->n_batch == 0 || sqlstore_writer_busy(s))
        return;
    if (s->failing && bosun_monotonic() < s->retry_after)
        return;
    /* With a commit_delay, a batch younger than it waits for more events
     * (the delay timer wakes the loop for it): a trickle of events, such as
     * one MCP call after another, then costs one commit per delay instead
     * of one per event. */
    if (s->commit_delay > 0 && !s->failing && !s->urgent) {
        double age = bosun_monotonic() - s->batch_since;
        if (age < s->commit_delay) {
            if (!ev_is_active(&s->delay)) {
                ev_timer_set(&s->delay, s->commit_delay - age, 0);
                ev_timer_start(s->ctx->loop, &s->delay);
            }
            return;
        }
    }
    sqlstore_writer_submit(s);
}

static void sqlstore_on_delay(struct ev_loop *loop, ev_timer *w, int revents)
{
    sqlstore_commit_if_due(w->data);
}

static void sqlstore_on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    sqlstore_commit_if_due(w->data);
}

static void sqlstore_on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    sqlstore_commit_if_due(w->data);
}

static int sqlstore_batch_push(sqlstore *s, const char *subject_in, double time, json_t *data,
                               size_t cost, int64_t mseq)
{
    if (s->n_batch == s->cap_batch) {
        size_t cap = s->cap_batch ? 2 * s->cap_batch : 64;
        sqlstore_event *b = realloc(s->batch, cap * sizeof *b);
        if (!b)
            return -1;
        s->batch = b;
        s->cap_batch = cap;
    }
    char *subject = strdup(subject_in);
    if (!subject)
        return -1;
    if (s->n_batch == 0)
        s->batch_since = bosun_monotonic();
    /* A local event is dumped here, not on the writer thread: with one
     * agent printing a million lines that thread spent about a third of
     * its time in the dump and its mallocs, and it is what sets the pace
     * (issue 18).  A machine's event (mseq) is left to the writer: on a hub
     * the loop thread, reading 1,000 links, is the one that sets it
     * (bench_fleet.sh: loop CPU 7.6-8.5 ms per 1,000 events dumped here,
     * 6.8-7.6 ms left to the writer). */
    size_t text_len = 0;
    char *text = data && !mseq ? bosun_json_dump(data, 0, &text_len) : NULL;
    cost += text_len;
    s->batch[s->n_batch++] = (sqlstore_event){.subject = subject,
                                              .text = text,
                                              .text_len = text_len,
                                              .time = time,
                                              .data = json_incref(data),
                                              .mseq = mseq,
                                              .cost = cost,
                                              .run = sqlstore_str(data, "run"),
                                              .task = sqlstore_str(data, "task"),
                                              .machine = sqlstore_str(data, "machine")};
    s->bytes_batch += cost;
    s->received++;
    return 0;
}

/* ------------------------------------------------------------ bounds */

/* What a JSON value holds in memory, roughly (jansson's nodes, hash
 * tables and strings, with malloc's overhead): cheap to compute, close
 * enough to bound the daemon's size by. */
static size_t sqlstore_json_cost(const json_t *v, int depth)
{
    if (depth > SQLSTORE_COST_DEPTH)
        return 64;
    size_t cost = 48;
    if (json_is_string(v)) {
        cost += json_string_length(v);
    } else if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) cost += 8 + sqlstore_json_cost(x, depth + 1);
    } else if (json_is_object(v)) {
        const char *k;
        const json_t *x;
        cost += 64;
        json_object_foreach((json_t *)v, k, x) cost +=
            48 + strlen(k) + sqlstore_json_cost(x, depth + 1);
    }
    return cost;
}

static size_t sqlstore_event_cost(const char *subject, const json_t *data)
{
    return sizeof(sqlstore_event) + 32 + strlen(subject) + sqlstore_json_cost(data, 0);
}

static size_t sqlstore_retained_bytes(const sqlstore *s)
{
    return s->bytes_batch + s->bytes_job;
}

void sqlstore_pressure_update(sqlstore *s)
{
    /* While failing the job is the batch put back: count it. */
    long long waiting = (long long)(s->n_batch + (s->failing ? s->n_job : 0));
    unsigned long long held = sqlstore_retained_bytes(s);
    bool on;
    if (s->congested)
        on = s->failing || waiting >= 2 * s->batch_max || held >= s->retain_max / 4;
    else
        on = s->failing || waiting >= 4 * s->batch_max || held >= s->retain_max / 2;
    if (on == s->congested)
        return;
    s->congested = on;
    bus_set_congested(s->ctx->bus, s->events_sub, on);
    log_debug("sqlite: %s: %s (%lld events, %llu bytes waiting%s)", s->path,
              on ? "congested, asking producers to pause" : "no longer congested", waiting, held,
              s->failing ? ", commits failing" : "");
}

static void sqlstore_drop(sqlstore *s, const bus_msg *msg, size_t cost)
{
    double now = bosun_now();
    if (s->drop_count == 0)
        s->drop_first = now;
    s->drop_last = now;
    s->drop_count++;
    s->drop_total++;
    s->drop_unlogged++;
    s->drop_bytes += cost;
    double mono = bosun_monotonic();
    if (s->drop_count == 1 || mono - s->drop_log >= SQLSTORE_ERROR_LOG_INTERVAL) {
        log_error("sqlite: dropping events: %zu bytes held, retain_max_bytes %llu reached while "
                  "writing to %s fails (%s); %llu dropped (%llu since the last such line), "
                  "the latest %s",
                  sqlstore_retained_bytes(s), s->retain_max, s->path, s->errmsg, s->drop_count,
                  s->drop_unlogged, msg->subject);
        s->drop_log = mono;
        s->drop_unlogged = 0;
    }
}

static json_t *sqlstore_drop_notice(sqlstore *s)
{
    return json_pack("{s:s,s:I,s:I,s:I,s:f,s:f,s:s,s:I}", "machine", s->ctx->machine_id, "count",
                     (json_int_t)s->drop_count, "bytes", (json_int_t)s->drop_bytes, "total",
                     (json_int_t)s->drop_total, "first", s->drop_first, "last", s->drop_last,
                     "reason", s->errmsg, "retain_max_bytes", (json_int_t)s->retain_max);
}

/* Drops are told once there is room again: in an event of their own,
 * which takes its place in the stored sequence where the gap is. */
static void sqlstore_tell_drops(sqlstore *s, bool force)
{
    if (s->drop_count == 0 || (!force && sqlstore_retained_bytes(s) >= s->retain_max))
        return;
    json_t *d = sqlstore_drop_notice(s);
    if (!d)
        return;
    log_warning("sqlite: %llu events (%llu bytes) were dropped between %.3f and %.3f while "
                "writing to %s failed; told in %s",
                s->drop_count, s->drop_bytes, s->drop_first, s->drop_last, s->path,
                SQLSTORE_DROPPED_SUBJECT);
    double now = bosun_now();
    if (sqlstore_batch_push(s, SQLSTORE_DROPPED_SUBJECT, now, d,
                            sqlstore_event_cost(SQLSTORE_DROPPED_SUBJECT, d), 0) == 0) {
        s->drop_count = s->drop_bytes = s->drop_unlogged = 0;
    }
    json_decref(d);
}

/* Whether the event may be kept: below retain_max_bytes, or once the
 * commit in flight has made room (commits succeeding), else it is dropped
 * (commits failing).  One event alone is always kept. */
static bool sqlstore_admit(sqlstore *s, const bus_msg *msg, size_t cost)
{
    size_t held = sqlstore_retained_bytes(s);
    if (held == 0 || held + cost <= s->retain_max)
        return true;
    if (!s->failing) {
        /* The last resort: output is paused long before this, so only a
         * flood from sources that cannot pause gets here. */
        sqlstore_commit(s);
        held = sqlstore_retained_bytes(s);
        if (held == 0 || held + cost <= s->retain_max)
            return true;
    }
    sqlstore_drop(s, msg, cost);
    return false;
}

static void sqlstore_on_event(bus_t *bus, const bus_msg *msg, void *arg)
{
    sqlstore *s = arg;
    size_t cost = sqlstore_event_cost(msg->subject, msg->data);
    if (!sqlstore_admit(s, msg, cost))
        return;
    sqlstore_tell_drops(s, false);
    if (sqlstore_batch_push(s, msg->subject, msg->time, msg->data, cost, 0) != 0) {
        log_error("sqlite: out of memory, event %s not stored", msg->subject);
        return;
    }
    sqlstore_pressure_update(s);
    /* While failing, only the retry schedule writes: retrying the whole
     * batch for every new event would make matters worse.  A full batch
     * goes to the writer at once if it is free; if it is not, output
     * pauses as the batch grows (sqlstore_pressure_update). */
    if ((long long)s->n_batch < s->batch_max || s->failing)
        return;
    if (!sqlstore_writer_busy(s))
        sqlstore_writer_submit(s);
}

int sqlstore_batch_add(sqlstore *s, const char *subject, double time, json_t *data, int64_t mseq)
{
    if (sqlstore_batch_push(s, subject, time, data, sqlstore_event_cost(subject, data), mseq) != 0)
        return -1;
    sqlstore_pressure_update(s);
    return 0;
}

/* ------------------------------------------------------------ lifecycle */

void sqlstore_events_init(sqlstore *s)
{
    ev_prepare_init(&s->prepare, sqlstore_on_prepare);
    s->prepare.data = s;
    ev_init(&s->delay, sqlstore_on_delay);
    s->delay.data = s;
    ev_init(&s->retry, sqlstore_on_retry);
    s->retry.repeat = SQLSTORE_RETRY_INTERVAL;
    s->retry.data = s;
}

int sqlstore_events_start(sqlstore *s, cfg_diag *d)
{
    char err[512];
    if (sqlstore_writer_start(s, err, sizeof err) != 0) {
        cfg_error(d, NULL, "sqlite: %s", err);
        return -1;
    }
    s->events_sub = bus_subscribe(s->ctx->bus, "evt.>", sqlstore_on_event, s);
    if (!s->events_sub) {
        cfg_error(d, NULL, "sqlite: cannot subscribe to evt.>");
        return -1;
    }
    ev_prepare_start(s->ctx->loop, &s->prepare);
    return 0;
}

void sqlstore_events_stop(sqlstore *s)
{
    if (s->events_sub)
        bus_unsubscribe(s->ctx->bus, s->events_sub);
    s->events_sub = NULL;
    ev_prepare_stop(s->ctx->loop, &s->prepare);
    ev_timer_stop(s->ctx->loop, &s->delay);
    sqlstore_writer_wait(s);
    /* Told even while failing: the last commit may work. */
    sqlstore_tell_drops(s, true);
    if (s->wdb && (s->n_batch > 0 || sqlstore_writer_busy(s)) && sqlstore_commit(s) != 0) {
        log_error("sqlite: %zu events could not be stored in %s before stopping: %s", s->n_batch,
                  s->path, s->errmsg);
    }
    if (s->drop_total > 0)
        log_warning("sqlite: %llu events were dropped since start (retain_max_bytes %llu)",
                    s->drop_total, s->retain_max);
    sqlstore_events_free(s->batch, s->n_batch);
    s->batch = NULL;
    s->n_batch = s->cap_batch = 0;
    s->bytes_batch = 0;
    free(s->spare);
    s->spare = NULL;
    s->cap_spare = 0;
    ev_timer_stop(s->ctx->loop, &s->retry);
    sqlstore_writer_stop(s);
}
