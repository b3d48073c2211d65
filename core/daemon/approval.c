/* cmd.approval.check, .request, .list and .answer (see <bosun/approval.h>):
 * the policy of an agent and the global one, plus the sticky rules
 * ("--always") of an agent+task, evaluated for one tool call; a call the
 * policy asks about waits here, its reply held, until a person answers or
 * its timeout decides.
 *
 * Pending requests live in memory: bosund does not survive a restart with
 * a request open, and neither does the agent's call (its MCP session is
 * gone), so a restart leaves nothing to answer. */
#include "config.h"

#include "approval.h"
#include "hmap.h"
#include "remote.h"
#include "ulid.h"
#include "util.h"

#include <ev.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/approval_map.h>
#include <bosun/json.h>
#include <bosun/log.h>
#include <bosun/store.h>

#define AGENT_MAX        128
#define TASK_MAX         64
#define TOOL_MAX         256
#define RUN_MAX          64
#define MSG_MAX          4096
#define INPUT_STRING_MAX 1024
/* Open requests at once, daemon-wide: an agent looping on prompts must not
 * grow memory without bound. */
#define PENDING_MAX 1024

typedef struct approval_req {
    struct approval_req *next, *prev;
    approval_service *s;
    char id[ULID_LEN + 1];
    char *reply; /* the held cmd.approval.request reply */
    char *agent, *task, *run, *tool;
    json_t *input; /* as given: updatedInput of an allow */
    json_t *shown; /* redacted, for lists and events */
    double created, expires_at;
    enum bosun_approval_decision on_timeout;
    ev_timer timer;
} approval_req;

struct approval_service {
    bus_t *bus;
    proc *p;
    bosun_approval_policy *const *global;
    struct ev_loop *loop;
    hmap sticky; /* "agent\ttask" -> bosun_approval_policy */
    approval_req *pending;
    size_t n_pending;
    uint64_t sticky_req; /* the store query in flight, 0 when none */
    uint64_t generation; /* of every policy together: see approval_service_changed */
    bus_sub *subs[7];
};

static void reply_to(bus_t *bus, const char *reply, json_t *data)
{
    bus_publish_new(bus, reply, NULL, data);
}

static bool bounded_string(const json_t *v, size_t max, bool required, const char **out)
{
    *out = NULL;
    if (!v || json_is_null(v))
        return !required;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
        return false;
    *out = json_string_value(v);
    return true;
}

static const bosun_approval_policy *sticky_of(const approval_service *s, const char *agent,
                                              const char *task)
{
    char key[AGENT_MAX + TASK_MAX + 2];
    snprintf(key, sizeof key, "%s\t%s", agent, task ? task : "");
    return hmap_get(&s->sticky, key);
}

static json_t *result_json(bosun_approval_result r)
{
    return json_pack("{s:s,s:s?,s:s}", "decision", bosun_approval_decision_name(r.decision), "rule",
                     r.rule, "source", bosun_approval_source_name(r.source));
}

/* Parses {"agent","task"?,"tool","input"?} and evaluates it; NULL reply
 * data means the arguments were wrong (err says why). */
static json_t *evaluate(approval_service *s, const json_t *data, char *err, size_t err_size)
{
    const char *agent, *task, *tool;
    if (!bounded_string(json_object_get(data, "agent"), AGENT_MAX, true, &agent) ||
        !bounded_string(json_object_get(data, "task"), TASK_MAX, false, &task) ||
        !bounded_string(json_object_get(data, "tool"), TOOL_MAX, true, &tool)) {
        snprintf(err, err_size,
                 "'agent' (1 to %d bytes), 'tool' (1 to %d bytes) are required strings, 'task' "
                 "an optional one",
                 AGENT_MAX, TOOL_MAX);
        return NULL;
    }
    const json_t *input = json_object_get(data, "input");
    if (input && !json_is_object(input) && !json_is_null(input)) {
        snprintf(err, err_size, "'input' must be an object");
        return NULL;
    }
    const agent_config *a = proc_agent(s->p, agent);
    bosun_approval_result r = bosun_approval_evaluate(
        sticky_of(s, agent, task), a ? a->approvals : NULL, *s->global, tool, input);
    json_t *v = result_json(r);
    /* Whether a default decided (or only the fallback ask): bosun-llm runs
     * a call unasked only when no policy has a default at all. */
    enum bosun_approval_decision d;
    json_object_set_new(
        v, "default_set",
        json_boolean(bosun_approval_default_of(a ? a->approvals : NULL, *s->global, &d)));
    return v;
}

