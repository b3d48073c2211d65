/* sqlite store — the versioned files of llm sessions (bosun-bus(7),
 * cmd.llm.files.*; schema version 7).
 *
 *   record {run, session?, path, op, content_base64?, round?, tool_call?,
 *           actor?}                     -> {version, sha256, size}
 *   list   {run, path?}                 -> {items, latest}
 *   get    {run, path, version?}        -> {path, version, content_base64, ...}
 *   replay {run, version, content?}     -> {version, latest, files}
 *
 * Every change of a path (a write or a delete) is a version of the
 * session, numbered 1, 2, ... across all its paths, so "the workspace as
 * of version N" is the newest version <= N of every path that is not a
 * delete.  Contents go into blobs by SHA-256: identical content is stored
 * once whoever writes it.  Once the bytes written since the session's last
 * snapshot pass llm_snapshot_bytes, the record's transaction also stores a
 * snapshot, the manifest {path: sha256} as of that version, and a replay
 * starts from the nearest snapshot at or below its version instead of the
 * first version.  Each record is also published, without its content, as
 * evt.run.<agent>.<run>.file. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_path.h"
#include "sqlite_llm.h"

#include <bosun/codec.h>
#include <bosun/crypto.h>

#define SQLSTORE_TOOL_CALL_MAX 256
#define SQLSTORE_ROUND_MAX     1000000
/* Rows one list answers at most, so that it fits a control socket line. */
#define SQLSTORE_FILES_MAX 10000
/* A replay with contents answers at most this many bytes of them (before
 * base64), below the control socket's line limit. */
#define SQLSTORE_REPLAY_MAX (6u * 1024 * 1024)

static const char *const sqlstore_record_keys[] = {
    "run", "session", "task", "path", "op", "content_base64", "round", "tool_call", "actor", NULL};

typedef struct sqlstore_record {
    sqlstore_llm_run lr;
    const char *path, *op, *actor, *tool_call;
    json_int_t round; /* -1: none */
    unsigned char *content;
    size_t size;
    char sha256[2 * BOSUN_SHA256_SIZE + 1];
    double time;
    json_int_t version;
    json_int_t bytes; /* the session's change bytes up to this version */
} sqlstore_record;

/* ------------------------------------------------------------ arguments */

static bool sqlstore_arg_path(const json_t *args, bool required, const char **out, sqlstore_err *e)
{
    const json_t *v = sqlstore_arg(args, "path");
    char why[200];
    if (!v)
        return required ? sqlstore_bad(e, "'path' is required") : true;
    if (!json_is_string(v))
        return sqlstore_bad(e, "'path' must be a string");
    if (strlen(json_string_value(v)) != json_string_length(v) ||
        !llm_path_check(json_string_value(v), json_string_length(v), why, sizeof why))
        return sqlstore_bad(e, "'path': %s",
                            strlen(json_string_value(v)) != json_string_length(v)
                                ? "the path must not contain NUL"
                                : why);
    *out = json_string_value(v);
    return true;
}

static bool sqlstore_arg_choice(const json_t *args, const char *key, const char *a, const char *b,
                                const char **out, sqlstore_err *e)
{
    if (!sqlstore_arg_str(args, key, out, e))
        return false;
    if (!*out)
        return sqlstore_bad(e, "'%s' is required", key);
    if (strcmp(*out, a) != 0 && strcmp(*out, b) != 0)
        return sqlstore_bad(e, "'%s' must be %s or %s", key, a, b);
    return true;
}

static bool sqlstore_record_meta(const json_t *args, sqlstore_record *r, sqlstore_err *e)
{
    r->actor = "tool";
    r->round = -1;
    if (!sqlstore_check_args(args, sqlstore_record_keys, e) ||
        !sqlstore_arg_path(args, true, &r->path, e) ||
        !sqlstore_arg_choice(args, "op", "write", "delete", &r->op, e) ||
        !sqlstore_arg_choice(args, "actor", "tool", "human", &r->actor, e) ||
        !sqlstore_arg_int(args, "round", 0, SQLSTORE_ROUND_MAX, &r->round, e) ||
        !sqlstore_arg_str(args, "tool_call", &r->tool_call, e))
        return false;
    if (r->tool_call && (!*r->tool_call || strlen(r->tool_call) > SQLSTORE_TOOL_CALL_MAX))
        return sqlstore_bad(e, "'tool_call' must be 1 to %d bytes", SQLSTORE_TOOL_CALL_MAX);
    return true;
}

