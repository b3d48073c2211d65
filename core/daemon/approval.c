/* cmd.approval.check (see <bosun/approval.h>): the policy of an agent and
 * the global one, plus the sticky rules ("--always") of an agent+task,
 * evaluated for one tool call. */
#include "config.h"

#include "approval.h"
#include "hmap.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/log.h>

#define AGENT_MAX 128
#define TASK_MAX  64
#define TOOL_MAX  256

struct approval_service {
    bus_t *bus;
    proc *p;
    bosun_approval_policy *const *global;
    hmap sticky; /* "agent\ttask" -> bosun_approval_policy */
    bus_sub *subs[1];
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
    if (!task)
        return NULL;
    char key[AGENT_MAX + TASK_MAX + 2];
    snprintf(key, sizeof key, "%s\t%s", agent, task);
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
    return result_json(r);
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

approval_service *approval_service_new(bus_t *bus, proc *p, bosun_approval_policy *const *global)
{
    approval_service *s = xcalloc(1, sizeof *s);
    s->bus = bus;
    s->p = p;
    s->global = global;
    hmap_init(&s->sticky);
    s->subs[0] = bus_subscribe(bus, BOSUN_APPROVAL_CHECK, on_check, s);
    return s;
}

void approval_service_free(approval_service *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < sizeof s->subs / sizeof *s->subs; i++)
        if (s->subs[i])
            bus_unsubscribe(s->bus, s->subs[i]);
    size_t pos = 0;
    bosun_approval_policy *pol;
    while ((pol = hmap_next(&s->sticky, &pos, NULL)))
        bosun_approval_policy_free(pol);
    hmap_destroy(&s->sticky);
    free(s);
}
