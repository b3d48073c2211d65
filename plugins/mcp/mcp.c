/* mcp — the Model Context Protocol server of bosund (kind transport).
 *
 * Agents run `bosunctl mcp`, which relays their stdio to the control
 * socket; the socket server asks this plugin to open a session
 * (cmd.mcp.open, see <bosun/task.h>) and then relays every line both ways
 * over mcp.session.<SID>.{in,out,closed}.  This file checks the agent token
 * of a new session with the core and keeps the configuration; the protocol
 * is in mcp_session.c, the tools in mcp_tools.c.  See bosun-mcp(7).
 *
 * Configuration, section "mcp:":
 *   max_message_bytes  largest JSON-RPC message taken (size, default 1 MiB)
 *   max_wait_seconds   cap of request_input's wait_seconds (default 300)
 *   page_size          tools per tools/list page (default 50)
 *   progress_interval  time between progress notifications (default 5s)
 *   tools              the enabled tools (default all)
 * Reload applies all of them; a changed tool set is announced to the
 * sessions with notifications/tools/list_changed. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"

#define MCP_TOKEN_MAX 4096 /* an agent token is ~50 bytes; refuse junk early */

struct mcp_open {
    mcp_open *next, *prev;
    mcp_plugin *mp;
    char *reply; /* where cmd.mcp.open wants its answer */
    char *run;   /* the run the client named, or NULL */
    uint64_t req;
};

static const char *const mcp_keys[] = {
    "max_message_bytes", "max_wait_seconds", "page_size", "progress_interval", "tools", NULL};

bool mcp_tool_enabled(const mcp_plugin *mp, const mcp_tool *t)
{
    return t && (mp->cfg.tools & (1u << t->id));
}

/* ------------------------------------------------------------ config */

static bool mcp_read_tools(const cfg_node *config, uint32_t *mask, cfg_diag *d)
{
    const char **list;
    if (!cfg_get_strlist(config, "tools", &list, d))
        return false;
    if (!list) {
        *mask = MCP_TOOLS_ALL;
        return true;
    }
    const cfg_node *node = cfg_get(config, "tools");
    bool ok = true;
    uint32_t m = 0;
    for (size_t i = 0; list[i]; i++) {
        const mcp_tool *t = mcp_tool_find(list[i]);
        if (t) {
            m |= 1u << t->id;
            continue;
        }
        const cfg_node *item = node->type == CFG_SEQ ? node->items[i] : node;
        char where[128];
        ok = cfg_error(d, item,
                       "'%s': unknown tool '%s' (known: get_task, report_status, "
                       "request_input, check_input, add_artifact, link_pr, log_event)",
                       cfg_path(item, where, sizeof where), list[i]);
    }
    free(list);
    *mask = m;
    return ok;
}

static bool mcp_read_config(const cfg_node *config, mcp_config *c, cfg_diag *d)
{
    unsigned long long max_bytes;
    bool ok = cfg_check_keys(config, mcp_keys, d);
    ok = cfg_get_size(config, "max_message_bytes", 1024 * 1024, 1024, 64ULL * 1024 * 1024,
                      &max_bytes, d) &&
         ok;
    c->max_message_bytes = (size_t)max_bytes;
    ok = cfg_get_duration(config, "max_wait_seconds", 300, 0, 86400, &c->max_wait_seconds, d) && ok;
    ok = cfg_get_int(config, "page_size", 50, 1, 1000, &c->page_size, d) && ok;
    ok =
        cfg_get_duration(config, "progress_interval", 5, 0.1, 3600, &c->progress_interval, d) && ok;
    return mcp_read_tools(config, &c->tools, d) && ok;
}

static bool mcp_check(const cfg_node *config, cfg_diag *d)
{
    mcp_config c;
    return mcp_read_config(config, &c, d);
}

/* ------------------------------------------------------------ cmd.mcp.open */

static void mcp_open_answer(mcp_plugin *mp, const char *reply, json_t *data)
{
    if (bus_publish_new(mp->ctx->bus, reply, NULL, data) != 0)
        log_warning("mcp: cannot answer cmd.mcp.open on '%s'", reply);
}