/* "actor" defaults to tool, but the choice check wants it present. */
static json_t *sqlstore_record_defaults(const json_t *args)
{
    json_t *a = json_is_object(args) ? json_copy((json_t *)args) : json_object();
    if (a && !json_object_get(a, "actor"))
        json_object_set_new(a, "actor", json_string("tool"));
    return a;
}

/* Decodes content_base64 (a write's only) into r; the size is checked
 * before anything is decoded. */
static bool sqlstore_record_content(const json_t *args, sqlstore_record *r, sqlstore_err *e)
{
    const json_t *b64 = sqlstore_arg(args, "content_base64");
    bool write = strcmp(r->op, "write") == 0;
    if (!write)
        return b64 ? sqlstore_bad(e, "a delete takes no 'content_base64'") : true;
    if (!json_is_string(b64))
        return sqlstore_bad(e, "a write needs 'content_base64', a string");
    const char *text = json_string_value(b64);
    size_t len = json_string_length(b64), size = 0;
    if (!sqlstore_b64_size(text, len, &size))
        return sqlstore_bad(e, "'content_base64' is not valid padded base64 (length %zu)", len);
    if (size > LLM_FILE_MAX)
        return sqlstore_bad(e, "the content is %zu bytes, more than %u", size, LLM_FILE_MAX);
    size_t n = 0;
    if (strlen(text) == len && size > 0)
        r->content = bosun_base64_decode(text, &n);
    if (size > 0 && (!r->content || n != size))
        return sqlstore_bad(e, "'content_base64' is not valid padded base64");
    r->size = size;
    bosun_sha256_hex(r->content ? (const void *)r->content : "", r->size, r->sha256);
    return true;
}

/* ------------------------------------------------------------ replay */

/* The newest snapshot at or below version: its manifest (new, {} when
 * none) and version (0 when none). */
static json_t *sqlstore_snapshot_base(sqlstore *s, const char *session, json_int_t version,
                                      json_int_t *from)
{
    sqlite3_stmt *st = NULL;
    json_t *m = NULL;
    *from = 0;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT version, manifest FROM file_snapshots WHERE session = ?1"
                                " AND version <= ?2 ORDER BY version DESC LIMIT 1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, version);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        m = sqlstore_column_parsed(st, 1);
        *from = json_is_object(m) ? sqlite3_column_int64(st, 0) : 0;
    }
    sqlite3_finalize(st);
    if (!json_is_object(m)) {
        json_decref(m);
        m = json_object();
    }
    return m;
}

/* The workspace as of version: {path: sha256}, or NULL on an SQLite error. */
static json_t *sqlstore_manifest(sqlstore *s, const char *session, json_int_t version)
{
    json_int_t from;
    json_t *m = sqlstore_snapshot_base(s, session, version, &from);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT path, sha256 FROM file_versions WHERE session = ?1"
                                " AND version > ?2 AND version <= ?3 ORDER BY version",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, from);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, version);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *path = sqlstore_column_str(st, 0), *sha = sqlstore_column_str(st, 1);
        if (sha)
            json_object_set_new(m, path, json_string(sha));
        else
            json_object_del(m, path);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(m);
        return NULL;
    }
    return m;
}

static json_int_t sqlstore_scalar(sqlstore *s, const char *sql, const char *session, json_int_t arg)
{
    sqlite3_stmt *st = NULL;
    json_int_t v = -1;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) > 1)
        rc = sqlite3_bind_int64(st, 2, arg);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static json_int_t sqlstore_latest(sqlstore *s, const char *session)
{
    return sqlstore_scalar(
        s, "SELECT IFNULL(MAX(version), 0) FROM file_versions WHERE session = ?1", session, 0);
}

/* ------------------------------------------------------------ record */

static int sqlstore_step_done(sqlite3_stmt *st, int rc)
{
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int sqlstore_put_blob(sqlstore *s, const sqlstore_record *r)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT OR IGNORE INTO blobs(sha256, size, content)"
                                " VALUES (?1, ?2, ?3)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, r->sha256, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)r->size);
    if (rc == SQLITE_OK)
        rc = r->size ? sqlite3_bind_blob64(st, 3, r->content, r->size, SQLITE_STATIC)
                     : sqlite3_bind_zeroblob(st, 3, 0);
    return sqlstore_step_done(st, rc);
}

