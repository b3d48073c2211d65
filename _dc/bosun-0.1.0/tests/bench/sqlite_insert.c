/* sqlite_insert — the machine's limit for storing output lines, and the
 * checker of what bosund stored.
 *
 *   sqlite_insert insert DB [N]
 *     Creates DB with the events table and indexes of bosun's sqlite store
 *     (plugins/sqlite/sqlite_schema.c), in WAL mode with synchronous=NORMAL
 *     and journal_size_limit as the store sets them, and inserts N rows
 *     (default 1,000,000) shaped like the "output" events bosund stores for
 *     print_lines: same subject, machine, run and JSON data around the same
 *     100-byte line, with one prepared statement, 1,000 rows a transaction.
 *     Prints "rows N", "secs S" and "rows_per_sec R".
 *
 *   sqlite_insert machines DB N TXN MACHINES [CACHE_KB]
 *     The same for a hub's copy of its machines' events, as
 *     cmd.store.append_remote has the store write them (sqlite_remote.c,
 *     sqlite_events.c): the events table of schema 5 (the mseq column and
 *     its unique (machine, mseq) index), the store's INSERT ... ON CONFLICT
 *     DO NOTHING, its cache_size (CACHE_KB, default the store's 512), and
 *     N rows spread in turn over MACHINES machines of 10 agents each (in
 *     runs of 256 a machine, fleet_sim.mjs's batch), with
 *     the data of fleet_sim.mjs's events as the hub stores them (the
 *     99-character line, run, agent, "machine"), TXN rows a transaction
 *     (bench_fleet.sh passes the hub's mean events per commit).  Prints
 *     "rows", "secs" and "rows_per_sec".
 *
 *   sqlite_insert count DB RUN
 *     Reads (read-only) the output events of run RUN in a bosun store and
 *     prints "rows", "distinct_n", "min_n", "max_n" and "intact" (rows whose
 *     text is the 99-character line print_lines wrote as line n).  All of
 *     them equal to the number of lines written (min_n 1) means no line was
 *     lost, duplicated or garbled. */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 1000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_insert: %s: %s\n", what, db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return 1;
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* The store's pragmas and events table (plugins/sqlite/sqlite_schema.c,
 * version 1), up to its last column, and its indexes. */
#define SCHEMA_HEAD                                                                                \
    "PRAGMA journal_mode = WAL;"                                                                   \
    "PRAGMA foreign_keys = ON;"                                                                    \
    "PRAGMA journal_size_limit = 67108864;"                                                        \
    "PRAGMA synchronous = NORMAL;"                                                                 \
    "CREATE TABLE events ("                                                                        \
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"                                                      \
    " time REAL NOT NULL,"                                                                         \
    " subject TEXT NOT NULL,"                                                                      \
    " machine TEXT,"                                                                               \
    " task TEXT,"                                                                                  \
    " run TEXT,"
#define SCHEMA_INDEXES                                                                             \
    "CREATE INDEX events_run_seq ON events(run, seq) WHERE run IS NOT NULL;"                       \
    "CREATE INDEX events_task_seq ON events(task, seq) WHERE task IS NOT NULL;"

static const char schema[] = SCHEMA_HEAD " data TEXT);" SCHEMA_INDEXES;

/* Schema 5's events table (version 5 adds mseq and its unique index):
 * what a hub writes its machines' events into. */
static const char schema_machines[] = SCHEMA_HEAD
    " data TEXT, mseq INTEGER);" SCHEMA_INDEXES
    "CREATE UNIQUE INDEX events_machine_mseq ON events(machine, mseq) WHERE mseq IS NOT NULL;";

#define SIM_AGENTS 10
/* Events a machine.events batch of fleet_sim.mjs holds: the hub gets a
 * machine's events in runs of that many, and so does this. */
#define SIM_BATCH 256

/* fleet_sim.mjs's run id of agent k of machine m (26 characters). */
static void sim_run_id(char *out, size_t size, long m, int k)
{
    snprintf(out, size, "01SIMRUN%06ldAGENT%07d", m % 1000000, k % 100);
}

/* fleet_sim.mjs's line s of machine m: 99 characters. */
static void sim_line(char *out, long s, long m)
{
    int n = snprintf(out, 100, "%ld simulated output line of machine sim-%ld ", s, m);
    if (n < 0 || n > 99)
        n = 0;
    memset(out + n, 'x', (size_t)(99 - n));
    out[99] = 0;
}

