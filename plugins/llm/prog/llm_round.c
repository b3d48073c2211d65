/* One tool round (llm_loop.h): every call of the assistant's message is
 * checked (valid arguments, a tool that exists), then put to the approval
 * policy (decided here from the copy of llm_policy.h when that is exact,
 * recorded with cmd.approval.record; else cmd.approval.check; then
 * cmd.approval.request for an ask, or for any call when there is no copy
 * and something is configured, which may wait for a person and denies
 * when nobody answers), then run.  All at once when every call is a read the tools
 * call parallel-safe, else one after the other in the model's order.
 * Results go back into the history in the calls' order. */
#define _POSIX_C_SOURCE 200809L
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/approval.h>
#include <bosun/log.h>
#include <bosun/store.h>
#include <bosun/task.h>

#include "llm_loop.h"

#define RAW_SHOWN 300
/* Loop turns a call waits for unread bytes before bosund is asked: the
 * daemon streaming without pause must not hold a call back for ever. */
#define POLICY_WAITS_MAX 64

static const char *call_name(const llm_job *j)
{
    const char *n = json_string_value(json_object_get(j->call, "name"));
    return n ? n : "";
}

static const char *call_id(const llm_job *j)
{
    const char *id = json_string_value(json_object_get(j->call, "id"));
    return id ? id : "";
}

static bool offered(const llm_loop *l, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(l->schemas, i, t)
    {
        const char *n = json_string_value(json_object_get(t, "name"));
        if (n && strcmp(n, name) == 0)
            return true;
    }
    return false;
}

static void schedule(llm_loop *l)
{
    if (!ev_is_active(&l->advance))
        ev_timer_start(l->loop, &l->advance);
}

/* The call's answer: the tool message and its event. */
static void job_result(llm_job *j, bool ok, const char *content, const char *category,
                       json_t *detail)
{
    if (j->result)
        return;
    j->result = json_pack("{s:s,s:s,s:s,s:s,s:b}", "role", "tool", "tool_call_id", call_id(j),
                          "name", call_name(j), "content", content ? content : "", "is_error", !ok);
    json_t *ev = json_pack("{s:s,s:s,s:b,s:s}", "id", call_id(j), "name", call_name(j), "is_error",
                           !ok, "content", content ? content : "");
    if (!ok && category)
        json_object_set_new(ev, "category", json_string(category));
    if (json_is_object(detail))
        json_object_set(ev, "detail", detail);
    json_object_set_new(ev, "round", json_integer(j->l->total_rounds));
    llm_out_event(j->l->out, "tool_result", ev);
    j->l->jobs_done++;
    schedule(j->l);
}

static void job_fail(llm_job *j, const char *category, const char *message)
{
    job_result(j, false, message, category, NULL);
}

/* ---------------------------------------------------------------- tools */

static void on_tool_done(void *arg, const struct llm_tool_result *r)
{
    llm_job *j = arg;
    j->tool = NULL;
    j->tool_ended = true;
    job_result(j, r->ok, r->ok ? r->content : r->error, r->category, r->detail);
}

/* ---------------------------------------------------------------- request_input */

static void input_end(llm_job *j, bool ok, const char *text)
{
    if (j->sub)
        llm_ctl_unsubscribe(j->l->ctl, j->sub);
    j->sub = 0;
    job_result(j, ok, text, ok ? NULL : "runtime", NULL);
}

static void on_input_event(void *arg, const char *subject, const json_t *data)
{
    llm_job *j = arg;
    const char *last = subject ? strrchr(subject, '.') : NULL;
    char text[4096];
    if (last && strcmp(last, ".answered") == 0) {
        const char *answer = json_string_value(json_object_get(data, "answer"));
        snprintf(text, sizeof text, "The answer: %.4000s", answer ? answer : "");
        input_end(j, true, text);
    } else if (last && strcmp(last, ".cancelled") == 0) {
        const char *why = json_string_value(json_object_get(data, "reason"));
        snprintf(text, sizeof text, "The question was cancelled%s%.3000s.", why ? ": " : "",
                 why ? why : "");
        input_end(j, false, text);
    }
}

/* A stored request's state: answered or cancelled ends the wait. */
static bool input_settled(llm_job *j, const json_t *data)
{
    const json_t *in = json_array_get(json_object_get(data, "inputs"), 0);
    const char *status = json_string_value(json_object_get(in, "status"));
    char subject[300];
    if (!status || strcmp(status, "pending") == 0)
        return false;
    snprintf(subject, sizeof subject, "evt.input.%.64s.%s", j->input_id, status);
    on_input_event(j, subject, in);
    return j->result != NULL;
}

