/* mcp — sessions: JSON-RPC 2.0 framing, the MCP lifecycle and dispatch.
 *
 * One line on mcp.session.<SID>.in is one JSON-RPC message (the stdio
 * transport of MCP); every answer is one compact line on .out.  Nothing a
 * client sends ends the session: a bad message gets its error and the next
 * line is read as usual.  Only .closed ends it.
 *
 * Two eras share a session.  The 2025 revisions open with initialize; the
 * stateless 2026-07-28 revision has no handshake: a request whose
 * params._meta names its revision is served on its own, whatever came
 * before it, and its result says resultType.  The request's body decides,
 * as the revision's "body-primary" classification asks. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bosun/json.h>

#include "mcp.h"

/* Newest first: initialize echoes the client's revision when it is here. */
static const char *const mcp_protocols[] = {MCP_PROTOCOL_LATEST, "2025-06-18", "2025-03-26",
                                            "2024-11-05", NULL};
/* How long a stateless client may keep server/discover's answer: what it
 * says lasts as long as the run.  tools/list gets 0: a reload can change
 * the tools, and nothing can tell a stateless client so. */
#define MCP_DISCOVER_TTL_MS 3600000

static const char mcp_sid_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* ------------------------------------------------------------ output */

/* Messages are written as text into the session's buffer and leave as
 * one line: compact JSON escapes every newline, and the writer only puts
 * out well-formed UTF-8, so the line needs no second check. */
void mcp_session_send_out(mcp_session *s)
{
    json_t *msg = json_object();
    if (!msg || json_object_set_new_nocheck(msg, "line",
                                            json_stringn_nocheck(s->out.data, s->out.len)) != 0) {
        json_decref(msg);
        log_error("mcp: session %s: out of memory sending a message", s->sid);
        return;
    }
    if (bus_publish_new(s->mp->ctx->bus, s->out_subject, NULL, msg) != 0)
        log_error("mcp: session %s: cannot send a message", s->sid);
}

void mcp_session_send(mcp_session *s, json_t *msg)
{
    s->out.len = 0;
    int rc = msg ? bosun_json_append(&s->out, msg, 0) : -1;
    json_decref(msg);
    if (rc != 0) {
        log_error("mcp: session %s: cannot serialise a message", s->sid);
        return;
    }
    mcp_session_send_out(s);
}

bool mcp_session_begin_result(mcp_session *s, const json_t *id)
{
    static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
    static const char member[] = ",\"result\":";
    s->out.len = 0;
    return bosun_json_append_raw(&s->out, head, sizeof head - 1) == 0 &&
           bosun_json_append(&s->out, id, 0) == 0 &&
           bosun_json_append_raw(&s->out, member, sizeof member - 1) == 0;
}

void mcp_session_reply(mcp_session *s, json_t *id, json_t *result)
{
    bool ok = result && mcp_session_begin_result(s, id) &&
              bosun_json_append(&s->out, result, 0) == 0 &&
              bosun_json_append_raw(&s->out, "}", 1) == 0;
    json_decref(result);
    if (!ok) {
        log_error("mcp: session %s: cannot serialise a response", s->sid);
        return;
    }
    mcp_session_send_out(s);
}

static void mcp_session_verror(mcp_session *s, json_t *id, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void mcp_session_verror(mcp_session *s, json_t *id, int code, const char *fmt, va_list ap)
{
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    mcp_utf8_trim(text);
    mcp_session_send(s, json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id",
                                  id ? id : json_null(), "error", "code", code, "message", text));
}

void mcp_session_error(mcp_session *s, json_t *id, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mcp_session_verror(s, id, code, fmt, ap);
    va_end(ap);
}

void mcp_session_notify(mcp_session *s, const char *method, json_t *params)
{
    json_t *msg = json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", method);
    if (msg && params)
        json_object_set_new(msg, "params", params);
    else
        json_decref(params);
    mcp_session_send(s, msg);
}

/* ------------------------------------------------------------ methods */

static const char *mcp_protocol_for(const char *asked)
{
    for (size_t i = 0; mcp_protocols[i]; i++)
        if (strcmp(asked, mcp_protocols[i]) == 0)
            return mcp_protocols[i];
    return MCP_PROTOCOL_LATEST;
}

