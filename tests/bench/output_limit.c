/* output_limit — the same-shape SQLite limit for bosund's output lines
 * (issue 18, item 3), for bench_output_cpu.sh.
 *
 *   output_limit DB N TXN [CACHE_KB]
 *
 * Inserts N rows exactly as the sqlite store writes an agent's output
 * lines: the events table of the current schema (the mseq column and its
 * unique index), the store's INSERT ... ON CONFLICT DO NOTHING with mseq
 * NULL, machine "bench", the data {"stream","n","text","run"} around
 * print_lines' 100-byte line (169 bytes), the store's pragmas and
 * cache_size (CACHE_KB, default 512) and SQLite configuration (no
 * allocation counts), one prepared statement, TXN rows a
 * transaction (pass bosund's mean: cmd.store.status events / commits).
 * Prints rows, secs, rows_per_sec and its own CPU (utime + stime) per
 * 1,000 rows. */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: output_limit DB N TXN [CACHE_KB]\n");
        return 64;
    }
    const char *path = argv[1];
    long n = strtol(argv[2], NULL, 10), txn = strtol(argv[3], NULL, 10);
    long cache = argc > 4 ? strtol(argv[4], NULL, 10) : 512;
    if (n < 1 || txn < 1 || cache < 1) {
        fprintf(stderr, "output_limit: N, TXN and CACHE_KB must be positive\n");
        return 64;
    }
    remove(path);
    /* As bosund's store configures SQLite (sqlite_schema.c): no allocation
     * counts, whose global mutex is SQLite's cost and not the rows'. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        fprintf(stderr, "output_limit: %s: %s\n", path, db ? sqlite3_errmsg(db) : "cannot open");
        return 1;
    }
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%ld", cache);
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
                     "PRAGMA journal_size_limit = 67108864; PRAGMA synchronous = NORMAL;"
                     "CREATE TABLE events ( seq INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT "
                     "NULL, subject TEXT NOT NULL, machine TEXT, task TEXT, run TEXT, data TEXT, "
                     "mseq INTEGER);"
                     "CREATE INDEX events_run_seq ON events(run, seq) WHERE run IS NOT NULL;"
                     "CREATE INDEX events_task_seq ON events(task, seq) WHERE task IS NOT NULL;"
                     "CREATE UNIQUE INDEX events_machine_mseq ON events(machine, mseq) WHERE mseq "
                     "IS NOT NULL;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s\n", sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db,
                           "INSERT INTO events(time, subject, machine, task, run, data, mseq)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                           -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "output_limit: prepare: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    const char *run = "01M7YBDNSWAWDPFNFT88ERQ54C";
    const char *subject = "evt.run.printer.01M7YBDNSWAWDPFNFT88ERQ54C.output";
    char line[100], data[512];
    memset(line, 'x', sizeof line);
    line[10] = ' ';
    line[99] = 0;
    bool done = false;
    double t0 = mono();
    for (long i = 1; i <= n; i++) {
        if ((i - 1) % txn == 0 &&
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            break;
        long v = i;
        for (int d = 9; d >= 0; d--, v /= 10)
            line[d] = (char)('0' + v % 10);
        int len = snprintf(data, sizeof data,
                           "{\"stream\":\"stdout\",\"n\":%ld,\"text\":\"%s\",\"run\":\"%s\"}", i,
                           line, run);
        sqlite3_bind_double(st, 1, wall());
        sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, "bench", -1, SQLITE_STATIC);
        sqlite3_bind_null(st, 4);
        sqlite3_bind_text(st, 5, run, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, data, len, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_DONE || ((i % txn == 0 || i == n) &&
                                  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)) {
            fprintf(stderr, "output_limit: row %ld: %s\n", i, sqlite3_errmsg(db));
            return 1;
        }
        if (i == n)
            done = true;
    }
    if (!done) {
        fprintf(stderr, "output_limit: begin: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    double secs = mono() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                 ru.ru_stime.tv_usec / 1e6;
    printf("limit txn %ld rows %ld secs %.3f rows_per_sec %.0f cpu_ms/1k %.3f\n", txn, n, secs,
           n / secs, cpu * 1e3 / (n / 1000.0));
    return 0;
}
