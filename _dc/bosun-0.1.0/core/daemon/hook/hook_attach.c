/* cmd.hook.event: hook calls of hand-started Claude Code sessions become
 * the events of attached runs (hook_attach.h).  The runs live in memory,
 * bounded: at most ATTACH_MAX sessions are remembered; beyond, the one
 * heard from longest ago is forgotten (marked LOST if it was still
 * running), so a stream of sessions that never end cannot grow the
 * daemon.  The store keeps every run and event as it keeps supervised
 * ones; a daemon restart marks the runs it left RUNNING as LOST (proc.c),
 * and the session's next hook starts a new attached run. */
#include "config.h"

#include "hook_attach.h"
#include "hook_map.h"

#include "hmap.h"
#include "ulid.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/log.h>

/* Sessions remembered at once. */
#define ATTACH_MAX 1024
/* Ended runs ps lists, the latest first. */
#define PS_ENDED_MAX 16

typedef struct attached {
    struct attached *next, *prev; /* most recently heard from first */
    char id[ULID_LEN + 1];
    char *session_id;
    char *resumed_from;
    json_t *info; /* cwd, transcript_path, permission_mode */
    const char *state;
    char *reason;
    double created_at, ended_at, updated_at;
    unsigned long long hooks; /* calls heard */
    bool attention;
} attached;

struct hook_service {
    bus_t *bus;
    char *machine_id;
    hmap by_session; /* session id -> its latest run */
    attached *list, *tail;
    size_t n;
    bus_sub *sub;
};

static bool active(const attached *a)
{
    return strcmp(a->state, "RUNNING") == 0;
}

static void set_reason(attached *a, const char *reason)
{
    free(a->reason);
    a->reason = reason ? xstrdup(reason) : NULL;
}

static json_t *opt_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The fields every run has (proc_run.c's run_to_json), so that ps, the
 * REST API and the dashboard show an attached run as any other. */
static json_t *run_json(const hook_service *s, const attached *a)
{
    json_t *o = json_pack(
        "{s:s,s:s,s:i,s:n,s:s,s:s,s:i,s:i,s:n,s:n,s:f,s:f,s:o,s:i,s:o,s:o,s:n,s:s,"
        "s:n,s:n,s:f,s:b,s:b,s:b,s:I}",
        "run", a->id, "agent", HOOK_AGENT, "instance", 0, "task", "machine", s->machine_id, "state",
        a->state, "pid", 0, "pid_start", 0, "exit_code", "exit_signal", "created_at", a->created_at,
        "started_at", a->created_at, "ended_at",
        a->ended_at > 0 ? json_real(a->ended_at) : json_null(), "restarts", 0, "reason",
        opt_str(a->reason), "resumed_from", opt_str(a->resumed_from), "waiting_input", "session_id",
        a->session_id, "cost_usd", "tokens", "updated_at", a->updated_at, "adopted", 0, "attached",
        1, "attention", a->attention, "hooks", (json_int_t)a->hooks);
    if (o)
        json_object_update(o, a->info);
    if (o && strcmp(a->state, "EXITED") == 0)
        json_object_set_new(o, "class", json_string("done"));
    return o;
}

static void emit(hook_service *s, attached *a, const char *kind, json_t *data)
{
    if (!data)
        data = json_object();
    json_object_set_new(data, "run", json_string(a->id));
    json_object_set_new(data, "agent", json_string(HOOK_AGENT));
    json_object_set_new(data, "task", json_null());
    json_object_set_new(data, "machine", json_string(s->machine_id));
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.run.%s.%s.%s", HOOK_AGENT_SUBJECT, a->id, kind);
    if (bus_publish_new(s->bus, subject, NULL, data) != 0)
        log_error("hook: cannot publish %s: invalid subject", subject);
}

static void publish_state(hook_service *s, attached *a)
{
    a->updated_at = bosun_now();
    emit(s, a, "state", run_json(s, a));
}

static void end_run(hook_service *s, attached *a, const char *state, const char *reason)
{
    a->state = state;
    a->ended_at = bosun_now();
    a->attention = false;
    set_reason(a, reason);
    log_info("hook: run %s (session %s) %s: %s", a->id, a->session_id, state, reason);
    publish_state(s, a);
}

static void unlink_run(hook_service *s, attached *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        s->list = a->next;
    if (a->next)
        a->next->prev = a->prev;
    else
        s->tail = a->prev;
    a->next = a->prev = NULL;
}

static void push_front(hook_service *s, attached *a)
{
    a->next = s->list;
    if (s->list)
        s->list->prev = a;
    s->list = a;
    if (!s->tail)
        s->tail = a;
}

static void attached_free(attached *a)
{
    free(a->session_id);
    free(a->resumed_from);
    free(a->reason);
    json_decref(a->info);
    free(a);
}

static void forget_oldest(hook_service *s)
{
    attached *a = s->tail;
    if (active(a)) {
        char why[160];
        snprintf(why, sizeof why,
                 "bosund stopped following the session: %d newer sessions came after it",
                 ATTACH_MAX);
        end_run(s, a, "LOST", why);
    }
    unlink_run(s, a);
    if (hmap_get(&s->by_session, a->session_id) == a)
        hmap_del(&s->by_session, a->session_id);
    s->n--;
    attached_free(a);
}

static attached *attached_new(hook_service *s, const char *session_id, const char *resumed_from)
{
    if (s->n >= ATTACH_MAX)
        forget_oldest(s);
    attached *a = xcalloc(1, sizeof *a);
    ulid_new(a->id);
    a->session_id = xstrdup(session_id);
    a->resumed_from = resumed_from ? xstrdup(resumed_from) : NULL;
    a->info = json_object();
    a->state = "RUNNING";
    a->created_at = bosun_now();
    push_front(s, a);
    s->n++;
    hmap_put(&s->by_session, a->session_id, a);
    log_info("hook: session %s attached as run %s%s%s", session_id, a->id,
             resumed_from ? ", continuing " : "", resumed_from ? resumed_from : "");
    return a;
}

/* The run a call belongs to: the session's, or a new one when the session
 * is new or its run has ended (a session goes on after Stop: its next
 * prompt starts the next run, resumed_from the last).  A SessionEnd after
 * Stop belongs to the run that ended. */
static attached *run_for(hook_service *s, const hook_call *c)
{
    attached *a = hmap_get(&s->by_session, c->session_id);
    if (a && (active(a) || c->ends_session)) {
        unlink_run(s, a);
        push_front(s, a);
        return a;
    }
    return attached_new(s, c->session_id, a ? a->id : NULL);
}

static void note_info(attached *a, const json_t *info, bool *changed)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)info, k, v)
    {
        if (!json_equal(json_object_get(a->info, k), v)) {
            json_object_set(a->info, k, v);
            *changed = true;
        }
    }
}