static json_t *mcp_instructions(const mcp_session *s)
{
    char text[1024];
    snprintf(text, sizeof text,
             "bosun supervises this agent (agent %s, run %s%s%s). Call get_task to read the "
             "task and earlier answers; report progress with report_status; ask a human with "
             "request_input (blocking: true lets you exit and be resumed with the answer); "
             "store results with add_artifact and link pull requests with link_pr.",
             s->agent, s->run, s->task ? ", task " : "", s->task ? s->task : "");
    return json_string(text);
}

static json_t *mcp_server_info(void)
{
    return json_pack("{s:s,s:s,s:s}", "name", "bosun", "title", "bosun agent supervisor", "version",
                     BOSUN_VERSION);
}

static void mcp_initialize(mcp_session *s, json_t *id, json_t *params)
{
    const char *asked = json_string_value(json_object_get(params, "protocolVersion"));
    if (!asked)
        return mcp_session_error(s, id, MCP_INVALID_PARAMS,
                                 "initialize: 'protocolVersion' (a string) is required");
    const char *version = mcp_protocol_for(asked);
    json_t *result = json_pack("{s:s,s:{s:{s:b}},s:o,s:o}", "protocolVersion", version,
                               "capabilities", "tools", "listChanged", 1, "serverInfo",
                               mcp_server_info(), "instructions", mcp_instructions(s));
    if (!result)
        return mcp_session_error(s, id, MCP_INTERNAL_ERROR, "out of memory");
    s->initialized = true;
    log_info("mcp: session %s initialized (protocol %s, run %s)", s->sid, version, s->run);
    mcp_session_reply(s, id, result);
}

/* Cursors are opaque to clients: the tool-set generation and an offset, so
 * that a cursor from before a tool-set change is refused rather than
 * silently skipping or repeating tools. */
#define MCP_CURSOR_MASK 0x9e3779b97f4a7c15ULL

static void mcp_cursor_encode(uint32_t gen, size_t offset, char out[17])
{
    unsigned long long v = (((unsigned long long)gen << 32) | (offset & 0xffffffffu));
    snprintf(out, 17, "%016llx", v ^ MCP_CURSOR_MASK);
}

static bool mcp_cursor_decode(const char *text, uint32_t gen, size_t *offset)
{
    if (strlen(text) != 16 || strspn(text, "0123456789abcdef") != 16)
        return false;
    unsigned long long v = strtoull(text, NULL, 16) ^ MCP_CURSOR_MASK;
    if ((uint32_t)(v >> 32) != gen)
        return false;
    *offset = (size_t)(v & 0xffffffffu);
    return true;
}

/* A cacheable 2026-07-28 result: complete, and how long this client alone
 * may cache it.  NULL stays NULL. */
static json_t *mcp_stateless_result(json_t *result, json_int_t ttl_ms)
{
    if (result && (json_object_set_new(result, "resultType", json_string("complete")) != 0 ||
                   json_object_set_new(result, "ttlMs", json_integer(ttl_ms)) != 0 ||
                   json_object_set_new(result, "cacheScope", json_string("private")) != 0)) {
        json_decref(result);
        return NULL;
    }
    return result;
}

static void mcp_tools_list(mcp_session *s, json_t *id, json_t *params, bool stateless)
{
    mcp_plugin *mp = s->mp;
    const mcp_tool *enabled[MCP_TOOL_COUNT];
    size_t n = 0, offset = 0;
    for (int i = 0; i < MCP_TOOL_COUNT; i++)
        if (mcp_tool_enabled(mp, mcp_tool_get(i)))
            enabled[n++] = mcp_tool_get(i);
    json_t *cursor = json_object_get(params, "cursor");
    if (cursor && !json_is_null(cursor) &&
        (!json_is_string(cursor) ||
         !mcp_cursor_decode(json_string_value(cursor), mp->tools_gen, &offset) || offset == 0 ||
         offset >= n))
        return mcp_session_error(s, id, MCP_INVALID_PARAMS, "tools/list: invalid cursor");
    json_t *tools = json_array();
    size_t end = offset + (size_t)mp->cfg.page_size;
    for (size_t i = offset; i < n && i < end; i++)
        json_array_append_new(tools, mcp_tool_describe(mp, enabled[i]));
    json_t *result = json_pack("{s:o}", "tools", tools);
    if (result && end < n) {
        char next[17];
        mcp_cursor_encode(mp->tools_gen, end, next);
        json_object_set_new(result, "nextCursor", json_string(next));
    }
    if (stateless)
        result = mcp_stateless_result(result, 0);
    if (!result)
        return mcp_session_error(s, id, MCP_INTERNAL_ERROR, "out of memory");
    mcp_session_reply(s, id, result);
}