static int sqlstore_bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int sqlstore_put_version(sqlstore *s, sqlstore_record *r)
{
    sqlite3_stmt *st = NULL;
    bool write = strcmp(r->op, "write") == 0;
    int rc = sqlite3_prepare_v2(
        s->db,
        "INSERT INTO file_versions(session, version, path, op, sha256, size, actor, round,"
        " tool_call, run, time, bytes) SELECT ?1, IFNULL(MAX(version), 0) + 1, ?2, ?3, ?4, ?5,"
        " ?6, ?7, ?8, ?9, ?10, ?5 + length(?2) + IFNULL((SELECT bytes FROM file_versions"
        " WHERE session = ?1 ORDER BY version DESC LIMIT 1), 0)"
        " FROM file_versions WHERE session = ?1 RETURNING version, bytes",
        -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, r->lr.session, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, r->path, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, r->op, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_opt(st, 4, write ? r->sha256 : NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, (sqlite3_int64)r->size);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 6, r->actor, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = r->round >= 0 ? sqlite3_bind_int64(st, 7, r->round) : sqlite3_bind_null(st, 7);
    if (rc == SQLITE_OK)
        rc = sqlstore_bind_opt(st, 8, r->tool_call);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 9, r->lr.run, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 10, r->time);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        r->version = sqlite3_column_int64(st, 0);
        r->bytes = sqlite3_column_int64(st, 1);
        rc = SQLITE_OK;
    }
    return sqlstore_step_done(st, rc);
}

/* The bytes a snapshot saves a replay from reading (the contents and paths
 * of the versions since the last snapshot), from the running totals of the
 * two versions: two index lookups whatever the log's length. */
static int sqlstore_maybe_snapshot(sqlstore *s, const sqlstore_record *r)
{
    json_int_t at =
        sqlstore_scalar(s,
                        "SELECT IFNULL((SELECT v.bytes FROM file_snapshots n JOIN file_versions v"
                        " ON v.session = n.session AND v.version = n.version WHERE n.session = ?1"
                        " ORDER BY n.version DESC LIMIT 1), 0)",
                        r->lr.session, 0);
    if (at < 0)
        return SQLITE_ERROR;
    if ((unsigned long long)(r->bytes - at) < s->llm_snapshot_bytes)
        return SQLITE_OK;
    json_t *m = sqlstore_manifest(s, r->lr.session, r->version);
    char *text = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(m);
    if (!text)
        return SQLITE_NOMEM;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO file_snapshots(session, version, manifest)"
                                " VALUES (?1, ?2, ?3)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, r->lr.session, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, r->version);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    rc = sqlstore_step_done(st, rc);
    free(text);
    return rc;
}

static json_t *sqlstore_record_json(const sqlstore_record *r, bool event)
{
    bool write = strcmp(r->op, "write") == 0;
    json_t *o = json_pack("{s:I,s:s?,s:I}", "version", r->version, "sha256",
                          write ? r->sha256 : NULL, "size", (json_int_t)r->size);
    if (o && event) {
        json_object_set_new(o, "run", json_string(r->lr.run));
        json_object_set_new(o, "session", json_string(r->lr.session));
        json_object_set_new(o, "path", json_string(r->path));
        json_object_set_new(o, "op", json_string(r->op));
        json_object_set_new(o, "actor", json_string(r->actor));
        json_object_set_new(o, "round", r->round >= 0 ? json_integer(r->round) : json_null());
        json_object_set_new(o, "tool_call", r->tool_call ? json_string(r->tool_call) : json_null());
        json_object_set_new(o, "time", json_real(r->time));
    }
    return o;
}

static int sqlstore_record_write(sqlstore *s, void *arg, json_t **reply)
{
    sqlstore_record *r = arg;
    int rc = strcmp(r->op, "write") == 0 ? sqlstore_put_blob(s, r) : SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = sqlstore_put_version(s, r);
    if (rc == SQLITE_OK)
        rc = sqlstore_maybe_snapshot(s, r);
    if (rc == SQLITE_OK)
        *reply = sqlstore_record_json(r, false);
    return rc;
}

