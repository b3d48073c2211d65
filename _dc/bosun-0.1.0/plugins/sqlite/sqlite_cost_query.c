/* sqlite store — cmd.store.cost: the usage projection (sqlite_cost.c)
 * summed by run, task, agent, machine or UTC day.
 *
 * Items are ordered by their key and paged by it (keyset paging: "next"
 * is the last key of the page, given back as "cursor"), so that rows
 * added meanwhile do not shift the pages.  The total covers every row the
 * filters select, not only the page.  since and until are seconds since
 * the epoch, or a day or an RFC 3339 time as text (<bosun/date.h>); a
 * day given as until takes that whole day in. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include <bosun/date.h>

#include "sqlite_store.h"

#define SQLSTORE_COST_LIMIT_MAX     10000
#define SQLSTORE_COST_LIMIT_DEFAULT 1000

static const char *const sqlstore_cost_keys[] = {"by",      "since", "until",  "agent", "task",
                                                 "machine", "limit", "cursor", NULL};

/* What each grouping sums by.  A row without a task (or machine) has the
 * key null: its group sorts first, as "". */
static const struct {
    const char *by;
    const char *expr;
} sqlstore_cost_groups[] = {
    {"run", "run"},
    {"task", "IFNULL(task, '')"},
    {"agent", "IFNULL(agent, '')"},
    {"machine", "IFNULL(machine, '')"},
    {"day", "strftime('%Y-%m-%d', time, 'unixepoch')"},
};

typedef struct sqlstore_cost_args {
    const char *by, *group, *agent, *task, *machine, *cursor;
    double since, until;
    bool has_since, has_until;
    json_int_t limit;
} sqlstore_cost_args;

static bool sqlstore_cost_by(const json_t *args, sqlstore_cost_args *a, sqlstore_err *e)
{
    if (!sqlstore_arg_str(args, "by", &a->by, e))
        return false;
    for (size_t i = 0; i < sizeof sqlstore_cost_groups / sizeof sqlstore_cost_groups[0]; i++)
        if (strcmp(sqlstore_cost_groups[i].by, a->by) == 0) {
            a->group = sqlstore_cost_groups[i].expr;
            return true;
        }
    return sqlstore_bad(e, "'by' must be run, task, agent, machine or day, not '%.40s'", a->by);
}

/* since/until: a number of seconds, or a date as text. */
static bool sqlstore_cost_time(const json_t *args, const char *key, bool until, double *out,
                               bool *has, sqlstore_err *e)
{
    const json_t *v = sqlstore_arg(args, key);
    if (!v)
        return true;
    char why[200];
    if (json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) < 1e12) {
        *out = json_number_value(v);
    } else if (json_is_string(v)) {
        if (!bosun_date_parse(json_string_value(v), until, out, why, sizeof why))
            return sqlstore_bad(e, "'%s': %s", key, why);
    } else {
        return sqlstore_bad(e,
                            "'%s' must be a date (YYYY-MM-DD), an RFC 3339 time or a number "
                            "of seconds since the epoch",
                            key);
    }
    *has = true;
    return true;
}

static bool sqlstore_cost_parse(const json_t *args, sqlstore_cost_args *a, sqlstore_err *e)
{
    *a = (sqlstore_cost_args){.by = "agent", .limit = SQLSTORE_COST_LIMIT_DEFAULT};
    if (!sqlstore_check_args(args, sqlstore_cost_keys, e) || !sqlstore_cost_by(args, a, e) ||
        !sqlstore_cost_time(args, "since", false, &a->since, &a->has_since, e) ||
        !sqlstore_cost_time(args, "until", true, &a->until, &a->has_until, e) ||
        !sqlstore_arg_str(args, "agent", &a->agent, e) ||
        !sqlstore_arg_str(args, "task", &a->task, e) ||
        !sqlstore_arg_str(args, "machine", &a->machine, e) ||
        !sqlstore_arg_str(args, "cursor", &a->cursor, e) ||
        !sqlstore_arg_int(args, "limit", 1, SQLSTORE_COST_LIMIT_MAX, &a->limit, e))
        return false;
    if (a->has_since && a->has_until && a->until < a->since)
        return sqlstore_bad(e, "'until' is before 'since'");
    return true;
}

/* ------------------------------------------------------------ SQL */

#define SQLSTORE_COST_SUMS                                                                         \
    "IFNULL(SUM(input_tokens), 0), IFNULL(SUM(output_tokens), 0),"                                 \
    " IFNULL(SUM(cache_read_tokens), 0), IFNULL(SUM(cache_creation_tokens), 0),"                   \
    " TOTAL(cost_usd), COUNT(DISTINCT run)"

static const char *const sqlstore_cost_sum_names[] = {"input_tokens",
                                                      "output_tokens",
                                                      "cache_read_tokens",
                                                      "cache_creation_tokens",
                                                      "cost_usd",
                                                      "runs",
                                                      NULL};

/* Parameters: ?1 since, ?2 until, ?3 agent, ?4 task, ?5 machine, ?6
 * cursor, ?7 limit; only the filters given are in the text. */
