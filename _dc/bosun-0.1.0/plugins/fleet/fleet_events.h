/* The hub's side of event forwarding (bosun-fleet(7), machine.events and
 * machine.ack): batches checked (fleet_batch.c), stored through the store's
 * cmd.store.append_remote, acknowledged once committed; and the acked_seq of
 * a machine's register reply, read from the store. */
#ifndef BOSUN_FLEET_EVENTS_H
#define BOSUN_FLEET_EVENTS_H

#include <jansson.h>

#include <bosun/bosun.h>

typedef struct fleet_events fleet_events;

fleet_events *fleet_events_new(bus_t *bus);
/* Cancels what waits for the store. */
void fleet_events_free(fleet_events *fe);

/* machine.events data from conn, registered as machine.  NULL: taken, the
 * machine.ack follows once stored, as the answer {"frames":[ack],"close":0}
 * on inbox, the reply subject of the fleet.link.in request, so that the
 * http plugin counts the batch as waiting until then and paces the link's
 * reading by it (NULL: on fleet.link.out).  Else the error frame to send,
 * with *close the close code. */
json_t *fleet_events_batch(fleet_events *fe, const char *inbox, const char *conn,
                           const char *machine, const json_t *data, size_t bytes, int *close);

/* Answers a successful machine.register once out's (taken) acked_seq is the
 * highest machine seq the store holds for machine: the frame {subject:
 * reply, data: out} in {"frames":[…],"close":0,"limits":limits} (limits
 * taken, may be NULL) on inbox, the reply subject of the fleet.link.in
 * request (NULL: on fleet.link.out). */
void fleet_events_register(fleet_events *fe, const char *inbox, const char *conn,
                           const char *machine, const char *reply, json_t *out, json_t *limits);

#endif
