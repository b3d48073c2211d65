/* mcp — the tools: their implementations over the bus.
 *
 * Every tool works over the bus and never blocks: it starts bus requests
 * through mcp_call_request() and ends the call from their replies (or from
 * an event, a timer) with mcp_call_result() or mcp_call_fail().  Tools
 * report failures of the work itself as isError results, which the agent's
 * model reads; arguments that do not fit the schema never reach them
 * (mcp_session.c answers them with an isError result), and a tool's own check of what the schema
 * cannot say runs first (mcp_call_start).  The table with names, schemas
 * and descriptions is in mcp_table.c. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"

#define MCP_OWNER_MAX    39  /* GitHub user and organisation names */
#define MCP_REPO_MAX     100 /* GitHub repository names */
#define MCP_INPUTS_SHOWN 100

/* ------------------------------------------------------------ helpers */

static const char *mcp_arg_string(const mcp_call *c, const char *key)
{
    return json_string_value(json_object_get(c->args, key));
}

/* A copy of src[key] (null when absent), for building results. */
static json_t *mcp_field(const json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);
    return v ? json_deep_copy(v) : json_null();
}

static json_t *mcp_pick(const json_t *src, const char *const *keys)
{
    json_t *out = json_object();
    for (size_t i = 0; out && keys[i]; i++)
        json_object_set_new(out, keys[i], mcp_field(src, keys[i]));
    return out;
}

/* A formatted string of any length; NULL without memory. */
static char *mcp_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *mcp_strdupf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static bool mcp_has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static bool mcp_need_task(mcp_call *c)
{
    if (c->s->task)
        return true;
    mcp_call_fail(c, "this run has no task");
    return false;
}

/* ------------------------------------------------------------ get_task */

static json_t *mcp_task_object(const json_t *t)
{
    return json_pack("{s:O,s:o,s:o,s:o,s:o,s:o}", "id", json_object_get(t, "task"), "title",
                     mcp_field(t, "title"), "prompt", mcp_field(t, "prompt"), "status",
                     mcp_field(t, "status"), "agent", mcp_field(t, "agent"), "owner",
                     mcp_field(t, "owner"));
}

static json_t *mcp_input_object(const json_t *in)
{
    static const char *const keys[] = {"question", "choices",    "status",      "answer",
                                       "choice",   "created_at", "answered_at", NULL};
    json_t *out = mcp_pick(in, keys);
    if (out)
        json_object_set_new(out, "id", mcp_field(in, "input"));
    return out;
}

static void mcp_get_task_done(mcp_call *c)
{
    static const char *const pr_keys[] = {"url", "owner",     "repo", "number",
                                          "run", "linked_at", NULL};
    json_t *t = json_array_get(json_object_get(c->parts[0], "tasks"), 0);
    if (!json_is_string(json_object_get(t, "task")))
        return mcp_call_fail(c, "task %s not found", c->s->task);
    json_t *prs = json_array(), *inputs = json_array();
    json_t *got_prs = json_object_get(c->parts[1], "prs");
    json_t *got_inputs = json_object_get(c->parts[2], "inputs");
    for (size_t i = 0; i < json_array_size(got_prs); i++)
        json_array_append_new(prs, mcp_pick(json_array_get(got_prs, i), pr_keys));
    for (size_t i = 0; i < json_array_size(got_inputs); i++)
        json_array_append_new(inputs, mcp_input_object(json_array_get(got_inputs, i)));
    json_t *result = json_pack("{s:s,s:o,s:o,s:o}", "run", c->s->run, "task", mcp_task_object(t),
                               "prs", prs, "inputs", inputs);
    if (!result)
        return mcp_call_error(c, MCP_INTERNAL_ERROR, "cannot build the task");
    mcp_call_result(c, NULL, result);
}

static void mcp_get_task_part(mcp_call *c, int slot, json_t *reply, const char *error)
{
    if (error)
        return mcp_call_fail(c, "cannot read task %s: %s", c->s->task, error);
    c->parts[slot] = json_incref(reply);
    if (!mcp_call_pending(c))
        mcp_get_task_done(c);
}

/* The three store queries run at once; the last reply builds the result. */
void mcp_tool_get_task(mcp_call *c)
{
    if (!mcp_need_task(c))
        return;
    const char *task = c->s->task;
    if (!mcp_call_request(c, 0, BOSUN_STORE_TASKS, json_pack("{s:s}", "task", task),
                          MCP_BUS_TIMEOUT, mcp_get_task_part) ||
        !mcp_call_request(c, 1, BOSUN_STORE_PRS, json_pack("{s:s}", "task", task), MCP_BUS_TIMEOUT,
                          mcp_get_task_part) ||
        !mcp_call_request(c, 2, BOSUN_STORE_INPUTS,
                          json_pack("{s:s,s:i}", "task", task, "limit", MCP_INPUTS_SHOWN),
                          MCP_BUS_TIMEOUT, mcp_get_task_part))
        mcp_call_error(c, MCP_INTERNAL_ERROR, "cannot ask the store");
}

