/* sqlite store — artifacts: named, versioned files of a task (see
 * <bosun/store.h>, cmd.store.artifacts.put and cmd.store.artifacts).
 *
 * A put is a write, not a query, and it is not batched: the pending event
 * batch is committed first (so every event that arrived before the put is
 * stored below it), then the new version is inserted in a transaction of its
 * own, and only after its COMMIT does the reply say so.  The store then
 * publishes evt.artifact.<task>.added with the metadata, never the content;
 * that event comes back through the evt.> subscription and is stored like
 * any other.
 *
 * Content arrives as "text" (kept as its UTF-8 bytes) or "base64" (decoded,
 * strictly: the standard alphabet, padded, nothing else).  Its size is
 * checked against artifact_max_bytes before anything is decoded.  Reading
 * gives content back as "text" when it is UTF-8 without NUL and its media
 * type is text/... or application/json, else as "base64". */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sqlite_store.h"

#include <bosun/codec.h>
#include <bosun/crypto.h>

#define SQLSTORE_ID_MAX   64
#define SQLSTORE_NAME_MAX 255
#define SQLSTORE_MIME_MAX 255

#define SQLSTORE_MIME_TEXT   "text/plain"
#define SQLSTORE_MIME_BINARY "application/octet-stream"

/* ------------------------------------------------------------ text checks */

/* C0 controls, DEL and C1 controls (U+0080..U+009F, "\xc2\x80".."\xc2\x9f")
 * in valid UTF-8. */
static bool sqlstore_has_control(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f || (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0))
            return true;
    return false;
}

/* Whether a '/'-separated segment of name is "..". */
static bool sqlstore_has_dotdot(const char *name)
{
    for (const char *p = name;; p++) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p += n;
        if (!*p)
            return false;
    }
}

/* 1..64 of [A-Za-z0-9_-]: safe as a subject token. */
static bool sqlstore_is_id(const char *id)
{
    size_t n = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
    return n >= 1 && n <= SQLSTORE_ID_MAX && id[n] == '\0';
}

/* 1..255 printable ASCII characters. */
static bool sqlstore_is_mime(const char *mime)
{
    size_t n = 0;
    while (mime[n] >= 0x20 && mime[n] < 0x7f)
        n++;
    return n >= 1 && n <= SQLSTORE_MIME_MAX && mime[n] == '\0';
}

/* text/... or application/json, parameters (";charset=...") aside. */
static bool sqlstore_is_text_mime(const char *mime)
{
    static const char json[] = "application/json";
    size_t n = strcspn(mime, ";");
    while (n > 0 && mime[n - 1] == ' ')
        n--;
    return strncasecmp(mime, "text/", 5) == 0 ||
           (n == sizeof json - 1 && strncasecmp(mime, json, n) == 0);
}

/* ------------------------------------------------------------ base64 */

/* The number of bytes len characters of padded base64 stand for; false when
 * len is not a multiple of 4.  The characters are checked by decoding. */
bool sqlstore_b64_size(const char *b64, size_t len, size_t *size)
{
    if (len % 4 != 0)
        return false;
    size_t pad = 0;
    if (len > 0 && b64[len - 1] == '=')
        pad = b64[len - 2] == '=' ? 2 : 1;
    *size = len / 4 * 3 - pad;
    return true;
}

/* Padded standard base64 of n bytes, as a new JSON string; NULL when too
 * large for one call (never for what the store accepts). */
json_t *sqlstore_b64_encode(const unsigned char *p, size_t n)
{
    if (n > (size_t)INT_MAX / 4 * 3)
        return NULL;
    char *out = bosun_base64_encode(p, n);
    json_t *v = json_stringn_nocheck(out, (n + 2) / 3 * 4);
    free(out);
    return v;
}

/* ------------------------------------------------------------ put: arguments */

typedef struct sqlstore_put {
    const char *task, *run, *name, *mime_type;
    const json_t *text, *base64; /* exactly one is set */
    unsigned char *decoded;      /* the base64 content, owned */
    const unsigned char *content;
    size_t size;
    char sha256[2 * BOSUN_SHA256_SIZE + 1];
    double created_at;
    json_int_t version; /* > 0 once committed */
} sqlstore_put;

static const char *const sqlstore_put_keys[] = {"task", "run",    "name", "mime_type",
                                                "text", "base64", NULL};

