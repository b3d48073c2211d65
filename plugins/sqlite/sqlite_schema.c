/* sqlite store — opening the database and keeping its schema current.
 *
 * The schema version lives in PRAGMA user_version.  Each entry of
 * sqlstore_migrations takes the database from version i to i + 1 and runs in
 * its own transaction together with the version bump, so a crash or an error
 * mid-way leaves the file at the last complete version.  A later schema is
 * one more function appended to the array.
 *
 * A file whose version is newer than the array knows was written by a newer
 * bosun; it is refused rather than guessed at. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sqlite_store.h"

#define SQLSTORE_BUSY_TIMEOUT_MS 1000

typedef int (*sqlstore_migration)(sqlite3 *db);

/* AUTOINCREMENT (rather than a plain rowid) keeps seq from ever being reused,
 * even after the newest rows were deleted: sqlite_sequence remembers the
 * highest seq handed out.  The run and task indexes only cover events that
 * carry a run or a task, which most machine events do not. */
static const char sqlstore_v1_sql[] =
    "CREATE TABLE events ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " time REAL NOT NULL,"
    " subject TEXT NOT NULL,"
    " machine TEXT,"
    " task TEXT,"
    " run TEXT,"
    " data TEXT);"
    "CREATE INDEX events_run_seq ON events(run, seq) WHERE run IS NOT NULL;"
    "CREATE INDEX events_task_seq ON events(task, seq) WHERE task IS NOT NULL;"
    "CREATE TABLE runs ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " agent TEXT, instance INTEGER, task TEXT, machine TEXT, state TEXT,"
    " pid INTEGER, pid_start INTEGER, exit_code INTEGER, exit_signal INTEGER,"
    " created_at REAL, started_at REAL, ended_at REAL, restarts INTEGER,"
    " reason TEXT, resumed_from TEXT, updated_at REAL,"
    " data TEXT);"
    "CREATE INDEX runs_agent ON runs(agent);"
    "CREATE TABLE tasks ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " title TEXT, prompt TEXT, status TEXT, agent TEXT, owner TEXT,"
    " created_at REAL, updated_at REAL);"
    "CREATE TABLE agents ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " type TEXT, config TEXT, updated_at REAL,"
    " removed INTEGER NOT NULL DEFAULT 0);";

static int sqlstore_migrate_v1(sqlite3 *db)
{
    return sqlstore_exec(db, sqlstore_v1_sql);
}

/* Version 2: input requests, pull requests, agent token hashes, artifacts,
 * and the agent's own status report on runs.
 *
 * An artifact's content is its row's last column: SQLite reads a row's
 * columns in order, so metadata placed after a large BLOB would cost a walk
 * through the BLOB's overflow pages on every listing.  Artifacts keep a
 * rowid (no WITHOUT ROWID), which suits rows that large. */
static const char sqlstore_v2_sql[] =
    "ALTER TABLE runs ADD COLUMN status TEXT;"
    "ALTER TABLE runs ADD COLUMN status_message TEXT;"
    "CREATE INDEX runs_task ON runs(task) WHERE task IS NOT NULL;"
    "CREATE TABLE inputs ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " run TEXT, task TEXT, agent TEXT, question TEXT, choices TEXT, blocking INTEGER,"
    " status TEXT NOT NULL DEFAULT 'pending',"
    " answer TEXT, choice INTEGER, answered_by TEXT, reason TEXT,"
    " created_at REAL, answered_at REAL);"
    "CREATE INDEX inputs_task_status ON inputs(task, status);"
    "CREATE INDEX inputs_run ON inputs(run);"
    "CREATE TABLE prs ("
    " task TEXT NOT NULL, url TEXT NOT NULL,"
    " run TEXT, owner TEXT, repo TEXT, number INTEGER, linked_at REAL,"
    " PRIMARY KEY(task, url));"
    "CREATE TABLE tokens ("
    " hash TEXT PRIMARY KEY NOT NULL,"
    " run TEXT, task TEXT, agent TEXT, machine TEXT, created_at REAL, expires_at REAL);"
    "CREATE TABLE artifacts ("
    " task TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, run TEXT,"
    " mime_type TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,"
    " created_at REAL NOT NULL, content BLOB NOT NULL,"
    " PRIMARY KEY(task, name, version));";

