/* Commands from the hub to its machines (see fleet_route.h).
 *
 * fleet.route {"subject", "data", "machine"?}: with a machine the command
 * goes to it; without one, the machine is the one whose stored events name
 * what data names (a run for stop and restart, an input, an approval),
 * looked up in the store, where the machines' forwarded events are kept
 * with their machine.  None (or only this hub): {"error":{"code":
 * "no_owner"}}, and the core gives its own answer. */
#include "config.h"

#include "fleet_route.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/store.h>

#define CONN_MAX   64
#define LOOKUP_MAX 10.0 /* seconds the store may take to say whose it is */

/* What a hub may send to a machine: the machine refuses anything else
 * anyway, but the hub does not even try (plugins/uplink/uplink_cmd.c). */
static const char *const route_subjects[] = {
    "cmd.proc.start",  "cmd.proc.stop",    "cmd.proc.restart",    "cmd.proc.ps",
    "cmd.task.create", "cmd.input.answer", "cmd.approval.answer", NULL};

typedef struct route_cmd {
    fleet_route *rt;
    unsigned long long n; /* h.<n> */
    char conn[CONN_MAX + 1];
    char machine[FLEET_ID_MAX + 1];
    char subject[32];
    char *reply;
    ev_timer timer;
    struct route_cmd *next;
} route_cmd;

/* A request waiting for the store to say which machine it is for. */
typedef struct route_lookup {
    fleet_route *rt;
    char *reply, *subject;
    json_t *data;
    uint64_t req;
    struct route_lookup *next;
} route_lookup;

struct fleet_route {
    const bosun_ctx *ctx;
    fleet_registry *reg;
    fleet_conn_of conn_of;
    void *arg;
    bus_sub *sub;
    unsigned long long next_n;
    route_cmd *cmds;
    size_t ncmds;
    route_lookup *lookups;
    size_t nlookups;
};

static bool route_allowed(const char *subject)
{
    for (size_t i = 0; subject && route_subjects[i]; i++)
        if (strcmp(subject, route_subjects[i]) == 0)
            return true;
    return false;
}

/* [A-Za-z0-9_-]{1,64}: safe inside a subject and a log line. */
static bool route_id_ok(const char *s)
{
    size_t n =
        s ? strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") : 0;
    return n > 0 && n <= FLEET_ID_MAX && s[n] == '\0';
}

static void route_answer(fleet_route *rt, const char *reply, json_t *data)
{
    bus_publish_new(rt->ctx->bus, reply, NULL, data);
}

/* ------------------------------------------------------------ commands */

static void cmd_unlink(fleet_route *rt, route_cmd *c)
{
    for (route_cmd **pp = &rt->cmds; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            rt->ncmds--;
            break;
        }
    ev_timer_stop(rt->ctx->loop, &c->timer);
}

/* Answers a command (taking data) and forgets it. */
static void cmd_finish(route_cmd *c, json_t *data)
{
    fleet_route *rt = c->rt;
    cmd_unlink(rt, c);
    route_answer(rt, c->reply, data);
    free(c->reply);
    free(c);
}

static void on_cmd_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    route_cmd *c = w->data;
    log_warning("fleet: machine %s: no answer to %s (h.%llu) within %.0f s", c->machine, c->subject,
                c->n, FLEET_CMD_TIMEOUT);
    cmd_finish(c, bus_error_json("gateway_timeout", "machine %s did not answer %s within %.0f s",
                                 c->machine, c->subject, FLEET_CMD_TIMEOUT));
}

static json_t *route_frame(const char *subject, const char *reply, json_t *data)
{
    return json_pack("{s:s,s:s,s:o,s:f}", "subject", subject, "reply", reply, "data", data, "time",
                     bosun_now());
}