static void mcp_tools_call(mcp_session *s, json_t *id, json_t *params, bool stateless)
{
    if (mcp_call_find(s, id))
        return mcp_session_error(s, id, MCP_INVALID_REQUEST,
                                 "request id is already used by a call in progress");
    if (s->n_calls >= MCP_MAX_CALLS)
        return mcp_session_error(s, id, MCP_INTERNAL_ERROR, "too many tool calls in progress (%d)",
                                 MCP_MAX_CALLS);
    json_t *name = json_object_get(params, "name");
    mcp_call *c = mcp_call_new(s, id, json_string_value(name));
    if (!c)
        return mcp_session_error(s, id, MCP_INTERNAL_ERROR, "out of memory");
    c->stateless = stateless;
    if (!json_is_string(name))
        return mcp_call_error(c, MCP_INVALID_PARAMS, "tools/call: 'name' (a string) is required");
    const mcp_tool *t = mcp_tool_find(json_string_value(name));
    if (!mcp_tool_enabled(s->mp, t))
        return mcp_call_error(c, MCP_INVALID_PARAMS, "unknown tool: %s", c->tool_name);
    c->tool = t;
    /* Arguments that do not fit the schema are a tool execution error
     * (2025-11-25, SEP-1303): the model sees the message and can retry
     * with better ones, which it cannot do with a protocol error. */
    json_t *args = json_object_get(params, "arguments");
    c->args = json_is_object(args) ? json_incref(args) : json_object();
    if (args && !json_is_null(args) && !json_is_object(args))
        return mcp_call_fail(c, "invalid arguments for %s: 'arguments' must be an object", t->name);
    char err[256];
    if (!mcp_tool_check_args(s->mp, t, c->args, err, sizeof err))
        return mcp_call_fail(c, "invalid arguments for %s: %s", t->name, err);
    json_t *meta = json_object_get(params, "_meta");
    if (json_is_object(meta))
        c->meta = json_incref(meta);
    json_t *token = json_object_get(meta, "progressToken");
    if (json_is_string(token) || json_is_integer(token))
        c->progress_token = json_incref(token);
    mcp_call_start(c);
}

/* A dead or expired token refuses every request but ping; true when this
 * one got that error. */
static bool mcp_request_refused(mcp_session *s, json_t *id)
{
    if (s->ended)
        mcp_session_error(s, id, MCP_INVALID_REQUEST,
                          "run %s has ended: its agent token is no longer valid", s->run);
    else if (s->expires_at > 0 && ev_now(s->mp->ctx->loop) >= s->expires_at)
        mcp_session_error(s, id, MCP_INVALID_REQUEST, "the agent token has expired");
    else
        return false;
    return true;
}

static void mcp_request(mcp_session *s, json_t *id, const char *method, json_t *params)
{
    if (strcmp(method, "ping") == 0)
        return mcp_session_reply(s, id, json_object());
    if (mcp_request_refused(s, id))
        return;
    if (!s->initialized) {
        if (strcmp(method, "initialize") == 0)
            return mcp_initialize(s, id, params);
        if (strcmp(method, "server/discover") == 0)
            return mcp_session_error(s, id, MCP_INVALID_PARAMS,
                                     "server/discover: params._meta must name the revision "
                                     "(" BOSUN_MCP_META_VERSION " \"" BOSUN_MCP_STATELESS_VERSION
                                     "\"); 2025 clients send initialize");
        return mcp_session_error(s, id, MCP_INVALID_REQUEST,
                                 "server not initialized: send initialize first");
    }
    if (strcmp(method, "initialize") == 0)
        return mcp_session_error(s, id, MCP_INVALID_REQUEST, "already initialized");
    if (strcmp(method, "tools/list") == 0)
        return mcp_tools_list(s, id, params, false);
    if (strcmp(method, "tools/call") == 0)
        return mcp_tools_call(s, id, params, false);
    mcp_session_error(s, id, MCP_METHOD_NOT_FOUND, "method not found: %s", method);
}

