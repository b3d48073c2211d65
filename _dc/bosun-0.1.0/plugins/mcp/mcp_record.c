/* mcp — the events of sessions, published once the response is out.
 *
 * A tools/call's response is what its agent waits for; the events that
 * record the call (tool_call, and a tool's own such as status or log) are
 * for everyone else.  So they are queued here, and built and published
 * just after: at the plugin's ev_prepare, which runs before the loop polls
 * again (so before anything sent after the response is read), or before
 * the next message of any session is handled, whichever comes first.  Either way they are on the
 * bus before anything a later message causes, in the order they were made, and whoever sees a
 * response and then asks the store still finds them (the store commits
 * what is pending before it answers).
 *
 * A queued event carries what it needs of its session (subject, run, task,
 * agent), so it outlives a session that closes in between. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "mcp.h"

struct mcp_record {
    mcp_record *next;
    json_t *run, *task, *agent; /* the session's, shared */
    json_t *data;               /* the event's data; NULL for a tool_call until built */
    struct {                    /* a tool_call's fields, built into data when published */
        char *tool;
        json_t *args, *request_id, *error;
        const char *outcome;
        bool is_error;
        json_int_t duration_ms;
    } call;
    char subject[BUS_SUBJECT_MAX];
};

static void mcp_record_free(mcp_record *r)
{
    json_decref(r->run);
    json_decref(r->task);
    json_decref(r->agent);
    json_decref(r->data);
    free(r->call.tool);
    json_decref(r->call.args);
    json_decref(r->call.request_id);
    json_decref(r->call.error);
    free(r);
}

static mcp_record *mcp_record_new(mcp_session *s, const char *kind)
{
    size_t prefix = strlen(s->evt_prefix), n = strlen(kind);
    if (prefix + n >= BUS_SUBJECT_MAX) {
        log_warning("mcp: session %s: the %s event's subject is too long; not published", s->sid,
                    kind);
        return NULL;
    }
    mcp_record *r = calloc(1, sizeof *r);
    if (!r) {
        log_error("mcp: session %s: out of memory; %s event not published", s->sid, kind);
        return NULL;
    }
    memcpy(r->subject, s->evt_prefix, prefix);
    memcpy(r->subject + prefix, kind, n + 1);
    r->run = json_incref(s->j_run);
    r->task = json_incref(s->j_task);
    r->agent = json_incref(s->j_agent);
    return r;
}

static void mcp_record_queue(mcp_plugin *mp, mcp_record *r)
{
    if (mp->records_tail)
        mp->records_tail->next = r;
    else
        mp->records = r;
    mp->records_tail = r;
    if (!ev_is_active(&mp->records_prepare))
        ev_prepare_start(mp->ctx->loop, &mp->records_prepare);
}

void mcp_session_event(mcp_session *s, const char *kind, json_t *data)
{
    if (!data)
        return;
    mcp_record *r = mcp_record_new(s, kind);
    if (!r) {
        json_decref(data);
        return;
    }
    r->data = data;
    mcp_record_queue(s->mp, r);
}

void mcp_record_tool_call(mcp_call *c, const char *outcome, bool is_error, json_t *error)
{
    mcp_record *r = mcp_record_new(c->s, "tool_call");
    if (!r)
        return;
    r->call.tool = c->tool_name;
    c->tool_name = NULL;
    r->call.args = json_incref(c->args);
    r->call.request_id = json_incref(c->id);
    r->call.error = json_incref(error);
    r->call.outcome = outcome;
    r->call.is_error = is_error;
    r->call.duration_ms = (json_int_t)((ev_time() - c->started) * 1000.0 + 0.5);
    mcp_record_queue(c->s->mp, r);
}

/* The tool_call event: arguments with secret-looking values redacted and
 * long strings shortened. */
static json_t *mcp_record_call_data(const mcp_record *r)
{
    json_t *data = json_pack(
        "{s:s,s:o,s:s,s:b,s:I,s:O}", "tool", r->call.tool ? r->call.tool : "", "arguments",
        r->call.args ? bosun_json_redact(r->call.args, MCP_EVENT_STRING_MAX) : json_null(),
        "outcome", r->call.outcome, "is_error", r->call.is_error, "duration_ms",
        r->call.duration_ms, "request_id", r->call.request_id);
    if (data && r->call.error)
        json_object_set(data, "error", r->call.error);
    return data;
}

static void mcp_record_publish(mcp_plugin *mp, mcp_record *r)
{
    json_t *data = r->data ? json_incref(r->data) : mcp_record_call_data(r);
    if (!data) {
        log_error("mcp: out of memory; %s not published", r->subject);
        return;
    }
    json_object_set(data, "run", r->run);
    json_object_set(data, "task", r->task ? r->task : json_null());
    json_object_set(data, "agent", r->agent);
    if (bus_publish_new(mp->ctx->bus, r->subject, NULL, data) != 0)
        log_warning("mcp: cannot publish on '%s'", r->subject);
}

void mcp_record_flush(mcp_plugin *mp)
{
    while (mp->records) {
        mcp_record *r = mp->records;
        mp->records = r->next;
        if (!mp->records)
            mp->records_tail = NULL;
        mcp_record_publish(mp, r);
        mcp_record_free(r);
    }
    ev_prepare_stop(mp->ctx->loop, &mp->records_prepare);
}

static void mcp_record_on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    mcp_record_flush(w->data);
}

void mcp_record_init(mcp_plugin *mp)
{
    ev_prepare_init(&mp->records_prepare, mcp_record_on_prepare);
    mp->records_prepare.data = mp;
}