static int sqlstore_migrate_v2(sqlite3 *db)
{
    return sqlstore_exec(db, sqlstore_v2_sql);
}

/* Version 3: the usage projection (sqlite_cost.c), filled from the
 * events already stored, so that an older store's runs are costed too. */
static int sqlstore_migrate_v3(sqlite3 *db)
{
    int rc = sqlstore_exec(db, sqlstore_cost_schema_sql);
    return rc == SQLITE_OK ? sqlstore_cost_rebuild(db) : rc;
}

/* Version 4: decided approval requests, for the sticky rules ("--always")
 * and for telling a decided request from an unknown one.  Made from the
 * events already stored, so a database from before has its rules; the
 * partial index keeps reading the rules at start as small as they are. */
static const char sqlstore_v4_sql[] =
    "CREATE TABLE approvals ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " agent TEXT, task TEXT, run TEXT, tool TEXT, decision TEXT, decided_by TEXT,"
    " sticky_rule TEXT, decided_at REAL);"
    "CREATE INDEX approvals_sticky ON approvals(agent) WHERE sticky_rule IS NOT NULL;"
    "INSERT OR REPLACE INTO approvals"
    " SELECT IFNULL(json_extract(data, '$.id'), substr(subject, 14, length(subject) - 21)),"
    " json_extract(data, '$.agent'), json_extract(data, '$.task'), json_extract(data, '$.run'),"
    " json_extract(data, '$.tool'), json_extract(data, '$.decision'),"
    " json_extract(data, '$.decided_by'),"
    " CASE WHEN json_extract(data, '$.always') = 1"
    " AND json_type(data, '$.sticky_rule') = 'text'"
    " THEN json_extract(data, '$.sticky_rule') END, time"
    " FROM events WHERE subject GLOB 'evt.approval.*.decided' AND json_valid(data)"
    " ORDER BY seq;";

static int sqlstore_migrate_v4(sqlite3 *db)
{
    return sqlstore_exec(db, sqlstore_v4_sql);
}

/* Version 5: a hub's copy of its machines' events (bosun-fleet(7)).  mseq
 * is the seq the event has in its machine's own store; the partial unique
 * index makes a resent event a no-op and answers "highest stored mseq of
 * machine M" from the index.  Tasks and inputs learn whose they are (NULL:
 * a row from before, the local machine's). */
static const char sqlstore_v5_sql[] =
    "ALTER TABLE events ADD COLUMN mseq INTEGER;"
    "CREATE UNIQUE INDEX events_machine_mseq ON events(machine, mseq) WHERE mseq IS NOT NULL;"
    "ALTER TABLE tasks ADD COLUMN machine TEXT;"
    "ALTER TABLE inputs ADD COLUMN machine TEXT;"
    "CREATE INDEX runs_machine ON runs(machine);";

static int sqlstore_migrate_v5(sqlite3 *db)
{
    return sqlstore_exec(db, sqlstore_v5_sql);
}

/* Version 6: the hub's registry of machines and registration tokens
 * (sqlite_machines.c), which bosun-fleet(7) kept in state_dir/fleet.json
 * before; only SHA-256 hashes of tokens, never a token. */
static const char sqlstore_v6_sql[] =
    "CREATE TABLE machines ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT, status TEXT NOT NULL DEFAULT 'offline', first_seen REAL, last_seen REAL,"
    " version TEXT, address TEXT, token_hash TEXT NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE machine_registrations ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT, hash TEXT NOT NULL, created_at REAL, expires_at REAL, used_at REAL,"
    " used_by TEXT);";

static int sqlstore_migrate_v6(sqlite3 *db)
{
    return sqlstore_exec(db, sqlstore_v6_sql);
}

