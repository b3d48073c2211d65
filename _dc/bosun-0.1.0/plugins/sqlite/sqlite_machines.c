/* sqlite store — the hub's registry of machines and registration tokens
 * (bosun-fleet(7), bosun-bus(7)).
 *
 * cmd.store.machines {} -> {"machines": [...], "registrations": [...]}
 *   every row, with the token hashes: only the fleet plugin asks, once at
 *   start, to fill its in-memory view (the register path never waits on
 *   the disk for a read).
 * cmd.store.machines.put {"machines": [...], "registrations": [...]}
 *   -> {"machines": N, "registrations": N} once committed: full rows,
 *   replaced by id, all in one transaction (a burst of registrations is one
 *   write).  Registrations used or expired for more than a day are dropped
 *   in the same transaction, as the fleet plugin drops them from memory.
 *
 * A put is a write on the loop's connection; like an artifact put it runs
 * once the events that arrived before it are committed (sqlstore_defer),
 * when the writer thread is idle, so the two never wait on each other's
 * lock. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <string.h>

#include "sqlite_store.h"

#include <bosun/store.h>

#define SQLSTORE_MACHINES_MAX 4096
#define SQLSTORE_MACHINE_ID   64
#define SQLSTORE_REG_ID       23
#define SQLSTORE_HASH_LEN     64
#define SQLSTORE_TEXT_MAX     256
/* Kept a day after use or expiry, for `bosunctl machine token` listings. */
#define SQLSTORE_REG_KEEP 86400.0

static const char *const sqlstore_machine_columns[] = {
    "id",      "name",    "status",     "first_seen", "last_seen",
    "version", "address", "token_hash", "revoked",    NULL,
};
static const char *const sqlstore_reg_columns[] = {
    "id", "name", "hash", "created_at", "expires_at", "used_at", "used_by", NULL,
};
static const char *const sqlstore_put_keys[] = {"machines", "registrations", NULL};

/* ------------------------------------------------------------ reading */

static json_t *sqlstore_machine_row(sqlite3_stmt *st)
{
    json_t *o = sqlstore_row_object(st, sqlstore_machine_columns);
    json_object_set_new(o, "revoked", json_boolean(sqlite3_column_int(st, 8)));
    return o;
}

static json_t *sqlstore_reg_row(sqlite3_stmt *st)
{
    return sqlstore_row_object(st, sqlstore_reg_columns);
}

static json_t *sqlstore_machines_table(sqlstore *s, const char *sql, const char *key,
                                       sqlstore_row_fn row)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    return sqlstore_collect(s, st, rc, key, row);
}