static json_t *sqlstore_files_record(sqlstore *s, const json_t *args)
{
    sqlstore_record r = {.time = bosun_now()};
    sqlstore_err e;
    json_t *a = sqlstore_record_defaults(args);
    json_t *reply = a ? sqlstore_llm_resolve(s, a, &r.lr) : NULL;
    if (!reply && (!sqlstore_record_meta(a, &r, &e) || !sqlstore_record_content(a, &r, &e)))
        reply =
            sqlstore_error_reply(strstr(e.msg, "more than") ? "too_large" : "bad_request", e.msg);
    if (!reply) {
        reply = sqlstore_llm_transaction(s, sqlstore_record_write, &r);
        if (r.version > 0 && !json_object_get(reply, "error"))
            sqlstore_llm_publish(s, &r.lr, "file", sqlstore_record_json(&r, true));
    }
    free(r.content);
    json_decref(a);
    return reply;
}

static void sqlstore_on_record(bus_t *bus, const bus_msg *msg, void *arg)
{
    sqlstore_llm_on_write(bus, msg, arg, sqlstore_files_record);
}

/* ------------------------------------------------------------ list, get */

static const char *const sqlstore_version_columns[] = {
    "path", "version", "size", "sha256", "actor", "round", "tool_call", "time", NULL};

static json_t *sqlstore_version_row(sqlite3_stmt *st)
{
    json_t *o = sqlstore_row_object(st, sqlstore_version_columns);
    const char *op = sqlstore_column_str(st, 8);
    json_object_set_new(o, "deleted", json_boolean(op && strcmp(op, "delete") == 0));
    return o;
}

#define SQLSTORE_VERSION_SELECT                                                                    \
    "SELECT path, version, size, sha256, actor, round, tool_call, time, op FROM file_versions v"   \
    " WHERE session = ?1"

static const char *const sqlstore_list_keys[] = {"run", "session", "task", "path", NULL};

static json_t *sqlstore_files_list(sqlstore *s, const json_t *args)
{
    sqlstore_llm_run lr;
    const char *path = NULL;
    sqlstore_err e;
    json_t *err = sqlstore_llm_resolve(s, args, &lr);
    if (err)
        return err;
    if (!sqlstore_check_args(args, sqlstore_list_keys, &e) ||
        !sqlstore_arg_path(args, false, &path, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    const char *sql = path ? SQLSTORE_VERSION_SELECT " AND path = ?2 ORDER BY version LIMIT ?3"
                           : SQLSTORE_VERSION_SELECT
                          " AND version = (SELECT MAX(version) FROM file_versions"
                          " WHERE session = ?1 AND path = v.path) ORDER BY path LIMIT ?3";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, lr.session, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && path)
        rc = sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 3, SQLSTORE_FILES_MAX);
    json_t *reply = sqlstore_collect(s, st, rc, "items", sqlstore_version_row);
    if (!json_object_get(reply, "error")) {
        json_object_set_new(reply, "latest", json_integer(sqlstore_latest(s, lr.session)));
        json_object_set_new(reply, "session", json_string(lr.session));
    }
    return reply;
}

/* Sets o's content_base64 from the blob of sha; false when it is missing. */
static bool sqlstore_blob_into(sqlstore *s, const char *sha, json_t *o)
{
    sqlite3_stmt *st = NULL;
    bool ok = false;
    int rc =
        sqlite3_prepare_v2(s->db, "SELECT content FROM blobs WHERE sha256 = ?1", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        json_t *b64 =
            sqlstore_b64_encode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        ok = b64 && json_object_set_new(o, "content_base64", b64) == 0;
    }
    sqlite3_finalize(st);
    return ok;
}

static const char *const sqlstore_get_keys[] = {"run", "session", "task", "path", "version", NULL};

