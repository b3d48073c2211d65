/* The turns of bosun-llm's loop (llm_loop.h): a model call streamed to
 * message_delta lines, its usage and message as events, then a tool round
 * (llm_round.c), the round limit, and the run's end. */
#define _POSIX_C_SOURCE 200809L
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/log.h>
#include <bosun/sys.h>

#include "llm_loop.h"

#define DEFAULT_SYSTEM                                                                             \
    "You are a coding agent run by bosun. You work in the directory %s with the tools you are "    \
    "given: paths are relative to it. Make the changes the task asks for, check them, and end "    \
    "with a short summary of what you did."

static const char *const usage_keys[] = {"input_tokens", "output_tokens", "cache_read_tokens",
                                         "cache_write_tokens"};

void llm_status(llm_loop *l, const char *status, const char *tool, const char *reason)
{
    if (!tool && !reason && l->status && strcmp(l->status, status) == 0)
        return;
    l->status = status;
    json_t *ev = json_pack("{s:s}", "status", status);
    if (tool)
        json_object_set_new(ev, "tool", json_string(tool));
    if (reason)
        json_object_set_new(ev, "reason", json_string(reason));
    llm_out_event(l->out, "status", ev);
}

void llm_history_keep(llm_loop *l, json_t *msg)
{
    /* A session that outgrows memory keeps its task prompt and its end. */
    if (json_array_size(l->history) >= LLM_HISTORY_MAX)
        json_array_remove(l->history, l->pinned ? 1 : 0);
    json_array_append_new(l->history, msg);
}

void llm_history_add(llm_loop *l, json_t *msg)
{
    llm_chat_store(l, msg);
    llm_history_keep(l, msg);
}

static json_t *usage_json(const json_t *u)
{
    json_t *o = json_object();
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(u, usage_keys[i]);
        json_object_set_new(o, usage_keys[i],
                            json_integer(json_is_integer(v) ? json_integer_value(v) : 0));
    }
    return o;
}

/* Seconds an ending run waits for its stores to be answered. */
#define LLM_DRAIN_MAX 10.0

static void on_drain(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    llm_loop *l = w->data;
    bool late = bosun_monotonic() > l->drain_until;
    if (llm_ctl_unfinished(l->ctl) > 0 && !late)
        return;
    if (late)
        log_warning("run %s: %zu requests to bosund still unanswered after %.0f s; ending anyway",
                    l->conf->run, llm_ctl_unfinished(l->ctl), LLM_DRAIN_MAX);
    ev_timer_stop(loop, w);
    ev_break(loop, EVBREAK_ALL);
}

void llm_finish(llm_loop *l, const char *status, const char *subtype, const char *reason,
                int exit_code)
{
    if (l->finished)
        return;
    l->finished = true;
    l->exit_code = exit_code;
    llm_status(l, strcmp(status, "success") == 0 ? "idle" : "error", NULL,
               strcmp(status, "success") == 0 ? NULL : reason);
    json_t *ev = json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:O}", "status", status, "subtype", subtype,
                           "turns", (json_int_t)l->turns, "rounds", (json_int_t)l->total_rounds,
                           "duration_ms", (json_int_t)((bosun_monotonic() - l->started) * 1000),
                           "session_id", l->conf->session, "usage", l->usage);
    const char *model =
        json_string_value(json_object_get(json_object_get(l->conf->root, "llm"), "model"));
    if (model)
        json_object_set_new(ev, "model", json_string(model));
    if (reason) {
        json_object_set_new(ev, "reason", json_string(reason));
        json_object_set_new(ev, "error", json_string(reason));
    }
    llm_out_event(l->out, "result", ev);
    if (reason)
        log_notice("run %s ends: %s", l->conf->run, reason);
    /* The last messages of the conversation and the last file versions
     * are requests still in flight: exiting now could lose them (the
     * daemon drops a gone client's requests), so wait for their answers,
     * bounded. */
    l->drain_until = bosun_monotonic() + LLM_DRAIN_MAX;
    ev_timer_init(&l->drain, on_drain, 0., 0.01);
    l->drain.data = l;
    ev_timer_start(l->loop, &l->drain);
}

void llm_turn_over(llm_loop *l)
{
    if (l->conf->interactive) {
        llm_status(l, "idle", NULL, NULL);
        llm_chat_next(l);
        return;
    }
    llm_finish(l, "success", "success", NULL, 0);
}

static void on_text(void *arg, const char *text, size_t len)
{
    llm_loop *l = arg;
    llm_out_delta(l->out, text, len);
}

/* What a failed attempt streamed is void: the retry starts the answer
 * again, and clients are told to drop their draft. */
static void on_retrying(void *arg, int attempt, double wait, const char *why)
{
    llm_loop *l = arg;
    llm_out_reset(l->out);
    char reason[600];
    snprintf(reason, sizeof reason, "retrying (attempt %d in %.1f s): %.500s", attempt, wait, why);
    llm_status(l, "thinking", NULL, reason);
}

