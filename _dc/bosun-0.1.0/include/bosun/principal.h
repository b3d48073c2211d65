/* bosun — principals: who is on the other end of a transport, and which
 * subjects it may touch.
 *
 * Every transport that lets an outside party onto the bus (the control and
 * agent sockets, later HTTP/WebSocket and the fleet link) holds one
 * bus_principal per connection and sends that party's traffic through
 * bus_publish_as(), bus_subscribe_as() and bus_request_as(), which refuse
 * (-1 / NULL / 0 with errno EACCES) anything the principal was not granted.
 * Deny by default: a new principal may do nothing.
 *
 * A grant is a subscription-style pattern ("mcp.session.X.in",
 * "evt.task.T.>", ">" for everything) for one of three rights:
 *   BUS_PERM_PUB  publish to a subject matching it (a reply subject given
 *                 with a publish must be one the principal may subscribe
 *                 to, so that it cannot aim a responder's answer at
 *                 someone else's inbox);
 *   BUS_PERM_SUB  subscribe with a pattern it covers: "evt.task.T.>" lets
 *                 one subscribe to "evt.task.T.input.*" but not "evt.>";
 *   BUS_PERM_REQ  send a request to a subject matching it (the reply comes
 *                 back on a private inbox the bus makes).
 * Checks cost one pattern match per grant of that right: principals hold a
 * handful, and the bus's own matching is not involved.
 */
#ifndef BOSUN_PRINCIPAL_H
#define BOSUN_PRINCIPAL_H

#include <bosun/api.h>
#include <bosun/bus.h>

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bus_perm {
    BUS_PERM_PUB = 0,
    BUS_PERM_SUB = 1,
    BUS_PERM_REQ = 2,
};

typedef struct bus_principal bus_principal;

/* kind says what sort of party it is ("admin", "agent", "anonymous",
 * later "user", "machine", "share"); id names it within the kind (a uid,
 * a run id...).  Both are copied and bounded to 127 bytes, for log lines.
 * NULL on memory failure. */
BOSUN_API bus_principal *bus_principal_new(const char *kind, const char *id);
BOSUN_API void bus_principal_free(bus_principal *p);
BOSUN_API const char *bus_principal_kind(const bus_principal *p);
BOSUN_API const char *bus_principal_id(const bus_principal *p);
/* Grants a right on a valid pattern.  -1 with errno EINVAL for a bad
 * pattern or right, ENOMEM on memory failure. */
BOSUN_API int bus_principal_allow(bus_principal *p, enum bus_perm perm, const char *pattern);
/* Takes back every grant (a principal whose credential died). */
BOSUN_API void bus_principal_revoke(bus_principal *p);
/* Whether p may use the right on a concrete subject (PUB, REQ) or a
 * subscription pattern (SUB).  false for NULL p, an invalid subject, or no
 * grant covering it. */
BOSUN_API bool bus_principal_may(const bus_principal *p, enum bus_perm perm, const char *subject);
/* Whether every subject pattern matches is also matched by cover (both
 * valid patterns). */
BOSUN_API bool bus_pattern_covers(const char *cover, const char *pattern);

/* bus_publish, bus_subscribe and bus_request on behalf of a principal:
 * the same, after the check; EACCES when it fails. */
BOSUN_API int bus_publish_as(bus_t *bus, const bus_principal *p, const char *subject,
                             const char *reply, json_t *data);
BOSUN_API bus_sub *bus_subscribe_as(bus_t *bus, const bus_principal *p, const char *pattern,
                                    bus_handler handler, void *arg);
BOSUN_API uint64_t bus_request_as(bus_t *bus, const bus_principal *p, const char *subject,
                                  json_t *data, double timeout, bus_reply_cb cb, void *arg);

#ifdef __cplusplus
}
#endif
#endif
