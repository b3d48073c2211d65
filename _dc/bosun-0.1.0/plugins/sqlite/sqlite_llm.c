/* sqlite store — the parts the llm modules share (sqlite_llm.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "sqlite_llm.h"

static bool sqlstore_llm_session_arg(const json_t *args, sqlstore_llm_run *lr, sqlstore_err *e)
{
    const char *session = NULL;
    if (!sqlstore_arg_str(args, "session", &session, e))
        return false;
    if (!session)
        return true;
    if (!bosun_session_id_valid(session))
        return sqlstore_bad(
            e, "'session' must be 1 to %d of A-Z a-z 0-9 - _ . :", BOSUN_SESSION_ID_MAX);
    snprintf(lr->session, sizeof lr->session, "%s", session);
    return true;
}

json_t *sqlstore_llm_resolve(sqlstore *s, const json_t *args, sqlstore_llm_run *lr)
{
    sqlstore_err e;
    *lr = (sqlstore_llm_run){0};
    if (!sqlstore_arg_id(args, "run", true, &lr->run, &e) ||
        !sqlstore_llm_session_arg(args, lr, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT agent, json_extract(data, '$.session_id') FROM runs"
                                " WHERE id = ?1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, lr->run, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        json_t *reply = rc == SQLITE_DONE ? NULL : sqlstore_db_error(s);
        sqlite3_finalize(st);
        if (reply)
            return reply;
        snprintf(e.msg, sizeof e.msg, "no run %s", lr->run);
        return sqlstore_error_reply("not_found", e.msg);
    }
    const char *agent = sqlstore_column_str(st, 0), *sid = sqlstore_column_str(st, 1);
    snprintf(lr->agent, sizeof lr->agent, "%s", agent ? agent : "");
    if (!lr->session[0])
        snprintf(lr->session, sizeof lr->session, "%s",
                 sid && bosun_session_id_valid(sid) ? sid : lr->run);
    sqlite3_finalize(st);
    if (bus_subject_check(lr->agent) != 0 || strchr(lr->agent, '.'))
        return sqlstore_error_reply("store_error", "the run's agent name is not a subject token");
    return NULL;
}

void sqlstore_llm_publish(sqlstore *s, const sqlstore_llm_run *lr, const char *what, json_t *data)
{
    char subject[2 * BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.run.%s.%s.%s", lr->agent, lr->run, what);
    if (bus_publish_new(s->ctx->bus, subject, NULL, data) != 0)
        log_warning("sqlite: cannot publish %s", subject);
}

json_t *sqlstore_llm_transaction(sqlstore *s, int (*fn)(sqlstore *s, void *arg, json_t **reply),
                                 void *arg)
{
    json_t *reply = NULL;
    /* Never waits in practice: sqlstore_defer runs writes with the writer
     * idle, so the two connections never wait on each other's lock. */
    sqlstore_writer_wait(s);
    int rc = sqlstore_exec(s->db, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK)
        rc = fn(s, arg, &reply);
    if (rc == SQLITE_OK)
        rc = sqlstore_exec(s->db, "COMMIT");
    if (rc == SQLITE_OK)
        return reply;
    json_decref(reply);
    reply = sqlstore_db_error(s); /* before ROLLBACK replaces the message */
    if (!sqlite3_get_autocommit(s->db))
        sqlstore_exec(s->db, "ROLLBACK");
    return reply;
}

void sqlstore_write_now(sqlstore *s, const bus_msg *msg, sqlstore_query_fn fn)
{
    json_t *reply = fn(s, msg->data);
    if (!reply)
        reply = sqlstore_error_reply("store_error", "out of memory");
    if (msg->reply)
        bus_reply(s->ctx->bus, msg, reply);
    json_decref(reply);
}

void sqlstore_llm_on_write(bus_t *bus, const bus_msg *msg, void *arg, sqlstore_query_fn fn)
{
    (void)bus;
    sqlstore_defer(arg, msg, sqlstore_write_now, fn);
}
