/* sqlite store — state shared by the plugin's files.
 *
 * sqlite.c         configuration and lifecycle
 * sqlite_schema.c  opening the file, pragmas, versioned migrations
 * sqlite_events.c  the evt.> subscription, group commit, projections,
 *                  the stored.* feed
 * sqlite_query.c   cmd.store.* queries, and the argument and reply helpers
 *                  shared with sqlite_artifacts.c
 * sqlite_artifacts.c  cmd.store.artifacts.put and cmd.store.artifacts
 * sqlite_writer.c  the writer thread, which commits batches of events
 * sqlite_remote.c  cmd.store.append_remote: a hub's copy of its machines'
 *                  events
 * sqlite_cost.c    the usage projection (what runs spent), and its rebuild
 * sqlite_cost_query.c  cmd.store.cost
 *
 * Everything runs on the daemon's loop thread except the commit of a batch
 * of events: the writer thread does that on a connection of its own
 * (wdb), so that inserts, the WAL write and checkpoints do not stall the
 * loop.  The loop hands it one batch at a time (job) and takes the result
 * back; between the two only the writer touches the job, wdb, the writer
 * statements, dump and errmsg.  The mutex guards the hand-over. */
#ifndef BOSUN_SQLITE_STORE_H
#define BOSUN_SQLITE_STORE_H

#include <ev.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bosun/bosun.h>
#include <bosun/json.h>
#include <bosun/store.h>

/* An event received from the bus and not yet committed. */
typedef struct sqlstore_event {
    char *subject;
    double time;
    json_t *data; /* our own reference */
    int64_t seq;  /* set while the batch is written; valid after COMMIT;
                   * 0 for a machine's event the store had already */
    int64_t mseq; /* a machine's event (sqlite_remote.c): its seq in the
                   * machine's store, data.machine its id; 0: a local event */
    size_t cost;  /* the memory it holds, as estimated (retain_max_bytes) */
    /* data as stored, dumped on the loop thread when the event is
     * received: the writer thread, which is what bounds how fast events are
     * stored, only binds it (NULL: out of memory, the writer dumps it). */
    char *text;
    size_t text_len;
    /* data's string members run, task and machine (NULL when absent),
     * looked up once when the event is received: the insert, the
     * projections and the stored copy all need them. */
    const char *run, *task, *machine;
} sqlstore_event;

typedef struct sqlstore sqlstore;

/* Carries out a request: a query answered with fn, or an artifact put. */
typedef json_t *(*sqlstore_query_fn)(sqlstore *s, const json_t *args);
typedef void (*sqlstore_run_fn)(sqlstore *s, const bus_msg *msg, sqlstore_query_fn fn);

/* A cmd.store.* subject a module answers, in a table ended by {NULL}:
 * with query through sqlstore_answer (so after the events that came before
 * the request are committed), or, when query is NULL, with a handler of its
 * own, called with the sqlstore as its argument.  sqlite.c subscribes the
 * modules' tables at start and unsubscribes them at stop. */
typedef struct sqlstore_route {
    const char *subject;
    sqlstore_query_fn query;
    bus_handler handler;
} sqlstore_route;

/* A request waiting for the commit of the events that arrived before it
 * (read your writes), answered from the writer's completion. */
typedef struct sqlstore_parked {
    struct sqlstore_parked *next;
    uint64_t need; /* s->settled must reach this */
    sqlstore_run_fn run;
    sqlstore_query_fn fn;
    char *subject, *reply; /* reply may be NULL */
    json_t *data;
    double time;
} sqlstore_parked;

/* The usage projection's statements (sqlite_cost.c). */
typedef struct sqlstore_cost_stmts {
    sqlite3_stmt *live;   /* adds a usage event to the run's live row */
    sqlite3_stmt *unlive; /* drops the run's live row */
    sqlite3_stmt *result; /* adds a result's row */
} sqlstore_cost_stmts;