/* An answer given before the subscription took is in the store. */
static void on_input_caught_up(void *arg, const json_t *data, const char *code, const char *msg)
{
    llm_job *j = arg;
    j->request = 0;
    if (!code)
        input_settled(j, data);
}

static void on_input_followed(void *arg, const json_t *data, const char *code, const char *msg)
{
    llm_job *j = arg;
    if (code) {
        char text[600];
        snprintf(text, sizeof text, "cannot wait for the answer: %.500s", msg);
        j->sub = 0;
        return input_end(j, false, text);
    }
    if (!j->result)
        j->request =
            llm_ctl_request(j->l->ctl, BOSUN_STORE_INPUTS, json_pack("{s:s}", "input", j->input_id),
                            LLM_BUS_TIMEOUT, on_input_caught_up, j);
}

/* The store's word on the request (which also lets this connection follow
 * it): settled already, or subscribe and wait. */
static void on_input_looked_up(void *arg, const json_t *data, const char *code, const char *msg)
{
    llm_job *j = arg;
    j->request = 0;
    if (!code && input_settled(j, data))
        return;
    if (!code && !json_array_size(json_object_get(data, "inputs")))
        return job_fail(j, "runtime", "the question is not in the store any more");
    char pattern[256];
    snprintf(pattern, sizeof pattern, "evt.input.%.64s.>", j->input_id);
    j->sub = llm_ctl_subscribe(j->l->ctl, pattern, on_input_event, j, on_input_followed);
}

/* Waits (idle) for the answer to request id. */
void llm_input_wait(llm_job *j, const char *id)
{
    free(j->input_id);
    j->input_id = strdup(id);
    llm_input_note(j->l, call_id(j), id);
    llm_status(j->l, "idle", NULL, "waiting for an answer to request_input");
    j->request = llm_ctl_request(j->l->ctl, BOSUN_STORE_INPUTS, json_pack("{s:s}", "input", id),
                                 LLM_BUS_TIMEOUT, on_input_looked_up, j);
}

static void on_input_created(void *arg, const json_t *data, const char *code, const char *msg)
{
    llm_job *j = arg;
    j->request = 0;
    const json_t *err = json_object_get(data, "error");
    const char *id = json_string_value(json_object_get(data, "input"));
    char text[700];
    if (code || err || !id || strchr(id, '.')) {
        snprintf(text, sizeof text, "cannot ask the question: %.600s",
                 code ? msg : json_string_value(json_object_get(err, "message")) ?: "no request id");
        return job_fail(j, "runtime", text);
    }
    llm_input_wait(j, id);
}

static void input_start(llm_job *j, json_t *args)
{
    const json_t *q = json_object_get(args, "question");
    json_t *choices = json_object_get(args, "choices");
    if (!json_is_string(q) || !json_string_length(q) || json_string_length(q) > 4000)
        return job_fail(j, "invalid",
                        "request_input needs 'question', a string of 1 to 4000 bytes");
    json_t *req = json_pack("{s:O,s:b}", "question", q, "blocking", 0);
    if (json_is_array(choices))
        json_object_set(req, "choices", choices);
    j->request =
        llm_ctl_request(j->l->ctl, BOSUN_INPUT_CREATE, req, LLM_BUS_TIMEOUT, on_input_created, j);
}

/* ---------------------------------------------------------------- approval */

static void job_run(llm_job *j)
{
    llm_loop *l = j->l;
    json_t *args = json_object_get(j->call, "arguments");
    if (!l->parallel) /* a parallel step was announced as one */
        llm_status(l, "executing", call_name(j), NULL);
    if (strcmp(call_name(j), "request_input") == 0)
        return input_start(j, args);
    llm_tool_job *t = llm_tools_run(l->tools, call_id(j), call_name(j), args, on_tool_done, j);
    if (!j->tool_ended)
        j->tool = t;
    if (!t && !j->tool_ended)
        job_fail(j, "runtime", "the tool could not be started");
}

static void on_approval(void *arg, const json_t *data, const char *code, const char *msg)
{
    llm_job *j = arg;
    j->request = 0;
    const char *behavior = json_string_value(json_object_get(data, "behavior"));
    if (behavior && strcmp(behavior, "allow") == 0)
        return job_run(j);
    char text[700];
    const char *why = code ? msg
                      : json_string_value(json_object_get(data, "message"))
                          ?: json_string_value(json_object_get(json_object_get(data, "error"),
                                                               "message"));
    snprintf(text, sizeof text, "denied by bosun's approval policy: %.600s",
             why ? why : "no decision");
    job_fail(j, "denied", text);
}

