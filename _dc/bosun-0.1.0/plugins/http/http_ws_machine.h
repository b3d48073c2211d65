/* /ws "sub"'s "machine" filter (http_ws_machine.c): which machines' events
 * a subscription gets, read from the client's frame. */
#ifndef BOSUN_HTTP_WS_MACHINE_H
#define BOSUN_HTTP_WS_MACHINE_H

#include <stdbool.h>

#include <jansson.h>

#define WS_MACHINES_MAX 64 /* ids in one filter */
#define WS_MACHINE_MAX  64 /* bytes of one id (the store's bound) */

/* The frame's "machine" v (NULL: absent) as a new array of ids in *out
 * (NULL when absent); false, *out NULL, when it is neither an id nor a
 * list of 1 to WS_MACHINES_MAX ids. */
bool ws_machine_filter(const json_t *v, json_t **out);
/* Whether the stored event ev is of a machine machines (a filter made by
 * ws_machine_filter; NULL: every machine) names. */
bool ws_machine_wants(const json_t *machines, const json_t *ev);

#endif
