/* {"op": "agent", "token": T}: a program of a run (bosun-llm) talking to
 * bosund for itself, not through MCP.  A valid run token makes the
 * connection that run's agent principal, granted
 *   requests to    cmd.llm.>, cmd.approval.check, cmd.approval.request,
 *                  cmd.approval.policy, cmd.approval.record,
 *                  cmd.input.create, cmd.store.inputs (its own run's: the
 *                  store filters on the run and task set below)
 *   subscriptions  evt.run.*.<its run>.>, evt.approval.policy.changed
 *                  (a generation number, nothing else), and evt.input.<id>.> for each
 *                  input request of its run a reply named (created, or
 *                  listed by cmd.store.inputs: a restarted process waits
 *                  for the answer to the question it asked before)
 * and nothing else.  Every request it sends has "run" and "task" of its
 * data overwritten with its run's ("agent" too for cmd.approval.*, and
 * "session" taken out: handlers find the run's), so that a handler can
 * trust them: an agent cannot act for another run whatever it writes. */
#include "config.h"

#include <string.h>

#include <bosun/approval.h>
#include <bosun/json.h>
#include <bosun/log.h>
#include <bosun/store.h>
#include <bosun/task.h>

#include "ctl_server_internal.h"
#include "util.h"

struct ctl_agent {
    char *run, *task, *agent;
};

void agent_free(ctl_client *c)
{
    if (!c->agent)
        return;
    free(c->agent->run);
    free(c->agent->task);
    free(c->agent->agent);
    free(c->agent);
    c->agent = NULL;
}

static bool grant(bus_principal *p, enum bus_perm perm, const char *pattern)
{
    return bus_principal_allow(p, perm, pattern) == 0;
}

/* The run's principal, or NULL when the run id cannot make a pattern. */
static bus_principal *agent_principal(const char *run)
{
    char events[BUS_SUBJECT_MAX];
    snprintf(events, sizeof events, "evt.run.*.%s.>", run);
    if (strchr(run, '.') || bus_pattern_check(events) != 0)
        return NULL;
    bus_principal *p = bus_principal_new("agent", run);
    if (!p || !grant(p, BUS_PERM_REQ, "cmd.llm.>") ||
        !grant(p, BUS_PERM_REQ, BOSUN_APPROVAL_CHECK) ||
        !grant(p, BUS_PERM_REQ, BOSUN_APPROVAL_REQUEST) ||
        !grant(p, BUS_PERM_REQ, BOSUN_APPROVAL_POLICY) ||
        !grant(p, BUS_PERM_REQ, BOSUN_APPROVAL_RECORD) ||
        !grant(p, BUS_PERM_SUB, BOSUN_APPROVAL_CHANGED) ||
        !grant(p, BUS_PERM_REQ, BOSUN_INPUT_CREATE) ||
        !grant(p, BUS_PERM_REQ, BOSUN_STORE_INPUTS) || !grant(p, BUS_PERM_SUB, events)) {
        log_error("out of memory");
        abort();
    }
    return p;
}

static void on_token_checked(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    client_request *r = arg;
    ctl_client *c = r->client;
    json_t *id = json_incref(r->id);
    detach_request(c, r);
    c->agent_opening = false;
    const char *run =
        st == BUS_REPLY_OK ? json_string_value(json_object_get(m->data, "run")) : NULL;
    json_t *e = st == BUS_REPLY_OK ? json_object_get(m->data, "error") : NULL;
    bus_principal *p = run ? agent_principal(run) : NULL;
    if (!p) {
        if (e) /* a refused token counts; no answer at all does not */
            ctl_auth_outcome(c, false);
        const char *msg = json_string_value(json_object_get(e, "message"));
        send_error(c, id, e ? "unauthorized" : "unavailable", "%s",
                   msg   ? msg
                   : run ? "the token's run id cannot name its subjects"
                         : "the daemon did not check the token");
        json_decref(id);
        return;
    }
    ctl_auth_outcome(c, true);
    const char *task = json_string_value(json_object_get(m->data, "task"));
    const char *agent = json_string_value(json_object_get(m->data, "agent"));
    c->agent = xcalloc(1, sizeof *c->agent);
    c->agent->run = xstrdup(run);
    c->agent->task = task && *task ? xstrdup(task) : NULL;
    c->agent->agent = agent ? xstrdup(agent) : NULL;
    bus_principal_free(c->who);
    c->who = p;
    log_info("%s client #%u (uid %d): the agent of run %s", c->srv->name, c->serial, (int)c->uid,
             run);
    send_result(
        c, id,
        json_pack("{s:s,s:s?,s:s?}", "run", run, "task", c->agent->task, "agent", c->agent->agent));
    json_decref(id);
}