/* Version 7: the versioned files of llm sessions (sqlite_llm_files.c).
 * Contents are content-addressed: a blob per distinct SHA-256, however
 * many versions or sessions hold it.  A version is global to its session
 * (one counter for every path), so "the workspace as of version N" is one
 * number; a snapshot is the whole workspace's path -> sha256 manifest as of
 * its version, so a replay starts from the nearest one.  A version's bytes
 * are the session's change bytes (contents and paths) up to it, so the
 * bytes since a snapshot are one subtraction, not a sum over the log. */
static const char sqlstore_v7_sql[] =
    "CREATE TABLE blobs ("
    " sha256 TEXT PRIMARY KEY NOT NULL, size INTEGER NOT NULL, content BLOB NOT NULL);"
    "CREATE TABLE file_versions ("
    " session TEXT NOT NULL, version INTEGER NOT NULL, path TEXT NOT NULL,"
    " op TEXT NOT NULL, sha256 TEXT, size INTEGER NOT NULL DEFAULT 0, actor TEXT NOT NULL,"
    " round INTEGER, tool_call TEXT, run TEXT, time REAL NOT NULL,"
    " bytes INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(session, version)) WITHOUT ROWID;"
    "CREATE INDEX file_versions_path ON file_versions(session, path, version);"
    "CREATE TABLE file_snapshots ("
    " session TEXT NOT NULL, version INTEGER NOT NULL, manifest TEXT NOT NULL,"
    " PRIMARY KEY(session, version));";

static int sqlstore_migrate_v7(sqlite3 *db)
{
    return sqlstore_exec(db, sqlstore_v7_sql);
}

/* Version 8: the chat history of llm sessions (sqlite_llm_chat.c), one
 * message of the neutral conversation format per row, in order (seq). */
static const char sqlstore_v8_sql[] =
    "CREATE TABLE chat_messages ("
    " session TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL UNIQUE, run TEXT,"
    " role TEXT NOT NULL, message TEXT NOT NULL, time REAL NOT NULL,"
    " PRIMARY KEY(session, seq));";

static int sqlstore_migrate_v8(sqlite3 *db)
{
    return sqlstore_exec(db, sqlstore_v8_sql);
}

/* Version 9: a linked pull request's metadata, ETag and fetch time, by
 * (task, url) as the prs table links them. */
static const char sqlstore_task_prs_sql[] = "CREATE TABLE task_prs ("
                                            " task TEXT NOT NULL, url TEXT NOT NULL,"
                                            " metadata TEXT, etag TEXT, fetched_at REAL,"
                                            " PRIMARY KEY(task, url));";

/* Version 10: webhook delivery ids seen, against replays. */
static const char sqlstore_github_deliveries_sql[] = "CREATE TABLE github_deliveries ("
                                                     " id TEXT PRIMARY KEY NOT NULL,"
                                                     " received_at REAL NOT NULL);"
                                                     "CREATE INDEX github_deliveries_time"
                                                     " ON github_deliveries(received_at);";

static int sqlstore_migrate_v9(sqlite3 *db)
{
    return sqlstore_exec(db, sqlstore_task_prs_sql);
}

static int sqlstore_migrate_v10(sqlite3 *db)
{
    return sqlstore_exec(db, sqlstore_github_deliveries_sql);
}

/* Index i migrates from version i to version i + 1.  Versions are given
 * to changes before they are written, so that changes made side by side
 * never renumber each other's: an index whose change has not been merged
 * yet is NULL, a step that only bumps the version. */
static const sqlstore_migration sqlstore_migrations[] = {
    [0] = sqlstore_migrate_v1, [1] = sqlstore_migrate_v2,  [2] = sqlstore_migrate_v3,
    [3] = sqlstore_migrate_v4, [4] = sqlstore_migrate_v5,  [5] = sqlstore_migrate_v6,
    [6] = sqlstore_migrate_v7, [7] = sqlstore_migrate_v8,  [8] = sqlstore_migrate_v9,
    [9] = sqlstore_migrate_v10,
};