/* ------------------------------------------------------------ 2026-07-28 */

/* Every revision this server speaks, the stateless one first. */
static json_t *mcp_supported_versions(void)
{
    json_t *all = json_pack("[s]", BOSUN_MCP_STATELESS_VERSION);
    for (size_t i = 0; all && mcp_protocols[i]; i++)
        if (json_array_append_new(all, json_string(mcp_protocols[i])) != 0) {
            json_decref(all);
            return NULL;
        }
    return all;
}

static void mcp_unsupported_version(mcp_session *s, json_t *id, const char *asked)
{
    char text[256];
    snprintf(
        text, sizeof text,
        "unsupported protocol version \"%.64s\" (this server speaks " BOSUN_MCP_STATELESS_VERSION
        " without initialize, and " MCP_PROTOCOL_LATEST " and earlier with it)",
        asked);
    mcp_utf8_trim(text);
    mcp_session_send(s,
                     json_pack("{s:s,s:O,s:{s:i,s:s,s:{s:o,s:s}}}", "jsonrpc", "2.0", "id", id,
                               "error", "code", BOSUN_MCP_UNSUPPORTED_PROTOCOL, "message", text,
                               "data", "supported", mcp_supported_versions(), "requested", asked));
}

/* The server's identity goes in the result's _meta (the revision's final
 * text, spec PR #3002, where clients read it) and beside it as in the
 * earlier drafts. */
static void mcp_discover(mcp_session *s, json_t *id)
{
    json_t *result = json_pack("{s:o,s:{s:{}},s:o,s:o,s:{s:o}}", "supportedVersions",
                               mcp_supported_versions(), "capabilities", "tools", "serverInfo",
                               mcp_server_info(), "instructions", mcp_instructions(s), "_meta",
                               "io.modelcontextprotocol/serverInfo", mcp_server_info());
    result = mcp_stateless_result(result, MCP_DISCOVER_TTL_MS);
    if (!result)
        return mcp_session_error(s, id, MCP_INTERNAL_ERROR, "out of memory");
    mcp_session_reply(s, id, result);
}

/* A request whose params._meta names its revision: checked against the
 * revision (the envelope, then the method) and served without a
 * handshake. */
static void mcp_stateless_request(mcp_session *s, json_t *id, const char *method, json_t *params,
                                  const json_t *meta)
{
    const char *asked = json_string_value(json_object_get(meta, BOSUN_MCP_META_VERSION));
    if (!asked)
        return mcp_session_error(s, id, MCP_INVALID_PARAMS,
                                 "params._meta: '" BOSUN_MCP_META_VERSION "' must be a string");
    if (strcmp(asked, BOSUN_MCP_STATELESS_VERSION) != 0)
        return mcp_unsupported_version(s, id, asked);
    if (!json_is_object(json_object_get(meta, BOSUN_MCP_META_CAPABILITIES)))
        return mcp_session_error(s, id, MCP_INVALID_PARAMS,
                                 "params._meta: '" BOSUN_MCP_META_CAPABILITIES
                                 "' (an object) is required");
    if (mcp_request_refused(s, id))
        return;
    if (!s->stateless) {
        s->stateless = true;
        log_info("mcp: session %s speaks " BOSUN_MCP_STATELESS_VERSION " (run %s)", s->sid, s->run);
    }
    if (strcmp(method, "server/discover") == 0)
        return mcp_discover(s, id);
    if (strcmp(method, "tools/list") == 0)
        return mcp_tools_list(s, id, params, true);
    if (strcmp(method, "tools/call") == 0)
        return mcp_tools_call(s, id, params, true);
    mcp_session_error(s, id, MCP_METHOD_NOT_FOUND,
                      "method not found in MCP " BOSUN_MCP_STATELESS_VERSION ": %s", method);
}

static void mcp_notification(mcp_session *s, const char *method, json_t *params)
{
    if (strcmp(method, "notifications/initialized") == 0) {
        s->ready = s->initialized;
    } else if (strcmp(method, "notifications/cancelled") == 0) {
        mcp_call *c = mcp_call_find(s, json_object_get(params, "requestId"));
        if (c) {
            const char *reason = json_string_value(json_object_get(params, "reason"));
            mcp_call_cancel(c, reason ? reason : "cancelled by the client");
        }
    }
    /* Any other notification (progress, roots/list_changed, ...) needs
     * nothing from us, and a notification never gets a reply. */
}