/* ------------------------------------------------------------ report_status */

void mcp_tool_report_status(mcp_call *c)
{
    const char *state = mcp_arg_string(c, "state");
    const char *message = mcp_arg_string(c, "message");
    if (!message)
        message = "";
    /* The status event follows the result in the same turn (see
     * mcp_call.c); c is gone by then. */
    mcp_session *session = c->s;
    json_t *status = json_object();
    json_object_set_new_nocheck(status, "state", json_string(state));
    json_object_set_new_nocheck(status, "message", json_string(message));
    char text[128];
    snprintf(text, sizeof text, "Status reported: %s", state);
    mcp_utf8_trim(text);
    /* The result is serialised before the event adds run, task and agent. */
    mcp_call_result(c, text, json_incref(status));
    mcp_session_event(session, "status", status);
}

/* ------------------------------------------------------------ request_input */

static json_t *mcp_input_state(const char *id, const char *status, bool blocking)
{
    return json_pack("{s:s,s:s,s:b}", "request_id", id, "status", status, "blocking", blocking);
}

static void mcp_input_answered(mcp_call *c, const json_t *data)
{
    json_t *out = mcp_input_state(c->input_id, "answered", false);
    if (out) {
        json_object_set_new(out, "answer", mcp_field(data, "answer"));
        json_object_set_new(out, "choice", mcp_field(data, "choice"));
    }
    const char *answer = json_string_value(json_object_get(data, "answer"));
    char *text = mcp_strdupf("Answer to request %s: %s", c->input_id, answer ? answer : "");
    mcp_call_result(c, text ? text : "The request was answered.", out);
    free(text);
}

static void mcp_input_cancelled(mcp_call *c, const json_t *data)
{
    const char *reason = json_string_value(json_object_get(data, "reason"));
    char *text = mcp_strdupf("Request %s was cancelled%s%s.", c->input_id, reason ? ": " : "",
                             reason ? reason : "");
    json_t *out = mcp_input_state(c->input_id, "cancelled", false);
    if (out)
        json_object_set_new(out, "reason", reason ? json_string(reason) : json_null());
    mcp_call_result(c, text ? text : "The request was cancelled.", out);
    free(text);
}

static void mcp_on_input_event(bus_t *bus, const bus_msg *msg, void *arg)
{
    mcp_call *c = arg;
    const char *last = strrchr(msg->subject, '.') + 1;
    if (strcmp(last, "answered") == 0)
        mcp_input_answered(c, msg->data);
    else if (strcmp(last, "cancelled") == 0)
        mcp_input_cancelled(c, msg->data);
}

/* An answer given before we subscribed is in the store already. */
static void mcp_input_catch_up(mcp_call *c, int slot, json_t *reply, const char *error)
{
    json_t *in = json_array_get(json_object_get(reply, "inputs"), 0);
    const char *status = json_string_value(json_object_get(in, "status"));
    if (error || !status)
        return; /* keep waiting for the event */
    if (strcmp(status, "answered") == 0)
        mcp_input_answered(c, in);
    else if (strcmp(status, "cancelled") == 0)
        mcp_input_cancelled(c, in);
}

static void mcp_on_wait_over(struct ev_loop *loop, ev_timer *w, int revents)
{
    mcp_call *c = w->data;
    char text[512];
    snprintf(text, sizeof text,
             "No answer to request %s yet; call check_input with request_id \"%s\" later.",
             c->input_id, c->input_id);
    mcp_call_result(c, text, mcp_input_state(c->input_id, "pending", false));
}

/* progress must grow with every notification: count intervals rather than
 * read clocks.  The first goes out as the wait starts (progress 0), so the
 * client learns at once that a human is being asked, and which request. */
static void mcp_input_progress(mcp_call *c)
{
    char text[256];
    snprintf(text, sizeof text, "waiting for an answer to request %s", c->input_id);
    double progress = c->progress_sent++ * c->progress_timer.repeat;
    mcp_session_notify(c->s, "notifications/progress",
                       json_pack("{s:O,s:f,s:f,s:s}", "progressToken", c->progress_token,
                                 "progress", progress, "total", c->wait, "message", text));
}

static void mcp_on_progress(struct ev_loop *loop, ev_timer *w, int revents)
{
    mcp_input_progress(w->data);
}