int sqlstore_schema_latest(void)
{
    return (int)(sizeof sqlstore_migrations / sizeof sqlstore_migrations[0]);
}

int sqlstore_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int sqlstore_user_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int sqlstore_migrate_step(sqlite3 *db, int from)
{
    char bump[64];
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d", from + 1);
    int rc = sqlstore_exec(db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlstore_migrations[from] ? sqlstore_migrations[from](db) : SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = sqlstore_exec(db, bump);
    if (rc == SQLITE_OK)
        rc = sqlstore_exec(db, "COMMIT");
    if (rc != SQLITE_OK && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int sqlstore_migrate(sqlstore *s, int version, char *err, size_t errlen)
{
    int latest = sqlstore_schema_latest();
    for (int v = version; v < latest; v++) {
        if (sqlstore_migrate_step(s->db, v) != SQLITE_OK) {
            /* The ROLLBACK replaced the error message, so ask again. */
            snprintf(err, errlen, "%s: schema migration from version %d to %d failed: %s", s->path,
                     v, v + 1, sqlite3_errmsg(s->db));
            return -1;
        }
        /* A new file is created, not migrated: only say so for old ones. */
        if (version > 0)
            log_notice("sqlite: %s migrated from schema version %d to %d", s->path, v, v + 1);
    }
    s->schema_version = latest;
    return 0;
}

/* WAL lets readers run beside the writer and turns a commit into one
 * sequential append (one fsync with synchronous=FULL, none with NORMAL). */
static int sqlstore_set_wal(sqlstore *s, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        if (!mode || strcmp(mode, "wal") != 0)
            log_warning("sqlite: %s: journal mode is %s, not wal", s->path, mode ? mode : "?");
        rc = SQLITE_OK;
    } else if (rc == SQLITE_OK) {
        rc = sqlite3_errcode(s->db);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "%s: cannot enable WAL: %s", s->path, sqlite3_errmsg(s->db));
    return rc == SQLITE_OK ? 0 : -1;
}

int sqlstore_apply_cache_size(sqlstore *s, sqlite3 *db)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size = -%llu", s->cache_bytes / 1024);
    return sqlstore_exec(db, sql);
}

int sqlstore_apply_synchronous(sqlstore *s, sqlite3 *db)
{
    return sqlstore_exec(db, s->sync_full ? "PRAGMA synchronous = FULL"
                                          : "PRAGMA synchronous = NORMAL");
}

int sqlstore_connection_pragmas(sqlstore *s, sqlite3 *db)
{
    int rc = sqlstore_exec(db, "PRAGMA foreign_keys = ON");
    /* After a checkpoint a WAL grown by a large batch is cut back to this
     * size instead of keeping its high-water mark on disk (the connection
     * that commits checkpoints, so both need it). */
    if (rc == SQLITE_OK)
        rc = sqlstore_exec(db, "PRAGMA journal_size_limit = 67108864");
    if (rc == SQLITE_OK)
        rc = sqlstore_apply_synchronous(s, db);
    if (rc == SQLITE_OK)
        rc = sqlstore_apply_cache_size(s, db);
    return rc;
}

static int sqlstore_pragmas(sqlstore *s, char *err, size_t errlen)
{
    if (sqlstore_set_wal(s, err, errlen) != 0)
        return -1;
    int rc = sqlstore_connection_pragmas(s, s->db);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot set pragmas: %s", s->path, sqlite3_errmsg(s->db));
        return -1;
    }
    return 0;
}

/* Reads the version first, so that a file from a newer bosun is refused
 * before anything (even the journal mode) is changed in it. */