/* ------------------------------------------------------------ framing */

static bool mcp_id_valid(const json_t *id)
{
    return json_is_string(id) || json_is_integer(id);
}

static void mcp_dispatch(mcp_session *s, json_t *m)
{
    if (json_is_array(m))
        return mcp_session_error(s, NULL, MCP_INVALID_REQUEST,
                                 "batches are not supported (removed in MCP 2025-06-18)");
    if (!json_is_object(m))
        return mcp_session_error(s, NULL, MCP_INVALID_REQUEST, "a message must be a JSON object");
    json_t *id = json_object_get(m, "id");
    json_t *reply_id = mcp_id_valid(id) ? id : NULL;
    const char *version = json_string_value(json_object_get(m, "jsonrpc"));
    if (!version || strcmp(version, "2.0") != 0)
        return mcp_session_error(s, reply_id, MCP_INVALID_REQUEST, "'jsonrpc' must be \"2.0\"");
    json_t *method = json_object_get(m, "method");
    if (!method) {
        /* A response: we send no requests, so there is nothing to match. */
        if (id && (json_object_get(m, "result") || json_object_get(m, "error")))
            return;
        return mcp_session_error(s, reply_id, MCP_INVALID_REQUEST, "'method' is required");
    }
    if (!json_is_string(method))
        return mcp_session_error(s, reply_id, MCP_INVALID_REQUEST, "'method' must be a string");
    json_t *params = json_object_get(m, "params");
    if (!id) {
        if (!params || json_is_object(params))
            mcp_notification(s, json_string_value(method), params);
        return;
    }
    if (!reply_id)
        return mcp_session_error(s, NULL, MCP_INVALID_REQUEST,
                                 "'id' must be a string or an integer");
    if (params && !json_is_object(params))
        return mcp_session_error(s, id,
                                 json_is_array(params) ? MCP_INVALID_PARAMS : MCP_INVALID_REQUEST,
                                 "'params' must be an object");
    json_t *meta = json_object_get(params, "_meta");
    if (json_object_get(meta, BOSUN_MCP_META_VERSION))
        return mcp_stateless_request(s, id, json_string_value(method), params, meta);
    mcp_request(s, id, json_string_value(method), params);
}

static void mcp_session_line(mcp_session *s, const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                       line[len - 1] == '\t'))
        len--;
    if (strspn(line, " \t") >= len)
        return; /* a blank line is not a message */
    if (len > s->mp->cfg.max_message_bytes)
        return mcp_session_error(s, NULL, MCP_INVALID_REQUEST,
                                 "message too large (%zu bytes; the limit is %zu)", len,
                                 s->mp->cfg.max_message_bytes);
    bosun_json_error je;
    json_t *m = bosun_json_parse(line, len, BOSUN_JSON_REJECT_DUPLICATES, &je);
    if (!m)
        return mcp_session_error(s, NULL, MCP_PARSE_ERROR, "parse error at column %d: %s",
                                 je.column, je.text);
    mcp_dispatch(s, m);
    json_decref(m);
}

static void mcp_on_in(bus_t *bus, const bus_msg *msg, void *arg)
{
    mcp_session *s = arg;
    /* What earlier messages recorded goes before anything this one does. */
    mcp_record_flush(s->mp);
    json_t *line = json_object_get(msg->data, "line");
    if (!json_is_string(line)) {
        log_debug("mcp: session %s: a message without a line, ignored", s->sid);
        return;
    }
    mcp_session_line(s, json_string_value(line), json_string_length(line));
}

static void mcp_on_closed(bus_t *bus, const bus_msg *msg, void *arg)
{
    mcp_session *s = arg;
    log_info("mcp: session %s closed (run %s)", s->sid, s->run);
    mcp_session_free(s);
}

/* ------------------------------------------------------------ sessions */

/* 32 characters of 62: about 190 random bits, and a valid subject token. */
static int mcp_new_sid(char out[MCP_SID_LEN + 1])
{
    size_t n = 0;
    while (n < MCP_SID_LEN) {
        unsigned char buf[64];
        if (bosun_random_bytes(buf, sizeof buf) != 0)
            return -1;
        for (size_t i = 0; i < sizeof buf && n < MCP_SID_LEN; i++)
            if (buf[i] < 248) /* 248 = 4 * 62: no bias */
                out[n++] = mcp_sid_chars[buf[i] % 62];
    }
    out[n] = '\0';
    return 0;
}

