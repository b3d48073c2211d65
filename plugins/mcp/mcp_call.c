/* mcp — one tools/call in flight.
 *
 * A call lives from tools/call until its response (or its cancellation):
 * it owns the bus requests its tool made, so that ending the call early
 * (notifications/cancelled, a closed session, plugin stop) cancels them
 * and no late reply finds a freed call.  Every call ends with one
 * evt.run.<agent>.<run>.tool_call event, queued with the response and
 * published once the response is out (see mcp_record.c). */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/json.h>

#include "mcp.h"

#define MCP_TOOL_NAME_MAX 128

mcp_call *mcp_call_new(mcp_session *s, json_t *id, const char *tool_name)
{
    mcp_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->tool_name = strndup(tool_name ? tool_name : "", MCP_TOOL_NAME_MAX);
    if (!c->tool_name) {
        free(c);
        return NULL;
    }
    mcp_utf8_trim(c->tool_name);
    c->s = s;
    c->id = json_incref(id);
    c->started = ev_time();
    c->next = s->calls;
    if (s->calls)
        s->calls->prev = c;
    s->calls = c;
    s->n_calls++;
    return c;
}

mcp_call *mcp_call_find(mcp_session *s, const json_t *id)
{
    if (!id)
        return NULL;
    for (mcp_call *c = s->calls; c; c = c->next)
        if (json_equal(c->id, (json_t *)id))
            return c;
    return NULL;
}

void mcp_call_start(mcp_call *c)
{
    char err[256];
    if (c->tool->check && !c->tool->check(c->args, err, sizeof err))
        return mcp_call_fail(c, "%s", err);
    c->tool->run(c);
}

bool mcp_call_pending(const mcp_call *c)
{
    for (int i = 0; i < MCP_CALL_SLOTS; i++)
        if (c->slots[i].id)
            return true;
    return false;
}

/* ------------------------------------------------------------ ending */