static void on_check(bus_t *bus, const bus_msg *m, void *arg)
{
    approval_service *s = arg;
    if (!m->reply)
        return;
    char err[256];
    json_t *r = evaluate(s, m->data, err, sizeof err);
    reply_to(bus, m->reply, r ? r : bus_error_json("bad_request", "%s", err));
}

/* ------------------------------------------------------------ requests */

static void req_free(approval_req *r)
{
    approval_service *s = r->s;
    if (r->prev)
        r->prev->next = r->next;
    else
        s->pending = r->next;
    if (r->next)
        r->next->prev = r->prev;
    s->n_pending--;
    ev_timer_stop(s->loop, &r->timer);
    free(r->reply);
    free(r->agent);
    free(r->task);
    free(r->run);
    free(r->tool);
    json_decref(r->input);
    json_decref(r->shown);
    free(r);
}

/* Claude's permission-prompt answer, plus who decided. */
static json_t *answer_json(enum bosun_approval_decision d, const json_t *input,
                           const char *decided_by, const char *message, const char *id)
{
    json_t *a = json_pack("{s:s,s:s,s:s?}", "behavior", bosun_approval_decision_name(d),
                          "decided_by", decided_by, "id", id);
    if (d == BOSUN_APPROVAL_ALLOW)
        json_object_set_new(a, "updatedInput", input ? json_deep_copy(input) : json_object());
    else
        json_object_set_new(a, "message",
                            json_string(message ? message : "denied by bosun's approval policy"));
    return a;
}

static void publish_decided(approval_service *s, const char *id, const char *agent,
                            const char *task, const char *run, const char *tool,
                            enum bosun_approval_decision d, const char *decided_by,
                            const char *message, bool always, const char *sticky_rule,
                            json_t *extra)
{
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.approval.%s.decided", id);
    json_t *ev = json_pack("{s:s,s:s,s:s?,s:s?,s:s,s:s,s:s,s:s?,s:b,s:s?}", "id", id, "agent",
                           agent, "task", task, "run", run, "tool", tool, "decision",
                           bosun_approval_decision_name(d), "decided_by", decided_by, "message",
                           message, "always", always, "sticky_rule", sticky_rule);
    if (ev && extra)
        json_object_update(ev, extra);
    json_decref(extra);
    bus_publish_new(s->bus, subject, NULL, ev);
}

static void decide(approval_req *r, enum bosun_approval_decision d, const char *by,
                   const char *message, bool always, const char *sticky_rule)
{
    approval_service *s = r->s;
    publish_decided(s, r->id, r->agent, r->task, r->run, r->tool, d, by, message, always,
                    sticky_rule, NULL);
    reply_to(s->bus, r->reply, answer_json(d, r->input, by, message, r->id));
    req_free(r);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    approval_req *r = w->data;
    decide(r, r->on_timeout, "timeout",
           r->on_timeout == BOSUN_APPROVAL_DENY ? "nobody answered the approval request in time"
                                                : NULL,
           false, NULL);
}

static const bosun_approval_policy *timeout_policy(approval_service *s, const char *agent)
{
    const agent_config *a = proc_agent(s->p, agent);
    return a && a->approvals ? a->approvals : *s->global;
}