static void add_usage(llm_loop *l, const json_t *u)
{
    if (!json_is_object(u))
        return;
    json_t *ev = usage_json(u);
    for (size_t i = 0; i < 4; i++) {
        json_t *tot = json_object_get(l->usage, usage_keys[i]);
        json_integer_set(tot, json_integer_value(tot) +
                                  json_integer_value(json_object_get(ev, usage_keys[i])));
    }
    const char *model =
        json_string_value(json_object_get(json_object_get(l->conf->root, "llm"), "model"));
    if (model)
        json_object_set_new(ev, "model", json_string(model));
    json_object_set_new(ev, "round", json_integer(l->total_rounds));
    llm_out_event(l->out, "usage", ev);
}

/* The message and each tool call as events, as the agent CLIs' are. */
static void announce(llm_loop *l, const json_t *msg)
{
    const char *text = json_string_value(json_object_get(msg, "content"));
    if (text && *text)
        llm_out_event(l->out, "message", json_pack("{s:s}", "text", text));
    size_t i;
    json_t *call;
    json_array_foreach(json_object_get(msg, "tool_calls"), i, call)
    {
        json_t *args = json_object_get(call, "arguments");
        json_t *input = json_is_object(args) ? json_incref(args) : json_object();
        json_t *ev = json_pack("{s:O?,s:O?,s:o,s:I}", "id", json_object_get(call, "id"), "name",
                               json_object_get(call, "name"), "input", input, "round",
                               (json_int_t)l->total_rounds + 1);
        llm_out_event(l->out, "tool_use", ev);
    }
}

/* The model wants round max_rounds + 1: each call is answered as not run,
 * so the history stays whole, and the run says why it stopped. */
static void stop_rounds(llm_loop *l, const json_t *calls)
{
    size_t i;
    json_t *call;
    json_array_foreach(calls, i, call)
    {
        json_t *res =
            json_pack("{s:s,s:O?,s:O?,s:s,s:b}", "role", "tool", "tool_call_id",
                      json_object_get(call, "id"), "name", json_object_get(call, "name"), "content",
                      "not run: the limit of tool rounds was reached", "is_error", 1);
        llm_history_add(l, res);
    }
    char text[300];
    snprintf(text, sizeof text,
             "I stopped after %lld tool rounds, the limit of this agent (max_rounds). The work "
             "may be unfinished; send a message to let me go on.",
             l->rounds);
    llm_history_add(l, json_pack("{s:s,s:s}", "role", "assistant", "content", text));
    llm_out_event(l->out, "message", json_pack("{s:s}", "text", text));
    if (l->conf->interactive) {
        llm_status(l, "idle", NULL, NULL);
        llm_chat_next(l);
        return;
    }
    llm_finish(l, "error", "error_max_rounds", text, 0);
}

static void on_turn_failed(llm_loop *l, const struct llm_turn_result *r)
{
    char reason[900];
    const char *cat = r->category ? r->category : "error";
    if (strcmp(cat, "auth") == 0) {
        snprintf(reason, sizeof reason,
                 "the model API refused the credentials (HTTP %ld): %.700s; check the agent's "
                 "llm.api_key_file or llm.api_key_env",
                 r->http_status, r->error ? r->error : "");
        return llm_finish(l, "error", "error_auth", reason, 1);
    }
    snprintf(reason, sizeof reason, "the model call failed (%s%s%.0ld): %.700s", cat,
             r->http_status ? ", HTTP " : "", r->http_status, r->error ? r->error : "");
    llm_finish(l, "error", "error_provider", reason, 1);
}

static void on_done(void *arg, const struct llm_turn_result *r)
{
    llm_loop *l = arg;
    l->call = NULL;
    json_decref(l->context);
    l->context = NULL;
    llm_out_flush(l->out);
    if (!r->ok)
        return on_turn_failed(l, r);
    add_usage(l, r->usage);
    json_t *msg = json_deep_copy(r->message);
    if (!json_is_object(msg)) {
        json_decref(msg);
        return llm_finish(l, "error", "error_provider", "the provider gave no message", 1);
    }
    json_object_set_new(msg, "role", json_string("assistant"));
    if (!json_is_string(json_object_get(msg, "content")))
        json_object_set_new(msg, "content", json_string(""));
    announce(l, msg);
    json_t *calls = json_object_get(msg, "tool_calls");
    if (json_array_size(calls) == 0)
        json_object_del(msg, "tool_calls");
    calls = json_incref(json_object_get(msg, "tool_calls"));
    llm_history_add(l, msg);
    if (!calls)
        return llm_turn_over(l);
    if (l->rounds >= l->conf->max_rounds)
        stop_rounds(l, calls);
    else {
        l->rounds++;
        l->total_rounds++;
        llm_round_start(l, calls);
    }
    json_decref(calls);
}

void llm_model_turn(llm_loop *l)
{
    static const struct llm_turn_ops ops = {
        .text_delta = on_text, .retrying = on_retrying, .done = on_done};
    if (l->finished)
        return;
    l->turns++;
    llm_status(l, "thinking", NULL, NULL);
    l->context = llm_context(l->history, l->pinned, (size_t)l->conf->max_context_messages);
    l->call = llm_provider_call(l->provider, l->system, l->context, l->schemas, &ops, l);
    if (!l->call)
        llm_finish(l, "error", "error_provider", "the model call could not be made", 1);
}