void op_agent(ctl_client *c, json_t *id, json_t *req)
{
    const char *token = json_string_value(json_object_get(req, "token"));
    if (!token)
        return send_error(c, id, "unauthorized", "an agent token is required");
    if (c->agent || c->agent_opening || c->mcp_session || c->mcp_opening)
        return send_error(c, id, "bad_request", "this connection has its principal already");
    if (!ctl_auth_allowed(c))
        return send_error(c, id, "rate_limited",
                          "too many failed attempts to authenticate; try again later");
    client_request *r = xcalloc(1, sizeof *r);
    r->client = c;
    r->id = json_incref(id);
    json_t *q = json_pack("{s:s}", "token", token);
    r->bus_id = bus_request(c->srv->bus, BOSUN_AUTH_TOKEN, q, 10, on_token_checked, r);
    json_decref(q);
    if (!r->bus_id) {
        json_decref(r->id);
        free(r);
        return send_error(c, id, "internal", "cannot check the token");
    }
    c->agent_opening = true;
    r->next = c->requests;
    c->requests = r;
}

json_t *agent_scope(ctl_client *c, const char *subject, json_t *data, bool *grant_input)
{
    *grant_input = false;
    if (!c->agent)
        return json_incref(data);
    json_t *d = json_is_object(data) ? json_copy(data) : json_object();
    if (!d)
        util_oom(64);
    json_object_set_new(d, "run", json_string(c->agent->run));
    json_object_set_new(d, "task", c->agent->task ? json_string(c->agent->task) : json_null());
    /* The session is the run's: its handlers look it up from the run, and
     * one the agent names is not taken. */
    json_object_del(d, "session");
    /* Approvals are judged by the policy of the run's own agent. */
    if (c->agent->agent && strncmp(subject, "cmd.approval.", 13) == 0)
        json_object_set_new(d, "agent", json_string(c->agent->agent));
    *grant_input =
        strcmp(subject, BOSUN_INPUT_CREATE) == 0 || strcmp(subject, BOSUN_STORE_INPUTS) == 0;
    return d;
}

static void follow(ctl_client *c, const char *input)
{
    char pattern[BUS_SUBJECT_MAX];
    if (!input || strchr(input, '.'))
        return;
    snprintf(pattern, sizeof pattern, "evt.input.%s.>", input);
    if (bus_pattern_check(pattern) == 0 && !bus_principal_may(c->who, BUS_PERM_SUB, pattern) &&
        !grant(c->who, BUS_PERM_SUB, pattern))
        log_warning("%s client #%u: cannot let run %s follow input request %s", c->srv->name,
                    c->serial, c->agent->run, input);
}

void agent_follow_input(ctl_client *c, const json_t *reply)
{
    if (!c->agent)
        return;
    follow(c, json_string_value(json_object_get(reply, "input")));
    size_t i;
    json_t *in;
    json_array_foreach(json_object_get(reply, "inputs"), i, in)
    {
        /* The store answered for this run only; checked again all the same. */
        const char *run = json_string_value(json_object_get(in, "run"));
        if (run && strcmp(run, c->agent->run) == 0)
            follow(c, json_string_value(json_object_get(in, "input")));
    }
}