bool sqlstore_arg_id(const json_t *args, const char *key, bool required, const char **out,
                     sqlstore_err *e)
{
    if (!sqlstore_arg_str(args, key, out, e))
        return false;
    if (!*out)
        return required ? sqlstore_bad(e, "'%s' is required", key) : true;
    if (!sqlstore_is_id(*out))
        return sqlstore_bad(e, "'%s' must be 1 to %d characters of A-Z, a-z, 0-9, '_' and '-'", key,
                            SQLSTORE_ID_MAX);
    return true;
}

/* A name is a relative path-like label: it never climbs out of anything it
 * might one day be written under. */
static bool sqlstore_check_name(const char *name, size_t n, sqlstore_err *e)
{
    const unsigned char *p = (const unsigned char *)name;
    if (n == 0 || n > SQLSTORE_NAME_MAX)
        return sqlstore_bad(e, "'name' must be 1 to %d bytes long, got %zu", SQLSTORE_NAME_MAX, n);
    if (!bosun_utf8_text((const char *)p, n))
        return sqlstore_bad(e, "'name' must be valid UTF-8 without NUL");
    if (sqlstore_has_control(p, n))
        return sqlstore_bad(e, "'name' must not contain control characters");
    if (name[0] == '/')
        return sqlstore_bad(e, "'name' must not start with '/'");
    if (sqlstore_has_dotdot(name))
        return sqlstore_bad(e, "'name' must not contain a '..' path segment");
    return true;
}

static bool sqlstore_arg_name(const json_t *args, bool required, const char **out, sqlstore_err *e)
{
    const json_t *v = sqlstore_arg(args, "name");
    if (!v)
        return required ? sqlstore_bad(e, "'name' is required") : true;
    if (!json_is_string(v))
        return sqlstore_bad(e, "'name' must be a string");
    if (!sqlstore_check_name(json_string_value(v), json_string_length(v), e))
        return false;
    *out = json_string_value(v);
    return true;
}

static bool sqlstore_arg_content(const json_t *args, sqlstore_put *p, sqlstore_err *e)
{
    p->text = sqlstore_arg(args, "text");
    p->base64 = sqlstore_arg(args, "base64");
    if (!p->text == !p->base64)
        return sqlstore_bad(e, "exactly one of 'text' and 'base64' is required");
    if (!json_is_string(p->text ? p->text : p->base64))
        return sqlstore_bad(e, "'%s' must be a string", p->text ? "text" : "base64");
    return true;
}

static bool sqlstore_arg_mime(const json_t *args, sqlstore_put *p, sqlstore_err *e)
{
    p->mime_type = p->text ? SQLSTORE_MIME_TEXT : SQLSTORE_MIME_BINARY;
    if (!sqlstore_arg_str(args, "mime_type", &p->mime_type, e))
        return false;
    if (!sqlstore_is_mime(p->mime_type))
        return sqlstore_bad(e, "'mime_type' must be 1 to %d printable ASCII characters",
                            SQLSTORE_MIME_MAX);
    return true;
}

static bool sqlstore_put_parse(const json_t *args, sqlstore_put *p, sqlstore_err *e)
{
    return sqlstore_check_args(args, sqlstore_put_keys, e) &&
           sqlstore_arg_id(args, "task", true, &p->task, e) &&
           sqlstore_arg_id(args, "run", false, &p->run, e) &&
           sqlstore_arg_name(args, true, &p->name, e) && sqlstore_arg_content(args, p, e) &&
           sqlstore_arg_mime(args, p, e);
}

/* ------------------------------------------------------------ put: content */

static json_t *sqlstore_too_large(const sqlstore *s, size_t size)
{
    char msg[200];
    snprintf(msg, sizeof msg, "the content is %zu bytes, more than artifact_max_bytes (%llu)", size,
             s->artifact_max);
    return sqlstore_error_reply("too_large", msg);
}

/* Decodes base64 content into p->decoded (p->size bytes, as sized). */
static json_t *sqlstore_put_decode(sqlstore_put *p)
{
    const char *text = json_string_value(p->base64);
    size_t n = 0;
    /* A NUL inside the string would end the text the decoder sees early. */
    if (strlen(text) == json_string_length(p->base64))
        p->decoded = bosun_base64_decode(text, &n);
    if (!p->decoded || n != p->size)
        return sqlstore_error_reply("bad_request", "'base64' is not valid padded base64");
    p->content = p->decoded;
    return NULL;
}