static bus_sub *mcp_session_sub(mcp_session *s, const char *what, bus_handler fn)
{
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "%s.%s.%s", BOSUN_MCP_SESSION, s->sid, what);
    return bus_subscribe(s->mp->ctx->bus, subject, fn, s);
}

static void mcp_session_identity_free(mcp_session *s)
{
    free(s->run);
    free(s->agent);
    free(s->task);
    json_decref(s->j_run);
    json_decref(s->j_agent);
    json_decref(s->j_task);
}

mcp_session *mcp_session_new(mcp_plugin *mp, const mcp_identity *who)
{
    mcp_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->mp = mp;
    s->expires_at = who->expires_at;
    s->run = strdup(who->run);
    s->agent = strdup(who->agent);
    s->task = who->task ? strdup(who->task) : NULL;
    s->j_run = json_string(who->run);
    s->j_agent = json_string(who->agent);
    s->j_task = who->task ? json_string(who->task) : NULL;
    int prefix =
        snprintf(s->evt_prefix, sizeof s->evt_prefix, "evt.run.%s.%s.", who->agent, who->run);
    if (!s->run || !s->agent || (who->task && !s->task) || !s->j_run || !s->j_agent ||
        (who->task && !s->j_task) || prefix < 0 || (size_t)prefix >= sizeof s->evt_prefix ||
        mcp_new_sid(s->sid) != 0) {
        log_error("mcp: cannot open a session for run %s", who->run);
        goto fail;
    }
    snprintf(s->out_subject, sizeof s->out_subject, "%s.%s.out", BOSUN_MCP_SESSION, s->sid);
    s->in_sub = mcp_session_sub(s, "in", mcp_on_in);
    s->closed_sub = mcp_session_sub(s, "closed", mcp_on_closed);
    if (!s->in_sub || !s->closed_sub)
        goto fail;
    s->next = mp->sessions;
    if (mp->sessions)
        mp->sessions->prev = s;
    mp->sessions = s;
    log_info("mcp: session %s opened for run %s (agent %s)", s->sid, s->run, s->agent);
    return s;
fail:
    if (s->in_sub)
        bus_unsubscribe(mp->ctx->bus, s->in_sub);
    if (s->closed_sub)
        bus_unsubscribe(mp->ctx->bus, s->closed_sub);
    mcp_session_identity_free(s);
    free(s);
    return NULL;
}

void mcp_session_free(mcp_session *s)
{
    while (s->calls)
        mcp_call_cancel(s->calls, "session closed");
    bus_unsubscribe(s->mp->ctx->bus, s->in_sub);
    bus_unsubscribe(s->mp->ctx->bus, s->closed_sub);
    if (s->prev)
        s->prev->next = s->next;
    else
        s->mp->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    mcp_session_identity_free(s);
    free(s->out.data);
    free(s);
}

static char *xasprintf_end(const char *run)
{
    size_t n = strlen(run) + 64;
    char *why = malloc(n);
    if (why)
        snprintf(why, n, "run %s has ended", run);
    return why;
}

void mcp_sessions_run_ended(mcp_plugin *mp, const char *run)
{
    for (mcp_session *s = mp->sessions; s; s = s->next) {
        if (s->ended || strcmp(s->run, run) != 0)
            continue;
        s->ended = true;
        log_info("mcp: session %s: run %s ended; refusing its calls", s->sid, s->run);
        while (s->calls)
            mcp_call_error(s->calls, MCP_INVALID_REQUEST,
                           "run %s has ended: its agent token is no longer valid", s->run);
        /* The transport closes the session: "end" after the last line. */
        char *why = xasprintf_end(s->run);
        if (!why || bus_publish_new(mp->ctx->bus, s->out_subject, NULL,
                                    json_pack("{s:s}", "end", why)) != 0)
            log_warning("mcp: session %s: cannot tell its transport to close it", s->sid);
        free(why);
    }
}

void mcp_sessions_tools_changed(mcp_plugin *mp)
{
    for (mcp_session *s = mp->sessions; s; s = s->next)
        if (s->ready)
            mcp_session_notify(s, "notifications/tools/list_changed", NULL);
}
