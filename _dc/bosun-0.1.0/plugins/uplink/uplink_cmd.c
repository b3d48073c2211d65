/* Commands from the hub (bosun-fleet(7), Hub to machine).
 *
 * The hub is a party from outside like any client: it acts as the
 * principal "machine" (kind) "hub" (id), which may send requests on the
 * subjects a hub may use and nothing else, through bus_request_as(), so
 * that the local bus runs them exactly as it runs a local client's.  No
 * agent configuration can be changed that way, and only agents configured
 * here can be started: anything else is answered "forbidden" and logged.
 * At most CMD_PENDING_MAX commands wait for their local reply at once. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uplink.h"

#define CMD_PENDING_MAX 64
#define CMD_TIMEOUT     10.0

static const char *const hub_commands[] = {
    "cmd.proc.start",  "cmd.proc.stop",    "cmd.proc.restart",    "cmd.proc.ps",
    "cmd.task.create", "cmd.input.answer", "cmd.approval.answer", NULL};

typedef struct pending {
    struct uplink_cmd *c;
    uint64_t req;
    char reply[UPLINK_REPLY_MAX + 1];
    struct pending *next;
} pending;

struct uplink_cmd {
    bus_t *bus;
    const uplink_agents *agents;
    uplink_sender out;
    bus_principal *hub;
    pending *list;
    size_t n;
};

static bool allowed(const char *subject)
{
    for (size_t i = 0; hub_commands[i]; i++)
        if (strcmp(subject, hub_commands[i]) == 0)
            return true;
    return false;
}

/* Sends the answer to the hub's reply subject, taking data. */
static void answer(uplink_cmd *c, const char *reply, json_t *data)
{
    size_t len;
    char *text = uplink_frame(reply, NULL, data, &len);
    if (text)
        c->out.send(c->out.arg, text, len);
    free(text);
}

static void refuse(uplink_cmd *c, const uplink_msg *m, const char *code, const char *why)
{
    answer(c, m->reply, bus_error_json(code, "%s", why));
}

static void unlink_pending(uplink_cmd *c, pending *p)
{
    for (pending **pp = &c->list; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            c->n--;
            return;
        }
}

static void on_reply(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    pending *p = arg;
    uplink_cmd *c = p->c;
    unlink_pending(c, p);
    json_t *data;
    if (st == BUS_REPLY_OK)
        data = json_incref(m->data);
    else if (st == BUS_REPLY_TIMEOUT)
        data = bus_error_json("gateway_timeout", "no answer on the machine within %.0f s",
                              CMD_TIMEOUT);
    else
        data = bus_error_json("unavailable", "nothing on the machine answers that command");
    if (st != BUS_REPLY_CANCELLED)
        answer(c, p->reply, data);
    else
        json_decref(data);
    free(p);
}

/* The agent a command would start, when it starts one. */
static const char *agent_started(const uplink_msg *m)
{
    if (strcmp(m->subject, "cmd.proc.start") == 0 || strcmp(m->subject, "cmd.task.create") == 0)
        return json_string_value(json_object_get(m->data, "agent"));
    return NULL;
}

void uplink_cmd_run(uplink_cmd *c, const uplink_msg *m)
{
    char s[80], a[80], why[256];
    uplink_printable(m->subject, 64, s, sizeof s);
    if (!allowed(m->subject)) {
        log_warning("uplink: refused %s from the hub: not a command a hub may send", s);
        return refuse(c, m, "forbidden", "the hub may not send that command to a machine");
    }
    const char *agent = agent_started(m);
    if (agent && !uplink_agents_has(c->agents, agent)) {
        uplink_printable(agent, 64, a, sizeof a);
        log_warning("uplink: refused %s from the hub: agent '%s' is not configured on this "
                    "machine",
                    s, a);
        snprintf(why, sizeof why, "agent '%s' is not configured on this machine", a);
        return refuse(c, m, "forbidden", why);
    }
    if (c->n >= CMD_PENDING_MAX) {
        log_warning("uplink: refused %s from the hub: %d commands are already running", s,
                    CMD_PENDING_MAX);
        return refuse(c, m, "busy", "too many commands are running on this machine");
    }
    pending *p = calloc(1, sizeof *p);
    if (!p)
        return refuse(c, m, "internal", "out of memory");
    p->c = c;
    snprintf(p->reply, sizeof p->reply, "%s", m->reply);
    p->req = bus_request_as(c->bus, c->hub, m->subject, m->data, CMD_TIMEOUT, on_reply, p);
    if (!p->req) {
        free(p);
        return refuse(c, m, "forbidden", "the command was refused on the machine");
    }
    log_info("uplink: the hub asks %s", s);
    p->next = c->list;
    c->list = p;
    c->n++;
}

void uplink_cmd_unlinked(uplink_cmd *c)
{
    while (c->list) {
        pending *p = c->list;
        c->list = p->next;
        bus_request_cancel(c->bus, p->req);
        free(p);
    }
    c->n = 0;
}

uplink_cmd *uplink_cmd_new(bus_t *bus, const uplink_agents *agents, const uplink_sender *out)
{
    uplink_cmd *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->bus = bus;
    c->agents = agents;
    c->out = *out;
    c->hub = bus_principal_new("machine", "hub");
    bool ok = c->hub != NULL;
    for (size_t i = 0; ok && hub_commands[i]; i++)
        ok = bus_principal_allow(c->hub, BUS_PERM_REQ, hub_commands[i]) == 0;
    if (!ok) {
        uplink_cmd_free(c);
        return NULL;
    }
    return c;
}

void uplink_cmd_free(uplink_cmd *c)
{
    if (!c)
        return;
    uplink_cmd_unlinked(c);
    bus_principal_free(c->hub);
    free(c);
}