static void ask_approval(llm_job *j)
{
    json_t *args = json_object_get(j->call, "arguments");
    json_t *req = json_pack("{s:s,s:O}", "tool", call_name(j), "input", args);
    j->request =
        llm_ctl_request(j->l->ctl, BOSUN_APPROVAL_REQUEST, req, LLM_HUMAN_TIMEOUT, on_approval, j);
}

/* With no rule and no default anywhere (source "default", no
 * default_set), the tools run unasked, inside the workspace and the
 * sandbox; any other outcome makes the call a request, recorded and
 * decided (or asked) by the daemon. */
static void on_checked(void *arg, const json_t *data, const char *code, const char *msg)
{
    llm_job *j = arg;
    j->request = 0;
    const char *source = json_string_value(json_object_get(data, "source"));
    if (code || !source)
        return on_approval(j, data, code ? code : "error", code ? msg : "no policy decision");
    if (strcmp(source, "default") == 0 && !json_is_true(json_object_get(data, "default_set")))
        return job_run(j);
    ask_approval(j);
}

static void on_recorded(void *arg, const json_t *data, const char *code, const char *msg)
{
    (void)arg;
    (void)data;
    if (code)
        log_warning("approvals: a local decision was recorded as %s: %s", code, msg);
}

/* The copy's decision: run or refuse at once, the decision sent to bosund
 * for its event without waiting (before the call's result, on the same
 * connection); an ask goes to bosund.  false: no exact copy now. */
static bool decide_locally(llm_job *j, json_t *args)
{
    bosun_approval_result r;
    uint64_t gen;
    enum llm_policy_verdict v = llm_policy_decide(j->l->policy, call_name(j), args, &r, &gen);
    if (v == LLM_POLICY_COMING) { /* the copy's ready asks again */
        j->policy_wait = true;
        return true;
    }
    if (v == LLM_POLICY_UNREAD && j->policy_asks++ < POLICY_WAITS_MAX) {
        j->policy_wait = true; /* llm_round_advance asks again, the bytes read */
        schedule(j->l);
        return true;
    }
    if (v == LLM_POLICY_FREE)
        return job_run(j), true;
    if (v != LLM_POLICY_DECIDED)
        return false;
    if (r.decision == BOSUN_APPROVAL_ASK)
        return ask_approval(j), true;
    llm_ctl_request(j->l->ctl, BOSUN_APPROVAL_RECORD,
                    json_pack("{s:s,s:O,s:s,s:I}", "tool", call_name(j), "input", args, "decision",
                              bosun_approval_decision_name(r.decision), "generation",
                              (json_int_t)gen),
                    LLM_BUS_TIMEOUT, on_recorded, NULL);
    if (r.decision == BOSUN_APPROVAL_ALLOW)
        return job_run(j), true;
    char text[BOSUN_APPROVAL_RULE_MAX + 80];
    snprintf(text, sizeof text, "denied by bosun's approval policy (%s%s)",
             r.rule ? "rule " : "its default", r.rule ? r.rule : "");
    job_fail(j, "denied", text);
    return true;
}

/* To the approval policy: the copy, else bosund. */
static void job_decide(llm_job *j)
{
    json_t *args = json_object_get(j->call, "arguments");
    j->policy_wait = false;
    if (decide_locally(j, args))
        return;
    json_t *req = json_pack("{s:s,s:O}", "tool", call_name(j), "input", args);
    j->request =
        llm_ctl_request(j->l->ctl, BOSUN_APPROVAL_CHECK, req, LLM_BUS_TIMEOUT, on_checked, j);
}

/* The calls told to wait ask again, in order. */
static void policy_retry(llm_loop *l)
{
    for (size_t i = 0; i < l->n_jobs; i++)
        if (l->jobs[i].policy_wait && !l->jobs[i].result)
            job_decide(&l->jobs[i]);
}

void llm_round_policy_ready(void *arg)
{
    llm_loop *l = arg;
    if (l->jobs && !l->finished)
        schedule(l); /* after the lines read with the copy are handled */
}

