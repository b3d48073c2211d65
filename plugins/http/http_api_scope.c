/* What an identity bound to one task (an agent's per-run token, a share
 * link) may see: REST's handlers ask it of their parameters (404 for
 * another task's things, as if they did not exist), and every bus request
 * made for such an identity passes api_scope_query, REST's (api_call) and
 * /ws "req" alike, so that both transports apply this one policy. */
#define _POSIX_C_SOURCE 200809L
#include "http_api.h"

#include <stdio.h>
#include <string.h>

#include <bosun/approval.h>
#include <bosun/store.h>
#include <bosun/task.h>

/* Deny by default: an agent or share identity is bound even when its task
 * is "" (a run started without one), and then sees no task at all, only its
 * own run (api_id_run). */
const char *api_id_task(const http_identity *id)
{
    if (id->cred == HTTP_CRED_AGENT || id->cred == HTTP_CRED_SHARE || id->task[0])
        return id->task;
    return NULL;
}

const char *api_id_run(const http_identity *id)
{
    return api_id_task(id) && id->run[0] ? id->run : NULL;
}

const char *api_scope_task(const http_request *r)
{
    return api_id_task(&r->id);
}

const char *api_scope_run(const http_request *r)
{
    return api_id_run(&r->id);
}

bool api_scope_allows(http_request *r, const char *task, const char *what, const char *id)
{
    const char *scope = api_scope_task(r);
    if (!scope || (task && scope[0] && strcmp(task, scope) == 0))
        return true;
    http_respond_error(r, 404, "not_found", "no %s '%s'", what, id);
    return false;
}

bool api_list_task(http_request *r, const char **task)
{
    const char *scope = api_scope_task(r);
    if (!scope)
        return true;
    if (*task && strcmp(*task, scope) != 0) {
        http_respond_error(r, 404, "not_found", "no task '%s'", *task);
        return false;
    }
    *task = scope;
    return true;
}

/* The reads a bound identity's principal may make (principal_agent in
 * http_auth.c, principal_share in http_auth_share.c: the store's, and a
 * share's task's pull requests, which the github plugin finds only among
 * the PRs linked to the task named), and whether the query can name a run:
 * then an identity without a task is narrowed to its own run, else it sees
 * nothing. */
static const struct {
    const char *subject;
    bool by_run;
} api_scoped_reads[] = {
    {BOSUN_STORE_TASKS, false},     {BOSUN_STORE_RUNS, true},        {BOSUN_STORE_INPUTS, false},
    {BOSUN_STORE_ARTIFACTS, false}, {BOSUN_STORE_EVENTS, true},      {"cmd.github.prs", false},
    {"cmd.github.prs.diff", false}, {"cmd.github.prs.files", false},
};

static int api_scoped_read(const char *subject)
{
    for (size_t i = 0; i < sizeof api_scoped_reads / sizeof api_scoped_reads[0]; i++)
        if (strcmp(subject, api_scoped_reads[i].subject) == 0)
            return (int)i;
    return -1;
}

/* A filter of q that must be a string when given. */
static bool api_filter(const json_t *q, const char *key, const char **out)
{
    const json_t *v = json_object_get(q, key);
    *out = json_string_value(v);
    return !v || json_is_null(v) || json_is_string(v);
}

/* An approval request of a bound identity is about its own run only (the
 * daemon then judges it by that run's agent's policy): the run and task
 * are forced, whatever the request said; an identity without a run (a
 * share link) may not ask. */
static const char *api_scope_approval(const http_identity *id, const char *task, json_t *q,
                                      char *msg, size_t size)
{
    const char *own = api_id_run(id);
    if (!own || !json_is_object(q))
        return snprintf(msg, size, "%s may not ask for approvals", id->kind), "forbidden";
    json_object_set_new(q, "run", json_string(own));
    json_object_set_new(q, "task", task[0] ? json_string(task) : json_null());
    return NULL;
}

/* A share link that may answer answers its own task's questions only: the
 * daemon refuses the answer when the input's task is not the one forced
 * here (cmd.input.answer's "task"), whichever transport it came by. */
static const char *api_scope_answer(const http_identity *id, const char *task, json_t *q, char *msg,
                                    size_t size)
{
    if (id->cred != HTTP_CRED_SHARE || !id->can_answer || !task[0] || !json_is_object(q))
        return snprintf(msg, size, "%s may not answer questions", id->kind), "forbidden";
    json_object_set_new(q, "task", json_string(task));
    return NULL;
}

/* An llm run's files and chat (cmd.llm.files.*, cmd.llm.chat.*) are an
 * agent's for its own run only: the run is forced, another one is a 404,
 * and a share link has none of them. */
static const char *api_scope_llm(const http_identity *id, json_t *q, char *msg, size_t size)
{
    const char *own = api_id_run(id), *run;
    if (id->cred != HTTP_CRED_AGENT || !own || !json_is_object(q))
        return snprintf(msg, size, "%s may not use an llm run's files or chat", id->kind),
               "forbidden";
    if (!api_filter(q, "run", &run))
        return snprintf(msg, size, "'run' must be an id"), "bad_request";
    if (run && strcmp(run, own) != 0)
        return snprintf(msg, size, "no run '%.64s'", run), "not_found";
    /* Its session is its run's, and what it records is never a human's. */
    json_object_del(q, "session");
    json_object_del(q, "actor");
    json_object_set_new(q, "run", json_string(own));
    return NULL;
}

const char *api_scope_query(const http_identity *id, const char *subject, json_t *q, char *msg,
                            size_t size)
{
    const char *task = api_id_task(id), *t, *run;
    if (!task)
        return NULL;
    if (strcmp(subject, BOSUN_APPROVAL_REQUEST) == 0)
        return api_scope_approval(id, task, q, msg, size);
    if (strcmp(subject, BOSUN_INPUT_ANSWER) == 0)
        return api_scope_answer(id, task, q, msg, size);
    if (strncmp(subject, "cmd.llm.files.", 14) == 0 || strncmp(subject, "cmd.llm.chat.", 13) == 0)
        return api_scope_llm(id, q, msg, size);
    int i = api_scoped_read(subject);
    if (i < 0) /* deny by default: a read added to the principal is not open before it is here */
        return snprintf(msg, size, "%s may not use %s", id->kind, subject), "forbidden";
    if (!json_is_object(q) || !api_filter(q, "task", &t) || !api_filter(q, "run", &run))
        return snprintf(msg, size, "'task' and 'run' must be ids"), "bad_request";
    if (t && strcmp(t, task) != 0)
        return snprintf(msg, size, "no task '%.64s'", t), "not_found";
    const char *own = api_id_run(id);
    if (task[0] || !api_scoped_reads[i].by_run || !own) {
        if (!task[0] && strcmp(subject, BOSUN_STORE_ARTIFACTS) == 0)
            return snprintf(msg, size, "no task '%.64s'", t ? t : ""), "not_found";
        json_object_set_new(q, "task", json_string(task));
        return NULL;
    }
    if (run && strcmp(run, own) != 0)
        return snprintf(msg, size, "no run '%.64s'", run), "not_found";
    json_object_del(q, "task");
    json_object_set_new(q, "run", json_string(own));
    return NULL;
}
