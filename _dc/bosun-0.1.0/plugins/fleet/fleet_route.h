/* Commands from the hub to its machines (bosun-fleet(7), "Hub to machine").
 *
 * The core hands a request for another machine to fleet.route (see
 * core/daemon/remote.h); this part sends it down that machine's link as
 * {"subject","reply":"h.<n>","data"} and answers with the machine's reply.
 * An offline machine is refused at once (machine_offline), a machine that
 * does not answer within FLEET_CMD_TIMEOUT gives gateway_timeout, a link that
 * goes away fails its commands at once.  At most FLEET_CMD_PENDING wait. */
#ifndef BOSUN_FLEET_ROUTE_H
#define BOSUN_FLEET_ROUTE_H

#include <jansson.h>
#include <stdbool.h>

#include <bosun/bosun.h>

#include "fleet_registry.h"

#define FLEET_CMD_TIMEOUT 10.0
#define FLEET_CMD_PENDING 1024

typedef struct fleet_route fleet_route;

/* The link (its conn id) a machine is online on, or NULL. */
typedef const char *(*fleet_conn_of)(void *arg, const char *machine);

fleet_route *fleet_route_new(const bosun_ctx *ctx, fleet_registry *reg, fleet_conn_of conn_of,
                             void *arg);
/* Subscribes fleet.route; -1 when it cannot. */
int fleet_route_start(fleet_route *rt);
/* Fails every command still waiting (as machine_offline) and frees. */
void fleet_route_free(fleet_route *rt);

/* A frame from machine's link: when its subject is a command's reply
 * subject (h.<n>) it is that command's answer.  Returns whether it was one
 * (an unknown or foreign h.<n> is dropped with a log line). */
bool fleet_route_reply(fleet_route *rt, const char *machine, const char *subject, json_t *data);
/* The link conn closed, was replaced or revoked: its commands fail now. */
void fleet_route_gone(fleet_route *rt, const char *conn);

#endif
