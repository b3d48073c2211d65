/* sqlite store — the chat history of llm sessions (bosun-bus(7),
 * cmd.llm.chat.*; schema version 8).
 *
 *   append  {run, role, content, tool_calls?, tool_call_id?, name?,
 *            is_error?}                 -> {id, seq}
 *   history {run, limit?, before?}      -> {items, next}
 *   send    {run, text}                 -> {id, seq}
 *   clear   {run}                       -> {cleared}
 *
 * A message is kept as bosun-llm gives it, in the neutral conversation
 * format, one row per message numbered by seq within its session, so a
 * later run of the session (a restart, a resume) reads the conversation
 * back in order.  Every appended message is published as
 * evt.run.<agent>.<run>.chat.message; a human's message (send) also as
 * evt.run.<agent>.<run>.chat.user, which the live run listens to.  A send
 * to a run that is not running stays in the history: the session's next
 * run finds an unanswered user message at its end. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_path.h"
#include "sqlite_llm.h"

#define SQLSTORE_CHAT_CONTENT_MAX LLM_FILE_MAX
#define SQLSTORE_CHAT_NAME_MAX    256
#define SQLSTORE_CHAT_CALLS_MAX   256
#define SQLSTORE_HISTORY_DEFAULT  100
#define SQLSTORE_HISTORY_MAX      1000
/* The messages' bytes one page holds at most (one message is 4 MiB at
 * most): below the control socket's 8 MiB line. */
#define SQLSTORE_HISTORY_BYTES (6u * 1024 * 1024)

typedef struct sqlstore_chat {
    sqlstore_llm_run lr;
    json_t *message; /* the neutral message, owned */
    char id[40];
    json_int_t seq;
    double time;
} sqlstore_chat;

/* ------------------------------------------------------------ checks */

static bool sqlstore_chat_text(const json_t *v, const char *key, size_t max, bool empty_ok,
                               sqlstore_err *e)
{
    if (!json_is_string(v))
        return sqlstore_bad(e, "'%s' must be a string", key);
    size_t n = json_string_length(v);
    if ((!empty_ok && n == 0) || n > max)
        return sqlstore_bad(e, "'%s' must be %d to %zu bytes, got %zu", key, empty_ok ? 0 : 1, max,
                            n);
    return true;
}

static bool sqlstore_chat_optional(const json_t *args, const char *key, sqlstore_err *e)
{
    const json_t *v = sqlstore_arg(args, key);
    return !v || sqlstore_chat_text(v, key, SQLSTORE_CHAT_NAME_MAX, false, e);
}

static bool sqlstore_chat_calls(const json_t *calls, const char *role, sqlstore_err *e)
{
    if (!calls)
        return true;
    if (strcmp(role, "assistant") != 0)
        return sqlstore_bad(e, "only an assistant message has 'tool_calls'");
    if (!json_is_array(calls) || json_array_size(calls) > SQLSTORE_CHAT_CALLS_MAX)
        return sqlstore_bad(e, "'tool_calls' must be a list of at most %d calls",
                            SQLSTORE_CHAT_CALLS_MAX);
    size_t i;
    const json_t *c;
    json_array_foreach(calls, i, c)
    {
        if (!json_is_object(c) || !json_is_string(json_object_get(c, "id")) ||
            !json_is_string(json_object_get(c, "name")))
            return sqlstore_bad(e, "tool_calls[%zu] must be an object with 'id' and 'name'", i);
    }
    return true;
}

static const char *const sqlstore_append_keys[] = {"run",      "session",    "task",         "role",
                                                   "content",  "tool_calls", "tool_call_id", "name",
                                                   "is_error", NULL};

/* The neutral message of an append, its members checked. */
static json_t *sqlstore_chat_message(const json_t *args, sqlstore_err *e)
{
    const char *role = NULL;
    const json_t *err = sqlstore_arg(args, "is_error");
    if (!sqlstore_check_args(args, sqlstore_append_keys, e) ||
        !sqlstore_arg_str(args, "role", &role, e))
        return NULL;
    if (!role || (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0 &&
                  strcmp(role, "tool") != 0 && strcmp(role, "system") != 0)) {
        sqlstore_bad(e, "'role' must be user, assistant, tool or system");
        return NULL;
    }
    if (!sqlstore_chat_text(sqlstore_arg(args, "content"), "content", SQLSTORE_CHAT_CONTENT_MAX,
                            true, e) ||
        !sqlstore_chat_calls(sqlstore_arg(args, "tool_calls"), role, e) ||
        !sqlstore_chat_optional(args, "tool_call_id", e) ||
        !sqlstore_chat_optional(args, "name", e))
        return NULL;
    if (err && !json_is_boolean(err)) {
        sqlstore_bad(e, "'is_error' must be a boolean");
        return NULL;
    }
    json_t *m = json_copy((json_t *)args);
    json_object_del(m, "run");
    json_object_del(m, "session");
    json_object_del(m, "task");
    return m;
}

