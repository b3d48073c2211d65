/* The control socket: a Unix stream socket in runtime_dir speaking
 * newline-delimited JSON, for bosunctl and local tools.
 *
 * Request:  {"id": ANY, "op": "status"|"plugins"|"reload"|"pub"|"request"|
 *                              "sub"|"unsub"|"ping", ...arguments}
 * Response: {"id": ANY, "ok": true, "result": ...}
 *           {"id": ANY, "ok": false, "error": {"code": "...", "message": "..."}}
 * Stream:   {"sub": SID, "msg": {"subject", "reply"?, "data", "time"}}
 *           {"sub": SID, "paused": true}  (a "resumable" subscription whose
 *           client fell behind; nothing more until {"op": "resume", "sid"})
 *
 * {"op": "mcp", "token": T, "run": R?} turns the connection into an MCP
 * session (see <bosun/task.h>): after the ok response every line in either
 * direction is one JSON-RPC message, relayed to and from the mcp plugin.
 *
 * The agent socket (ctl_server_new_agent) speaks the same protocol to any
 * local user, but a connection starts as an anonymous principal that may
 * do nothing except {"op": "mcp", "token"}: a valid run token makes it
 * that run's principal, allowed its own MCP session and nothing else;
 * {"op": "agent", "token"} (ctl_agent.c) makes it the run's agent
 * principal for a program of the run such as bosun-llm. 
 * Every operation of either socket goes through the connection's
 * bus_principal (<bosun/principal.h>); the admin socket's may do all.
 *
 * The protocol is documented for users in bosunctl(1). */
#ifndef BOSUN_CTL_SERVER_H
#define BOSUN_CTL_SERVER_H

#include <stddef.h>
#include <jansson.h>
#include <bosun/bus.h>

#include "ctl_wire.h"

struct ev_loop;
/* Queued output at which a resumable subscription stops being pushed live
 * (its client catches up from the store, then resumes). */
#define CTL_FOLLOW_PAUSE (4 * 1024 * 1024)
/* Default of daemon.control_buffer_max: the input and output buffers of all
 * clients together. */
#define CTL_BUDGET_DEFAULT (128ULL * 1024 * 1024)

typedef struct ctl_hooks {
    json_t *(*status)(void *arg);
    json_t *(*plugins)(void *arg);
    /* Returns NULL when the new configuration was applied, else a JSON array
     * of error messages (the old configuration keeps running). */
    json_t *(*reload)(void *arg);
    void *arg;
} ctl_hooks;

typedef struct ctl_server ctl_server;

/* Binds path (replacing a stale socket file), applies mode and group, and
 * starts accepting.  Returns NULL with the reason logged. */
ctl_server *ctl_server_new(struct ev_loop *loop, bus_t *bus, const char *path, unsigned mode,
                           const char *group, const ctl_hooks *hooks);
/* The agents' socket: mode 0666 (a run's token is the credential, not its
 * uid), no hooks.  Returns NULL with the reason logged. */
ctl_server *ctl_server_new_agent(struct ev_loop *loop, bus_t *bus, const char *path);
/* Closes every client and removes the socket file. */
void ctl_server_free(ctl_server *srv);
size_t ctl_server_client_count(const ctl_server *srv);
/* Sets the daemon-wide budget of the clients' buffers (bytes; also at
 * reload).  Over it, the client holding the most is cut off. */
void ctl_server_set_budget(ctl_server *srv, size_t bytes);
/* srv counts its clients against owner's budget (which must outlive srv):
 * daemon.control_buffer_max bounds the control and agent sockets together. */
void ctl_server_share_budget(ctl_server *srv, ctl_server *owner);
/* {"used", "peak", "limit"}: the budget's bytes, for status. */
json_t *ctl_server_buffers_json(const ctl_server *srv);

#endif
