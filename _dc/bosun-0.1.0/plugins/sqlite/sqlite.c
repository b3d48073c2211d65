/* sqlite — the embedded store (see <bosun/store.h> for the contract).
 *
 * Configuration, section "sqlite:":
 *   path         database file; relative to daemon.state_dir
 *                (default <state_dir>/bosun.db).  Changing it needs a restart.
 *   synchronous  normal | full (default normal).  The database runs in WAL
 *                mode.  With NORMAL a commit is not fsync'ed, the WAL is
 *                synced at checkpoints: a process crash (kill -9, abort)
 *                loses nothing committed, but a power loss or kernel crash
 *                may lose the last commits (never corrupting the file).
 *                FULL syncs the WAL at every commit, so committed events also
 *                survive a power loss, at the price of one fsync per batch.
 *   batch_max    events per transaction before committing at once, even in
 *                the middle of a loop turn (default 10000, 1..1000000).
 *   artifact_max_bytes
 *                the largest artifact content cmd.store.artifacts.put
 *                accepts, in bytes after base64 decoding; a size with an
 *                optional unit (K, M, G: powers of 1024), default 10M,
 *                1K..1G.  A larger put is refused with code "too_large".
 *                SQLite itself caps one value at its SQLITE_MAX_LENGTH
 *                (usually 1000000000 bytes), so near 1G that cap may refuse
 *                first, with the same code.
 *
 *   retain_max_bytes
 *                the memory that events not yet committed may hold (an
 *                estimate of their JSON trees); a size, default 64M,
 *                64K..64G.  Past half of it (or 4 x batch_max events, or
 *                while commits fail) agents' output is paused; at it, while
 *                commits fail, new events are dropped and counted (logged,
 *                and told in an evt.store.dropped event once there is room).
 *
 *   llm_snapshot_bytes
 *                the bytes of file changes (contents and paths) an llm
 *                session's version log gathers before the store keeps a
 *                snapshot of its whole workspace, from which replays start;
 *                a size, default 10K, 1K..1G.
 *
 * Reload applies synchronous, llm_snapshot_bytes, batch_max, artifact_max_bytes and
 * retain_max_bytes; a new path is only noted. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sqlite_store.h"

#define SQLSTORE_DEFAULT_FILE      "bosun.db"
#define SQLSTORE_BATCH_MAX_DEFAULT 10000
#define SQLSTORE_BATCH_MAX_LIMIT   1000000
#define SQLSTORE_ARTIFACT_DEFAULT  (10ULL << 20)
#define SQLSTORE_ARTIFACT_MIN      (1ULL << 10)
#define SQLSTORE_ARTIFACT_LIMIT    (1ULL << 30)
#define SQLSTORE_RETAIN_DEFAULT    (64ULL << 20)
#define SQLSTORE_RETAIN_MIN        (64ULL << 10)
#define SQLSTORE_RETAIN_LIMIT      (64ULL << 30)

typedef struct sqlstore_config {
    char *path; /* resolved against state_dir; NULL when only checking */
    bool sync_full;
    long long batch_max;
    unsigned long long artifact_max;
    unsigned long long cache_bytes;
    unsigned long long retain_max;
    double commit_delay;
    unsigned long long llm_snapshot_bytes;
} sqlstore_config;

static const char *const sqlstore_keys[] = {
    "path",       "synchronous",  "batch_max",        "artifact_max_bytes",
    "cache_size", "commit_delay", "retain_max_bytes", "llm_snapshot_bytes",
    NULL};

static char *sqlstore_resolve(const char *state_dir, const char *path)
{
    size_t n = strlen(state_dir) + strlen(path) + 2;
    char *out = malloc(n);
    if (!out)
        return NULL;
    if (path[0] == '/')
        snprintf(out, n, "%s", path);
    else
        snprintf(out, n, "%s/%s", state_dir, path);
    return out;
}

static bool sqlstore_read_sync(const cfg_node *config, bool *full, cfg_diag *d)
{
    const char *v;
    if (!cfg_get_string(config, "synchronous", "normal", &v, d))
        return false;
    if (strcasecmp(v, "normal") == 0 || strcasecmp(v, "full") == 0) {
        *full = strcasecmp(v, "full") == 0;
        return true;
    }
    char where[128];
    const cfg_node *node = cfg_get(config, "synchronous");
    return cfg_error(d, node, "'%s': must be normal or full, got '%s'",
                     cfg_path(node, where, sizeof where), v);
}

static bool sqlstore_read_path(const cfg_node *config, const char **path, cfg_diag *d)
{
    if (!cfg_get_string(config, "path", SQLSTORE_DEFAULT_FILE, path, d))
        return false;
    if (**path)
        return true;
    char where[128];
    const cfg_node *node = cfg_get(config, "path");
    return cfg_error(d, node, "'%s': must not be empty", cfg_path(node, where, sizeof where));
}