/* Sends subject/data down machine's link; the answer goes to reply. */
static void cmd_send(fleet_route *rt, const char *reply, const char *subject, json_t *data,
                     const char *machine)
{
    const char *conn = rt->conn_of(rt->arg, machine);
    if (!conn) {
        json_t *known = fleet_registry_show(rt->reg, machine);
        bool revoked = json_is_true(json_object_get(known, "revoked"));
        json_decref(known);
        if (!known)
            return route_answer(rt, reply,
                                bus_error_json("not_found", "no machine %s in the fleet", machine));
        return route_answer(rt, reply,
                            bus_error_json("machine_offline", "machine %s is %s", machine,
                                           revoked ? "revoked" : "offline"));
    }
    if (rt->ncmds >= FLEET_CMD_PENDING) {
        log_warning("fleet: machine %s: %s refused, %d commands wait for their machines", machine,
                    subject, FLEET_CMD_PENDING);
        return route_answer(
            rt, reply,
            bus_error_json("busy", "%d commands already wait for machines", FLEET_CMD_PENDING));
    }
    route_cmd *c = calloc(1, sizeof *c);
    char *r = strdup(reply);
    json_t *d = json_deep_copy(data);
    if (!c || !r || !d) {
        free(c), free(r), json_decref(d);
        return route_answer(rt, reply, bus_error_json("internal", "out of memory"));
    }
    json_object_del(d, "machine"); /* there, it is local */
    *c = (route_cmd){.rt = rt, .n = ++rt->next_n, .reply = r, .next = rt->cmds};
    snprintf(c->conn, sizeof c->conn, "%s", conn);
    snprintf(c->machine, sizeof c->machine, "%s", machine);
    snprintf(c->subject, sizeof c->subject, "%s", subject);
    rt->cmds = c;
    rt->ncmds++;
    ev_timer_init(&c->timer, on_cmd_timeout, FLEET_CMD_TIMEOUT, 0);
    c->timer.data = c;
    ev_timer_start(rt->ctx->loop, &c->timer);
    char h[32];
    snprintf(h, sizeof h, "h.%llu", c->n);
    log_info("fleet: machine %s: %s sent as %s", machine, subject, h);
    json_t *frames = json_pack("[o]", route_frame(subject, h, d));
    bus_publish_new(rt->ctx->bus, "fleet.link.out", NULL,
                    json_pack("{s:s,s:o,s:i}", "conn", conn, "frames", frames, "close", 0));
}

bool fleet_route_reply(fleet_route *rt, const char *machine, const char *subject, json_t *data)
{
    if (strncmp(subject, "h.", 2) != 0)
        return false;
    char *end;
    unsigned long long n = strtoull(subject + 2, &end, 10);
    route_cmd *c = rt->cmds;
    while (c && c->n != n)
        c = c->next;
    if (*end != '\0' || !c || strcmp(c->machine, machine) != 0) {
        /* Late (after its timeout), made up, or another machine's. */
        log_notice("fleet: machine %s: answer %.40s dropped: no command of this machine "
                   "waits for it",
                   machine, subject);
        return true;
    }
    log_info("fleet: machine %s: answered %s (%s)", machine, c->subject, subject);
    cmd_finish(c, json_is_object(data) ? json_incref(data)
                                       : bus_error_json("bad_gateway",
                                                        "machine %s answered %s "
                                                        "without an object",
                                                        machine, c->subject));
    return true;
}

void fleet_route_gone(fleet_route *rt, const char *conn)
{
    route_cmd *c = rt->cmds;
    while (c) {
        route_cmd *next = c->next;
        if (strcmp(c->conn, conn) == 0)
            cmd_finish(c, bus_error_json("machine_offline",
                                         "the link of machine %s closed before it answered %s",
                                         c->machine, c->subject));
        c = next;
    }
}

/* ------------------------------------------------------------ owners */

static void lookup_free(fleet_route *rt, route_lookup *l)
{
    for (route_lookup **pp = &rt->lookups; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            rt->nlookups--;
            break;
        }
    free(l->reply);
    free(l->subject);
    json_decref(l->data);
    free(l);
}

/* The stored events that tell whose it is: the last state of a run, the
 * question, the approval request. */
static json_t *owner_query(const char *subject, json_t *data)
{
    char pattern[BUS_SUBJECT_MAX];
    const char *id = NULL;
    if (strcmp(subject, "cmd.proc.stop") == 0 || strcmp(subject, "cmd.proc.restart") == 0) {
        id = json_string_value(json_object_get(data, "target"));
        snprintf(pattern, sizeof pattern, "evt.run.*.%s.state", id ? id : "");
    } else if (strcmp(subject, "cmd.input.answer") == 0) {
        id = json_string_value(json_object_get(data, "input"));
        snprintf(pattern, sizeof pattern, "evt.input.%s.requested", id ? id : "");
    } else if (strcmp(subject, "cmd.approval.answer") == 0) {
        id = json_string_value(json_object_get(data, "id"));
        snprintf(pattern, sizeof pattern, "evt.approval.%s.requested", id ? id : "");
    }
    if (!route_id_ok(id))
        return NULL;
    return json_pack("{s:s,s:i}", "subject", pattern, "tail", 1);
}

