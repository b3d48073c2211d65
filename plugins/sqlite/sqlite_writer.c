/* sqlite store — the writer thread.
 *
 * Committing a batch of events (the inserts, the projections, the WAL
 * write and now and then a checkpoint with its fsync) takes hundreds of
 * microseconds to milliseconds; on the loop thread that time is added to
 * whatever request arrives meanwhile, such as an agent's MCP call.  So a
 * thread of its own commits, on a second connection: the loop hands it
 * one batch at a time and carries on; ev_async brings the result back,
 * and the loop publishes the stored.* copies in commit order as before.
 * Readers on the loop's connection see a batch once its commit is done
 * (WAL), and every query first waits for what is pending (read your
 * writes). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_store.h"

static void *sqlstore_writer_main(void *arg)
{
    sqlstore *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->wstate != SQLSTORE_QUEUED && s->wstate != SQLSTORE_QUIT)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->wstate == SQLSTORE_QUIT)
            break;
        pthread_mutex_unlock(&s->mu);
        int rc = sqlstore_write_batch(s, s->job, s->n_job);
        pthread_mutex_lock(&s->mu);
        s->job_rc = rc;
        s->wstate = SQLSTORE_DONE;
        pthread_cond_broadcast(&s->cv);
        ev_async_send(s->ctx->loop, &s->writer_done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void sqlstore_on_writer_done(struct ev_loop *loop, ev_async *w, int revents)
{
    sqlstore *s = w->data;
    pthread_mutex_lock(&s->mu);
    bool done = s->wstate == SQLSTORE_DONE;
    pthread_mutex_unlock(&s->mu);
    if (done)
        sqlstore_job_finish(s);
}

int sqlstore_writer_pragmas(sqlstore *s)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size = -%llu", s->cache_bytes / 1024);
    int rc = sqlstore_exec(s->wdb, sql);
    if (rc == SQLITE_OK)
        rc = sqlstore_exec(s->wdb, s->sync_full ? "PRAGMA synchronous = FULL"
                                                : "PRAGMA synchronous = NORMAL");
    if (rc == SQLITE_OK)
        rc = sqlstore_exec(s->wdb, "PRAGMA foreign_keys = ON");
    return rc;
}

static int sqlstore_writer_open(sqlstore *s, char *err, size_t errlen)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(s->path, &s->wdb, flags, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(s->wdb, 1);
        /* The loop's connection writes artifacts; give it time to finish. */
        sqlite3_busy_timeout(s->wdb, 5000);
        rc = sqlstore_writer_pragmas(s);
    }
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare_writer(s);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open the writer's connection: %s", s->path,
                 s->wdb ? sqlite3_errmsg(s->wdb) : sqlite3_errstr(rc));
        sqlstore_finalize_writer(s);
        sqlite3_close(s->wdb);
        s->wdb = NULL;
        return -1;
    }
    return 0;
}

int sqlstore_writer_start(sqlstore *s, char *err, size_t errlen)
{
    if (sqlstore_writer_open(s, err, errlen) != 0)
        return -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->wstate = SQLSTORE_IDLE;
    ev_async_init(&s->writer_done, sqlstore_on_writer_done);
    s->writer_done.data = s;
    ev_async_start(s->ctx->loop, &s->writer_done);
    int rc = pthread_create(&s->thread, NULL, sqlstore_writer_main, s);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the writer thread: %s", strerror(rc));
        ev_async_stop(s->ctx->loop, &s->writer_done);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        sqlstore_finalize_writer(s);
        sqlite3_close(s->wdb);
        s->wdb = NULL;
        return -1;
    }
    s->thread_started = true;
    return 0;
}

void sqlstore_writer_stop(sqlstore *s)
{
    if (s->thread_started) {
        sqlstore_writer_wait(s);
        pthread_mutex_lock(&s->mu);
        s->wstate = SQLSTORE_QUIT;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        s->thread_started = false;
        ev_async_stop(s->ctx->loop, &s->writer_done);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
    }
    sqlstore_finalize_writer(s);
    if (s->wdb && sqlite3_close(s->wdb) != SQLITE_OK)
        log_warning("sqlite: closing the writer's connection to %s: %s", s->path,
                    sqlite3_errmsg(s->wdb));
    s->wdb = NULL;
}

bool sqlstore_writer_busy(const sqlstore *s)
{
    /* Only the loop moves IDLE to QUEUED and DONE to IDLE, and the loop is
     * the caller: a job is in flight exactly when a job is held. */
    return s->job != NULL;
}

void sqlstore_writer_submit(sqlstore *s)
{
    s->job = s->batch;
    s->n_job = s->n_batch;
    s->batch = NULL;
    s->n_batch = s->cap_batch = 0;
    pthread_mutex_lock(&s->mu);
    s->wstate = SQLSTORE_QUEUED;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void sqlstore_writer_wait(sqlstore *s)
{
    if (!sqlstore_writer_busy(s))
        return;
    pthread_mutex_lock(&s->mu);
    while (s->wstate == SQLSTORE_QUEUED)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    sqlstore_job_finish(s);
}
