/* sqlite store — what the github plugin keeps (bosun-github(7),
 * bosun-bus(7)).
 *
 * cmd.store.github {} -> {"prs": [...], "deliveries": [...]}
 *   every row: the plugin asks once at start.
 * cmd.store.github.put {"prs": [...], "deliveries": [...],
 *   "deliveries_before": T} -> {"prs": N, "deliveries": N} once committed,
 *   in one transaction: task_prs rows replaced by (task, url), delivery
 *   ids inserted (one seen already keeps its first time), ids received
 *   before T dropped (they can only come with a stale event now).
 *
 * Like the machines' put, a write on the loop's connection, run once the
 * events before it are committed (sqlstore_defer). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <string.h>

#include "sqlite_store.h"

#include <bosun/store.h>

#define SQLSTORE_GITHUB_TEXT_MAX 512
#define SQLSTORE_META_MAX        (64u << 10) /* one PR's metadata, as JSON text */
#define SQLSTORE_DELIVERY_MAX    64

static const char *const sqlstore_task_pr_columns[] = {"task", "url",        "metadata",
                                                       "etag", "fetched_at", NULL};
static const char *const sqlstore_delivery_columns[] = {"id", "received_at", NULL};
static const char *const sqlstore_github_put_keys[] = {"prs", "deliveries", "deliveries_before",
                                                       NULL};

/* ------------------------------------------------------------ reading */

static json_t *sqlstore_task_pr_row(sqlite3_stmt *st)
{
    json_t *o = sqlstore_row_object(st, sqlstore_task_pr_columns);
    json_object_set_new(o, "metadata", sqlstore_column_parsed(st, 2));
    return o;
}

static json_t *sqlstore_delivery_row(sqlite3_stmt *st)
{
    return sqlstore_row_object(st, sqlstore_delivery_columns);
}