/* The prepared statements of the write path, made once at start. */
typedef struct sqlstore_writer {
    sqlite3_stmt *insert_event;
    sqlite3_stmt *upsert_run;
    sqlite3_stmt *upsert_agent;
    sqlite3_stmt *remove_agent;
    sqlite3_stmt *upsert_task;
    sqlite3_stmt *touch_task; /* updated_at of the task an event names */
    sqlite3_stmt *run_status;
    sqlite3_stmt *request_input;
    sqlite3_stmt *answer_input;
    sqlite3_stmt *cancel_input;
    sqlite3_stmt *link_pr;
    sqlite3_stmt *issue_token;
    sqlstore_cost_stmts cost;
    sqlite3_stmt *decide_approval;
} sqlstore_writer;

struct sqlstore {
    const bosun_ctx *ctx;
    /* A hub's "highest mseq stored for machine", asked after every batch
     * of forwarded events: prepared once on db (sqlite_remote.c). */
    sqlite3_stmt *acked_mseq;
    bosun_json_buf dump; /* an event's data as JSON text, reused for every insert */

    /* settings */
    char *path;     /* the configured path, resolved against state_dir */
    bool sync_full; /* synchronous = FULL instead of NORMAL */
    long long batch_max;
    unsigned long long artifact_max; /* bytes of one artifact's content */
    unsigned long long cache_bytes;  /* SQLite page cache */

    sqlite3 *db;  /* the loop's: queries, artifacts, schema */
    sqlite3 *wdb; /* the writer thread's: batches of events */
    int schema_version;
    sqlstore_writer w;

    /* pending batch (group commit) */
    sqlstore_event *batch;
    size_t n_batch, cap_batch;

    /* the batch being committed by the writer thread */
    sqlstore_event *job;
    size_t n_job, cap_job;
    /* The last committed job's array, emptied, for the next batch
     * (sqlstore_job_recycle). */
    sqlstore_event *spare;
    size_t cap_spare;
    pthread_t thread; /* running while wdb is open */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool queued;          /* the job waits for or is in the writer's hands */
    bool quit;            /* the writer is to end */
    int job_rc;           /* 0 or -1 (message in errmsg), once !queued */
    ev_async writer_done; /* the writer's word that a job is done */

    /* what has been committed */
    int64_t last_seq;
    int64_t n_events;
    int64_t commits; /* transactions committed since start (cmd.store.status) */

    /* failing commits: keep the batch, retry, do not flood the log */
    bool failing;
    unsigned long failures;
    double last_error_log; /* monotonic seconds */
    double retry_after;    /* monotonic seconds */
    char errmsg[256];

    ev_prepare prepare;
    ev_timer retry;
    ev_timer delay;      /* commit_delay: wakes the loop to commit a young batch */
    double commit_delay; /* seconds a batch may wait for more events (0: end of turn) */
    unsigned long long llm_snapshot_bytes; /* a session's change bytes between snapshots */
    double batch_since;                    /* monotonic time of the batch's first event */
    bus_sub *events_sub;
    struct sqlstore_bound *bound; /* the modules' cmd.store.* subscriptions (sqlite.c) */
    size_t n_bound;
    char *terminal_sql; /* "('STOPPED','EXITED',...)" for the active filter */

    /* bounds (see bosun.yaml(5)): the memory held by events not yet
     * committed, and back-pressure on the bus while it or their number is
     * high or commits fail */
    unsigned long long retain_max; /* bytes */
    size_t bytes_batch, bytes_job; /* estimated memory of batch and job */
    bool congested;                /* the events_sub is marked congested */
    double failing_since;          /* wall clock, for status */

    /* events dropped at retain_max while failing, not yet told in an
     * evt.store.dropped event; and all of them since start */
    unsigned long long drop_count, drop_bytes, drop_total;
    double drop_first, drop_last;     /* wall clock of this episode's drops */
    double drop_log;                  /* monotonic time of the last drop log line */
    unsigned long long drop_unlogged; /* drops since that line */

