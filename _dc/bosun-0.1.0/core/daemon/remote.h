/* Commands that belong to another machine of a fleet (bosun-fleet(7)).
 *
 * On a hub, cmd.proc.start|stop|restart, cmd.task.create, cmd.input.answer
 * and cmd.approval.answer may name a machine other than this one, or a run,
 * input or approval that lives on one.  The core's handlers do not know
 * machines: they hand such a request to the fleet plugin on REMOTE_ROUTE
 * and pass its answer back as their own.  Without a fleet plugin (a plain
 * machine) nothing answers there and the local answer stands. */
#ifndef BOSUN_REMOTE_H
#define BOSUN_REMOTE_H

#include <stdbool.h>

#include <bosun/bus.h>

/* {"subject": S, "data": {...}, "machine": M?} -> the machine's answer, or
 * {"error":{"code":"no_owner"}} when no machine owns what data names. */
#define REMOTE_ROUTE "fleet.route"

/* When m's data has "machine" other than self: the request goes to that
 * machine and its answer to m's reply.  Returns whether it did. */
bool remote_route(bus_t *bus, const bus_msg *m, const char *self);

/* Asks the fleet for a request (subject, data) whose answer goes to reply:
 * to machine, or, machine NULL, to the machine that owns what data names
 * (a run, an input, an approval).  When none does, or this is no hub,
 * local (taken; NULL: a not_found error) is the answer. */
void remote_ask(bus_t *bus, const char *subject, const char *reply, json_t *data,
                const char *machine, json_t *local);

#endif