/* ---------------------------------------------------------------- setup */

static void file_changed(void *arg, const char *call_id, const char *path, const char *op,
                         const void *content, size_t len)
{
    llm_files_record(arg, call_id, path, op, content, len);
}

static void fetch_logged(void *arg, const char *call_id, json_t *entry)
{
    llm_loop *l = arg;
    json_t *ev = json_is_object(entry) ? json_deep_copy(entry) : json_object();
    if (call_id)
        json_object_set_new(ev, "id", json_string(call_id));
    llm_out_event(l->out, "fetch", ev);
}

static json_t *request_input_schema(void)
{
    return json_pack(
        "{s:s,s:s,s:{s:s,s:{s:{s:s,s:s},s:{s:s,s:{s:s},s:s}},s:[s],s:b}}", "name", "request_input",
        "description",
        "Ask the person running you a question and wait for the answer. Use it when you cannot "
        "go on without a decision; offer choices when there are a few clear options.",
        "input_schema", "type", "object", "properties", "question", "type", "string", "description",
        "the question", "choices", "type", "array", "items", "type", "string", "description",
        "optional answers to pick from", "required", "question", "additionalProperties", 0);
}

static bool make_provider(llm_loop *l, char *err, size_t err_size)
{
    json_t *cfg = llm_conf_provider(l->conf, err, err_size);
    if (!cfg)
        return false;
    l->provider = llm_provider_new(l->curl, cfg, err, err_size);
    llm_conf_wipe(cfg);
    return l->provider != NULL;
}

static bool make_tools(llm_loop *l, char *err, size_t err_size)
{
    static struct llm_tools_host host = {.file_changed = file_changed,
                                         .fetch_logged = fetch_logged};
    host.arg = l;
    json_t *cfg = llm_conf_tools(l->conf);
    l->tools = llm_tools_new(l->loop, l->curl, cfg, &host, err, err_size);
    json_decref(cfg);
    if (!l->tools)
        return false;
    l->schemas = llm_tools_schemas(l->tools);
    if (!json_is_array(l->schemas)) {
        json_decref(l->schemas);
        l->schemas = json_array();
    }
    /* Input requests belong to tasks: a run without one is not offered
     * a question it could not ask. */
    if (l->conf->request_input && l->conf->task)
        json_array_append_new(l->schemas, request_input_schema());
    return true;
}

static void announce_session(llm_loop *l)
{
    const json_t *llm = json_object_get(l->conf->root, "llm");
    json_t *names = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(l->schemas, i, t) json_array_append(names, json_object_get(t, "name"));
    llm_out_event(l->out, "session",
                  json_pack("{s:s,s:O?,s:O?,s:s,s:o}", "session_id", l->conf->session, "model",
                            json_object_get(llm, "model"), "provider",
                            json_object_get(llm, "provider"), "cwd", l->conf->workspace, "tools",
                            names));
}

bool llm_loop_start(llm_loop *l, char *err, size_t err_size)
{
    l->started = bosun_monotonic();
    l->history = json_array();
    l->pending_users = json_array();
    l->seen_users = json_object();
    l->usage = usage_json(NULL);
    ev_timer_init(&l->advance, llm_round_advance, 0., 0.);
    l->advance.data = l;
    if (!make_provider(l, err, err_size) || !make_tools(l, err, err_size))
        return false;
    if (l->conf->system_prompt) {
        l->system = l->conf->system_prompt;
    } else {
        size_t n = strlen(DEFAULT_SYSTEM) + strlen(l->conf->workspace) + 1;
        l->system_owned = malloc(n);
        if (!l->system_owned) {
            snprintf(err, err_size, "out of memory");
            return false;
        }
        snprintf(l->system_owned, n, DEFAULT_SYSTEM, l->conf->workspace);
        l->system = l->system_owned;
    }
    announce_session(l);
    l->policy = llm_policy_new(l->ctl, llm_round_policy_ready, l);
    if (l->conf->interactive)
        llm_chat_follow(l);
    llm_chat_load(l);
    return true;
}

void llm_loop_abort(llm_loop *l, const char *why)
{
    if (l->call)
        llm_call_cancel(l->call);
    l->call = NULL;
    llm_round_cancel(l);
    if (!l->finished)
        log_notice("run %s: stopping: %s", l->conf->run ? l->conf->run : "?", why);
    l->finished = true;
    l->aborted = true;
    ev_break(l->loop, EVBREAK_ALL);
}

void llm_loop_free(llm_loop *l)
{
    ev_timer_stop(l->loop, &l->drain);
    if (l->call)
        llm_call_cancel(l->call);
    llm_round_cancel(l);
    llm_policy_free(l->policy);
    l->policy = NULL;
    if (l->tools)
        llm_tools_free(l->tools);
    if (l->provider)
        llm_provider_free(l->provider);
    json_decref(l->schemas);
    json_decref(l->history);
    json_decref(l->pending_users);
    json_decref(l->seen_users);
    json_decref(l->context);
    json_decref(l->usage);
    free(l->system_owned);
}