static json_t *sqlstore_files_get(sqlstore *s, const json_t *args)
{
    sqlstore_llm_run lr;
    const char *path = NULL;
    json_int_t version = INT64_MAX;
    sqlstore_err e;
    json_t *reply = sqlstore_llm_resolve(s, args, &lr);
    if (reply)
        return reply;
    if (!sqlstore_check_args(args, sqlstore_get_keys, &e) ||
        !sqlstore_arg_path(args, true, &path, &e) ||
        !sqlstore_arg_int(args, "version", 0, INT64_MAX, &version, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                SQLSTORE_VERSION_SELECT
                                " AND path = ?2 AND version <= ?3 ORDER BY version DESC LIMIT 1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, lr.session, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, version);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        reply = sqlstore_version_row(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        reply = sqlstore_db_error(s);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE || json_is_true(json_object_get(reply, "deleted"))) {
        snprintf(e.msg, sizeof e.msg, "%.200s: %s", path,
                 reply ? "deleted at that version" : "no such file at that version");
        json_decref(reply);
        return sqlstore_error_reply("not_found", e.msg);
    }
    if (rc == SQLITE_ROW &&
        !sqlstore_blob_into(s, json_string_value(json_object_get(reply, "sha256")), reply)) {
        json_decref(reply);
        return sqlstore_error_reply("store_error", "the version's content is missing");
    }
    return reply;
}

/* ------------------------------------------------------------ replay */

static const char *const sqlstore_replay_keys[] = {"run",     "session", "task",
                                                   "version", "content", NULL};

static int sqlstore_path_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* [{path, sha256, content_base64?}] sorted by path, of manifest m. */
static json_t *sqlstore_replay_files(sqlstore *s, json_t *m, bool content)
{
    json_t *files = json_array();
    const char **paths = calloc(json_object_size(m) + 1, sizeof *paths);
    size_t n = 0, bytes = 0;
    const char *k;
    json_t *v;
    if (!files || !paths) {
        free(paths);
        json_decref(files);
        return sqlstore_error_reply("store_error", "out of memory");
    }
    json_object_foreach(m, k, v) paths[n++] = k;
    qsort(paths, n, sizeof *paths, sqlstore_path_cmp);
    for (size_t i = 0; i < n; i++) {
        json_t *f =
            json_pack("{s:s,s:O}", "path", paths[i], "sha256", json_object_get(m, paths[i]));
        if (content && !sqlstore_blob_into(s, json_string_value(json_object_get(f, "sha256")), f))
            json_object_set_new(f, "error", json_string("content missing"));
        bytes += json_string_length(json_object_get(f, "content_base64")) / 4 * 3;
        json_array_append_new(files, f);
        if (bytes > SQLSTORE_REPLAY_MAX)
            break;
    }
    free(paths);
    if (bytes > SQLSTORE_REPLAY_MAX) {
        json_decref(files);
        return sqlstore_error_reply("too_large",
                                    "the workspace's contents pass 6 MiB; replay with"
                                    " \"content\": false and get the files one by one");
    }
    return json_pack("{s:o}", "files", files);
}

static json_t *sqlstore_files_replay(sqlstore *s, const json_t *args)
{
    sqlstore_llm_run lr;
    json_int_t version = -1;
    int content = 1;
    sqlstore_err e;
    json_t *reply = sqlstore_llm_resolve(s, args, &lr);
    if (reply)
        return reply;
    if (!sqlstore_check_args(args, sqlstore_replay_keys, &e) ||
        !sqlstore_arg_int(args, "version", 0, INT64_MAX, &version, &e) ||
        !sqlstore_arg_bool(args, "content", &content, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    if (version < 0)
        return sqlstore_error_reply("bad_request", "'version' is required");
    json_int_t latest = sqlstore_latest(s, lr.session);
    if (version > latest) {
        snprintf(e.msg, sizeof e.msg, "version %lld: the session is at version %lld",
                 (long long)version, (long long)latest);
        return sqlstore_error_reply("not_found", e.msg);
    }
    json_t *m = sqlstore_manifest(s, lr.session, version);
    if (!m)
        return sqlstore_db_error(s);
    reply = sqlstore_replay_files(s, m, content);
    json_decref(m);
    if (!json_object_get(reply, "error")) {
        json_object_set_new(reply, "version", json_integer(version));
        json_object_set_new(reply, "latest", json_integer(latest));
    }
    return reply;
}

const sqlstore_route sqlstore_llm_files_routes[] = {
    {"cmd.llm.files.record", NULL, sqlstore_on_record},
    {"cmd.llm.files.list", sqlstore_files_list, NULL},
    {"cmd.llm.files.get", sqlstore_files_get, NULL},
    {"cmd.llm.files.replay", sqlstore_files_replay, NULL},
    {NULL, NULL, NULL},
};