static void open_request(approval_service *s, const bus_msg *m, const char *agent, const char *task,
                         const char *run, const char *tool, json_t *input)
{
    if (s->n_pending >= PENDING_MAX)
        return reply_to(s->bus, m->reply,
                        bus_error_json("busy",
                                       "%d approval requests are open already; answer "
                                       "some first",
                                       PENDING_MAX));
    approval_req *r = xcalloc(1, sizeof *r);
    r->s = s;
    ulid_new(r->id);
    r->reply = xstrdup(m->reply);
    r->agent = xstrdup(agent);
    r->task = task ? xstrdup(task) : NULL;
    r->run = run ? xstrdup(run) : NULL;
    r->tool = xstrdup(tool);
    r->input = input ? json_incref(input) : json_object();
    r->shown = bosun_json_redact(r->input, INPUT_STRING_MAX);
    const bosun_approval_policy *tp = timeout_policy(s, agent);
    double timeout = bosun_approval_policy_timeout(tp);
    r->on_timeout = bosun_approval_policy_on_timeout(tp);
    r->created = ev_now(s->loop);
    r->expires_at = ev_now(s->loop) + timeout;
    ev_timer_init(&r->timer, on_timeout, timeout, 0);
    r->timer.data = r;
    ev_timer_start(s->loop, &r->timer);
    r->next = s->pending;
    if (s->pending)
        s->pending->prev = r;
    s->pending = r;
    s->n_pending++;
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.approval.%s.requested", r->id);
    bus_publish_new(s->bus, subject, NULL,
                    json_pack("{s:s,s:s,s:s?,s:s?,s:s,s:O?,s:f,s:s}", "id", r->id, "agent", agent,
                              "task", task, "run", run, "tool", tool, "input", r->shown,
                              "expires_at", r->expires_at, "status", "pending"));
}

/* The request's data, with the agent and task of its run when the run is
 * one this daemon supervises: a run's call is judged by its own agent's
 * policy, whatever agent the caller named (an agent's token over REST or
 * /ws could name a laxer one).  A new reference. */
static json_t *request_of_run(approval_service *s, json_t *data, const char *run)
{
    const char *agent, *task;
    if (!run || !proc_run_lookup(s->p, run, &agent, &task))
        return json_incref(data);
    json_t *d = json_copy(data);
    if (!d)
        return json_incref(data);
    json_object_set_new(d, "agent", json_string(agent));
    json_object_set_new(d, "task", task && *task ? json_string(task) : json_null());
    return d;
}

/* Decides the request m with data (the run's agent and task in it): at
 * once by a rule or the default, or held as a pending request. */
static void decide_request(approval_service *s, const bus_msg *m, json_t *data, const char *run)
{
    bus_t *bus = s->bus;
    char err[256];
    json_t *r = evaluate(s, data, err, sizeof err);
    if (!r)
        return reply_to(bus, m->reply, bus_error_json("bad_request", "%s", err));
    const char *agent = json_string_value(json_object_get(data, "agent"));
    const char *task = json_string_value(json_object_get(data, "task"));
    const char *tool = json_string_value(json_object_get(data, "tool"));
    json_t *input = json_object_get(data, "input");
    if (json_is_null(input))
        input = NULL;
    enum bosun_approval_decision d = BOSUN_APPROVAL_ASK;
    bosun_approval_decision_parse(json_string_value(json_object_get(r, "decision")), &d);
    if (d == BOSUN_APPROVAL_ASK) {
        json_decref(r);
        return open_request(s, m, agent, task, run, tool, input);
    }
    const char *rule = json_string_value(json_object_get(r, "rule"));
    char by[BOSUN_APPROVAL_RULE_MAX + 16], id[ULID_LEN + 1];
    snprintf(by, sizeof by, rule ? "rule:%s" : "default", rule);
    ulid_new(id);
    publish_decided(s, id, agent, task, run, tool, d, by, NULL, false, NULL, NULL);
    reply_to(bus, m->reply, answer_json(d, input, by, NULL, id));
    json_decref(r);
}

/* {"agent","task"?,"run"?,"tool","input"?}: decided by the policy at once,
 * or held until answered; a supervised run's own agent and task count. */
static void on_request(bus_t *bus, const bus_msg *m, void *arg)
{
    approval_service *s = arg;
    if (!m->reply)
        return;
    const char *run;
    if (!bounded_string(json_object_get(m->data, "run"), RUN_MAX, false, &run))
        return reply_to(bus, m->reply, bus_error_json("bad_request", "'run' must be a run id"));
    json_t *data = request_of_run(s, m->data, run);
    decide_request(s, m, data, run);
    json_decref(data);
}

static approval_req *find_req(approval_service *s, const char *id)
{
    for (approval_req *r = s->pending; r; r = r->next)
        if (strcmp(r->id, id) == 0)
            return r;
    return NULL;
}

