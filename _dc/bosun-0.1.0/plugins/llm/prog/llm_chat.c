/* The session's conversation in the store and with people (llm_loop.h):
 * every message is appended (cmd.llm.chat.append); at start the history
 * is read back (cmd.llm.chat.history) and the loop goes on from where it
 * stopped: an unanswered person's message is answered, a round cut short
 * is finished, a question asked is waited for again.  An interactive run
 * follows evt.run.*.<run>.chat.user (cmd.llm.chat.send publishes there).
 * Without a store that serves cmd.llm.* the loop still runs, from its
 * prompt, and says once that nothing is kept. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/codec.h>
#include <bosun/json.h>
#include <bosun/log.h>
#include <bosun/sys.h>

#include "llm_loop.h"

#define INPUT_NOTE "llm-input.json"

static const char *role_of(const json_t *m)
{
    const char *r = json_string_value(json_object_get(m, "role"));
    return r ? r : "";
}

/* ---------------------------------------------------------------- storing */

static void on_stored(void *arg, const json_t *data, const char *code, const char *msg)
{
    llm_loop *l = arg;
    const char *err =
        code ? msg : json_string_value(json_object_get(json_object_get(data, "error"), "message"));
    if (!err) {
        l->history_stored = true;
        return;
    }
    if (!l->warned_history)
        log_warning("run %s: the conversation is not stored (cmd.llm.chat.append: %s); a restart "
                    "will not continue it",
                    l->conf->run, err);
    l->warned_history = true;
}

void llm_chat_store(llm_loop *l, const json_t *msg)
{
    static const char *const keys[] = {"role", "content",  "tool_calls", "tool_call_id",
                                       "name", "is_error", NULL};
    json_t *req = json_object();
    for (size_t i = 0; keys[i]; i++) {
        json_t *v = json_object_get(msg, keys[i]);
        if (v)
            json_object_set(req, keys[i], v);
    }
    llm_ctl_request(l->ctl, "cmd.llm.chat.append", req, LLM_BUS_TIMEOUT, on_stored, l);
}

static void on_file_recorded(void *arg, const json_t *data, const char *code, const char *msg)
{
    llm_loop *l = arg;
    const char *err =
        code ? msg : json_string_value(json_object_get(json_object_get(data, "error"), "message"));
    if (err && !l->warned_files)
        log_warning("run %s: file versions are not recorded (cmd.llm.files.record: %s)",
                    l->conf->run, err);
    l->warned_files = l->warned_files || err;
}

void llm_files_record(llm_loop *l, const char *call_id, const char *path, const char *op,
                      const void *content, size_t len)
{
    json_t *req = json_pack("{s:s,s:s,s:s,s:I,s:s?}", "path", path, "op", op, "actor", "tool",
                            "round", (json_int_t)l->total_rounds, "tool_call", call_id);
    if (content) {
        char *b64 = bosun_base64_encode(content, len);
        if (b64)
            json_object_set_new(req, "content_base64", json_string(b64));
        free(b64);
    }
    llm_ctl_request(l->ctl, "cmd.llm.files.record", req, LLM_BUS_TIMEOUT, on_file_recorded, l);
}

/* ---------------------------------------------------------------- questions */

void llm_input_note(llm_loop *l, const char *call_id, const char *input_id)
{
    json_t *note = json_pack("{s:s,s:s}", "call", call_id, "input", input_id);
    size_t len;
    char *text = bosun_json_dump(note, 0, &len);
    json_decref(note);
    if (text && bosun_file_replace(l->conf->run_dir, INPUT_NOTE, text, len, 0600) < 0)
        log_warning("run %s: cannot note the pending question in %s", l->conf->run,
                    l->conf->run_dir);
    free(text);
}

json_t *llm_input_noted(llm_loop *l)
{
    size_t len;
    char *text = bosun_file_read(l->conf->run_dir, INPUT_NOTE, 4096, &len);
    json_t *note = text ? bosun_json_parse(text, len, 0, NULL) : NULL;
    free(text);
    return note;
}

/* ---------------------------------------------------------------- people */

static void on_user(void *arg, const char *subject, const json_t *data)
{
    llm_loop *l = arg;
    const char *text = json_string_value(json_object_get(data, "text"));
    const char *id = json_string_value(json_object_get(data, "id"));
    if (!text || (id && json_object_get(l->seen_users, id)))
        return;
    json_array_append_new(l->pending_users, json_pack("{s:s,s:s?}", "text", text, "id", id));
    if (l->waiting_chat)
        llm_chat_next(l);
}

void llm_chat_follow(llm_loop *l)
{
    char pattern[256];
    snprintf(pattern, sizeof pattern, "evt.run.*.%s.chat.user", l->conf->run);
    llm_ctl_subscribe(l->ctl, pattern, on_user, l, NULL);
}

void llm_chat_next(llm_loop *l)
{
    if (l->finished)
        return;
    json_t *next = json_incref(json_array_get(l->pending_users, 0));
    if (!next) {
        l->waiting_chat = true;
        return;
    }
    json_array_remove(l->pending_users, 0);
    l->waiting_chat = false;
    const char *id = json_string_value(json_object_get(next, "id"));
    if (id)
        json_object_set_new(l->seen_users, id, json_true());
    /* cmd.llm.chat.send stored it already. */
    llm_history_keep(
        l, json_pack("{s:s,s:O}", "role", "user", "content", json_object_get(next, "text")));
    json_decref(next);
    l->rounds = 0;
    llm_model_turn(l);
}

/* ---------------------------------------------------------------- resuming */

