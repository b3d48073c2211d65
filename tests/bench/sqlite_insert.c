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

static const char schema[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA foreign_keys = ON;"
    "PRAGMA journal_size_limit = 67108864;"
    "PRAGMA synchronous = NORMAL;"
    "CREATE TABLE events ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " time REAL NOT NULL,"
    " subject TEXT NOT NULL,"
    " machine TEXT,"
    " task TEXT,"
    " run TEXT,"
    " data TEXT);"
    "CREATE INDEX events_run_seq ON events(run, seq) WHERE run IS NOT NULL;"
    "CREATE INDEX events_task_seq ON events(task, seq) WHERE task IS NOT NULL;";

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
    if (argc >= 4 && strcmp(argv[1], "count") == 0)
        return do_count(argv[2], argv[3]);
    fprintf(stderr, "usage: sqlite_insert insert DB [N] | sqlite_insert count DB RUN\n");
    return 64;
}