static void mcp_input_wait(mcp_call *c)
{
    char pattern[BUS_SUBJECT_MAX];
    snprintf(pattern, sizeof pattern, "evt.input.%s.*", c->input_id);
    if (strchr(c->input_id, '.') || bus_pattern_check(pattern) != 0 ||
        !(c->sub = bus_subscribe(c->s->mp->ctx->bus, pattern, mcp_on_input_event, c)))
        return mcp_call_fail(c, "cannot wait for an answer to request %s", c->input_id);
    struct ev_loop *loop = c->s->mp->ctx->loop;
    ev_timer_init(&c->wait_timer, mcp_on_wait_over, c->wait, 0);
    c->wait_timer.data = c;
    ev_timer_start(loop, &c->wait_timer);
    double every = c->s->mp->cfg.progress_interval;
    ev_timer_init(&c->progress_timer, mcp_on_progress, every, every);
    c->progress_timer.data = c;
    c->waiting = true;
    if (c->progress_token) {
        ev_timer_start(loop, &c->progress_timer);
        mcp_input_progress(c);
    }
    mcp_call_request(c, 0, BOSUN_STORE_INPUTS, json_pack("{s:s}", "input", c->input_id),
                     MCP_BUS_TIMEOUT, mcp_input_catch_up);
}

static void mcp_input_created(mcp_call *c, int slot, json_t *reply, const char *error)
{
    if (error)
        return mcp_call_fail(c, "cannot create the input request: %s", error);
    const char *id = json_string_value(json_object_get(reply, "input"));
    if (!id || !*id)
        return mcp_call_fail(c, "cannot create the input request: no request id came back");
    if (!(c->input_id = strdup(id)))
        return mcp_call_error(c, MCP_INTERNAL_ERROR, "out of memory");
    char text[512];
    if (json_is_true(json_object_get(c->args, "blocking"))) {
        snprintf(text, sizeof text,
                 "Request %s is pending. You may exit now; you will be started again with the "
                 "answer (BOSUN_INPUT_ANSWER).",
                 id);
        return mcp_call_result(c, text, mcp_input_state(id, "pending", true));
    }
    double wait = json_number_value(json_object_get(c->args, "wait_seconds"));
    c->wait = wait < c->s->mp->cfg.max_wait_seconds ? wait : c->s->mp->cfg.max_wait_seconds;
    if (c->wait > 0)
        return mcp_input_wait(c);
    snprintf(text, sizeof text,
             "Request %s is pending; call check_input with request_id \"%s\" for the answer.", id,
             id);
    mcp_call_result(c, text, mcp_input_state(id, "pending", false));
}

void mcp_tool_request_input(mcp_call *c)
{
    json_t *q = json_pack("{s:s,s:O,s:b}", "run", c->s->run, "question",
                          json_object_get(c->args, "question"), "blocking",
                          json_is_true(json_object_get(c->args, "blocking")));
    json_t *choices = json_object_get(c->args, "choices");
    if (q && choices)
        json_object_set(q, "choices", choices);
    if (!mcp_call_request(c, 1, BOSUN_INPUT_CREATE, q, MCP_BUS_TIMEOUT, mcp_input_created))
        mcp_call_error(c, MCP_INTERNAL_ERROR, "cannot ask for input");
}

/* ------------------------------------------------------------ check_input */

static void mcp_input_checked(mcp_call *c, int slot, json_t *reply, const char *error)
{
    const char *id = mcp_arg_string(c, "request_id");
    if (error)
        return mcp_call_fail(c, "cannot read request %s: %s", id, error);
    json_t *in = json_array_get(json_object_get(reply, "inputs"), 0);
    if (!in)
        return mcp_call_fail(c, "no input request %s", id);
    const char *task = json_string_value(json_object_get(in, "task"));
    const char *run = json_string_value(json_object_get(in, "run"));
    /* A token is scoped to its run's task: other tasks' questions stay
     * private (a run without a task sees its own requests only). */
    if (c->s->task ? !task || strcmp(task, c->s->task) != 0 : !run || strcmp(run, c->s->run) != 0)
        return mcp_call_fail(c, "request belongs to another task");
    static const char *const keys[] = {"status", "question", "choices", "answer", "choice", NULL};
    json_t *out = mcp_pick(in, keys);
    if (out)
        json_object_set_new(out, "request_id", json_string(id));
    const char *status = json_string_value(json_object_get(in, "status"));
    const char *answer = json_string_value(json_object_get(in, "answer"));
    char *text =
        status && strcmp(status, "answered") == 0
            ? mcp_strdupf("Answer to request %s: %s", id, answer ? answer : "")
            : mcp_strdupf("Request %s is %s.", id, status ? status : "in an unknown state");
    mcp_call_result(c, text ? text : "", out);
    free(text);
}

