/* sqlite store — state shared by the plugin's files.
 *
 * sqlite.c         configuration and lifecycle
 * sqlite_schema.c  opening the file, pragmas, versioned migrations
 * sqlite_events.c  the evt.> subscription, group commit, projections,
 *                  the stored.* feed
 * sqlite_query.c   cmd.store.* requests
 *
 * Everything runs on the daemon's loop thread, so the state needs no lock. */
#ifndef BOSUN_SQLITE_STORE_H
#define BOSUN_SQLITE_STORE_H

#include <ev.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bosun/bosun.h>
#include <bosun/store.h>

/* An event received from the bus and not yet committed. */
typedef struct sqlstore_event {
    char *subject;
    double time;
    json_t *data; /* our own reference */
    int64_t seq;  /* set while the batch is written; valid after COMMIT */
} sqlstore_event;

/* The prepared statements of the write path, made once at start. */
typedef struct sqlstore_writer {
    sqlite3_stmt *insert_event;
    sqlite3_stmt *upsert_run;
    sqlite3_stmt *upsert_agent;
    sqlite3_stmt *remove_agent;
    sqlite3_stmt *upsert_task;
} sqlstore_writer;

typedef struct sqlstore {
    const bosun_ctx *ctx;

    /* settings */
    char *path;     /* the configured path, resolved against state_dir */
    bool sync_full; /* synchronous = FULL instead of NORMAL */
    long long batch_max;

    sqlite3 *db;
    int schema_version;
    sqlstore_writer w;

    /* pending batch (group commit) */
    sqlstore_event *batch;
    size_t n_batch, cap_batch;

    /* what has been committed */
    int64_t last_seq;
    int64_t n_events;

    /* failing commits: keep the batch, retry, do not flood the log */
    bool failing;
    unsigned long failures;
    double last_error_log; /* monotonic seconds */
    double retry_after;    /* monotonic seconds */
    char errmsg[256];

    ev_prepare prepare;
    ev_timer retry;
    bus_sub *events_sub;
    bus_sub *q_events, *q_runs, *q_tasks, *q_status;
    char *terminal_sql; /* "('STOPPED','EXITED',...)" for the active filter */
} sqlstore;

/* sqlite_schema.c */
/* Opens s->path, sets the pragmas, migrates the schema, registers the SQL
 * functions.  Returns 0, or -1 with a message in err (s->db left NULL). */
int sqlstore_open(sqlstore *s, char *err, size_t errlen);
void sqlstore_close(sqlstore *s);
int sqlstore_apply_synchronous(sqlstore *s);
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
/* Commits the pending batch now.  Returns 0 (also when empty) or -1. */
int sqlstore_commit(sqlstore *s);
/* {"seq","time","subject","machine","run","task","data"}; data is borrowed. */
json_t *sqlstore_stored_form(int64_t seq, double time, const char *subject, const char *machine,
                             const char *run, const char *task, json_t *data);

/* sqlite_query.c */
int sqlstore_query_start(sqlstore *s, cfg_diag *d);
void sqlstore_query_stop(sqlstore *s);
/* Registers bosun_match(pattern, subject) on db. */
int sqlstore_register_functions(sqlite3 *db);

#endif
