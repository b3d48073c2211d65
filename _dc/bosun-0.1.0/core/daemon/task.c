/* cmd.task.create, cmd.input.create, cmd.input.answer and
 * cmd.auth.agent_token (see <bosun/task.h>).  State lives in events; what
 * must be looked up again (input requests, token hashes) is asked of the
 * store. */
#include "config.h"

#include "remote.h"
#include "task.h"
#include "token.h"
#include "ulid.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/log.h>
#include <bosun/store.h>
#include <bosun/task.h>

#define TITLE_MAX    200
#define QUESTION_MAX 8192 /* the same limits as the MCP tool's schema */
#define CHOICES_MAX  50
#define CHOICE_MAX   512
#define ANSWER_MAX   (64 * 1024)
#define PROMPT_MAX   (1024 * 1024)

struct task_service {
    bus_t *bus;
    proc *p;
    char *machine_id;
    bus_sub *subs[5];
};

/* A request waiting for the store before it can be answered. */
typedef struct pending {
    task_service *t;
    char *reply;
    json_t *args;
} pending;

static void reply_to(bus_t *bus, const char *reply, json_t *data)
{
    bus_publish_new(bus, reply, NULL, data);
}

static pending *pending_new(task_service *t, const bus_msg *m)
{
    pending *pd = xcalloc(1, sizeof *pd);
    pd->t = t;
    pd->reply = xstrdup(m->reply);
    pd->args = json_incref(m->data);
    return pd;
}

static void pending_free(pending *pd)
{
    free(pd->reply);
    json_decref(pd->args);
    free(pd);
}

static bool optional_string(json_t *v, size_t max, const char **out)
{
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v) || json_string_length(v) > max)
        return false;
    *out = json_string_value(v);
    return true;
}

/* ------------------------------------------------------------ tasks */

static void on_task_create(bus_t *bus, const bus_msg *m, void *arg)
{
    task_service *t = arg;
    if (!m->reply || remote_route(bus, m, t->machine_id))
        return;
    const char *title, *prompt, *agent, *owner;
    if (!optional_string(json_object_get(m->data, "title"), TITLE_MAX, &title) || !title || !*title)
        return reply_to(
            bus, m->reply,
            bus_error_json("bad_request", "'title' must be a string of 1 to %d bytes", TITLE_MAX));
    if (!optional_string(json_object_get(m->data, "prompt"), PROMPT_MAX, &prompt) ||
        !optional_string(json_object_get(m->data, "agent"), 64, &agent) ||
        !optional_string(json_object_get(m->data, "owner"), 200, &owner))
        return reply_to(
            bus, m->reply,
            bus_error_json("bad_request", "'prompt', 'agent' and 'owner' must be strings"));
    if (agent && !proc_has_agent(t->p, agent))
        return reply_to(
            bus, m->reply,
            bus_error_json("unknown_agent", "no agent named '%s' in the configuration", agent));
    char id[ULID_LEN + 1], subject[BUS_SUBJECT_MAX];
    ulid_new(id);
    snprintf(subject, sizeof subject, "evt.task.%s.updated", id);
    bus_publish_new(bus, subject, NULL,
                    json_pack("{s:s,s:s,s:s?,s:s,s:s?,s:s?,s:s}", "task", id, "title", title,
                              "prompt", prompt, "status", "open", "agent", agent, "owner", owner,
                              "machine", t->machine_id));
    json_t *reply = json_pack("{s:s,s:n}", "task", id, "run");
    if (agent) {
        char run[ULID_LEN + 1], err[512];
        if (proc_start(t->p, agent, id, prompt, run, err, sizeof err) == 0)
            json_object_set_new(reply, "run", json_string(run));
        else
            json_object_set_new(reply, "start_error", json_string(err));
    }
    reply_to(bus, m->reply, reply);
}

/* Task status follows its runs, so the task index tells what is going on
 * without reading every run. */
