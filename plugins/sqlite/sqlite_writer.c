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
 * (WAL), and a query waits, parked, for the commit of the events that
 * arrived before it (read your writes): the loop itself never waits for
 * this thread, except when stopping or reloading and, as a last resort,
 * when retain_max_bytes are held while commits succeed. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_store.h"

/* The connection's busy wait: only an admin's sqlite3 shell can hold the
 * write lock against it (the loop's connection writes artifacts only while
 * no job is in flight), and this thread may wait without stalling anyone. */
#define SQLSTORE_WRITER_BUSY_TIMEOUT_MS 5000

static void *sqlstore_writer_main(void *arg)
{
    sqlstore *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->queued && !s->quit)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->quit)
            break;
        pthread_mutex_unlock(&s->mu);
        int rc = sqlstore_write_batch(s, s->job, s->n_job);
        pthread_mutex_lock(&s->mu);
        s->job_rc = rc;
        s->queued = false;
        pthread_cond_broadcast(&s->cv);
        ev_async_send(s->ctx->loop, &s->writer_done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* A job is done when the loop holds one that the writer no longer has. */
static bool sqlstore_job_done(sqlstore *s)
{
    pthread_mutex_lock(&s->mu);
    bool done = s->job && !s->queued;
    pthread_mutex_unlock(&s->mu);
    return done;
}

static void sqlstore_on_writer_done(struct ev_loop *loop, ev_async *w, int revents)
{
    sqlstore *s = w->data;
    if (sqlstore_job_done(s))
        sqlstore_job_finish_next(s);
}

static void sqlstore_writer_close(sqlstore *s)
{
    sqlstore_finalize_writer(s);
    if (s->wdb && sqlite3_close(s->wdb) != SQLITE_OK)
        log_warning("sqlite: closing the writer's connection to %s: %s", s->path,
                    sqlite3_errmsg(s->wdb));
    s->wdb = NULL;
}

static int sqlstore_writer_open(sqlstore *s, char *err, size_t errlen)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(s->path, &s->wdb, flags, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(s->wdb, 1);
        sqlite3_busy_timeout(s->wdb, SQLSTORE_WRITER_BUSY_TIMEOUT_MS);
        rc = sqlstore_connection_pragmas(s, s->wdb);
    }
    if (rc == SQLITE_OK)
        rc = sqlstore_prepare_writer(s);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open the writer's connection: %s", s->path,
                 s->wdb ? sqlite3_errmsg(s->wdb) : sqlite3_errstr(rc));
        sqlstore_writer_close(s);
        return -1;
    }
    return 0;
}

int sqlstore_writer_start(sqlstore *s, char *err, size_t errlen)
{
    if (sqlstore_writer_open(s, err, errlen) != 0)
        return -1;
    int rc = pthread_mutex_init(&s->mu, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot make the writer thread's mutex: %s", strerror(rc));
        sqlstore_writer_close(s);
        return -1;
    }
    rc = pthread_cond_init(&s->cv, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot make the writer thread's condition variable: %s",
                 strerror(rc));
        pthread_mutex_destroy(&s->mu);
        sqlstore_writer_close(s);
        return -1;
    }
    s->queued = s->quit = false;
    ev_async_init(&s->writer_done, sqlstore_on_writer_done);
    s->writer_done.data = s;
    ev_async_start(s->ctx->loop, &s->writer_done);
    /* The thread inherits the signal mask: with every signal blocked, the
     * daemon's signals (SIGCHLD, SIGTERM, SIGHUP...) always reach the loop
     * thread, never this one. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&s->thread, NULL, sqlstore_writer_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the writer thread: %s", strerror(rc));
        ev_async_stop(s->ctx->loop, &s->writer_done);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        sqlstore_writer_close(s);
        return -1;
    }
    return 0;
}

void sqlstore_writer_stop(sqlstore *s)
{
    if (!s->wdb)
        return;
    sqlstore_writer_wait(s);
    pthread_mutex_lock(&s->mu);
    s->quit = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    ev_async_stop(s->ctx->loop, &s->writer_done);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    sqlstore_writer_close(s);
}

bool sqlstore_writer_busy(const sqlstore *s)
{
    /* Only the loop hands jobs over and takes them back, and the loop is
     * the caller: a job is in flight exactly when one is held. */
    return s->job != NULL;
}

void sqlstore_writer_submit(sqlstore *s)
{
    /* The batch the delay timer waited for is leaving. */
    ev_timer_stop(s->ctx->loop, &s->delay);
    s->job = s->batch;
    s->n_job = s->n_batch;
    s->cap_job = s->cap_batch;
    s->bytes_job = s->bytes_batch;
    s->batch = s->spare; /* empty, or NULL */
    s->cap_batch = s->cap_spare;
    s->spare = NULL;
    s->n_batch = s->cap_spare = 0;
    s->bytes_batch = 0;
    s->urgent = false;
    pthread_mutex_lock(&s->mu);
    s->queued = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    sqlstore_pressure_update(s);
}

void sqlstore_writer_wait(sqlstore *s)
{
    if (!sqlstore_writer_busy(s))
        return;
    pthread_mutex_lock(&s->mu);
    while (s->queued)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    sqlstore_job_finish(s);
}