void mcp_tool_check_input(mcp_call *c)
{
    json_t *q = json_pack("{s:s}", "input", mcp_arg_string(c, "request_id"));
    if (!mcp_call_request(c, 0, BOSUN_STORE_INPUTS, q, MCP_BUS_TIMEOUT, mcp_input_checked))
        mcp_call_error(c, MCP_INTERNAL_ERROR, "cannot ask the store");
}

/* ------------------------------------------------------------ add_artifact */

static bool mcp_base64_valid(const char *s, size_t len)
{
    size_t pad = 0;
    while (pad < 2 && len > pad && s[len - 1 - pad] == '=')
        pad++;
    if (len % 4 != 0)
        return false;
    for (size_t i = 0; i < len - pad; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '+' || ch == '/'))
            return false;
    }
    return true;
}

bool mcp_tool_check_artifact(const json_t *args, char *err, size_t size)
{
    json_t *text = json_object_get(args, "content");
    json_t *b64 = json_object_get(args, "content_base64");
    json_t *path = json_object_get(args, "path");
    if (!!text + !!b64 + !!path != 1) {
        snprintf(err, size, "give exactly one of 'content', 'content_base64' and 'path'");
        return false;
    }
    const char *name = json_string_value(json_object_get(args, "name"));
    if (name && (name[strspn(name, " ")] == '\0' || mcp_has_control(name))) {
        snprintf(err, size, "'name' must be printable text");
        return false;
    }
    if (b64 && !mcp_base64_valid(json_string_value(b64), json_string_length(b64))) {
        snprintf(err, size, "'content_base64' is not valid base64");
        return false;
    }
    return true;
}

static void mcp_artifact_stored(mcp_call *c, int slot, json_t *reply, const char *error)
{
    const char *name = mcp_arg_string(c, "name");
    if (error) {
        const char *code =
            json_string_value(json_object_get(json_object_get(reply, "error"), "code"));
        if (code && strcmp(code, "too_large") == 0)
            return mcp_call_fail(c, "artifact %s is too large: %s", name, error);
        return mcp_call_fail(c, "cannot store artifact %s: %s", name, error);
    }
    static const char *const keys[] = {"name", "version", "size", "mime_type", "sha256", NULL};
    json_t *out = mcp_pick(reply, keys);
    char *text = mcp_strdupf("Stored artifact %s, version %" JSON_INTEGER_FORMAT
                             " (%" JSON_INTEGER_FORMAT " bytes).",
                             name, json_integer_value(json_object_get(reply, "version")),
                             json_integer_value(json_object_get(reply, "size")));
    mcp_call_result(c, text ? text : "Stored.", out);
    free(text);
}

void mcp_tool_add_artifact(mcp_call *c)
{
    if (json_object_get(c->args, "path")) {
        /* bosunctl mcp reads the file with the agent's rights and sends its
         * content instead; when it cannot, it says why in _meta. */
        const char *why = json_string_value(json_object_get(c->meta, BOSUN_MCP_META_PATH_ERROR));
        if (why)
            return mcp_call_fail(c, "%s", why);
        return mcp_call_fail(c, "path must be resolved by the client (bosunctl mcp reads the file "
                                "and sends its content)");
    }
    if (!mcp_need_task(c))
        return;
    json_t *text = json_object_get(c->args, "content");
    const char *mime = mcp_arg_string(c, "mime_type");
    if (!mime)
        mime = text ? "text/plain" : "application/octet-stream";
    json_t *q = json_pack("{s:s,s:s,s:s,s:s,s:O}", "task", c->s->task, "run", c->s->run, "name",
                          mcp_arg_string(c, "name"), "mime_type", mime, text ? "text" : "base64",
                          text ? text : json_object_get(c->args, "content_base64"));
    if (!mcp_call_request(c, 0, BOSUN_STORE_ARTIFACTS_PUT, q, MCP_STORE_TIMEOUT,
                          mcp_artifact_stored))
        mcp_call_error(c, MCP_INTERNAL_ERROR, "cannot ask the store");
}

/* ------------------------------------------------------------ link_pr */

typedef struct mcp_pr {
    char owner[MCP_OWNER_MAX + 1];
    char repo[MCP_REPO_MAX + 1];
    long long number;
} mcp_pr;

static size_t mcp_span(const char *s, const char *extra)
{
    size_t n = 0;
    while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
           (s[n] >= '0' && s[n] <= '9') || (s[n] && strchr(extra, s[n])))
        n++;
    return n;
}