static void on_run_state(bus_t *bus, const bus_msg *m, void *arg)
{
    const char *task = json_string_value(json_object_get(m->data, "task"));
    const char *state = json_string_value(json_object_get(m->data, "state"));
    if (!task || !state)
        return;
    const char *status = NULL;
    switch (bosun_run_state_class(state)) {
    case BOSUN_RUN_CLASS_ACTIVE:
        status = "running";
        break;
    case BOSUN_RUN_CLASS_WAITING:
        status = "waiting_input";
        break;
    case BOSUN_RUN_CLASS_TERMINAL:
        if (!strcmp(state, "STOPPED"))
            status = "stopped";
        else if (!strcmp(state, "EXITED"))
            status = json_integer_value(json_object_get(m->data, "exit_code")) == 0 &&
                             json_is_integer(json_object_get(m->data, "exit_code"))
                         ? "done"
                         : "failed";
        else
            status = "failed";
        break;
    case BOSUN_RUN_CLASS_UNKNOWN:
        break;
    }
    const char *reason = json_string_value(json_object_get(m->data, "reason"));
    if (status && !strcmp(state, "EXITED") && reason && strstr(reason, "resumed as run"))
        return; /* the resumed run carries on */
    if (!status)
        return;
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.task.%s.updated", task);
    bus_publish_new(bus, subject, NULL, json_pack("{s:s,s:s}", "task", task, "status", status));
}

/* ------------------------------------------------------------ inputs */

static bool valid_choices(json_t *choices)
{
    if (!choices || json_is_null(choices))
        return true;
    if (!json_is_array(choices) || json_array_size(choices) == 0 ||
        json_array_size(choices) > CHOICES_MAX)
        return false;
    size_t i;
    json_t *c;
    json_array_foreach(choices, i, c) if (!json_is_string(c) || json_string_length(c) == 0 ||
                                          json_string_length(c) > CHOICE_MAX) return false;
    return true;
}

static void on_input_create(bus_t *bus, const bus_msg *m, void *arg)
{
    task_service *t = arg;
    if (!m->reply)
        return;
    const char *run = json_string_value(json_object_get(m->data, "run"));
    const char *question;
    json_t *choices = json_object_get(m->data, "choices");
    json_t *blocking = json_object_get(m->data, "blocking");
    if (!run)
        return reply_to(bus, m->reply, bus_error_json("bad_request", "'run' is required"));
    if (!optional_string(json_object_get(m->data, "question"), QUESTION_MAX, &question) ||
        !question || !*question)
        return reply_to(bus, m->reply,
                        bus_error_json("bad_request",
                                       "'question' must be a string of 1 to %d bytes",
                                       QUESTION_MAX));
    if (!valid_choices(choices))
        return reply_to(bus, m->reply,
                        bus_error_json("bad_request",
                                       "'choices' must be 1 to %d strings of 1 to %d bytes",
                                       CHOICES_MAX, CHOICE_MAX));
    if (blocking && !json_is_boolean(blocking))
        return reply_to(bus, m->reply,
                        bus_error_json("bad_request", "'blocking' must be a boolean"));
    const char *agent, *task;
    if (!proc_run_lookup(t->p, run, &agent, &task))
        return reply_to(bus, m->reply,
                        bus_error_json("not_found", "no run %.64s on this machine", run));
    if (!proc_run_accepts_token(t->p, run))
        return reply_to(bus, m->reply,
                        bus_error_json("run_ended", "run %s has ended; it can ask nothing", run));
    if (!task)
        return reply_to(bus, m->reply,
                        bus_error_json("no_task",
                                       "run %s has no task; input requests belong to "
                                       "tasks",
                                       run));
    char id[ULID_LEN + 1], subject[BUS_SUBJECT_MAX];
    ulid_new(id);
    bool is_blocking = json_is_true(blocking);
    snprintf(subject, sizeof subject, "evt.input.%s.requested", id);
    bus_publish_new(bus, subject, NULL,
                    json_pack("{s:s,s:s,s:s,s:s,s:s,s:O?,s:b}", "input", id, "run", run, "task",
                              task, "agent", agent, "question", question, "choices",
                              json_is_null(choices) ? NULL : choices, "blocking", is_blocking));
    if (is_blocking)
        proc_set_waiting(t->p, run, id);
    /* The question is the agent's text: only at debug (it may hold anything). */
    log_info("run %s asks (input %s%s)", run, id, is_blocking ? ", blocking" : "");
    log_debug("input %s: %.200s", id, question);
    reply_to(bus, m->reply,
             json_pack("{s:s,s:s,s:s,s:b}", "input", id, "task", task, "status", "pending",
                       "blocking", is_blocking));
}