static json_t *sqlstore_machines_query(sqlstore *s, const json_t *args)
{
    static const char *const none[] = {NULL};
    sqlstore_err e;
    if (!sqlstore_check_args(args, none, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    json_t *ms =
        sqlstore_machines_table(s,
                                "SELECT id, name, status, first_seen, last_seen, version,"
                                " address, token_hash, revoked FROM machines ORDER BY rowid",
                                "machines", sqlstore_machine_row);
    if (json_object_get(ms, "error"))
        return ms;
    json_t *regs =
        sqlstore_machines_table(s,
                                "SELECT id, name, hash, created_at, expires_at, used_at, used_by"
                                " FROM machine_registrations ORDER BY rowid",
                                "registrations", sqlstore_reg_row);
    if (json_object_get(regs, "error")) {
        json_decref(ms);
        return regs;
    }
    json_object_update(ms, regs);
    json_decref(regs);
    return ms;
}

/* ------------------------------------------------------------ checking */

static bool sqlstore_text_ok(const json_t *o, const char *key, size_t max)
{
    const json_t *v = json_object_get(o, key);
    return !v || json_is_null(v) ||
           (json_is_string(v) && json_string_length(v) <= max &&
            strlen(json_string_value(v)) == json_string_length(v));
}

static bool sqlstore_time_ok(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return !v || json_is_null(v) ||
           (json_is_number(v) && isfinite(json_number_value(v)) && json_number_value(v) >= 0);
}

static bool sqlstore_hash_ok(const json_t *o, const char *key)
{
    const char *h = json_string_value(json_object_get(o, key));
    return h && strlen(h) == SQLSTORE_HASH_LEN &&
           strspn(h, "0123456789abcdef") == SQLSTORE_HASH_LEN;
}

static bool sqlstore_mid_ok(const char *m, size_t max)
{
    size_t n = m ? strlen(m) : 0;
    return n > 0 && n <= max &&
           strspn(m, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* Only the table's columns: the check's own message, naming the row. */
static bool sqlstore_row_keys(const json_t *o, const char *list, size_t i,
                              const char *const *columns, sqlstore_err *e)
{
    if (!json_is_object(o))
        return sqlstore_bad(e, "%s[%zu]: not an object", list, i);
    if (sqlstore_check_args(o, columns, e))
        return true;
    sqlstore_err why = *e;
    return sqlstore_bad(e, "%s[%zu]: %.200s", list, i, why.msg);
}

static bool sqlstore_machine_ok(const json_t *m, size_t i, sqlstore_err *e)
{
    const char *status = json_string_value(json_object_get(m, "status"));
    const json_t *revoked = json_object_get(m, "revoked");
    if (!sqlstore_row_keys(m, "machines", i, sqlstore_machine_columns, e))
        return false;
    if (!sqlstore_mid_ok(json_string_value(json_object_get(m, "id")), SQLSTORE_MACHINE_ID))
        return sqlstore_bad(e, "machines[%zu].id: a subject token of 1 to %d bytes", i,
                            SQLSTORE_MACHINE_ID);
    if (!sqlstore_hash_ok(m, "token_hash"))
        return sqlstore_bad(e, "machines[%zu].token_hash: 64 lowercase hex digits", i);
    if (status && strcmp(status, "online") != 0 && strcmp(status, "offline") != 0)
        return sqlstore_bad(e, "machines[%zu].status: online or offline", i);
    if (revoked && !json_is_boolean(revoked))
        return sqlstore_bad(e, "machines[%zu].revoked: true or false", i);
    if (!sqlstore_text_ok(m, "name", SQLSTORE_TEXT_MAX) ||
        !sqlstore_text_ok(m, "version", SQLSTORE_TEXT_MAX) ||
        !sqlstore_text_ok(m, "address", SQLSTORE_TEXT_MAX))
        return sqlstore_bad(e, "machines[%zu]: name, version, address: text of up to %d bytes", i,
                            SQLSTORE_TEXT_MAX);
    if (!sqlstore_time_ok(m, "first_seen") || !sqlstore_time_ok(m, "last_seen"))
        return sqlstore_bad(e, "machines[%zu]: first_seen, last_seen: seconds since the epoch", i);
    return true;
}

static bool sqlstore_reg_ok(const json_t *r, size_t i, sqlstore_err *e)
{
    if (!sqlstore_row_keys(r, "registrations", i, sqlstore_reg_columns, e))
        return false;
    if (!sqlstore_mid_ok(json_string_value(json_object_get(r, "id")), SQLSTORE_REG_ID))
        return sqlstore_bad(e, "registrations[%zu].id: a token of 1 to %d bytes", i,
                            SQLSTORE_REG_ID);
    if (!sqlstore_hash_ok(r, "hash"))
        return sqlstore_bad(e, "registrations[%zu].hash: 64 lowercase hex digits", i);
    if (!sqlstore_text_ok(r, "name", SQLSTORE_TEXT_MAX) ||
        !sqlstore_text_ok(r, "used_by", SQLSTORE_MACHINE_ID))
        return sqlstore_bad(e, "registrations[%zu]: name, used_by: text", i);
    if (!sqlstore_time_ok(r, "created_at") || !sqlstore_time_ok(r, "expires_at") ||
        !sqlstore_time_ok(r, "used_at"))
        return sqlstore_bad(e, "registrations[%zu]: times in seconds since the epoch", i);
    return true;
}

static bool sqlstore_list_ok(const json_t *args, const char *key,
                             bool (*ok)(const json_t *, size_t, sqlstore_err *), sqlstore_err *e)
{
    const json_t *list = sqlstore_arg(args, key);
    if (list && (!json_is_array(list) || json_array_size(list) > SQLSTORE_MACHINES_MAX))
        return sqlstore_bad(e, "'%s' must be a list of at most %d rows", key,
                            SQLSTORE_MACHINES_MAX);
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v) if (!ok(v, i, e)) return false;
    return true;
}

/* ------------------------------------------------------------ writing */

int sqlstore_bind_row(sqlite3_stmt *st, const json_t *o, const char *const *names)
{
    int rc = sqlite3_reset(st);
    for (int i = 0; rc == SQLITE_OK && names[i]; i++) {
        const json_t *v = json_object_get(o, names[i]);
        if (json_is_string(v))
            rc = sqlite3_bind_text(st, i + 1, json_string_value(v), -1, SQLITE_STATIC);
        else if (json_is_boolean(v))
            rc = sqlite3_bind_int(st, i + 1, json_is_true(v));
        else if (json_is_number(v))
            rc = sqlite3_bind_double(st, i + 1, json_number_value(v));
        else
            rc = sqlite3_bind_null(st, i + 1);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int sqlstore_put_rows(sqlstore *s, const json_t *list, const char *sql,
                             const char *const *names)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v) if (rc == SQLITE_OK) rc = sqlstore_bind_row(st, v, names);
    sqlite3_finalize(st);
    return rc;
}

static int sqlstore_prune_regs(sqlstore *s)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "DELETE FROM machine_registrations"
                                " WHERE IFNULL(used_at, expires_at) + ?1 < ?2",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 1, SQLSTORE_REG_KEEP);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 2, bosun_now());
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int sqlstore_machines_write(sqlstore *s, const json_t *ms, const json_t *regs)
{
    int rc = sqlstore_exec(s->db, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK)
        rc = sqlstore_put_rows(s, ms,
                               "INSERT OR REPLACE INTO machines(id, name, status, first_seen,"
                               " last_seen, version, address, token_hash, revoked)"
                               " VALUES (?1, ?2, IFNULL(?3, 'offline'), ?4, ?5, ?6, ?7, ?8,"
                               " IFNULL(?9, 0))",
                               sqlstore_machine_columns);
    if (rc == SQLITE_OK)
        rc = sqlstore_put_rows(s, regs,
                               "INSERT OR REPLACE INTO machine_registrations(id, name, hash,"
                               " created_at, expires_at, used_at, used_by)"
                               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                               sqlstore_reg_columns);
    if (rc == SQLITE_OK)
        rc = sqlstore_prune_regs(s);
    if (rc == SQLITE_OK)
        rc = sqlstore_exec(s->db, "COMMIT");
    return rc;
}

static json_t *sqlstore_machines_put(sqlstore *s, const json_t *args)
{
    sqlstore_err e;
    if (!sqlstore_check_args(args, sqlstore_put_keys, &e) ||
        !sqlstore_list_ok(args, "machines", sqlstore_machine_ok, &e) ||
        !sqlstore_list_ok(args, "registrations", sqlstore_reg_ok, &e)) {
        log_warning("sqlite: %s refused: %s", BOSUN_STORE_MACHINES_PUT, e.msg);
        return sqlstore_error_reply("bad_request", e.msg);
    }
    const json_t *ms = sqlstore_arg(args, "machines"), *regs = sqlstore_arg(args, "registrations");
    /* Never waits in practice: defer runs it with the writer idle. */
    sqlstore_writer_wait(s);
    int rc = sqlstore_machines_write(s, ms, regs);
    if (rc != SQLITE_OK) {
        json_t *reply = sqlstore_db_error(s); /* before ROLLBACK replaces the message */
        if (!sqlite3_get_autocommit(s->db))
            sqlstore_exec(s->db, "ROLLBACK");
        return reply;
    }
    return json_pack("{s:I,s:I}", "machines", (json_int_t)json_array_size(ms), "registrations",
                     (json_int_t)json_array_size(regs));
}

/* A put is carried out even without a reply subject: it is a write. */
static void sqlstore_on_machines_put(bus_t *bus, const bus_msg *msg, void *arg)
{
    (void)bus;
    sqlstore_defer(arg, msg, sqlstore_write_now, sqlstore_machines_put);
}

const sqlstore_route sqlstore_machines_routes[] = {
    {BOSUN_STORE_MACHINES, sqlstore_machines_query, NULL},
    {BOSUN_STORE_MACHINES_PUT, NULL, sqlstore_on_machines_put},
    {NULL, NULL, NULL},
};