static void add_sticky(approval_service *s, const char *agent, const char *task,
                       enum bosun_approval_decision d, const char *rule)
{
    char key[AGENT_MAX + TASK_MAX + 2];
    snprintf(key, sizeof key, "%s\t%s", agent, task ? task : "");
    bosun_approval_policy *p = hmap_get(&s->sticky, key);
    if (!p) {
        p = bosun_approval_policy_new();
        if (!p)
            return;
        hmap_put(&s->sticky, key, p);
    }
    char err[200];
    if (!bosun_approval_policy_add(p, d, rule, err, sizeof err))
        log_warning("approvals: sticky rule for %s: %s", agent, err);
}

/* A request that is not pending: decided (the store has it: code
 * "not_pending" for an answer, 409 over HTTP; "not_found" for a look) or
 * unknown ("not_found").  The question goes to the store, where decisions
 * outlive a restart; the reply waits for it. */
static void on_decided_lookup(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    json_t *q = arg; /* {"reply", "id", "code"} */
    const char *reply = json_string_value(json_object_get(q, "reply"));
    const char *id = json_string_value(json_object_get(q, "id"));
    json_t *row =
        st == BUS_REPLY_OK && m ? json_array_get(json_object_get(m->data, "approvals"), 0) : NULL;
    if (st != BUS_REPLY_CANCELLED && json_is_object(row))
        reply_to(bus, reply,
                 bus_error_json(json_string_value(json_object_get(q, "code")),
                                "approval request %s is not pending: decided already (%s by %s)",
                                id, json_string_value(json_object_get(row, "decision")),
                                json_string_value(json_object_get(row, "decided_by"))));
    else if (st != BUS_REPLY_CANCELLED && json_object_get(q, "data"))
        /* neither pending nor decided here: on a hub, perhaps a machine's */
        remote_ask(bus, json_string_value(json_object_get(q, "subject")), reply,
                   json_object_get(q, "data"), NULL,
                   bus_error_json("not_found", "no approval request %s", id));
    else if (st != BUS_REPLY_CANCELLED)
        reply_to(bus, reply, bus_error_json("not_found", "no approval request %s", id));
    json_decref(q);
}

static void not_pending(approval_service *s, const bus_msg *m, const char *id,
                        const char *decided_code)
{
    json_t *q = json_pack("{s:s}", "id", id);
    json_t *state = json_pack("{s:s,s:s,s:s}", "reply", m->reply, "id", id, "code", decided_code);
    if (state && strcmp(decided_code, "not_pending") == 0) { /* an answer: a machine's, maybe */
        json_object_set_new(state, "subject", json_string(m->subject));
        json_object_set(state, "data", m->data);
    }
    if (!bus_request(s->bus, BOSUN_STORE_APPROVALS, q, 10, on_decided_lookup, state)) {
        json_decref(state);
        reply_to(s->bus, m->reply,
                 bus_error_json("not_found", "no pending approval request %s", id));
    }
    json_decref(q); /* bus_request borrows it */
}

/* {"id","decision":"allow|deny","always"?,"message"?,"by"?} */
static void on_answer(bus_t *bus, const bus_msg *m, void *arg)
{
    approval_service *s = arg;
    if (!m->reply || remote_route(bus, m, proc_machine_id(s->p)))
        return;
    const char *id, *dec, *message, *by;
    const json_t *always = json_object_get(m->data, "always");
    if (!bounded_string(json_object_get(m->data, "id"), ULID_LEN, true, &id) ||
        !bounded_string(json_object_get(m->data, "decision"), 8, true, &dec) ||
        !bounded_string(json_object_get(m->data, "message"), MSG_MAX, false, &message) ||
        !bounded_string(json_object_get(m->data, "by"), 200, false, &by) ||
        (always && !json_is_boolean(always)))
        return reply_to(bus, m->reply,
                        bus_error_json("bad_request",
                                       "'id' and 'decision' (allow or deny) are required; "
                                       "'always' is a boolean, 'message' at most %d bytes",
                                       MSG_MAX));
    enum bosun_approval_decision d;
    if (!bosun_approval_decision_parse(dec, &d) || d == BOSUN_APPROVAL_ASK)
        return reply_to(bus, m->reply,
                        bus_error_json("bad_request", "'decision' must be allow or deny"));
    approval_req *r = find_req(s, id);
    if (!r)
        return not_pending(s, m, id, "not_pending");
    /* "--always" sticks to this very call, never to a pattern its
     * argument would make ("rm -rf *" as a glob allows every rm -rf). */
    char *rule = NULL;
    if (json_is_true(always)) {
        rule = bosun_approval_exact_rule(r->tool, r->input);
        if (!rule)
            return reply_to(bus, m->reply,
                            bus_error_json("bad_request",
                                           "this call cannot be made a rule (its argument "
                                           "is over %d bytes or has control characters); "
                                           "answer it without 'always'",
                                           BOSUN_APPROVAL_RULE_MAX));
        add_sticky(s, r->agent, r->task, d, rule);
        approval_service_changed(s); /* before either reply below */
    }
    char who[256];
    snprintf(who, sizeof who, "%s", by ? by : "cli");
    reply_to(bus, m->reply,
             json_pack("{s:s,s:s,s:s,s:s?}", "id", id, "decision", dec, "decided_by", who,
                       "sticky_rule", rule));
    decide(r, d, who, message, json_is_true(always), rule);
    free(rule);
}