static json_t *mcp_open_refusal(const char *code, const char *message)
{
    return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
}

static void mcp_open_free(mcp_open *o)
{
    if (o->prev)
        o->prev->next = o->next;
    else
        o->mp->opens = o->next;
    if (o->next)
        o->next->prev = o->prev;
    free(o->reply);
    free(o->run);
    free(o);
}

/* Run, agent and task name subjects (evt.run.<agent>.<run>...), so each
 * must be one subject token. */
static bool mcp_subject_token(const char *s)
{
    if (!s || !*s || strlen(s) > 128)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

/* The identity in a cmd.auth.agent_token reply, or NULL with the refusal
 * to send in *refusal. */
static bool mcp_identity_of(const mcp_open *o, json_t *data, mcp_identity *who, json_t **refusal)
{
    json_t *err = json_object_get(data, "error");
    if (err) {
        const char *code = json_string_value(json_object_get(err, "code"));
        const char *message = json_string_value(json_object_get(err, "message"));
        *refusal = mcp_open_refusal(code ? code : "unauthorized",
                                    message ? message : "invalid agent token");
        return false;
    }
    json_t *task = json_object_get(data, "task");
    who->run = json_string_value(json_object_get(data, "run"));
    who->agent = json_string_value(json_object_get(data, "agent"));
    who->task = json_string_value(task);
    who->expires_at = json_number_value(json_object_get(data, "expires_at"));
    if (!mcp_subject_token(who->run) || !mcp_subject_token(who->agent) ||
        (task && !json_is_null(task) && !mcp_subject_token(who->task))) {
        *refusal = mcp_open_refusal("internal", "the agent token check gave no usable identity");
        return false;
    }
    if (o->run && strcmp(o->run, who->run) != 0) {
        *refusal = mcp_open_refusal("unauthorized", "token belongs to another run");
        return false;
    }
    if (who->expires_at > 0 && who->expires_at <= ev_now(o->mp->ctx->loop)) {
        *refusal = mcp_open_refusal("unauthorized", "token expired");
        return false;
    }
    return true;
}

static void mcp_on_auth(bus_t *bus, enum bus_reply_status st, const bus_msg *msg, void *arg)
{
    mcp_open *o = arg;
    mcp_plugin *mp = o->mp;
    json_t *answer = NULL;
    mcp_identity who;
    if (st != BUS_REPLY_OK) {
        answer = mcp_open_refusal("unavailable", st == BUS_REPLY_NO_RESPONDERS
                                                     ? "nobody checks agent tokens"
                                                     : "the agent token check did not answer");
    } else if (mcp_identity_of(o, msg->data, &who, &answer)) {
        mcp_session *s = mcp_session_new(mp, &who);
        if (s)
            answer = json_pack("{s:s,s:s,s:s?,s:s,s:I}", "session", s->sid, "run", s->run, "task",
                               s->task, "agent", s->agent, "max_message_bytes",
                               (json_int_t)mp->cfg.max_message_bytes);
        else
            answer = mcp_open_refusal("internal", "cannot open the session");
    }
    if (st != BUS_REPLY_CANCELLED)
        mcp_open_answer(mp, o->reply, answer);
    else
        json_decref(answer);
    mcp_open_free(o);
}

static void mcp_on_open(bus_t *bus, const bus_msg *msg, void *arg)
{
    mcp_plugin *mp = arg;
    if (!msg->reply)
        return;
    json_t *token = json_object_get(msg->data, "token");
    json_t *run = json_object_get(msg->data, "run");
    if (!json_is_string(token) || json_string_length(token) == 0 ||
        json_string_length(token) > MCP_TOKEN_MAX ||
        (run && !json_is_null(run) && !json_is_string(run)))
        return mcp_open_answer(
            mp, msg->reply,
            mcp_open_refusal("bad_request", "expected {\"token\": string, \"run\"?: string}"));
    mcp_open *o = calloc(1, sizeof *o);
    if (!o || !(o->reply = strdup(msg->reply)) ||
        (json_is_string(run) && !(o->run = strdup(json_string_value(run))))) {
        if (o) {
            free(o->reply);
            free(o);
        }
        return mcp_open_answer(mp, msg->reply, mcp_open_refusal("internal", "out of memory"));
    }
    o->mp = mp;
    json_t *q = json_pack("{s:O}", "token", token);
    o->req = bus_request(mp->ctx->bus, BOSUN_AUTH_TOKEN, q, MCP_BUS_TIMEOUT, mcp_on_auth, o);
    json_decref(q);
    if (!o->req) {
        mcp_open_answer(mp, msg->reply, mcp_open_refusal("internal", "cannot check the token"));
        free(o->reply);
        free(o->run);
        free(o);
        return;
    }
    o->next = mp->opens;
    if (mp->opens)
        mp->opens->prev = o;
    mp->opens = o;
}

/* ------------------------------------------------------------ lifecycle */

/* A token dies with its run: once a run's state is terminal, whatever its
 * sessions send is refused, at once and for every transport. */
static void mcp_on_run_state(bus_t *bus, const bus_msg *msg, void *arg)
{
    const char *state = json_string_value(json_object_get(msg->data, "state"));
    const char *run = json_string_value(json_object_get(msg->data, "run"));
    if (state && run && bosun_run_state_class(state) == BOSUN_RUN_CLASS_TERMINAL)
        mcp_sessions_run_ended(arg, run);
}

static int mcp_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    mcp_plugin *mp = calloc(1, sizeof *mp);
    if (!mp) {
        cfg_error(d, NULL, "mcp: out of memory");
        return -1;
    }
    mp->ctx = ctx;
    mcp_record_init(mp);
    if (!mcp_read_config(config, &mp->cfg, d)) {
        free(mp);
        return -1;
    }
    *state = mp;
    return 0;
}