/* The answer as text: a choice index becomes the choice's text. */
static json_t *resolve_answer(json_t *request, json_t *args)
{
    json_t *choice = json_object_get(args, "choice");
    json_t *answer = json_object_get(args, "answer");
    json_t *choices = json_object_get(request, "choices");
    if ((choice && answer) || (!choice && !answer))
        return bus_error_json("bad_request", "give exactly one of 'answer' and 'choice'");
    if (answer) {
        if (!json_is_string(answer) || json_string_length(answer) > ANSWER_MAX)
            return bus_error_json("bad_request", "'answer' must be a string of at most %d bytes",
                                  ANSWER_MAX);
        return json_pack("{s:O,s:n}", "answer", answer, "choice");
    }
    json_int_t n = json_integer_value(choice);
    if (!json_is_integer(choice) || !json_is_array(choices) || n < 1 ||
        (size_t)n > json_array_size(choices))
        return bus_error_json("bad_request", "'choice' must be a number from 1 to %zu",
                              json_is_array(choices) ? json_array_size(choices) : (size_t)0);
    return json_pack("{s:O,s:I}", "answer", json_array_get(choices, (size_t)n - 1), "choice", n);
}

static void on_input_found(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    pending *pd = arg;
    if (st != BUS_REPLY_OK) {
        if (st != BUS_REPLY_CANCELLED)
            reply_to(bus, pd->reply, bus_error_json("no_store", "no store answered"));
        return pending_free(pd);
    }
    const char *id = json_string_value(json_object_get(pd->args, "input"));
    json_t *req = json_array_get(json_object_get(m->data, "inputs"), 0);
    const char *status = json_string_value(json_object_get(req, "status"));
    const char *machine = json_string_value(json_object_get(req, "machine"));
    /* An answer bound to a task (a share link's) reaches that task's
     * questions only; another's is as unknown. */
    const char *only = json_string_value(json_object_get(pd->args, "task"));
    const char *task = json_string_value(json_object_get(req, "task"));
    if (req && only && (!task || strcmp(task, only) != 0)) {
        reply_to(bus, pd->reply, bus_error_json("not_found", "no input request %.64s", id));
        return pending_free(pd);
    }
    if (!req || (machine && strcmp(machine, pd->t->machine_id) != 0)) {
        /* A hub: a question of one of its machines is answered there. */
        remote_ask(bus, BOSUN_INPUT_ANSWER, pd->reply, pd->args, machine,
                   bus_error_json("not_found", "no input request %.64s", id));
        return pending_free(pd);
    }
    if (!status || strcmp(status, "pending") != 0) {
        reply_to(
            bus, pd->reply,
            bus_error_json("not_pending", "input request %s is %s", id, status ? status : "?"));
        return pending_free(pd);
    }
    json_t *ans = resolve_answer(req, pd->args);
    if (json_object_get(ans, "error")) {
        reply_to(bus, pd->reply, ans);
        return pending_free(pd);
    }
    const char *run = json_string_value(json_object_get(req, "run"));
    const char *answer = json_string_value(json_object_get(ans, "answer"));
    const char *by = json_string_value(json_object_get(pd->args, "by"));
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.input.%s.answered", id);
    bus_publish_new(bus, subject, NULL,
                    json_pack("{s:s,s:O?,s:O?,s:s,s:O,s:s}", "input", id, "task",
                              json_object_get(req, "task"), "run", json_object_get(req, "run"),
                              "answer", answer, "choice", json_object_get(ans, "choice"),
                              "answered_by", by ? by : "cli"));
    char resumed[ULID_LEN + 1] = "";
    if (run)
        proc_input_answered(pd->t->p, run, id, answer, resumed, sizeof resumed);
    reply_to(bus, pd->reply,
             json_pack("{s:s,s:s,s:s?}", "input", id, "answer", answer, "resumed",
                       resumed[0] ? resumed : NULL));
    json_decref(ans);
    pending_free(pd);
}