static json_t *req_json(const approval_req *r)
{
    return json_pack("{s:s,s:s,s:s?,s:s?,s:s,s:O?,s:f,s:f,s:s}", "id", r->id, "agent", r->agent,
                     "task", r->task, "run", r->run, "tool", r->tool, "input", r->shown,
                     "created_at", r->created, "expires_at", r->expires_at, "status", "pending");
}

/* {"id"?, "after"?, "limit"?}: the pending requests (or the one named),
 * newest first; "after" an id pages on from that row, "limit" (1 to
 * PENDING_MAX) cuts the list.  The list is in memory and at most
 * PENDING_MAX long, so a page is a walk of it. */
static void on_list(bus_t *bus, const bus_msg *m, void *arg)
{
    approval_service *s = arg;
    if (!m->reply)
        return;
    const char *id, *after;
    const json_t *lim = json_object_get(m->data, "limit");
    if (!bounded_string(json_object_get(m->data, "id"), ULID_LEN, false, &id) ||
        !bounded_string(json_object_get(m->data, "after"), ULID_LEN, false, &after) ||
        (lim && !json_is_null(lim) &&
         (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
          json_integer_value(lim) > PENDING_MAX + 1)))
        return reply_to(bus, m->reply,
                        bus_error_json("bad_request",
                                       "'id' and 'after' are request ids, 'limit' 1 to %d",
                                       PENDING_MAX + 1));
    json_int_t limit = json_is_integer(lim) ? json_integer_value(lim) : PENDING_MAX + 1;
    json_t *list = json_array();
    approval_req *r = s->pending;
    if (after) {
        while (r && strcmp(r->id, after) != 0)
            r = r->next;
        r = r ? r->next : NULL; /* an id gone meanwhile: nothing after it */
    }
    for (; r && (json_int_t)json_array_size(list) < limit; r = r->next)
        if (!id || strcmp(r->id, id) == 0)
            json_array_append_new(list, req_json(r));
    if (id && json_array_size(list) == 0) {
        json_decref(list);
        return not_pending(s, m, id, "not_found");
    }
    reply_to(bus, m->reply, json_pack("{s:o}", "approvals", list));
}

/* A run that ended (or is waiting, its process gone) can take no answer:
 * its open requests are decided deny, so none lingers until its timeout
 * and nobody answers a call no one waits for. */
static void on_run_state(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus;
    approval_service *s = arg;
    const char *run = json_string_value(json_object_get(m->data, "run"));
    const char *state = json_string_value(json_object_get(m->data, "state"));
    if (!s->pending || !run || !state || bosun_run_state_class(state) != BOSUN_RUN_CLASS_TERMINAL)
        return;
    approval_req *r = s->pending;
    while (r) {
        approval_req *next = r->next;
        if (r->run && strcmp(r->run, run) == 0)
            decide(r, BOSUN_APPROVAL_DENY, "run_ended", "the run ended", false, NULL);
        r = next;
    }
}

/* ------------------------------------------------------------ local decisions */

/* A program that decides its calls itself (bosun-llm) holds a copy of the
 * policies of its agent+task, of one generation.  The generation counts
 * every change of any policy; the notice of a change is published before
 * whatever made it is answered (the reload's reply, the answer's reply and
 * the held request's), so a copy read from the connection up to the
 * notice is the daemon's own at the time the change was acknowledged. */