static void mcp_call_free(mcp_call *c)
{
    mcp_session *s = c->s;
    bus_t *bus = s->mp->ctx->bus;
    for (int i = 0; i < MCP_CALL_SLOTS; i++) {
        if (c->slots[i].id)
            bus_request_cancel(bus, c->slots[i].id);
        json_decref(c->parts[i]);
    }
    mcp_tool_release(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_calls--;
    json_decref(c->id);
    json_decref(c->args);
    json_decref(c->progress_token);
    json_decref(c->meta);
    free(c->tool_name);
    free(c);
}

/* {"content":[{"type":"text","text":TEXT}],"isError":IS_ERROR,
 * "structuredContent":STRUCTURED}, written straight into the response:
 * this is the answer to nearly every call, so it skips building the
 * object only to write it out.  Without a text, the structured content's
 * JSON is the text too: written once, used twice. */
static bool mcp_append_result(bosun_json_buf *out, const char *text, const json_t *structured,
                              bool is_error, bool stateless)
{
    /* 2026-07-28 results say resultType first. */
    const char *open = stateless ? "{\"resultType\":\"complete\"," : "{";
    static const char head[] = "\"content\":[{\"type\":\"text\",\"text\":";
    static const char member[] = ",\"structuredContent\":";
    const char *tail = is_error ? "}],\"isError\":true" : "}],\"isError\":false";
    size_t dumped_len = 0;
    char *dumped = structured ? bosun_json_dump(structured, 0, &dumped_len) : NULL;
    bool ok = (!structured || dumped) && bosun_json_append_raw(out, open, strlen(open)) == 0 &&
              bosun_json_append_raw(out, head, sizeof head - 1) == 0;
    if (ok && (text || dumped))
        ok = bosun_json_append_string(out, text ? text : dumped, text ? strlen(text) : dumped_len,
                                      0) == 0;
    else if (ok)
        ok = bosun_json_append_raw(out, "\"\"", 2) == 0;
    ok = ok && bosun_json_append_raw(out, tail, strlen(tail)) == 0;
    if (ok && dumped)
        ok = bosun_json_append_raw(out, member, sizeof member - 1) == 0 &&
             bosun_json_append_raw(out, dumped, dumped_len) == 0;
    free(dumped);
    return ok && bosun_json_append_raw(out, "}}", 2) == 0;
}

void mcp_call_result(mcp_call *c, const char *text, json_t *structured)
{
    bool ok = mcp_session_begin_result(c->s, c->id) &&
              mcp_append_result(&c->s->out, text, structured, false, c->stateless);
    json_decref(structured);
    if (!ok)
        return mcp_call_error(c, MCP_INTERNAL_ERROR, "cannot write the result");
    mcp_session_send_out(c->s);
    mcp_record_tool_call(c, "ok", false, NULL);
    mcp_call_free(c);
}

void mcp_call_fail(mcp_call *c, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    mcp_utf8_trim(text);
    if (mcp_session_begin_result(c->s, c->id) &&
        mcp_append_result(&c->s->out, text, NULL, true, c->stateless))
        mcp_session_send_out(c->s);
    else
        log_error("mcp: session %s: cannot write an error result", c->s->sid);
    json_t *message = json_string(text);
    mcp_record_tool_call(c, "error", true, message);
    json_decref(message);
    mcp_call_free(c);
}

void mcp_call_error(mcp_call *c, int code, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    mcp_utf8_trim(text);
    mcp_session_error(c->s, c->id, code, "%s", text);
    json_t *error = json_pack("{s:i,s:s}", "code", code, "message", text);
    mcp_record_tool_call(c, "error", false, error);
    json_decref(error);
    mcp_call_free(c);
}

void mcp_call_cancel(mcp_call *c, const char *reason)
{
    log_debug("mcp: session %s: call of %s cancelled: %s", c->s->sid, c->tool_name, reason);
    json_t *full = json_string(reason);
    json_t *why = full ? bosun_json_redact(full, MCP_EVENT_STRING_MAX) : NULL; /* shortened */
    json_decref(full);
    mcp_record_tool_call(c, "cancelled", false, why);
    json_decref(why);
    mcp_call_free(c);
}

/* ------------------------------------------------------------ bus requests */

static void mcp_on_reply(bus_t *bus, enum bus_reply_status st, const bus_msg *msg, void *arg)
{
    mcp_slot *slot = arg;
    mcp_call *c = slot->call;
    slot->id = 0;
    if (st == BUS_REPLY_CANCELLED)
        return; /* the bus is going away; the plugin's stop frees the call */
    char err[512];
    const char *error = NULL;
    json_t *data = st == BUS_REPLY_OK ? msg->data : NULL;
    json_t *e = json_object_get(data, "error");
    if (st == BUS_REPLY_TIMEOUT) {
        snprintf(err, sizeof err, "%s did not answer in time", slot->subject);
        error = err;
    } else if (st == BUS_REPLY_NO_RESPONDERS) {
        snprintf(err, sizeof err, "nobody answers %s", slot->subject);
        error = err;
    } else if (e) {
        const char *m = json_string_value(json_object_get(e, "message"));
        const char *code = json_string_value(json_object_get(e, "code"));
        snprintf(err, sizeof err, "%s", m ? m : code ? code : "failed");
        mcp_utf8_trim(err);
        error = err;
    } else if (!json_is_object(data)) {
        snprintf(err, sizeof err, "%s gave no object", slot->subject);
        error = err;
    }
    slot->done(c, (int)(slot - c->slots), data, error);
}

bool mcp_call_request(mcp_call *c, int slot, const char *subject, json_t *data, double timeout,
                      mcp_reply_fn done)
{
    mcp_slot *sl = &c->slots[slot];
    sl->call = c;
    sl->subject = subject;
    sl->done = done;
    sl->id = data ? bus_request(c->s->mp->ctx->bus, subject, data, timeout, mcp_on_reply, sl) : 0;
    json_decref(data);
    return sl->id != 0;
}