    /* read your writes without waiting: events counted in as they arrive
     * and out once committed (or lost); parked requests wait for theirs */
    uint64_t received, settled;
    sqlstore_parked *parked, **parked_tail;
    size_t n_parked;
    bool urgent; /* a parked request waits: commit without commit_delay */
};

/* sqlite_schema.c */
/* Opens s->path, sets the pragmas, migrates the schema, registers the SQL
 * functions.  Returns 0, or -1 with a message in err (s->db left NULL). */
int sqlstore_open(sqlstore *s, char *err, size_t errlen);
void sqlstore_close(sqlstore *s);
int sqlstore_apply_synchronous(sqlstore *s, sqlite3 *db);
int sqlstore_apply_cache_size(sqlstore *s, sqlite3 *db);
/* The pragmas that hold per connection (both db and wdb take them). */
int sqlstore_connection_pragmas(sqlstore *s, sqlite3 *db);
/* Runs SQL without results; returns 0 or the SQLite result code. */
int sqlstore_exec(sqlite3 *db, const char *sql);
/* The schema version this code writes. */
int sqlstore_schema_latest(void);

/* sqlite_events.c */
/* Initialises the watchers, so that stop works even without a start. */
void sqlstore_events_init(sqlstore *s);
int sqlstore_events_start(sqlstore *s, cfg_diag *d);
/* Unsubscribes, commits what is pending (logging what could not be), stops
 * the watchers. */
void sqlstore_events_stop(sqlstore *s);
/* Commits the pending batch now, after the one the writer may be
 * committing; waits for both.  Returns 0 (also when empty) or -1. */
int sqlstore_commit(sqlstore *s);
/* Writes events[0..n) in one transaction on wdb (writer thread). */
int sqlstore_write_batch(sqlstore *s, sqlstore_event *events, size_t n);
/* Takes a committed (or failed) job back on the loop thread: published and
 * freed, or put back in front of the pending batch to be retried. */
void sqlstore_job_finish(sqlstore *s);
/* The same, handing the writer the next batch (if due) before the
 * committed job is freed: for the writer's completion callback. */
void sqlstore_job_finish_next(sqlstore *s);

/* Token idx (0-based) of a subject, copied into buf (at most size - 1
 * bytes); "" when absent. */
const char *sqlstore_token(const char *subject, int idx, char *buf, size_t size);
/* Whether an SQLite error comes from one odd event rather than from the
 * database (the event is kept, its projection skipped). */
bool sqlstore_event_fault(int rc);

/* Marks the bus congested or not from what is retained (sqlite_events.c). */
void sqlstore_pressure_update(sqlstore *s);

/* The writer statements, prepared on wdb and finalized (sqlite_events.c). */
int sqlstore_prepare_writer(sqlstore *s);
void sqlstore_finalize_writer(sqlstore *s);

/* sqlite_writer.c */
/* Opens wdb, prepares the writer statements on it, starts the thread. */
int sqlstore_writer_start(sqlstore *s, char *err, size_t errlen);
/* Stops the thread (after its job, if any), finalizes, closes wdb. */
void sqlstore_writer_stop(sqlstore *s);
bool sqlstore_writer_busy(const sqlstore *s);
/* Hands the pending batch to the writer (which must be idle). */
void sqlstore_writer_submit(sqlstore *s);
/* Waits for the job in flight, if any, and finishes it. */
void sqlstore_writer_wait(sqlstore *s);

/* {"seq","time","subject","machine","run","task","data"}; data is borrowed. */
json_t *sqlstore_stored_form(int64_t seq, double time, const char *subject, const char *machine,
                             const char *run, const char *task, json_t *data);
/* Adds "machine_seq" to a stored form when mseq is a machine's seq (> 0). */
void sqlstore_stored_mseq(json_t *form, int64_t mseq);
/* Appends an event to the pending batch, which takes a reference to data;
 * mseq as in sqlstore_event.  0, or -1 when out of memory. */