/* Sizes, decodes and hashes the content; NULL, or the error reply. */
static json_t *sqlstore_put_content(const sqlstore *s, sqlstore_put *p)
{
    if (p->text) {
        p->content = (const unsigned char *)json_string_value(p->text);
        p->size = json_string_length(p->text);
    } else if (!sqlstore_b64_size(json_string_value(p->base64), json_string_length(p->base64),
                                  &p->size)) {
        return sqlstore_error_reply("bad_request",
                                    "'base64' is not valid padded base64 (length not a multiple "
                                    "of 4)");
    }
    if (p->size > s->artifact_max)
        return sqlstore_too_large(s, p->size);
    json_t *err = p->base64 ? sqlstore_put_decode(p) : NULL;
    if (err)
        return err;
    bosun_sha256_hex(p->content, p->size, p->sha256);
    return NULL;
}

/* ------------------------------------------------------------ put: writing */

/* The next version of (task, name), in the statement that inserts it. */
static const char sqlstore_put_sql[] =
    "INSERT INTO artifacts(task, name, version, run, mime_type, size, sha256, created_at, content)"
    " SELECT ?1, ?2, COALESCE(MAX(version), 0) + 1, ?3, ?4, ?5, ?6, ?7, ?8"
    " FROM artifacts WHERE task = ?1 AND name = ?2 RETURNING version";

static int sqlstore_put_bind(sqlite3_stmt *st, const sqlstore_put *p)
{
    int rc = sqlite3_bind_text(st, 1, p->task, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, p->run, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 4, p->mime_type, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, (sqlite3_int64)p->size);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 6, p->sha256, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 7, p->created_at);
    /* A NULL pointer would bind NULL, not an empty BLOB. */
    if (rc == SQLITE_OK)
        rc = p->size ? sqlite3_bind_blob64(st, 8, p->content, p->size, SQLITE_STATIC)
                     : sqlite3_bind_zeroblob(st, 8, 0);
    return rc;
}

/* Runs the insert to its end, reading the version it returned. */
static int sqlstore_put_step(sqlite3_stmt *st, json_int_t *version)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? SQLITE_INTERNAL : rc;
    *version = (json_int_t)sqlite3_column_int64(st, 0);
    rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* One transaction for the new version; p->version is set once committed. */
static int sqlstore_put_write(sqlstore *s, sqlstore_put *p)
{
    sqlite3_stmt *st = NULL;
    json_int_t version = 0;
    int rc = sqlstore_exec(s->db, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db, sqlstore_put_sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlstore_put_bind(st, p);
    if (rc == SQLITE_OK)
        rc = sqlstore_put_step(st, &version);
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        rc = sqlstore_exec(s->db, "COMMIT");
    if (rc == SQLITE_OK)
        p->version = version;
    return rc;
}

static json_t *sqlstore_put_reply(const sqlstore_put *p)
{
    return json_pack("{s:s,s:s,s:I,s:I,s:s,s:s,s:f}", "task", p->task, "name", p->name, "version",
                     p->version, "size", (json_int_t)p->size, "mime_type", p->mime_type, "sha256",
                     p->sha256, "created_at", p->created_at);
}

/* The error reply for a failed write (taken before the ROLLBACK replaces
 * SQLite's message), then the rollback. */
static json_t *sqlstore_put_failed(sqlstore *s, const sqlstore_put *p, int rc)
{
    json_t *reply;
    if ((rc & 0xff) == SQLITE_TOOBIG) {
        char msg[200];
        snprintf(msg, sizeof msg, "the content is %zu bytes, more than SQLite stores in one value",
                 p->size);
        reply = sqlstore_error_reply("too_large", msg);
    } else {
        reply = sqlstore_db_error(s);
    }
    if (!sqlite3_get_autocommit(s->db))
        sqlstore_exec(s->db, "ROLLBACK");
    return reply;
}

/* Runs once the events which arrived before the put are committed (it was
 * parked until then, see sqlstore_defer), so that they are stored before
 * the artifact exists; the writer is idle then. */
static json_t *sqlstore_put_store(sqlstore *s, sqlstore_put *p)
{
    if (s->failing) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s: cannot commit the pending events first: %s", s->path,
                 s->errmsg);
        return sqlstore_error_reply("store_error", msg);
    }
    /* Never waits in practice: defer runs a put with the writer idle. */
    sqlstore_writer_wait(s);
    p->created_at = bosun_now();
    int rc = sqlstore_put_write(s, p);
    if (rc != SQLITE_OK)
        return sqlstore_put_failed(s, p, rc);
    return sqlstore_put_reply(p);
}