static json_t *sqlstore_github_query(sqlstore *s, const json_t *args)
{
    static const char *const none[] = {NULL};
    sqlstore_err e;
    if (!sqlstore_check_args(args, none, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    json_t *prs = sqlstore_table_rows(s,
                                      "SELECT task, url, metadata, etag, fetched_at"
                                      " FROM task_prs ORDER BY rowid",
                                      "prs", sqlstore_task_pr_row);
    if (json_object_get(prs, "error"))
        return prs;
    json_t *ds = sqlstore_table_rows(s,
                                     "SELECT id, received_at FROM github_deliveries"
                                     " ORDER BY received_at",
                                     "deliveries", sqlstore_delivery_row);
    if (json_object_get(ds, "error")) {
        json_decref(prs);
        return ds;
    }
    json_object_update(prs, ds);
    json_decref(ds);
    return prs;
}

/* ------------------------------------------------------------ checking */

/* Text of 1 to max bytes (absent or null when not required). */
static bool sqlstore_gh_text(const json_t *o, const char *key, size_t max, bool required)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return !required;
    return json_string_length(v) > 0 && sqlstore_text_ok(o, key, max);
}

static bool sqlstore_task_pr_ok(const json_t *r, size_t i, sqlstore_err *e)
{
    const json_t *m = json_object_get(r, "metadata");
    if (!sqlstore_row_keys(r, "prs", i, sqlstore_task_pr_columns, e))
        return false;
    if (!sqlstore_gh_text(r, "task", SQLSTORE_GITHUB_TEXT_MAX, true) ||
        !sqlstore_gh_text(r, "url", SQLSTORE_GITHUB_TEXT_MAX * 4, true))
        return sqlstore_bad(e, "prs[%zu]: task and url: text", i);
    if (!sqlstore_gh_text(r, "etag", SQLSTORE_GITHUB_TEXT_MAX, false))
        return sqlstore_bad(e, "prs[%zu].etag: text of up to %d bytes", i,
                            SQLSTORE_GITHUB_TEXT_MAX);
    if (m && !json_is_null(m) && !json_is_object(m))
        return sqlstore_bad(e, "prs[%zu].metadata: an object", i);
    if (!sqlstore_time_ok(r, "fetched_at"))
        return sqlstore_bad(e, "prs[%zu].fetched_at: seconds since the epoch", i);
    return true;
}

static bool sqlstore_delivery_ok(const json_t *r, size_t i, sqlstore_err *e)
{
    if (!sqlstore_row_keys(r, "deliveries", i, sqlstore_delivery_columns, e))
        return false;
    if (!sqlstore_gh_text(r, "id", SQLSTORE_DELIVERY_MAX, true))
        return sqlstore_bad(e, "deliveries[%zu].id: text of 1 to %d bytes", i,
                            SQLSTORE_DELIVERY_MAX);
    if (!json_is_number(json_object_get(r, "received_at")) || !sqlstore_time_ok(r, "received_at"))
        return sqlstore_bad(e, "deliveries[%zu].received_at: seconds since the epoch", i);
    return true;
}

/* ------------------------------------------------------------ writing */

/* The rows with metadata as JSON text, the column's form; NULL when one
 * is too large or memory is short. */
static json_t *sqlstore_meta_text(const json_t *prs)
{
    json_t *out = json_array();
    size_t i;
    const json_t *r;
    json_array_foreach(prs, i, r)
    {
        json_t *c = json_copy((json_t *)r);
        const json_t *m = json_object_get(r, "metadata");
        char *text = json_is_object(m) ? json_dumps(m, JSON_COMPACT) : NULL;
        if (!c || (json_is_object(m) && (!text || strlen(text) > SQLSTORE_META_MAX))) {
            free(text);
            json_decref(c);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(c, "metadata", text ? json_string(text) : json_null());
        free(text);
        json_array_append_new(out, c);
    }
    return out;
}

static int sqlstore_drop_deliveries(sqlstore *s, const json_t *before)
{
    if (!json_is_number(before))
        return SQLITE_OK;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "DELETE FROM github_deliveries WHERE received_at < ?1", -1,
                                &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 1, json_number_value(before));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int sqlstore_github_write(sqlstore *s, const json_t *prs, const json_t *ds,
                                 const json_t *before)
{
    int rc = sqlstore_exec(s->db, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK)
        rc = sqlstore_put_rows(s, prs,
                               "INSERT OR REPLACE INTO task_prs(task, url, metadata, etag,"
                               " fetched_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                               sqlstore_task_pr_columns);
    if (rc == SQLITE_OK)
        rc = sqlstore_put_rows(s, ds,
                               "INSERT OR IGNORE INTO github_deliveries(id, received_at)"
                               " VALUES (?1, ?2)",
                               sqlstore_delivery_columns);
    if (rc == SQLITE_OK)
        rc = sqlstore_drop_deliveries(s, before);
    if (rc == SQLITE_OK)
        rc = sqlstore_exec(s->db, "COMMIT");
    return rc;
}

static json_t *sqlstore_github_put(sqlstore *s, const json_t *args)
{
    sqlstore_err e;
    const json_t *before = sqlstore_arg(args, "deliveries_before");
    if (!sqlstore_check_args(args, sqlstore_github_put_keys, &e) ||
        !sqlstore_list_ok(args, "prs", sqlstore_task_pr_ok, &e) ||
        !sqlstore_list_ok(args, "deliveries", sqlstore_delivery_ok, &e) ||
        (before && !json_is_number(before) &&
         !sqlstore_bad(&e, "'deliveries_before' must be seconds since the epoch"))) {
        log_warning("sqlite: %s refused: %s", BOSUN_STORE_GITHUB_PUT, e.msg);
        return sqlstore_error_reply("bad_request", e.msg);
    }
    json_t *prs = sqlstore_meta_text(sqlstore_arg(args, "prs"));
    if (!prs)
        return sqlstore_error_reply("bad_request", "a metadata object is too large");
    const json_t *ds = sqlstore_arg(args, "deliveries");
    sqlstore_writer_wait(s);
    int rc = sqlstore_github_write(s, prs, ds, before);
    json_t *reply;
    if (rc != SQLITE_OK) {
        reply = sqlstore_db_error(s);
        if (!sqlite3_get_autocommit(s->db))
            sqlstore_exec(s->db, "ROLLBACK");
    } else
        reply = json_pack("{s:I,s:I}", "prs", (json_int_t)json_array_size(prs), "deliveries",
                          (json_int_t)json_array_size(ds));
    json_decref(prs);
    return reply;
}

/* A put is carried out even without a reply subject: it is a write. */
static void sqlstore_on_github_put(bus_t *bus, const bus_msg *msg, void *arg)
{
    (void)bus;
    sqlstore_defer(arg, msg, sqlstore_write_now, sqlstore_github_put);
}

const sqlstore_route sqlstore_github_routes[] = {
    {BOSUN_STORE_GITHUB, sqlstore_github_query, NULL},
    {BOSUN_STORE_GITHUB_PUT, NULL, sqlstore_on_github_put},
    {NULL, NULL, NULL},
};