/* ------------------------------------------------------------ append */

static int sqlstore_chat_insert(sqlstore *s, void *arg, json_t **reply)
{
    sqlstore_chat *c = arg;
    char *text = json_dumps(c->message, JSON_COMPACT);
    if (!text)
        return SQLITE_NOMEM;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db,
        "INSERT INTO chat_messages(session, seq, id, run, role, message, time)"
        " SELECT ?1, IFNULL(MAX(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6 FROM chat_messages"
        " WHERE session = ?1 RETURNING seq",
        -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, c->lr.session, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, c->id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, c->lr.run, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 4, json_string_value(json_object_get(c->message, "role")), -1,
                               SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 6, c->time);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        c->seq = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    free(text);
    if (rc != SQLITE_DONE)
        return rc;
    *reply = json_pack("{s:s,s:I}", "id", c->id, "seq", c->seq);
    return SQLITE_OK;
}

/* The stored message as history and events show it. */
static json_t *sqlstore_chat_item(const sqlstore_chat *c)
{
    json_t *o = json_copy(c->message);
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "seq", json_integer(c->seq));
    json_object_set_new(o, "run", json_string(c->lr.run));
    json_object_set_new(o, "session", json_string(c->lr.session));
    json_object_set_new(o, "time", json_real(c->time));
    return o;
}

/* Stores c (its message taken) and publishes it; the reply. */
static json_t *sqlstore_chat_store(sqlstore *s, sqlstore_chat *c, bool from_human)
{
    bosun_uuid_new(c->id, sizeof c->id);
    c->time = bosun_now();
    json_t *reply = sqlstore_llm_transaction(s, sqlstore_chat_insert, c);
    if (c->seq > 0 && !json_object_get(reply, "error")) {
        sqlstore_llm_publish(s, &c->lr, "chat.message", sqlstore_chat_item(c));
        if (from_human)
            sqlstore_llm_publish(s, &c->lr, "chat.user",
                                 json_pack("{s:s,s:I,s:O}", "id", c->id, "seq", c->seq, "text",
                                           json_object_get(c->message, "content")));
    }
    json_decref(c->message);
    return reply;
}

static json_t *sqlstore_chat_append(sqlstore *s, const json_t *args)
{
    sqlstore_chat c = {0};
    sqlstore_err e;
    json_t *reply = sqlstore_llm_resolve(s, args, &c.lr);
    if (reply)
        return reply;
    c.message = sqlstore_chat_message(args, &e);
    if (!c.message)
        return sqlstore_error_reply(strstr(e.msg, "bytes, got") ? "too_large" : "bad_request",
                                    e.msg);
    return sqlstore_chat_store(s, &c, false);
}

static const char *const sqlstore_send_keys[] = {"run", "session", "task", "text", NULL};

static json_t *sqlstore_chat_send(sqlstore *s, const json_t *args)
{
    sqlstore_chat c = {0};
    sqlstore_err e;
    json_t *reply = sqlstore_llm_resolve(s, args, &c.lr);
    if (reply)
        return reply;
    const json_t *text = sqlstore_arg(args, "text");
    if (!sqlstore_check_args(args, sqlstore_send_keys, &e) ||
        !sqlstore_chat_text(text, "text", SQLSTORE_CHAT_CONTENT_MAX, false, &e))
        return sqlstore_error_reply(strstr(e.msg, "bytes, got") ? "too_large" : "bad_request",
                                    e.msg);
    c.message = json_pack("{s:s,s:O}", "role", "user", "content", text);
    return sqlstore_chat_store(s, &c, true);
}

static void sqlstore_on_append(bus_t *bus, const bus_msg *msg, void *arg)
{
    sqlstore_llm_on_write(bus, msg, arg, sqlstore_chat_append);
}

static void sqlstore_on_send(bus_t *bus, const bus_msg *msg, void *arg)
{
    sqlstore_llm_on_write(bus, msg, arg, sqlstore_chat_send);
}

/* ------------------------------------------------------------ history */