static void on_owner(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    route_lookup *l = arg;
    fleet_route *rt = l->rt;
    if (st == BUS_REPLY_CANCELLED)
        return lookup_free(rt, l);
    json_t *ev = st == BUS_REPLY_OK ? json_array_get(json_object_get(m->data, "events"), 0) : NULL;
    const char *machine = json_string_value(json_object_get(ev, "machine"));
    if (machine && strcmp(machine, rt->ctx->machine_id) != 0)
        cmd_send(rt, l->reply, l->subject, l->data, machine);
    else
        route_answer(rt, l->reply,
                     bus_error_json("no_owner", st == BUS_REPLY_OK ? "no machine has it"
                                                                   : "the store did not say"));
    lookup_free(rt, l);
}

static void route_by_owner(fleet_route *rt, const bus_msg *m, const char *subject, json_t *data)
{
    json_t *q = owner_query(subject, data);
    if (!q || rt->nlookups >= FLEET_CMD_PENDING) {
        json_decref(q);
        return route_answer(rt, m->reply, bus_error_json("no_owner", "no machine has it"));
    }
    route_lookup *l = calloc(1, sizeof *l);
    if (l) {
        l->reply = strdup(m->reply);
        l->subject = strdup(subject);
        l->data = json_incref(data);
        l->rt = rt;
    }
    if (!l || !l->reply || !l->subject ||
        !(l->req = bus_request(rt->ctx->bus, BOSUN_STORE_EVENTS, q, LOOKUP_MAX, on_owner, l))) {
        if (l) {
            free(l->reply), free(l->subject), json_decref(l->data);
            free(l);
        }
        route_answer(rt, m->reply, bus_error_json("no_owner", "cannot ask the store"));
    } else {
        l->next = rt->lookups;
        rt->lookups = l;
        rt->nlookups++;
    }
    json_decref(q);
}

/* fleet.route {"subject","data","machine"?} (core/daemon/remote.h). */
static void on_route(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus;
    fleet_route *rt = arg;
    if (!m->reply)
        return;
    const char *subject = json_string_value(json_object_get(m->data, "subject"));
    json_t *data = json_object_get(m->data, "data");
    json_t *mj = json_object_get(m->data, "machine");
    const char *machine = json_string_value(mj);
    if (!route_allowed(subject) || !json_is_object(data))
        return route_answer(rt, m->reply,
                            bus_error_json("forbidden", "a hub sends machines only cmd.proc.*, "
                                                        "cmd.task.create, cmd.input.answer and "
                                                        "cmd.approval.answer"));
    if (mj && !route_id_ok(machine))
        return route_answer(rt, m->reply,
                            bus_error_json("bad_request", "'machine' must be a machine id"));
    if (machine)
        cmd_send(rt, m->reply, subject, data, machine);
    else
        route_by_owner(rt, m, subject, data);
}

/* ------------------------------------------------------------ object */

fleet_route *fleet_route_new(const bosun_ctx *ctx, fleet_registry *reg, fleet_conn_of conn_of,
                             void *arg)
{
    fleet_route *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    *rt = (fleet_route){.ctx = ctx, .reg = reg, .conn_of = conn_of, .arg = arg};
    return rt;
}

int fleet_route_start(fleet_route *rt)
{
    rt->sub = bus_subscribe(rt->ctx->bus, "fleet.route", on_route, rt);
    return rt->sub ? 0 : -1;
}

void fleet_route_free(fleet_route *rt)
{
    if (!rt)
        return;
    if (rt->sub)
        bus_unsubscribe(rt->ctx->bus, rt->sub);
    while (rt->cmds)
        cmd_finish(rt->cmds, bus_error_json("machine_offline", "the hub's fleet plugin stops"));
    while (rt->lookups) {
        bus_request_cancel(rt->ctx->bus, rt->lookups->req);
        lookup_free(rt, rt->lookups);
    }
    free(rt);
}