static json_t *sqlstore_put_request(sqlstore *s, const json_t *args, sqlstore_put *p)
{
    sqlstore_err e;
    *p = (sqlstore_put){0};
    if (!sqlstore_put_parse(args, p, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    json_t *err = sqlstore_put_content(s, p);
    return err ? err : sqlstore_put_store(s, p);
}

/* evt.artifact.<task>.added: the reply's fields and the run. */
static void sqlstore_put_publish(sqlstore *s, const sqlstore_put *p)
{
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.artifact.%s.added", p->task);
    json_t *data = sqlstore_put_reply(p);
    if (data)
        json_object_set_new(data, "run", p->run ? json_string(p->run) : json_null());
    if (!data || bus_publish_new(s->ctx->bus, subject, NULL, data) != 0)
        log_warning("sqlite: artifact %s '%s' version %lld stored, but %s cannot be published",
                    p->task, p->name, (long long)p->version, subject);
}

static void sqlstore_put_now(sqlstore *s, const bus_msg *msg, sqlstore_query_fn unused)
{
    bus_t *bus = s->ctx->bus;
    sqlstore_put p;
    json_t *reply = sqlstore_put_request(s, msg->data, &p);
    if (!reply)
        reply = sqlstore_error_reply("store_error", "out of memory");
    if (msg->reply)
        bus_reply(bus, msg, reply);
    json_decref(reply);
    if (p.version > 0)
        sqlstore_put_publish(s, &p);
    free(p.decoded);
}

/* A put is carried out even without a reply subject: it is a write. */
static void sqlstore_on_put(bus_t *bus, const bus_msg *msg, void *arg)
{
    sqlstore_defer(arg, msg, sqlstore_put_now, NULL);
}

/* ------------------------------------------------------------ reading */

typedef struct sqlstore_get_args {
    const char *task, *name;
    json_int_t version; /* 0: every version, or the latest with content */
    int content;
} sqlstore_get_args;

static const char *const sqlstore_get_keys[] = {"task", "name", "version", "content", NULL};

/* Metadata columns, in SELECT order, as the keys of an artifact object; the
 * listing of latest versions adds "versions", a read adds the content. */
static const char *const sqlstore_artifact_columns[] = {
    "task", "name", "version", "run", "mime_type", "size", "sha256", "created_at", NULL,
};
static const char *const sqlstore_latest_columns[] = {
    "task", "name", "version", "run", "mime_type", "size", "sha256", "created_at", "versions", NULL,
};
#define SQLSTORE_ARTIFACT_MIME    4
#define SQLSTORE_ARTIFACT_CONTENT 8

static bool sqlstore_get_parse(const json_t *args, sqlstore_get_args *a, sqlstore_err *e)
{
    *a = (sqlstore_get_args){0};
    if (!sqlstore_check_args(args, sqlstore_get_keys, e) ||
        !sqlstore_arg_id(args, "task", true, &a->task, e) ||
        !sqlstore_arg_name(args, false, &a->name, e) ||
        !sqlstore_arg_int(args, "version", 1, INT64_MAX, &a->version, e) ||
        !sqlstore_arg_bool(args, "content", &a->content, e))
        return false;
    if (a->version && !a->name)
        return sqlstore_bad(e, "'version' needs 'name'");
    if (a->content && !a->name)
        return sqlstore_bad(e, "'content' needs 'name'");
    return true;
}

static json_t *sqlstore_artifact_row(sqlite3_stmt *st)
{
    return sqlstore_row_object(st, sqlstore_artifact_columns);
}

static json_t *sqlstore_latest_row(sqlite3_stmt *st)
{
    return sqlstore_row_object(st, sqlstore_latest_columns);
}

/* The latest version of each name of a task, by name. */
static json_t *sqlstore_artifacts_latest(sqlstore *s, const sqlstore_get_args *a)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db,
        "SELECT a.task, a.name, a.version, a.run, a.mime_type, a.size, a.sha256, a.created_at,"
        " v.versions FROM (SELECT name, MAX(version) AS version, count(*) AS versions"
        " FROM artifacts WHERE task = ?1 GROUP BY name) v"
        " JOIN artifacts a ON a.task = ?1 AND a.name = v.name AND a.version = v.version"
        " ORDER BY a.name",
        -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, a->task, -1, SQLITE_STATIC);
    return sqlstore_collect(s, st, rc, "artifacts", sqlstore_latest_row);
}