static json_t *sqlstore_history_row(sqlite3_stmt *st)
{
    json_t *o = sqlstore_column_parsed(st, 4);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    json_object_set_new(o, "id", sqlstore_column_json(st, 0));
    json_object_set_new(o, "seq", sqlstore_column_json(st, 1));
    json_object_set_new(o, "run", sqlstore_column_json(st, 2));
    json_object_set_new(o, "time", sqlstore_column_json(st, 3));
    return o;
}

/* Steps st (newest first, limit + 1 rows at most) into a page, oldest
 * first, cut at limit messages or SQLSTORE_HISTORY_BYTES of them (one at
 * least), so that a reply fits a control socket line; next is the seq of
 * the oldest message kept when older ones remain. */
static json_t *sqlstore_history_page(sqlstore *s, sqlite3_stmt *st, int rc,
                                     const sqlstore_llm_run *lr, json_int_t limit)
{
    json_t *items = json_array();
    size_t bytes = 0;
    bool more = false;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 4);
        if ((json_int_t)json_array_size(items) == limit ||
            (json_array_size(items) > 0 && bytes + n > SQLSTORE_HISTORY_BYTES)) {
            more = true;
            rc = SQLITE_DONE;
            break;
        }
        bytes += n;
        json_array_insert_new(items, 0, sqlstore_history_row(st));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return sqlstore_db_error(s);
    }
    json_t *first = json_object_get(json_array_get(items, 0), "seq");
    return json_pack("{s:o,s:o,s:s}", "items", items, "next",
                     more ? json_incref(first) : json_null(), "session", lr->session);
}

static const char *const sqlstore_history_keys[] = {"run",   "session", "task",
                                                    "limit", "before",  NULL};

/* The newest limit messages before seq "before", oldest first; next is the
 * "before" of the page older than this one, null at the start. */
static json_t *sqlstore_chat_history(sqlstore *s, const json_t *args)
{
    sqlstore_llm_run lr;
    json_int_t limit = SQLSTORE_HISTORY_DEFAULT, before = INT64_MAX;
    sqlstore_err e;
    json_t *reply = sqlstore_llm_resolve(s, args, &lr);
    if (reply)
        return reply;
    if (!sqlstore_check_args(args, sqlstore_history_keys, &e) ||
        !sqlstore_arg_int(args, "limit", 1, SQLSTORE_HISTORY_MAX, &limit, &e) ||
        !sqlstore_arg_int(args, "before", 1, INT64_MAX, &before, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT id, seq, run, time, message FROM chat_messages"
                                " WHERE session = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, lr.session, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, before);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, limit + 1);
    return sqlstore_history_page(s, st, rc, &lr, limit);
}

/* ------------------------------------------------------------ clear */

static int sqlstore_chat_delete(sqlstore *s, void *arg, json_t **reply)
{
    const sqlstore_llm_run *lr = arg;
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(s->db, "DELETE FROM chat_messages WHERE session = ?1", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, lr->session, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    *reply = json_pack("{s:I}", "cleared", (json_int_t)sqlite3_changes(s->db));
    return SQLITE_OK;
}

static const char *const sqlstore_clear_keys[] = {"run", "session", "task", NULL};

static json_t *sqlstore_chat_clear(sqlstore *s, const json_t *args)
{
    sqlstore_llm_run lr;
    sqlstore_err e;
    json_t *reply = sqlstore_llm_resolve(s, args, &lr);
    if (reply)
        return reply;
    if (!sqlstore_check_args(args, sqlstore_clear_keys, &e))
        return sqlstore_error_reply("bad_request", e.msg);
    reply = sqlstore_llm_transaction(s, sqlstore_chat_delete, &lr);
    if (json_object_get(reply, "cleared"))
        sqlstore_llm_publish(s, &lr, "chat.cleared",
                             json_pack("{s:s,s:s,s:O}", "run", lr.run, "session", lr.session,
                                       "cleared", json_object_get(reply, "cleared")));
    return reply;
}

static void sqlstore_on_clear(bus_t *bus, const bus_msg *msg, void *arg)
{
    sqlstore_llm_on_write(bus, msg, arg, sqlstore_chat_clear);
}

const sqlstore_route sqlstore_llm_chat_routes[] = {
    {"cmd.llm.chat.append", NULL, sqlstore_on_append},
    {"cmd.llm.chat.history", sqlstore_chat_history, NULL},
    {"cmd.llm.chat.send", NULL, sqlstore_on_send},
    {"cmd.llm.chat.clear", NULL, sqlstore_on_clear},
    {NULL, NULL, NULL},
};