/* One machine event as the hub stores it; its text is in data. */
static int machine_row(sqlite3_stmt *st, long i, long machines, long *mseq, char *data, size_t size)
{
    long m = (i / SIM_BATCH) % machines;
    long s = ++mseq[m];
    int k = (int)(s % SIM_AGENTS);
    char run[64], line[100], subject[128], machine[32];
    sim_run_id(run, sizeof run, m, k);
    sim_line(line, s, m);
    snprintf(subject, sizeof subject, "evt.run.agent-%d.%s.output", k, run);
    snprintf(machine, sizeof machine, "sim-%ld", m);
    int len = snprintf(data, size,
                       "{\"stream\":\"stdout\",\"n\":%ld,\"text\":\"%s\",\"run\":\"%s\","
                       "\"agent\":\"agent-%d\",\"task\":null,\"machine\":\"%s\"}",
                       s, line, run, k, machine);
    sqlite3_bind_double(st, 1, wall());
    sqlite3_bind_text(st, 2, subject, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, machine, -1, SQLITE_TRANSIENT);
    sqlite3_bind_null(st, 4);
    sqlite3_bind_text(st, 5, run, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, data, len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, s);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int do_machines(const char *path, long n, long txn, long machines, long cache_kb)
{
    sqlite3 *db = NULL;
    if (n < 1 || txn < 1 || machines < 1 || cache_kb < 1) {
        fprintf(stderr, "sqlite_insert: N, TXN, MACHINES and CACHE_KB must be positive\n");
        return 64;
    }
    long *mseq = calloc((size_t)machines, sizeof *mseq);
    if (!mseq)
        return die(NULL, "out of memory");
    remove(path);
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%ld", cache_kb);
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) == SQLITE_OK &&
                exec(db, schema_machines) == SQLITE_OK && exec(db, pragma) == SQLITE_OK &&
                sqlite3_prepare_v2(
                    db,
                    "INSERT INTO events(time, subject, machine, task, run, data, mseq)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                    -1, &st, NULL) == SQLITE_OK
            ? 0
            : -1;
    char data[512];
    double t0 = now();
    for (long i = 0; rc == 0 && i < n; i++) {
        if (i % txn == 0 && exec(db, "BEGIN IMMEDIATE") != SQLITE_OK)
            rc = -1;
        if (rc == 0)
            rc = machine_row(st, i, machines, mseq, data, sizeof data);
        if (rc == 0 && ((i + 1) % txn == 0 || i + 1 == n) && exec(db, "COMMIT") != SQLITE_OK)
            rc = -1;
    }
    double secs = now() - t0;
    free(mseq);
    sqlite3_finalize(st);
    if (rc != 0)
        return die(db, "machines");
    sqlite3_close(db);
    printf("rows %ld\nsecs %.6f\nrows_per_sec %.0f\n", n, secs, secs > 0 ? n / secs : 0);
    return 0;
}

static int do_insert(const char *path, long n)
{
    sqlite3 *db = NULL;
    remove(path);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return die(db, path);
    if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)
        return die(db, "schema");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO events(time, subject, machine, task, run, data)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK)
        return die(db, "prepare");
    const char *run = "01M7YBDNSWAWDPFNFT88ERQ54C";
    const char *subject = "evt.run.printer.01M7YBDNSWAWDPFNFT88ERQ54C.output";
    char line[100], data[512];
    memset(line, 'x', sizeof line);
    line[10] = ' ';
    line[99] = 0;
    double t0 = now();
    for (long i = 1; i <= n; i++) {
        if ((i - 1) % BATCH == 0 && exec(db, "BEGIN IMMEDIATE") != SQLITE_OK)
            return die(db, "begin");
        long v = i;
        for (int d = 9; d >= 0; d--, v /= 10)
            line[d] = (char)('0' + v % 10);
        int len = snprintf(data, sizeof data,
                           "{\"stream\":\"stdout\",\"n\":%ld,\"text\":\"%s\",\"run\":\"%s\","
                           "\"agent\":\"printer\",\"task\":null,\"machine\":\"bench\"}",
                           i, line, run);
        sqlite3_bind_double(st, 1, wall());
        sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, "bench", -1, SQLITE_STATIC);
        sqlite3_bind_null(st, 4);
        sqlite3_bind_text(st, 5, run, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, data, len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            return die(db, "insert");
        sqlite3_reset(st);
        if ((i % BATCH == 0 || i == n) && exec(db, "COMMIT") != SQLITE_OK)
            return die(db, "commit");
    }
    double secs = now() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    printf("rows %ld\nsecs %.6f\nrows_per_sec %.0f\n", n, secs, secs > 0 ? n / secs : 0);
    return 0;
}

static int do_count(const char *path, const char *run)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return die(db, path);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *st;
    /* n and the ten digits that start the text must agree: a line stored
     * under the wrong number, or cut, or garbled, is not intact. */
    const char *sql =
        "WITH o AS (SELECT json_extract(data, '$.n') AS n, json_extract(data, '$.text') AS t"
        "  FROM events WHERE run = ?1 AND subject LIKE 'evt.run.%.output'"
        "  AND json_extract(data, '$.stream') = 'stdout')"
        " SELECT count(*), count(DISTINCT n), min(n), max(n),"
        "  sum(length(t) = 99 AND CAST(substr(t, 1, 10) AS INTEGER) = n"
        "      AND substr(t, 11) = ' ' || replace(hex(zeroblob(88)), '00', 'x')) FROM o";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return die(db, "prepare");
    sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return die(db, "count");
    printf("rows %lld\ndistinct_n %lld\nmin_n %lld\nmax_n %lld\nintact %lld\n",
           sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
           sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "insert") == 0)
        return do_insert(argv[2], argc > 3 ? strtol(argv[3], NULL, 10) : 1000000);
    if (argc >= 6 && strcmp(argv[1], "machines") == 0)
        return do_machines(argv[2], strtol(argv[3], NULL, 10), strtol(argv[4], NULL, 10),
                           strtol(argv[5], NULL, 10), argc > 6 ? strtol(argv[6], NULL, 10) : 512);
    if (argc >= 4 && strcmp(argv[1], "count") == 0)
        return do_count(argv[2], argv[3]);
    fprintf(stderr, "usage: sqlite_insert insert DB [N] | sqlite_insert machines DB N TXN MACHINES "
                    "[CACHE_KB] | sqlite_insert count DB RUN\n");
    return 64;
}