static void job_start(llm_job *j)
{
    llm_loop *l = j->l;
    j->started = true;
    json_t *args = json_object_get(j->call, "arguments");
    char text[1200];
    if (!json_is_object(args)) {
        const char *why = json_string_value(json_object_get(j->call, "arguments_error"));
        const char *raw = json_string_value(json_object_get(j->call, "arguments_raw"));
        snprintf(text, sizeof text,
                 "invalid arguments: %.300s (they must be one JSON object; got: %.*s). Call the "
                 "tool again with valid JSON arguments.",
                 why ? why : "not a JSON object", RAW_SHOWN, raw ? raw : "");
        return job_fail(j, "invalid", text);
    }
    if (!offered(l, call_name(j))) {
        size_t off = (size_t)snprintf(text, sizeof text,
                                      "unknown tool '%.100s'; the tools are:", call_name(j));
        size_t i;
        json_t *t;
        json_array_foreach(l->schemas, i, t) if (off < sizeof text - 110) off +=
            (size_t)snprintf(text + off, sizeof text - off, " %.100s",
                             json_string_value(json_object_get(t, "name")) ?: "?");
        return job_fail(j, "invalid", text);
    }
    job_decide(j);
}

/* ---------------------------------------------------------------- the round */

static bool all_reads(llm_loop *l, const json_t *calls)
{
    size_t i;
    json_t *c;
    if (json_array_size(calls) < 2)
        return false;
    json_array_foreach(calls, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        if (!name || !json_is_object(json_object_get(c, "arguments")) || !offered(l, name) ||
            strcmp(name, "request_input") == 0 ||
            !llm_tools_parallel_safe_call(l->tools, name, json_object_get(c, "arguments")))
            return false;
    }
    return true;
}

static void round_free(llm_loop *l)
{
    for (size_t i = 0; i < l->n_jobs; i++) {
        json_decref(l->jobs[i].result);
        json_decref(l->jobs[i].call);
        free(l->jobs[i].input_id);
    }
    free(l->jobs);
    l->jobs = NULL;
    l->n_jobs = l->jobs_done = l->next_job = 0;
}

void llm_round_advance(struct ev_loop *loop, ev_timer *w, int revents)
{
    llm_loop *l = w->data;
    if (!l->jobs || l->finished)
        return;
    policy_retry(l);
    if (l->jobs_done < l->n_jobs) {
        if (!l->parallel && l->next_job < l->n_jobs && l->jobs_done == l->next_job)
            job_start(&l->jobs[l->next_job++]);
        return;
    }
    for (size_t i = 0; i < l->n_jobs; i++)
        llm_history_add(l, json_incref(l->jobs[i].result));
    round_free(l);
    llm_model_turn(l);
}

void llm_round_start(llm_loop *l, json_t *calls)
{
    size_t n = json_array_size(calls);
    l->jobs = calloc(n, sizeof *l->jobs);
    if (!l->jobs)
        return llm_finish(l, "error", "error_internal", "out of memory", 1);
    l->n_jobs = n;
    l->parallel = all_reads(l, calls);
    for (size_t i = 0; i < n; i++) {
        l->jobs[i].l = l;
        l->jobs[i].index = i;
        l->jobs[i].call = json_incref(json_array_get(calls, i));
    }
    if (l->parallel) {
        llm_status(l, "executing", "parallel reads", NULL);
        l->next_job = n;
        for (size_t i = 0; i < n; i++)
            job_start(&l->jobs[i]);
    } else {
        job_start(&l->jobs[l->next_job++]);
    }
}

/* Restarted inside a round: the calls after resumed_at (their results are
 * missing) are answered, except a question whose request is known, whose
 * answer is waited for again. */
void llm_round_resume(llm_loop *l, json_t *calls, const char *input_call, const char *input_id)
{
    size_t n = json_array_size(calls);
    l->jobs = calloc(n ? n : 1, sizeof *l->jobs);
    if (!l->jobs)
        return llm_finish(l, "error", "error_internal", "out of memory", 1);
    l->n_jobs = n;
    l->parallel = true; /* nothing to run in order: each is answered on its own */
    l->next_job = n;
    for (size_t i = 0; i < n; i++) {
        llm_job *j = &l->jobs[i];
        j->l = l;
        j->index = i;
        j->call = json_incref(json_array_get(calls, i));
        j->started = true;
        if (input_call && input_id && strcmp(call_id(j), input_call) == 0)
            llm_input_wait(j, input_id);
        else
            job_fail(j, "runtime",
                     "interrupted: the agent was restarted before this call finished; check "
                     "the workspace and call it again if it is still needed");
    }
    if (!n)
        schedule(l);
}

void llm_round_cancel(llm_loop *l)
{
    ev_timer_stop(l->loop, &l->advance);
    for (size_t i = 0; i < l->n_jobs; i++) {
        llm_job *j = &l->jobs[i];
        if (j->tool)
            llm_tool_job_cancel(j->tool);
        if (j->request)
            llm_ctl_forget(l->ctl, j->request);
        if (j->sub)
            llm_ctl_unsubscribe(l->ctl, j->sub);
        j->tool = NULL;
    }
    round_free(l);
}