/* Validates config; with a state_dir also resolves the path into c->path. */
static bool sqlstore_read_config(const cfg_node *config, const char *state_dir, sqlstore_config *c,
                                 cfg_diag *d)
{
    const char *path = NULL;
    *c = (sqlstore_config){0};
    bool ok = cfg_check_keys(config, sqlstore_keys, d);
    ok = sqlstore_read_path(config, &path, d) && ok;
    ok = sqlstore_read_sync(config, &c->sync_full, d) && ok;
    ok = cfg_get_int(config, "batch_max", SQLSTORE_BATCH_MAX_DEFAULT, 1, SQLSTORE_BATCH_MAX_LIMIT,
                     &c->batch_max, d) &&
         ok;
    ok = cfg_get_size(config, "artifact_max_bytes", SQLSTORE_ARTIFACT_DEFAULT,
                      SQLSTORE_ARTIFACT_MIN, SQLSTORE_ARTIFACT_LIMIT, &c->artifact_max, d) &&
         ok;
    /* SQLite's page cache is the store's largest use of memory; the writes
     * are appends and the queries mostly recent, so a small one does. */
    ok =
        cfg_get_size(config, "cache_size", 512 * 1024, 64 * 1024, 1ull << 30, &c->cache_bytes, d) &&
        ok;
    /* 0 commits at the end of every loop turn; a few milliseconds let a
     * trickle of events (MCP calls, heartbeats) share commits. */
    ok = cfg_get_size(config, "retain_max_bytes", SQLSTORE_RETAIN_DEFAULT, SQLSTORE_RETAIN_MIN,
                      SQLSTORE_RETAIN_LIMIT, &c->retain_max, d) &&
         ok;
    ok = cfg_get_duration(config, "commit_delay", 0.010, 0, 1.0, &c->commit_delay, d) && ok;
    ok = cfg_get_size(config, "llm_snapshot_bytes", 10 * 1024, 1024, 1ull << 30,
                      &c->llm_snapshot_bytes, d) &&
         ok;
    if (!ok || !state_dir)
        return ok;
    c->path = sqlstore_resolve(state_dir, path);
    if (!c->path)
        return cfg_error(d, NULL, "sqlite: out of memory");
    return true;
}

static bool sqlstore_plugin_check(const cfg_node *config, cfg_diag *d)
{
    sqlstore_config c;
    return sqlstore_read_config(config, NULL, &c, d);
}

/* The highest seq ever handed out (sqlite_sequence also remembers deleted
 * rows) and the number of rows, kept in memory from now on so that queries
 * and status need not scan the table. */
static int sqlstore_load_counters(sqlstore *s)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT seq FROM sqlite_sequence WHERE name = 'events'", -1,
                                &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        s->last_seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM events", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        s->n_events = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

static void sqlstore_free(sqlstore *s)
{
    sqlstore_close(s);
    free(s->path);
    free(s->dump.data);
    free(s);
}

static int sqlstore_plugin_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d,
                                void **state)
{
    sqlstore_config c;
    if (!sqlstore_read_config(config, ctx->state_dir, &c, d))
        return -1;
    sqlstore *s = calloc(1, sizeof *s);
    if (!s) {
        free(c.path);
        cfg_error(d, NULL, "sqlite: out of memory");
        return -1;
    }
    *s = (sqlstore){.ctx = ctx,
                    .path = c.path,
                    .sync_full = c.sync_full,
                    .batch_max = c.batch_max,
                    .artifact_max = c.artifact_max,
                    .cache_bytes = c.cache_bytes,
                    .retain_max = c.retain_max,
                    .commit_delay = c.commit_delay,
                    .llm_snapshot_bytes = c.llm_snapshot_bytes};
    s->parked_tail = &s->parked;
    sqlstore_events_init(s);
    char err[768];
    if (sqlstore_open(s, err, sizeof err) != 0) {
        cfg_error(d, NULL, "sqlite: %s", err);
        sqlstore_free(s);
        return -1;
    }
    if (sqlstore_load_counters(s) != 0) {
        cfg_error(d, NULL, "sqlite: %s: cannot read the event counters: %s", s->path,
                  sqlite3_errmsg(s->db));
        sqlstore_free(s);
        return -1;
    }
    log_info("sqlite: %s open: schema version %d, %lld events, last seq %lld, synchronous %s",
             s->path, s->schema_version, (long long)s->n_events, (long long)s->last_seq,
             s->sync_full ? "full" : "normal");
    *state = s;
    return 0;
}

/* ------------------------------------------------------------ cmd.store.* */

/* What each module answers: a new query module adds its table here. */
static const sqlstore_route *const sqlstore_modules[] = {
    sqlstore_query_routes,     sqlstore_artifacts_routes, sqlstore_cost_routes,
    sqlstore_approvals_routes, sqlstore_remote_routes,    sqlstore_machines_routes,
    sqlstore_llm_files_routes, sqlstore_llm_chat_routes,
    sqlstore_github_routes,
};