int sqlstore_batch_add(sqlstore *s, const char *subject, double time, json_t *data, int64_t mseq);

/* sqlite_query.c */
int sqlstore_query_start(sqlstore *s, cfg_diag *d);
/* Answers the parked requests (the subscriptions are gone by then). */
void sqlstore_query_stop(sqlstore *s);
extern const sqlstore_route sqlstore_query_routes[];
/* Registers bosun_match(pattern, subject) on db. */
int sqlstore_register_functions(sqlite3 *db);

/* Request helpers (sqlite_query.c), for every cmd.store.* handler. */
typedef struct sqlstore_err {
    char msg[300];
} sqlstore_err;

/* Fills e and returns false, so that checks can "return sqlstore_bad(...)". */
bool sqlstore_bad(sqlstore_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Arguments are an object with only the allowed keys; null means {}. */
bool sqlstore_check_args(const json_t *args, const char *const *allowed, sqlstore_err *e);
/* The member key of args, or NULL when absent or null. */
const json_t *sqlstore_arg(const json_t *args, const char *key);
/* Typed members: absent or null keeps the default already in *out. */
bool sqlstore_arg_int(const json_t *args, const char *key, json_int_t min, json_int_t max,
                      json_int_t *out, sqlstore_err *e);
bool sqlstore_arg_str(const json_t *args, const char *key, const char **out, sqlstore_err *e);
bool sqlstore_arg_bool(const json_t *args, const char *key, int *out, sqlstore_err *e);
/* {"error": {"code", "message"}} */
json_t *sqlstore_error_reply(const char *code, const char *message);
/* A store_error reply with SQLite's last message on s->db (logged). */
json_t *sqlstore_db_error(sqlstore *s);
/* A column as JSON (numbers, text, null), a JSON text column parsed back
 * (null when absent or unreadable), a text column as a C string. */
json_t *sqlstore_column_json(sqlite3_stmt *st, int i);
json_t *sqlstore_column_parsed(sqlite3_stmt *st, int i);
const char *sqlstore_column_str(sqlite3_stmt *st, int i);
/* Builds one reply object from the current row of st. */
typedef json_t *(*sqlstore_row_fn)(sqlite3_stmt *st);
/* {names[i]: column i} for each name. */
json_t *sqlstore_row_object(sqlite3_stmt *st, const char *const *names);
/* Steps st (prepared and bound when rc is SQLITE_OK) to its end and
 * returns {key: [row(st) for each row, NULL results skipped]}, or a
 * store_error; finalizes st either way. */
json_t *sqlstore_collect(sqlstore *s, sqlite3_stmt *st, int rc, const char *key,
                         sqlstore_row_fn row);
/* Answers a request with fn(s, its arguments); a request without a reply
 * subject is ignored. */
void sqlstore_answer(bus_t *bus, const bus_msg *msg, sqlstore *s, sqlstore_query_fn fn);
/* Runs run(s, msg, fn) now when no event that arrived before msg waits for
 * its commit (or commits fail: then from what is committed), else parks a
 * copy of msg until the writer has committed them; never waits. */
void sqlstore_defer(sqlstore *s, const bus_msg *msg, sqlstore_run_fn run, sqlstore_query_fn fn);
/* Runs the parked requests whose events are committed; all of them when
 * all is true (a failed commit, stopping). */
void sqlstore_parked_run(sqlstore *s, bool all);

/* sqlite_cost.c */
/* The usage table and its indexes (schema version 3). */
extern const char sqlstore_cost_schema_sql[];
int sqlstore_cost_prepare(sqlite3 *db, sqlstore_cost_stmts *c);
void sqlstore_cost_finalize(sqlstore_cost_stmts *c);
/* Folds e into the usage table when it is a run's usage or result event
 * (else does nothing); machine is the event's when its data names none.
 * Returns an SQLite result code. */
int sqlstore_cost_project(sqlstore_cost_stmts *c, const sqlstore_event *e, const char *machine);
/* Recomputes the usage table from the events table, in the caller's
 * transaction.  Returns an SQLite result code. */
int sqlstore_cost_rebuild(sqlite3 *db);

/* sqlite_cost_query.c */
/* {by, since, until, agent, task, machine, limit, cursor} -> {items,
 * total, next} (bosun-bus(7), cmd.store.cost). */
json_t *sqlstore_cost_query(sqlstore *s, const json_t *args);
extern const sqlstore_route sqlstore_cost_routes[];
/* sqlite_approvals.c: cmd.store.approvals, and the projection's SQL. */
extern const char sqlstore_decide_approval_sql[];
extern const sqlstore_route sqlstore_approvals_routes[];
/* sqlite_remote.c: cmd.store.append_remote, a hub's copy of its machines'
 * events (bosun-fleet(7)). */
extern const sqlstore_route sqlstore_remote_routes[];

/* Carries out a write request with fn and answers it when it has a reply
 * subject (a write is done even without one): the run function of the
 * write routes' sqlstore_defer (sqlite_llm.c). */
void sqlstore_write_now(sqlstore *s, const bus_msg *msg, sqlstore_query_fn fn);

/* sqlite_machines.c: cmd.store.machines and cmd.store.machines.put, the
 * hub's machines and registration tokens (bosun-fleet(7)). */
extern const sqlstore_route sqlstore_machines_routes[];
/* Every row of sql as {key: [row(st)...]} (sqlstore_collect). */
json_t *sqlstore_table_rows(sqlstore *s, const char *sql, const char *key, sqlstore_row_fn row);
/* Checks of a put's rows: o[key] absent, null or text of at most max
 * bytes without NUL; absent, null or seconds since the epoch; an object
 * of only those columns (the message names list[i]); list at args[key]
 * absent or of at most 4096 rows that each pass ok. */
bool sqlstore_text_ok(const json_t *o, const char *key, size_t max);
bool sqlstore_time_ok(const json_t *o, const char *key);
bool sqlstore_row_keys(const json_t *o, const char *list, size_t i, const char *const *columns,
                       sqlstore_err *e);
bool sqlstore_list_ok(const json_t *args, const char *key,
                      bool (*ok)(const json_t *, size_t, sqlstore_err *), sqlstore_err *e);
/* Binds o[names[i]] to parameter i + 1 (text, boolean, number or NULL)
 * and steps st once: an SQLite result code. */
int sqlstore_bind_row(sqlite3_stmt *st, const json_t *o, const char *const *names);
/* sql prepared on s->db and run with each row of list (sqlstore_bind_row). */
int sqlstore_put_rows(sqlstore *s, const json_t *list, const char *sql, const char *const *names);

/* sqlite_github.c: cmd.store.github and cmd.store.github.put, what the
 * github plugin keeps (bosun-github(7)); its tables are schema 9 and 10. */
extern const sqlstore_route sqlstore_github_routes[];

/* sqlite_artifacts.c */
extern const sqlstore_route sqlstore_artifacts_routes[];
/* Helpers it shares with the llm modules: an id argument (1..64 of
 * [A-Za-z0-9_-], a subject token); the byte count of padded base64 (false
 * when len is not a multiple of 4); padded base64 as a new JSON string. */
bool sqlstore_arg_id(const json_t *args, const char *key, bool required, const char **out,
                     sqlstore_err *e);
bool sqlstore_b64_size(const char *b64, size_t len, size_t *size);
json_t *sqlstore_b64_encode(const unsigned char *p, size_t n);

/* sqlite_llm_files.c, sqlite_llm_chat.c: cmd.llm.files.* and
 * cmd.llm.chat.* (bosun-bus(7)). */
extern const sqlstore_route sqlstore_llm_files_routes[];
extern const sqlstore_route sqlstore_llm_chat_routes[];

#endif
