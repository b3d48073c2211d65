/* Hands requests for another machine to the fleet plugin (see remote.h). */
#include "config.h"

#include "remote.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#include <bosun/log.h>

/* Longer than the fleet's own 10 s, so that its gateway_timeout (which
 * says the machine is slow) is the answer, not ours. */
#define REMOTE_TIMEOUT 15.0

typedef struct remote_pending {
    char *reply;
    json_t *local; /* the answer when no machine owns it; NULL: an error */
} remote_pending;

static void on_answer(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    remote_pending *pd = arg;
    json_t *out = NULL;
    const char *code =
        st == BUS_REPLY_OK
            ? json_string_value(json_object_get(json_object_get(m->data, "error"), "code"))
            : NULL;
    if (st == BUS_REPLY_CANCELLED)
        ;
    else if ((st == BUS_REPLY_NO_RESPONDERS || (code && strcmp(code, "no_owner") == 0)) &&
             pd->local)
        out = json_incref(pd->local);
    else if (st == BUS_REPLY_NO_RESPONDERS)
        out = bus_error_json("not_found", "this daemon is no fleet hub: it has no other machines");
    else if (st == BUS_REPLY_TIMEOUT)
        out = bus_error_json("gateway_timeout", "the fleet did not answer within %.0f s",
                             REMOTE_TIMEOUT);
    else if (code && strcmp(code, "no_owner") == 0)
        out = bus_error_json("not_found", "no machine of the fleet has it");
    else
        out = json_incref(m->data);
    if (out)
        bus_publish_new(bus, pd->reply, NULL, out);
    free(pd->reply);
    json_decref(pd->local);
    free(pd);
}

static void ask(bus_t *bus, const char *subject, const char *reply, json_t *data,
                const char *machine, json_t *local)
{
    remote_pending *pd = xcalloc(1, sizeof *pd);
    pd->reply = xstrdup(reply);
    pd->local = local;
    json_t *q = json_pack("{s:s,s:O,s:s*}", "subject", subject, "data", data, "machine", machine);
    if (!q || !bus_request(bus, REMOTE_ROUTE, q, REMOTE_TIMEOUT, on_answer, pd)) {
        bus_publish_new(bus, reply, NULL,
                        pd->local ? json_incref(pd->local)
                                  : bus_error_json("internal", "cannot ask the fleet"));
        free(pd->reply);
        json_decref(pd->local);
        free(pd);
    }
    json_decref(q);
}

bool remote_route(bus_t *bus, const bus_msg *m, const char *self)
{
    json_t *mj = json_object_get(m->data, "machine");
    const char *machine = json_string_value(mj);
    if (!m->reply || !mj || json_is_null(mj))
        return false;
    if (!machine || json_string_length(mj) > 64) {
        bus_publish_new(bus, m->reply, NULL,
                        bus_error_json("bad_request", "'machine' must be a machine id"));
        return true;
    }
    if (self && strcmp(machine, self) == 0)
        return false;
    ask(bus, m->subject, m->reply, m->data, machine, NULL);
    return true;
}

void remote_ask(bus_t *bus, const char *subject, const char *reply, json_t *data,
                const char *machine, json_t *local)
{
    ask(bus, subject, reply, data, machine, local);
}