/* One subscription of a module's route: the argument of its handler. */
struct sqlstore_bound {
    sqlstore *s;
    const sqlstore_route *route;
    bus_sub *sub;
};

static void sqlstore_on_query(bus_t *bus, const bus_msg *msg, void *arg)
{
    struct sqlstore_bound *b = arg;
    sqlstore_answer(bus, msg, b->s, b->route->query);
}

static size_t sqlstore_n_routes(void)
{
    size_t n = 0;
    for (size_t m = 0; m < sizeof sqlstore_modules / sizeof *sqlstore_modules; m++)
        for (const sqlstore_route *r = sqlstore_modules[m]; r->subject; r++)
            n++;
    return n;
}

static int sqlstore_routes_start(sqlstore *s, cfg_diag *d)
{
    s->bound = calloc(sqlstore_n_routes(), sizeof *s->bound);
    if (!s->bound) {
        cfg_error(d, NULL, "sqlite: out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t m = 0; m < sizeof sqlstore_modules / sizeof *sqlstore_modules; m++) {
        for (const sqlstore_route *r = sqlstore_modules[m]; r->subject; r++) {
            struct sqlstore_bound *b = &s->bound[s->n_bound++];
            b->s = s;
            b->route = r;
            b->sub = r->query ? bus_subscribe(s->ctx->bus, r->subject, sqlstore_on_query, b)
                              : bus_subscribe(s->ctx->bus, r->subject, r->handler, s);
            if (!b->sub) {
                cfg_error(d, NULL, "sqlite: cannot subscribe to %s", r->subject);
                rc = -1;
            }
        }
    }
    return rc;
}

static void sqlstore_routes_stop(sqlstore *s)
{
    for (size_t i = s->n_bound; i-- > 0;)
        if (s->bound[i].sub)
            bus_unsubscribe(s->ctx->bus, s->bound[i].sub);
    free(s->bound);
    s->bound = NULL;
    s->n_bound = 0;
}

/* ------------------------------------------------------------ plugin */

static int sqlstore_plugin_start(void *state, cfg_diag *d)
{
    sqlstore *s = state;
    if (sqlstore_events_start(s, d) != 0 || sqlstore_query_start(s, d) != 0 ||
        sqlstore_routes_start(s, d) != 0)
        return -1;
    return 0;
}

static int sqlstore_plugin_reload(void *state, const cfg_node *config, cfg_diag *d)
{
    sqlstore *s = state;
    sqlstore_config c;
    if (!sqlstore_read_config(config, s->ctx->state_dir, &c, d))
        return -1;
    if (c.sync_full != s->sync_full) {
        s->sync_full = c.sync_full;
        /* Never inside a transaction here: db only writes artifacts, each
         * committed within its handler. */
        if (sqlstore_apply_synchronous(s, s->db) != SQLITE_OK) {
            s->sync_full = !c.sync_full;
            cfg_error(d, NULL, "sqlite: %s: cannot change synchronous: %s", s->path,
                      sqlite3_errmsg(s->db));
            free(c.path);
            return -1;
        }
    }
    s->batch_max = c.batch_max;
    s->artifact_max = c.artifact_max;
    s->cache_bytes = c.cache_bytes;
    s->retain_max = c.retain_max;
    s->commit_delay = c.commit_delay;
    s->llm_snapshot_bytes = c.llm_snapshot_bytes;
    if (sqlstore_apply_cache_size(s, s->db) != SQLITE_OK)
        log_warning("sqlite: %s: cannot apply the new cache_size: %s", s->path,
                    sqlite3_errmsg(s->db));
    /* The writer's connection has its own pragmas; it is idle once its
     * batch is done, and only this thread gives it another. */
    sqlstore_writer_wait(s);
    if (s->wdb && sqlstore_connection_pragmas(s, s->wdb) != SQLITE_OK)
        log_warning("sqlite: %s: cannot apply the new settings to the writer's connection: %s",
                    s->path, sqlite3_errmsg(s->wdb));
    if (strcmp(c.path, s->path) != 0)
        log_notice("sqlite: path changed to %s; %s stays in use until bosund restarts", c.path,
                   s->path);
    free(c.path);
    return 0;
}

static void sqlstore_plugin_stop(void *state)
{
    sqlstore *s = state;
    sqlstore_routes_stop(s);
    sqlstore_query_stop(s);
    sqlstore_events_stop(s);
    log_info("sqlite: %s closed at seq %lld", s->path, (long long)s->last_seq);
    sqlstore_free(s);
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "sqlite",
    .kind = BOSUN_PLUGIN_STORE,
    .description = "stores evt.> events in SQLite (WAL) and answers cmd.store.*",
    .version = BOSUN_VERSION,
    .check = sqlstore_plugin_check,
    .init = sqlstore_plugin_init,
    .start = sqlstore_plugin_start,
    .reload = sqlstore_plugin_reload,
    .stop = sqlstore_plugin_stop,
};