static void apply(hook_service *s, attached *a, hook_call *c, bool fresh)
{
    bool changed = fresh;
    a->hooks++;
    note_info(a, c->info, &changed);
    /* The person acted: whatever the session waited for is settled. */
    bool acted = strcmp(c->event, "UserPromptSubmit") == 0 || strcmp(c->event, "PreToolUse") == 0 ||
                 strcmp(c->event, "PostToolUse") == 0;
    if (a->attention && acted) {
        a->attention = false;
        set_reason(a, NULL);
        changed = true;
    }
    if (changed && active(a))
        publish_state(s, a);
    size_t i;
    json_t *ev;
    json_array_foreach(c->events, i, ev)
    {
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        emit(s, a, kind, json_incref(ev));
    }
    if (c->attention && active(a)) {
        a->attention = true;
        set_reason(a, c->attention_reason);
        emit(s, a, "attention", json_pack("{s:s}", "reason", c->attention_reason));
        publish_state(s, a);
    }
    if (c->ends && active(a))
        end_run(s, a, "EXITED", c->end_reason);
}

static void refuse(bus_t *bus, const bus_msg *m, const char *why)
{
    log_warning("hook: refused a hook call: %s", why);
    json_t *e = bus_error_json("bad_request", "%s", why);
    bus_reply(bus, m, e);
    json_decref(e);
}

static void on_event(bus_t *bus, const bus_msg *m, void *arg)
{
    hook_service *s = arg;
    if (!m->reply)
        return;
    const json_t *input = json_object_get(m->data, "input");
    const json_t *oversize = json_object_get(m->data, "oversize");
    char err[600];
    if (json_is_integer(oversize)) {
        snprintf(err, sizeof err,
                 "the hook's input was over %d bytes (%" JSON_INTEGER_FORMAT
                 " or more); nothing recorded",
                 HOOK_INPUT_MAX, json_integer_value(oversize));
        return refuse(bus, m, err);
    }
    const json_t *not_text = json_object_get(m->data, "not_text");
    if (json_is_integer(not_text)) {
        snprintf(err, sizeof err,
                 "the hook's input (%" JSON_INTEGER_FORMAT " bytes) is not UTF-8 text",
                 json_integer_value(not_text));
        return refuse(bus, m, err);
    }
    if (!json_is_string(input))
        return refuse(bus, m, "'input' must be the hook's input as a string");
    hook_call c;
    if (hook_map(json_string_value(input), json_string_length(input), &c, err, sizeof err) != 0)
        return refuse(bus, m, err);
    bool fresh = !hmap_get(&s->by_session, c.session_id);
    attached *a = run_for(s, &c);
    fresh = fresh || a->hooks == 0;
    if (!c.known)
        log_debug("hook: session %s: hook %s kept as it is", c.session_id, c.event);
    apply(s, a, &c, fresh);
    json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:b}", "run", a->id, "session_id", a->session_id,
                          "state", a->state, "event", c.event, "attention", a->attention);
    bus_reply(bus, m, r);
    json_decref(r);
    hook_call_clear(&c);
}

void hook_service_ps_rows(void *service, json_t *rows)
{
    hook_service *s = service;
    unsigned ended = 0;
    double now = bosun_now();
    for (attached *a = s ? s->list : NULL; a; a = a->next) {
        if (!active(a) && ended++ >= PS_ENDED_MAX)
            continue;
        json_t *o = run_json(s, a);
        json_object_set_new(o, "uptime", json_real(active(a) ? now - a->created_at : 0));
        json_array_append_new(rows, o);
    }
}

hook_service *hook_service_new(bus_t *bus, const char *machine_id)
{
    hook_service *s = xcalloc(1, sizeof *s);
    s->bus = bus;
    s->machine_id = xstrdup(machine_id);
    hmap_init(&s->by_session);
    s->sub = bus_subscribe(bus, HOOK_CMD_EVENT, on_event, s);
    if (!s->sub) {
        log_error("hook: cannot subscribe to %s", HOOK_CMD_EVENT);
        hook_service_free(s);
        return NULL;
    }
    return s;
}

void hook_service_free(hook_service *s)
{
    if (!s)
        return;
    if (s->sub)
        bus_unsubscribe(s->bus, s->sub);
    while (s->list) {
        attached *a = s->list;
        unlink_run(s, a);
        attached_free(a);
    }
    hmap_destroy(&s->by_session);
    free(s->machine_id);
    free(s);
}