/* The calls of the last assistant message that have no result after it. */
static json_t *unanswered(const json_t *h)
{
    size_t n = json_array_size(h), a = n;
    while (a > 0 && strcmp(role_of(json_array_get(h, a - 1)), "assistant") != 0)
        a--;
    json_t *open = json_array();
    if (a == 0)
        return open;
    size_t i;
    json_t *call;
    json_array_foreach(json_object_get(json_array_get(h, a - 1), "tool_calls"), i, call)
    {
        const char *id = json_string_value(json_object_get(call, "id"));
        bool done = false;
        for (size_t k = a; k < n && !done; k++) {
            const char *r =
                json_string_value(json_object_get(json_array_get(h, k), "tool_call_id"));
            done = id && r && strcmp(id, r) == 0;
        }
        if (!done)
            json_array_append(open, call);
    }
    return open;
}

static void resume_round(llm_loop *l, json_t *open)
{
    json_t *note = llm_input_noted(l);
    log_info("run %s: continuing a round that was cut short (%zu calls without a result)",
             l->conf->run, json_array_size(open));
    llm_round_resume(l, open, json_string_value(json_object_get(note, "call")),
                     json_string_value(json_object_get(note, "input")));
    json_decref(note);
}

static void start_fresh(llm_loop *l)
{
    if (l->conf->prompt && *l->conf->prompt) {
        llm_history_add(l, json_pack("{s:s,s:s}", "role", "user", "content", l->conf->prompt));
        l->pinned = true;
        return llm_model_turn(l);
    }
    if (l->conf->interactive) {
        llm_status(l, "idle", NULL, NULL);
        return llm_chat_next(l);
    }
    llm_finish(l, "error", "error_no_prompt",
               "an llm run needs a prompt (bosunctl start AGENT --prompt TEXT, or a task), or "
               "interactive: true to wait for chat messages",
               1);
}

/* Where the reloaded conversation stands decides the first step. */
static void chat_resume(llm_loop *l)
{
    size_t n = json_array_size(l->history);
    if (n == 0)
        return start_fresh(l);
    const json_t *first = json_array_get(l->history, 0);
    const char *p0 = json_string_value(json_object_get(first, "content"));
    l->pinned = strcmp(role_of(first), "user") == 0 && l->conf->prompt && p0 &&
                strcmp(p0, l->conf->prompt) == 0;
    log_info("run %s: continuing session %s (%zu messages)", l->conf->run, l->conf->session, n);
    json_t *open = unanswered(l->history);
    if (json_array_size(open) > 0) {
        resume_round(l, open);
    } else if (l->conf->resume_why && strcmp(l->conf->resume_why, "answer") == 0 &&
               l->conf->resume_input) {
        char *text = NULL;
        size_t len = strlen(l->conf->resume_input) + 64;
        if ((text = malloc(len)))
            snprintf(text, len, "The answer to your question: %s", l->conf->resume_input);
        llm_history_add(l, json_pack("{s:s,s:s}", "role", "user", "content",
                                     text ? text : l->conf->resume_input));
        free(text);
        llm_model_turn(l);
    } else if (strcmp(role_of(json_array_get(l->history, n - 1)), "assistant") != 0) {
        llm_model_turn(l); /* a person's message or a round's results wait for the model */
    } else {
        llm_turn_over(l); /* answered already: idle for chat, or done */
    }
    json_decref(open);
}

/* A stored item back in the neutral format. */
static json_t *neutral(const json_t *item)
{
    static const char *const keys[] = {"role", "content",  "tool_calls", "tool_call_id",
                                       "name", "is_error", NULL};
    json_t *m = json_object();
    for (size_t i = 0; keys[i]; i++) {
        json_t *v = json_object_get(item, keys[i]);
        if (v && !json_is_null(v))
            json_object_set(m, keys[i], v);
    }
    if (!json_is_string(json_object_get(m, "content")))
        json_object_set_new(m, "content", json_string(""));
    return m;
}

static int by_seq(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "seq"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "seq"));
    return x < y ? -1 : x > y;
}

static void on_history(void *arg, const json_t *data, const char *code, const char *msg)
{
    llm_loop *l = arg;
    const json_t *items = json_object_get(data, "items");
    const char *err =
        code ? msg : json_string_value(json_object_get(json_object_get(data, "error"), "message"));
    if (err || !json_is_array(items)) {
        log_notice("run %s: no stored conversation to continue (%s)", l->conf->run,
                   err ? err : "no items");
        return chat_resume(l);
    }
    size_t n = json_array_size(items);
    json_t **sorted = calloc(n ? n : 1, sizeof *sorted);
    for (size_t i = 0; sorted && i < n; i++)
        sorted[i] = json_array_get(items, i);
    if (sorted)
        qsort(sorted, n, sizeof *sorted, by_seq);
    for (size_t i = 0; sorted && i < n; i++) {
        const char *id = json_string_value(json_object_get(sorted[i], "id"));
        if (id && strcmp(role_of(sorted[i]), "user") == 0)
            json_object_set_new(l->seen_users, id, json_true());
        llm_history_keep(l, neutral(sorted[i]));
    }
    free(sorted);
    /* Messages that came while the history was read are in it or not:
     * the seen ids tell. */
    for (size_t i = json_array_size(l->pending_users); i-- > 0;) {
        const char *id =
            json_string_value(json_object_get(json_array_get(l->pending_users, i), "id"));
        if (id && json_object_get(l->seen_users, id))
            json_array_remove(l->pending_users, i);
    }
    chat_resume(l);
}

void llm_chat_load(llm_loop *l)
{
    llm_ctl_request(l->ctl, "cmd.llm.chat.history", json_pack("{s:i}", "limit", LLM_HISTORY_LOAD),
                    LLM_BUS_TIMEOUT, on_history, l);
}
