/* sqlite store — decided approval requests (see <bosun/store.h>,
 * cmd.store.approvals): the projection of evt.approval.<id>.decided that
 * bosund reads its sticky rules from at start, instead of paging through
 * every decision ever stored, and that tells a request decided already
 * from one that never was. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "sqlite_store.h"

#include <bosun/store.h>

#define SQLSTORE_APPROVALS_LIMIT_MAX     10000
#define SQLSTORE_APPROVALS_LIMIT_DEFAULT 1000

/* A request decided twice (a replayed event) keeps the last decision. */
const char sqlstore_decide_approval_sql[] =
    "INSERT OR REPLACE INTO approvals(id, agent, task, run, tool, decision, decided_by,"
    " sticky_rule, decided_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

static const char *const sqlstore_approvals_keys[] = {"id", "sticky", "after", "limit", NULL};

static const char *const sqlstore_approval_columns[] = {
    "id",       "agent",      "task",        "run",        "tool",
    "decision", "decided_by", "sticky_rule", "decided_at", NULL,
};

static json_t *sqlstore_approval_row(sqlite3_stmt *st)
{
    return sqlstore_row_object(st, sqlstore_approval_columns);
}

/* Oldest first, the order the rules were made in; "after" pages by id.
 * Parameters: ?1 id, ?2 after, ?3 limit. */
static char *sqlstore_approvals_sql(const char *id, int sticky, const char *after)
{
    return sqlite3_mprintf(
        "SELECT id, agent, task, run, tool, decision, decided_by, sticky_rule, decided_at"
        " FROM approvals WHERE 1%s%s%s ORDER BY rowid LIMIT ?3",
        id ? " AND id = ?1" : "", sticky ? " AND sticky_rule IS NOT NULL" : "",
        after ? " AND rowid > (SELECT rowid FROM approvals WHERE id = ?2)" : "");
}

static json_t *sqlstore_approvals_query(sqlstore *s, const json_t *args)
{
    const char *id = NULL, *after = NULL;
    int sticky = 0;
    json_int_t limit = SQLSTORE_APPROVALS_LIMIT_DEFAULT;
    sqlstore_err e;
    if (!sqlstore_check_args(args, sqlstore_approvals_keys, &e) ||
        !sqlstore_arg_str(args, "id", &id, &e) || !sqlstore_arg_bool(args, "sticky", &sticky, &e) ||
        !sqlstore_arg_str(args, "after", &after, &e) ||
        !sqlstore_arg_int(args, "limit", 1, SQLSTORE_APPROVALS_LIMIT_MAX, &limit, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    char *sql = sqlstore_approvals_sql(id, sticky, after);
    sqlite3_stmt *st = NULL;
    int rc = sql ? sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc == SQLITE_OK && id)
        rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && after)
        rc = sqlite3_bind_text(st, 2, after, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, limit);
    return sqlstore_collect(s, st, rc, "approvals", sqlstore_approval_row);
}

const sqlstore_route sqlstore_approvals_routes[] = {
    {BOSUN_STORE_APPROVALS, sqlstore_approvals_query, NULL},
    {NULL, NULL, NULL},
};