/* https://github.com/OWNER/REPO/pull/NUMBER with an optional final "/":
 * OWNER as GitHub allows (letters, digits, inner hyphens, 39 at most),
 * REPO of letters, digits, "-", "_", "." (not "." or ".."), NUMBER
 * positive without leading zeros. */
static bool mcp_parse_pr(const char *url, mcp_pr *pr)
{
    static const char prefix[] = "https://github.com/";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *p = url + sizeof prefix - 1;
    size_t n = mcp_span(p, "-");
    if (n == 0 || n > MCP_OWNER_MAX || p[0] == '-' || p[n - 1] == '-' || p[n] != '/')
        return false;
    snprintf(pr->owner, sizeof pr->owner, "%.*s", (int)n, p);
    p += n + 1;
    n = mcp_span(p, "-_.");
    if (n == 0 || n > MCP_REPO_MAX || p[n] != '/' || strncmp(p, ".", n) == 0 ||
        strncmp(p, "..", n) == 0)
        return false;
    snprintf(pr->repo, sizeof pr->repo, "%.*s", (int)n, p);
    p += n;
    if (strncmp(p, "/pull/", 6) != 0)
        return false;
    p += 6;
    n = strspn(p, "0123456789");
    if (n == 0 || n > 12 || p[0] == '0' || (p[n] != '\0' && strcmp(p + n, "/") != 0))
        return false;
    pr->number = strtoll(p, NULL, 10);
    return true;
}

bool mcp_tool_check_pr(const json_t *args, char *err, size_t size)
{
    mcp_pr pr;
    const char *url = json_string_value(json_object_get(args, "url"));
    if (url && mcp_parse_pr(url, &pr))
        return true;
    snprintf(err, size,
             "'url' must be a GitHub pull-request URL: https://github.com/OWNER/REPO/pull/NUMBER");
    return false;
}

void mcp_tool_link_pr(mcp_call *c)
{
    if (!mcp_need_task(c))
        return;
    mcp_pr pr;
    mcp_parse_pr(mcp_arg_string(c, "url"), &pr); /* checked before the call started */
    char url[256], subject[BUS_SUBJECT_MAX];
    snprintf(url, sizeof url, "https://github.com/%s/%s/pull/%lld", pr.owner, pr.repo, pr.number);
    snprintf(subject, sizeof subject, "evt.pr.%s.linked", c->s->task);
    /* The event, and the result without task and run: two objects, as the
     * bus keeps the event until delivery. */
    json_int_t number = (json_int_t)pr.number;
    json_t *link = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "task", c->s->task, "run", c->s->run,
                             "url", url, "owner", pr.owner, "repo", pr.repo, "number", number);
    json_t *out = json_pack("{s:s,s:s,s:s,s:I}", "url", url, "owner", pr.owner, "repo", pr.repo,
                            "number", number);
    if (!link || !out || bus_publish_new(c->s->mp->ctx->bus, subject, NULL, link) != 0) {
        if (!out)
            json_decref(link);
        json_decref(out);
        return mcp_call_error(c, MCP_INTERNAL_ERROR, "cannot record the pull request");
    }
    char text[512];
    snprintf(text, sizeof text, "Linked %s to task %s.", url, c->s->task);
    mcp_call_result(c, text, out);
}

/* ------------------------------------------------------------ log_event */

void mcp_tool_log_event(mcp_call *c)
{
    const char *kind = mcp_arg_string(c, "kind");
    json_t *data = json_object_get(c->args, "data");
    /* Agents log what they see; keep obvious secrets out of the record. */
    json_t *clean = data ? bosun_json_redact(data, 0) : json_object();
    if (!clean)
        return mcp_call_error(c, MCP_INTERNAL_ERROR, "out of memory");
    mcp_session_event(c->s, "log", json_pack("{s:s,s:o}", "kind", kind, "data", clean));
    char text[128];
    snprintf(text, sizeof text, "Logged %s.", kind);
    mcp_call_result(c, text, json_pack("{s:s}", "kind", kind));
}

/* ------------------------------------------------------------ teardown */

void mcp_tool_release(mcp_call *c)
{
    struct ev_loop *loop = c->s->mp->ctx->loop;
    if (c->waiting) {
        ev_timer_stop(loop, &c->wait_timer);
        ev_timer_stop(loop, &c->progress_timer);
        c->waiting = false;
    }
    if (c->sub)
        bus_unsubscribe(c->s->mp->ctx->bus, c->sub);
    c->sub = NULL;
    free(c->input_id);
    c->input_id = NULL;
}