void approval_service_changed(approval_service *s)
{
    if (!s)
        return;
    s->generation++;
    bus_publish_new(s->bus, BOSUN_APPROVAL_CHANGED, NULL,
                    json_pack("{s:I}", "generation", (json_int_t)s->generation));
}

static json_t *policy_json(const bosun_approval_policy *p)
{
    json_t *v = p ? bosun_approval_policy_to_json(p) : NULL;
    return v ? v : json_null();
}

/* {"agent","task"?} -> the three policies of that agent+task. */
static void on_policy(bus_t *bus, const bus_msg *m, void *arg)
{
    approval_service *s = arg;
    if (!m->reply)
        return;
    const char *agent, *task;
    if (!bounded_string(json_object_get(m->data, "agent"), AGENT_MAX, true, &agent) ||
        !bounded_string(json_object_get(m->data, "task"), TASK_MAX, false, &task))
        return reply_to(bus, m->reply,
                        bus_error_json("bad_request",
                                       "'agent' (1 to %d bytes) is a required string, 'task' "
                                       "an optional one",
                                       AGENT_MAX));
    const agent_config *a = proc_agent(s->p, agent);
    reply_to(bus, m->reply,
             json_pack("{s:I,s:o,s:o,s:o}", "generation", (json_int_t)s->generation, "global",
                       policy_json(*s->global), "agent", policy_json(a ? a->approvals : NULL),
                       "sticky", policy_json(sticky_of(s, agent, task))));
}

/* {"agent","task"?,"run"?,"tool","input"?,"decision","generation"}: a call
 * decided by its agent from a copy of the policies.  Of the current
 * generation, the daemon's own evaluation is the same and is what the
 * event says; of an older one (a change whose notice had not been read
 * when the call was decided), the event says what was applied, marked
 * stale, and the reply is an error. */
static void on_record(bus_t *bus, const bus_msg *m, void *arg)
{
    approval_service *s = arg;
    const char *run, *dec;
    const json_t *gen = json_object_get(m->data, "generation");
    enum bosun_approval_decision claimed;
    char err[256];
    if (!bounded_string(json_object_get(m->data, "run"), RUN_MAX, false, &run) ||
        !bounded_string(json_object_get(m->data, "decision"), 8, true, &dec) ||
        !bosun_approval_decision_parse(dec, &claimed) || claimed == BOSUN_APPROVAL_ASK ||
        !json_is_integer(gen)) {
        if (m->reply)
            reply_to(bus, m->reply,
                     bus_error_json("bad_request", "'decision' (allow or deny) and 'generation' "
                                                   "(an integer) are required"));
        return;
    }
    json_t *r = evaluate(s, m->data, err, sizeof err);
    if (!r) {
        if (m->reply)
            reply_to(bus, m->reply, bus_error_json("bad_request", "%s", err));
        return;
    }
    bool stale = (uint64_t)json_integer_value(gen) != s->generation;
    const char *rule = json_string_value(json_object_get(r, "rule"));
    enum bosun_approval_decision d = claimed;
    if (!stale &&
        (!bosun_approval_decision_parse(json_string_value(json_object_get(r, "decision")), &d) ||
         d != claimed)) {
        log_warning("approvals: run %s decided %s where the policy says otherwise", run ? run : "?",
                    dec);
        stale = true;
        d = claimed;
    }
    char by[BOSUN_APPROVAL_RULE_MAX + 16], id[ULID_LEN + 1];
    if (stale)
        snprintf(by, sizeof by, "agent");
    else
        snprintf(by, sizeof by, rule ? "rule:%s" : "default", rule);
    ulid_new(id);
    publish_decided(s, id, json_string_value(json_object_get(m->data, "agent")),
                    json_string_value(json_object_get(m->data, "task")), run,
                    json_string_value(json_object_get(m->data, "tool")), d, by, NULL, false, NULL,
                    json_pack("{s:b,s:I,s:b}", "local", 1, "generation", json_integer_value(gen),
                              "stale", stale));
    json_decref(r);
    if (m->reply)
        reply_to(bus, m->reply,
                 stale ? bus_error_json("stale",
                                        "decided with policy generation %lld; the "
                                        "current one is %llu",
                                        (long long)json_integer_value(gen),
                                        (unsigned long long)s->generation)
                       : json_pack("{s:s,s:I}", "id", id, "generation", (json_int_t)s->generation));
}