/* Parameters: ?1 task, ?2 name, ?3 version. */
static char *sqlstore_versions_sql(const sqlstore_get_args *a)
{
    return sqlite3_mprintf("SELECT task, name, version, run, mime_type, size, sha256, created_at"
                           "%s FROM artifacts WHERE task = ?1 AND name = ?2%s"
                           " ORDER BY version DESC%s",
                           a->content ? ", content" : "", a->version ? " AND version = ?3" : "",
                           a->content ? " LIMIT 1" : "");
}

static int sqlstore_versions_prepare(sqlstore *s, const sqlstore_get_args *a, sqlite3_stmt **st)
{
    char *sql = sqlstore_versions_sql(a);
    *st = NULL;
    int rc = sql ? sqlite3_prepare_v2(s->db, sql, -1, st, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(*st, 1, a->task, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(*st, 2, a->name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && a->version)
        rc = sqlite3_bind_int64(*st, 3, a->version);
    return rc;
}

/* The stored bytes as "text" or "base64" on o. */
static bool sqlstore_set_content(json_t *o, sqlite3_stmt *st)
{
    const unsigned char *p = sqlite3_column_blob(st, SQLSTORE_ARTIFACT_CONTENT);
    size_t n = (size_t)sqlite3_column_bytes(st, SQLSTORE_ARTIFACT_CONTENT);
    const char *mime = sqlstore_column_str(st, SQLSTORE_ARTIFACT_MIME);
    if (n == 0)
        return json_object_set_new(o, "text", json_string("")) == 0;
    if (mime && sqlstore_is_text_mime(mime) && bosun_utf8_text((const char *)p, n))
        return json_object_set_new(o, "text", json_stringn_nocheck((const char *)p, n)) == 0;
    json_t *b64 = sqlstore_b64_encode(p, n);
    return b64 && json_object_set_new(o, "base64", b64) == 0;
}

static json_t *sqlstore_not_found(const sqlstore_get_args *a)
{
    char msg[400];
    if (a->version)
        snprintf(msg, sizeof msg, "task %s has no artifact '%s' version %lld", a->task, a->name,
                 (long long)a->version);
    else
        snprintf(msg, sizeof msg, "task %s has no artifact '%s'", a->task, a->name);
    return sqlstore_error_reply("not_found", msg);
}

static json_t *sqlstore_artifact_found(sqlite3_stmt *st)
{
    json_t *o = sqlstore_artifact_row(st);
    if (!sqlstore_set_content(o, st)) {
        json_decref(o);
        return sqlstore_error_reply("store_error", "out of memory");
    }
    return json_pack("{s:o}", "artifact", o);
}

/* One version with its content: {"artifact": {...}}. */
static json_t *sqlstore_artifact_read(sqlstore *s, const sqlstore_get_args *a)
{
    sqlite3_stmt *st;
    int rc = sqlstore_versions_prepare(s, a, &st);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    json_t *reply;
    if (rc == SQLITE_ROW)
        reply = sqlstore_artifact_found(st);
    else if (rc == SQLITE_DONE)
        reply = sqlstore_not_found(a);
    else
        reply = sqlstore_db_error(s);
    sqlite3_finalize(st);
    return reply;
}

static json_t *sqlstore_artifacts_query(sqlstore *s, const json_t *args)
{
    sqlstore_get_args a;
    sqlstore_err e;
    if (!sqlstore_get_parse(args, &a, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    if (!a.name)
        return sqlstore_artifacts_latest(s, &a);
    if (a.content)
        return sqlstore_artifact_read(s, &a);
    sqlite3_stmt *st;
    int rc = sqlstore_versions_prepare(s, &a, &st);
    return sqlstore_collect(s, st, rc, "artifacts", sqlstore_artifact_row);
}

/* ------------------------------------------------------------ lifecycle */

const sqlstore_route sqlstore_artifacts_routes[] = {
    {BOSUN_STORE_ARTIFACTS, sqlstore_artifacts_query, NULL},
    {BOSUN_STORE_ARTIFACTS_PUT, NULL, sqlstore_on_put},
    {NULL, NULL, NULL},
};