static int mcp_start(void *state, cfg_diag *d)
{
    mcp_plugin *mp = state;
    if (mcp_tool_schemas_load(mp, d) != 0)
        return -1;
    mp->open_sub = bus_subscribe(mp->ctx->bus, BOSUN_MCP_OPEN, mcp_on_open, mp);
    if (!mp->open_sub) {
        cfg_error(d, NULL, "mcp: cannot subscribe to %s", BOSUN_MCP_OPEN);
        return -1;
    }
    mp->state_sub = bus_subscribe(mp->ctx->bus, "evt.run.*.*.state", mcp_on_run_state, mp);
    if (!mp->state_sub) {
        cfg_error(d, NULL, "mcp: cannot subscribe to run states");
        return -1;
    }
    return 0;
}

static int mcp_reload(void *state, const cfg_node *config, cfg_diag *d)
{
    mcp_plugin *mp = state;
    mcp_config c;
    if (!mcp_read_config(config, &c, d))
        return -1;
    bool changed = c.tools != mp->cfg.tools;
    mp->cfg = c;
    if (changed) {
        mp->tools_gen++;
        mcp_sessions_tools_changed(mp);
    }
    return 0;
}

static void mcp_stop(void *state)
{
    mcp_plugin *mp = state;
    if (mp->open_sub)
        bus_unsubscribe(mp->ctx->bus, mp->open_sub);
    if (mp->state_sub)
        bus_unsubscribe(mp->ctx->bus, mp->state_sub);
    while (mp->opens) {
        bus_request_cancel(mp->ctx->bus, mp->opens->req);
        mcp_open_free(mp->opens);
    }
    while (mp->sessions)
        mcp_session_free(mp->sessions);
    mcp_record_flush(mp);
    mcp_tool_schemas_free(mp);
    mcp_schema_patterns_free();
    free(mp);
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "mcp",
    .kind = BOSUN_PLUGIN_TRANSPORT,
    .description = "MCP server for agents (JSON-RPC over mcp.session.<id> subjects)",
    .version = BOSUN_VERSION,
    .check = mcp_check,
    .init = mcp_init,
    .start = mcp_start,
    .reload = mcp_reload,
    .stop = mcp_stop,
};