static int sqlstore_check_version(sqlstore *s, int *version, char *err, size_t errlen)
{
    if (sqlstore_user_version(s->db, version) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot read the schema version: %s", s->path,
                 sqlite3_errmsg(s->db));
        return -1;
    }
    if (*version > sqlstore_schema_latest()) {
        snprintf(err, errlen,
                 "%s: schema version %d is newer than this bosun knows (%d); refusing to use it "
                 "(upgrade bosun or point sqlite.path elsewhere)",
                 s->path, *version, sqlstore_schema_latest());
        return -1;
    }
    if (*version < 0) {
        snprintf(err, errlen, "%s: invalid schema version %d", s->path, *version);
        return -1;
    }
    return 0;
}

/* Makes path private (0640 at most) when it exists, or creates it so
 * when create is set, without following a link.  -1 with errno. */
static int sqlstore_private_file(const char *path, bool create)
{
    int fd =
        open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (create ? O_CREAT : 0), 0640);
    if (fd < 0)
        return !create && errno == ENOENT ? 0 : -1;
    struct stat st;
    int rc = fstat(fd, &st);
    mode_t mode = st.st_mode & 07777;
    if (rc == 0 && !S_ISREG(st.st_mode)) {
        errno = EPERM;
        rc = -1;
    } else if (rc == 0 && (mode & ~(mode_t)0640)) {
        rc = fchmod(fd, mode & 0640);
        if (rc == 0)
            log_notice("sqlite: %s was mode %04o, now %04o", path, (unsigned)mode,
                       (unsigned)(mode & 0640));
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* The database holds prompts, answers, artifacts and environments: 0640
 * at most, whatever the umask or an older version made.  SQLite gives the
 * -wal and -shm files it creates the database's mode; ones left from
 * before are narrowed here too. */
static int sqlstore_private(sqlstore *s, char *err, size_t errlen)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s%s", s->path, suffixes[i]) >= sizeof path) {
            snprintf(err, errlen, "%s: path too long", s->path);
            return -1;
        }
        if (sqlstore_private_file(path, i == 0) < 0) {
            snprintf(err, errlen, "cannot make %s private: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* SQLite counts every allocation under a global mutex unless told not to:
 * its lock and unlock were a twentieth of the writer thread's time when
 * storing output, and nothing here reads the counts (no
 * sqlite3_memory_used, no heap limit).  It can only be set before SQLite
 * is first used (later it is SQLITE_MISUSE and changes nothing), so once,
 * before the first connection. */
static void sqlstore_no_memstatus(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sqlstore_connect(sqlstore *s, char *err, size_t errlen)
{
    static pthread_once_t memstatus_once = PTHREAD_ONCE_INIT;
    pthread_once(&memstatus_once, sqlstore_no_memstatus);
    if (sqlstore_private(s, err, errlen) != 0)
        return -1;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", s->path,
                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        return -1;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* Only bosund writes (its lock file keeps it single), but an admin's
     * sqlite3 shell may hold a lock for a moment; never wait long, since
     * waiting stalls the loop. */
    sqlite3_busy_timeout(s->db, SQLSTORE_BUSY_TIMEOUT_MS);
    return 0;
}

int sqlstore_open(sqlstore *s, char *err, size_t errlen)
{
    int version = 0;
    if (sqlstore_connect(s, err, errlen) != 0 ||
        sqlstore_check_version(s, &version, err, errlen) != 0 ||
        sqlstore_pragmas(s, err, errlen) != 0 || sqlstore_migrate(s, version, err, errlen) != 0)
        goto fail;
    if (sqlstore_register_functions(s->db) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot register SQL functions: %s", s->path,
                 sqlite3_errmsg(s->db));
        goto fail;
    }
    return 0;
fail:
    sqlite3_close(s->db);
    s->db = NULL;
    return -1;
}

void sqlstore_close(sqlstore *s)
{
    if (!s->db)
        return;
    sqlite3_finalize(s->acked_mseq);
    s->acked_mseq = NULL;
    if (sqlite3_close(s->db) != SQLITE_OK)
        log_warning("sqlite: closing %s: %s", s->path, sqlite3_errmsg(s->db));
    s->db = NULL;
}