static char *sqlstore_cost_where(const sqlstore_cost_args *a)
{
    return sqlite3_mprintf("WHERE 1%s%s%s%s%s", a->has_since ? " AND time >= ?1" : "",
                           a->has_until ? " AND time < ?2" : "", a->agent ? " AND agent = ?3" : "",
                           a->task ? " AND task = ?4" : "", a->machine ? " AND machine = ?5" : "");
}

static int sqlstore_cost_bind(sqlite3_stmt *st, const sqlstore_cost_args *a)
{
    int rc = SQLITE_OK;
    if (a->has_since)
        rc = sqlite3_bind_double(st, 1, a->since);
    if (rc == SQLITE_OK && a->has_until)
        rc = sqlite3_bind_double(st, 2, a->until);
    const char *text[4] = {a->agent, a->task, a->machine, a->cursor};
    for (int i = 0; rc == SQLITE_OK && i < 4; i++)
        if (text[i])
            rc = sqlite3_bind_text(st, 3 + i, text[i], -1, SQLITE_STATIC);
    return rc;
}

static int sqlstore_cost_prepare_sql(sqlstore *s, char *sql, const sqlstore_cost_args *a,
                                     sqlite3_stmt **st)
{
    *st = NULL;
    int rc = sql ? sqlite3_prepare_v2(s->db, sql, -1, st, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    return rc == SQLITE_OK ? sqlstore_cost_bind(*st, a) : rc;
}

/* The sums of the current row from column first on. */
static json_t *sqlstore_cost_sums(sqlite3_stmt *st, int first)
{
    json_t *o = json_object();
    for (int i = 0; sqlstore_cost_sum_names[i]; i++)
        json_object_set_new(o, sqlstore_cost_sum_names[i],
                            i == 4 ? json_real(sqlite3_column_double(st, first + i))
                                   : json_integer(sqlite3_column_int64(st, first + i)));
    return o;
}

static json_t *sqlstore_cost_item(sqlite3_stmt *st, bool by_run)
{
    json_t *o = sqlstore_cost_sums(st, 1);
    const char *key = (const char *)sqlite3_column_text(st, 0);
    json_object_set_new(o, "key", key && *key ? json_string(key) : json_null());
    if (by_run) {
        json_object_set_new(o, "agent", sqlstore_column_json(st, 7));
        json_object_set_new(o, "task", sqlstore_column_json(st, 8));
        json_object_set_new(o, "machine", sqlstore_column_json(st, 9));
    }
    return o;
}

/* Sets items and next in reply; false on a database error (on s->db). */
static bool sqlstore_cost_page(sqlstore *s, const sqlstore_cost_args *a, json_t *reply)
{
    char *where = sqlstore_cost_where(a);
    bool by_run = strcmp(a->by, "run") == 0;
    char *sql =
        where ? sqlite3_mprintf("SELECT %s AS k, " SQLSTORE_COST_SUMS
                                "%s FROM usage %s GROUP BY k%s ORDER BY k LIMIT ?7",
                                a->group, by_run ? ", MAX(agent), MAX(task), MAX(machine)" : "",
                                where, a->cursor ? " HAVING k > ?6" : "")
              : NULL;
    sqlite3_free(where);
    sqlite3_stmt *st;
    int rc = sqlstore_cost_prepare_sql(s, sql, a, &st);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 7, a->limit + 1);
    json_t *items = json_array(), *next = json_null();
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        if ((json_int_t)json_array_size(items) == a->limit) {
            /* One row more than asked: there is a next page. */
            const char *last = json_string_value(
                json_object_get(json_array_get(items, json_array_size(items) - 1), "key"));
            json_decref(next);
            next = json_string(last ? last : "");
            break;
        }
        json_array_append_new(items, sqlstore_cost_item(st, by_run));
    }
    sqlite3_finalize(st);
    json_object_set_new(reply, "items", items);
    json_object_set_new(reply, "next", next);
    return rc == SQLITE_OK || rc == SQLITE_DONE;
}

static bool sqlstore_cost_total(sqlstore *s, const sqlstore_cost_args *a, json_t *reply)
{
    char *where = sqlstore_cost_where(a);
    sqlstore_cost_args no_cursor = *a;
    no_cursor.cursor = NULL;
    char *sql =
        where ? sqlite3_mprintf("SELECT " SQLSTORE_COST_SUMS " FROM usage %s", where) : NULL;
    sqlite3_free(where);
    sqlite3_stmt *st;
    int rc = sqlstore_cost_prepare_sql(s, sql, &no_cursor, &st);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        json_object_set_new(reply, "total", sqlstore_cost_sums(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW;
}

json_t *sqlstore_cost_query(sqlstore *s, const json_t *args)
{
    sqlstore_cost_args a;
    sqlstore_err e;
    if (!sqlstore_cost_parse(args, &a, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    json_t *reply = json_object();
    if (!sqlstore_cost_page(s, &a, reply) || !sqlstore_cost_total(s, &a, reply)) {
        json_decref(reply);
        return sqlstore_db_error(s);
    }
    return reply;
}

/* ------------------------------------------------------------ lifecycle */

const sqlstore_route sqlstore_cost_routes[] = {
    {BOSUN_STORE_COST, sqlstore_cost_query, NULL},
    {NULL, NULL, NULL},
};
