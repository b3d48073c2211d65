/* sqlite store — a hub's copy of its machines' events (bosun-fleet(7)).
 *
 * cmd.store.append_remote {"machine": ID, "events": [{"seq","subject",
 * "time","data","run"?,"task"?}, ...]} -> {"machine": ID, "acked_seq": N}
 *
 * The fleet plugin has checked the batch (fleet_events.c); this side only
 * guards what it relies on.  The events join the pending batch like the
 * store's own, so they are committed in the same transactions, with
 * "machine" = ID in their data (whatever the machine put there: the link
 * says who sent them) and their machine seq in the mseq column, whose
 * unique index per machine skips one stored before.  They come from
 * cmd.store.append_remote, never from "evt.>", so nothing on the hub (its
 * supervisor, approvals, budgets, the store itself) takes them for its own
 * events; once committed they appear on the stored.* feed with "machine"
 * and "machine_seq".
 *
 * The reply waits for the commit (sqlstore_defer) and says the highest mseq
 * stored for the machine, read from the database: after a failed commit it
 * is the one before the batch, so an acknowledgement never covers an event
 * that is not on disk.  With no events the request only asks that (the
 * acked_seq of machine.register). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sqlite_store.h"

#define SQLSTORE_REMOTE_EVENTS_MAX 256
#define SQLSTORE_MACHINE_MAX       64

static const char *const sqlstore_remote_keys[] = {"machine", "events", NULL};
static const char *const sqlstore_remote_event_keys[] = {"seq", "subject", "time", "data",
                                                         "run", "task",    NULL};

/* The machine id is a subject token: it names evt.machine.<id> events. */
static bool sqlstore_machine_ok(const char *m)
{
    size_t n = m ? strlen(m) : 0;
    return n > 0 && n <= SQLSTORE_MACHINE_MAX &&
           strspn(m, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static bool sqlstore_remote_event_ok(const json_t *ev, json_int_t prev, sqlstore_err *e, size_t i)
{
    if (!sqlstore_check_args(ev, sqlstore_remote_event_keys, e) || !json_is_object(ev))
        return sqlstore_bad(e, "events[%zu]: an object {seq, subject, time, data}", i);
    const json_t *seq = json_object_get(ev, "seq"), *time = json_object_get(ev, "time");
    const char *subject = json_string_value(json_object_get(ev, "subject"));
    if (!json_is_integer(seq) || json_integer_value(seq) <= prev)
        return sqlstore_bad(e, "events[%zu].seq: an integer above %lld", i, (long long)prev);
    if (!subject || strncmp(subject, "evt.", 4) != 0 || bus_subject_check(subject) != 0)
        return sqlstore_bad(e, "events[%zu].subject: an evt. subject", i);
    if (!json_is_number(time) || !isfinite(json_number_value(time)) || json_number_value(time) < 0)
        return sqlstore_bad(e, "events[%zu].time: seconds since the epoch", i);
    if (!json_is_object(json_object_get(ev, "data")))
        return sqlstore_bad(e, "events[%zu].data: an object", i);
    return true;
}

static bool sqlstore_remote_parse(const json_t *args, const char **machine, const json_t **events,
                                  sqlstore_err *e)
{
    if (!sqlstore_check_args(args, sqlstore_remote_keys, e) ||
        !sqlstore_arg_str(args, "machine", machine, e))
        return false;
    if (!sqlstore_machine_ok(*machine))
        return sqlstore_bad(e, "'machine' must be a machine id (a subject token of 1 to %d bytes)",
                            SQLSTORE_MACHINE_MAX);
    *events = sqlstore_arg(args, "events");
    if (*events &&
        (!json_is_array(*events) || json_array_size(*events) > SQLSTORE_REMOTE_EVENTS_MAX))
        return sqlstore_bad(e, "'events' must be a list of at most %d events",
                            SQLSTORE_REMOTE_EVENTS_MAX);
    json_int_t prev = 0;
    size_t i;
    const json_t *ev;
    json_array_foreach(*events, i, ev)
    {
        if (!sqlstore_remote_event_ok(ev, prev, e, i))
            return false;
        prev = json_integer_value(json_object_get(ev, "seq"));
    }
    return true;
}

/* The highest mseq stored for machine (0: none), from the partial index;
 * the statement is kept for the next batch. */
static json_t *sqlstore_remote_acked(sqlstore *s, const json_t *args)
{
    const char *machine = json_string_value(json_object_get(args, "machine"));
    int rc = SQLITE_OK;
    if (!s->acked_mseq)
        rc = sqlite3_prepare_v3(s->db,
                                "SELECT IFNULL(max(mseq), 0) FROM events"
                                " WHERE machine = ?1 AND mseq IS NOT NULL",
                                -1, SQLITE_PREPARE_PERSISTENT, &s->acked_mseq, NULL);
    sqlite3_stmt *st = s->acked_mseq;
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, machine, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    json_t *reply = rc == SQLITE_ROW ? json_pack("{s:s,s:I}", "machine", machine, "acked_seq",
                                                 (json_int_t)sqlite3_column_int64(st, 0))
                                     : sqlstore_db_error(s);
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return reply;
}

/* The event as stored: the machine's data with "machine" set to who sent
 * it.  A shallow copy, as only its top level changes: the values below are
 * the bus's, shared read-only with the writer thread as every local
 * event's data is (jansson's reference counts are atomic). */
static int sqlstore_remote_add(sqlstore *s, const char *machine, const json_t *ev)
{
    json_t *data = json_copy(json_object_get(ev, "data"));
    if (!data || json_object_set_new(data, "machine", json_string(machine)) != 0) {
        json_decref(data);
        return -1;
    }
    const json_t *run = json_object_get(ev, "run"), *task = json_object_get(ev, "task");
    /* run and task travel beside the data as the machine's store read them
     * (from the data); the store reads them from the data again. */
    if (json_is_string(run) && !json_object_get(data, "run"))
        json_object_set(data, "run", (json_t *)run);
    if (json_is_string(task) && !json_object_get(data, "task"))
        json_object_set(data, "task", (json_t *)task);
    int rc = sqlstore_batch_add(s, json_string_value(json_object_get(ev, "subject")),
                                json_number_value(json_object_get(ev, "time")), data,
                                json_integer_value(json_object_get(ev, "seq")));
    json_decref(data);
    return rc;
}

static void sqlstore_reply_error(sqlstore *s, const bus_msg *msg, const char *code,
                                 const char *message)
{
    json_t *r = sqlstore_error_reply(code, message);
    bus_reply(s->ctx->bus, msg, r);
    json_decref(r);
}

static void sqlstore_on_append_remote(bus_t *bus, const bus_msg *msg, void *arg)
{
    (void)bus;
    sqlstore *s = arg;
    const char *machine = NULL;
    const json_t *events = NULL;
    sqlstore_err e;
    if (!sqlstore_remote_parse(msg->data, &machine, &events, &e)) {
        log_warning("sqlite: cmd.store.append_remote refused: %s", e.msg);
        return sqlstore_reply_error(s, msg, "bad_request", e.msg);
    }
    /* While commits fail the batch only grows: the machine keeps its
     * events (its store is the buffer) and sends them again later. */
    if (events && json_array_size(events) > 0 && s->failing)
        return sqlstore_reply_error(s, msg, "store_failing", s->errmsg);
    size_t i;
    const json_t *ev;
    json_array_foreach(events, i, ev)
    {
        if (sqlstore_remote_add(s, machine, ev) != 0) {
            /* The ones added are committed and acknowledged; the machine
             * sends the rest again. */
            log_error("sqlite: out of memory; %zu events of machine %s not stored",
                      json_array_size(events) - i, machine);
            break;
        }
    }
    if (msg->reply)
        sqlstore_answer(s->ctx->bus, msg, s, sqlstore_remote_acked);
}

const sqlstore_route sqlstore_remote_routes[] = {
    {BOSUN_STORE_APPEND_REMOTE, NULL, sqlstore_on_append_remote},
    {NULL, NULL, NULL},
};