static void on_input_answer(bus_t *bus, const bus_msg *m, void *arg)
{
    task_service *t = arg;
    if (!m->reply || remote_route(bus, m, t->machine_id))
        return;
    const char *id = json_string_value(json_object_get(m->data, "input"));
    if (!id || !ulid_valid(id))
        return reply_to(bus, m->reply,
                        bus_error_json("bad_request", "'input' must be a request id"));
    json_t *q = json_pack("{s:s}", "input", id);
    pending *pd = pending_new(t, m);
    if (!bus_request(bus, BOSUN_STORE_INPUTS, q, 10, on_input_found, pd)) {
        reply_to(bus, m->reply, bus_error_json("internal", "cannot ask the store"));
        pending_free(pd);
    }
    json_decref(q);
}

/* ------------------------------------------------------------ tokens */

static void on_token_found(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    pending *pd = arg;
    json_t *row = st == BUS_REPLY_OK ? json_array_get(json_object_get(m->data, "tokens"), 0) : NULL;
    const char *machine = json_string_value(json_object_get(row, "machine"));
    double expires = json_number_value(json_object_get(row, "expires_at"));
    if (st == BUS_REPLY_CANCELLED)
        return pending_free(pd);
    if (!row)
        reply_to(bus, pd->reply, bus_error_json("unauthorized", "unknown agent token"));
    else if (expires <= bosun_now())
        reply_to(bus, pd->reply, bus_error_json("unauthorized", "the agent token has expired"));
    else if (!machine || strcmp(machine, pd->t->machine_id) != 0)
        reply_to(bus, pd->reply,
                 bus_error_json("unauthorized", "the agent token is for another "
                                                "machine"));
    else if (!proc_run_accepts_token(pd->t->p, json_string_value(json_object_get(row, "run"))))
        reply_to(bus, pd->reply, bus_error_json("unauthorized", "the agent token's run has ended"));
    else
        reply_to(bus, pd->reply,
                 json_pack("{s:O,s:O,s:O,s:s,s:f}", "run", json_object_get(row, "run"), "task",
                           json_object_get(row, "task"), "agent", json_object_get(row, "agent"),
                           "machine", machine, "expires_at", expires));
    pending_free(pd);
}

static void on_auth_token(bus_t *bus, const bus_msg *m, void *arg)
{
    task_service *t = arg;
    if (!m->reply)
        return;
    const char *token = json_string_value(json_object_get(m->data, "token"));
    if (!token || strlen(token) != TOKEN_LEN || strncmp(token, TOKEN_PREFIX, 4) != 0)
        return reply_to(bus, m->reply,
                        bus_error_json("unauthorized", "missing or malformed agent "
                                                       "token"));
    char hash[TOKEN_HASH_LEN + 1];
    token_hash(token, hash);
    json_t *q = json_pack("{s:s}", "hash", hash);
    pending *pd = pending_new(t, m);
    json_object_del(pd->args, "token"); /* keep no copy of the secret */
    if (!bus_request(bus, BOSUN_STORE_TOKENS, q, 10, on_token_found, pd)) {
        reply_to(bus, m->reply, bus_error_json("internal", "cannot ask the store"));
        pending_free(pd);
    }
    json_decref(q);
}

/* ------------------------------------------------------------ object */

task_service *task_service_new(bus_t *bus, proc *p, const char *machine_id)
{
    task_service *t = xcalloc(1, sizeof *t);
    t->bus = bus;
    t->p = p;
    t->machine_id = xstrdup(machine_id);
    t->subs[0] = bus_subscribe(bus, BOSUN_TASK_CREATE, on_task_create, t);
    t->subs[1] = bus_subscribe(bus, BOSUN_INPUT_CREATE, on_input_create, t);
    t->subs[2] = bus_subscribe(bus, BOSUN_INPUT_ANSWER, on_input_answer, t);
    t->subs[3] = bus_subscribe(bus, BOSUN_AUTH_TOKEN, on_auth_token, t);
    t->subs[4] = bus_subscribe(bus, "evt.run.*.*.state", on_run_state, t);
    return t;
}

void task_service_free(task_service *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < sizeof t->subs / sizeof t->subs[0]; i++)
        if (t->subs[i])
            bus_unsubscribe(t->bus, t->subs[i]);
    free(t->machine_id);
    free(t);
}