/* ------------------------------------------------------------ sticky rules */

#define STICKY_PAGE 5000

static void sticky_load(approval_service *s, const char *after);

/* The stored decisions made with --always become sticky rules again, read
 * from the store's projection of them (cmd.store.approvals, sticky only):
 * as many rows as there are rules, however long the history. */
static void on_sticky_page(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    approval_service *s = arg;
    if (st == BUS_REPLY_CANCELLED)
        return;
    s->sticky_req = 0;
    if (st != BUS_REPLY_OK || !m || json_object_get(m->data, "error")) {
        log_warning("approvals: the sticky rules could not be read from the store; calls they "
                    "allowed are asked again");
        return;
    }
    json_t *rows = json_object_get(m->data, "approvals");
    size_t i;
    json_t *d;
    const char *last = NULL;
    size_t n = 0;
    json_array_foreach(rows, i, d)
    {
        last = json_string_value(json_object_get(d, "id"));
        const char *rule = json_string_value(json_object_get(d, "sticky_rule"));
        const char *agent = json_string_value(json_object_get(d, "agent"));
        enum bosun_approval_decision dec;
        if (!rule || !agent || strlen(agent) > AGENT_MAX ||
            !bosun_approval_decision_parse(json_string_value(json_object_get(d, "decision")),
                                           &dec) ||
            dec == BOSUN_APPROVAL_ASK)
            continue;
        const char *task = json_string_value(json_object_get(d, "task"));
        if (task && strlen(task) > TASK_MAX)
            continue;
        add_sticky(s, agent, task, dec, rule);
        n++;
    }
    if (n) {
        log_info("approvals: %zu sticky rules restored", n);
        approval_service_changed(s);
    }
    if (json_array_size(rows) == STICKY_PAGE && last && strlen(last) <= ULID_LEN)
        sticky_load(s, last);
}

static void sticky_load(approval_service *s, const char *after)
{
    json_t *q = json_pack("{s:b,s:s?,s:i}", "sticky", 1, "after", after, "limit", STICKY_PAGE);
    s->sticky_req = bus_request(s->bus, BOSUN_STORE_APPROVALS, q, 30, on_sticky_page, s);
    json_decref(q); /* bus_request borrows it */
    if (!s->sticky_req)
        log_warning("approvals: cannot ask the store for the sticky rules");
}

approval_service *approval_service_new(struct ev_loop *loop, bus_t *bus, proc *p,
                                       bosun_approval_policy *const *global)
{
    approval_service *s = xcalloc(1, sizeof *s);
    s->bus = bus;
    s->p = p;
    s->loop = loop;
    s->global = global;
    hmap_init(&s->sticky);
    s->subs[0] = bus_subscribe(bus, BOSUN_APPROVAL_CHECK, on_check, s);
    s->subs[1] = bus_subscribe(bus, BOSUN_APPROVAL_REQUEST, on_request, s);
    s->subs[2] = bus_subscribe(bus, BOSUN_APPROVAL_ANSWER, on_answer, s);
    s->subs[3] = bus_subscribe(bus, BOSUN_APPROVAL_LIST, on_list, s);
    s->subs[4] = bus_subscribe(bus, "evt.run.*.*.state", on_run_state, s);
    s->subs[5] = bus_subscribe(bus, BOSUN_APPROVAL_POLICY, on_policy, s);
    s->subs[6] = bus_subscribe(bus, BOSUN_APPROVAL_RECORD, on_record, s);
    s->generation = 1;
    sticky_load(s, NULL);
    return s;
}

void approval_service_free(approval_service *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < sizeof s->subs / sizeof *s->subs; i++)
        if (s->subs[i])
            bus_unsubscribe(s->bus, s->subs[i]);
    if (s->sticky_req)
        bus_request_cancel(s->bus, s->sticky_req);
    /* Still open at shutdown: the agents are stopped with the daemon; a
     * held reply is answered deny so nothing waits on it. */
    while (s->pending)
        decide(s->pending, BOSUN_APPROVAL_DENY, "shutdown", "bosund is stopping", false, NULL);
    size_t pos = 0;
    bosun_approval_policy *pol;
    while ((pol = hmap_next(&s->sticky, &pos, NULL)))
        bosun_approval_policy_free(pol);
    hmap_destroy(&s->sticky);
    free(s);
}
