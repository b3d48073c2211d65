/* The control socket's insides, shared by ctl_server.c (connections and
 * operations) and ctl_mcp.c (MCP sessions). */
#ifndef BOSUN_CTL_SERVER_INTERNAL_H
#define BOSUN_CTL_SERVER_INTERNAL_H

#include <ev.h>
#include <stdbool.h>
#include <sys/types.h>

#include <bosun/budget.h>
#include <bosun/ratelimit.h>

#include "ctl_server.h"
#include <bosun/lines.h>
#include <bosun/log.h>

#include <bosun/principal.h>

/* Descriptors a client may pass (SCM_RIGHTS) and have held for it. */
#define CTL_MAX_PASSED 2

/* Seconds accepting pauses after accept failed for want of descriptors. */
#define CTL_ACCEPT_RETRY 0.5

typedef struct ctl_mcp_stdio ctl_mcp_stdio;
typedef struct ctl_agent ctl_agent;

/* Lines waiting for a non-blocking descriptor (a client's socket, a
 * handed-over stdout): buf[off, len) is still to be written. */
typedef struct ctl_outq {
    char *buf;
    size_t off, len, cap;
} ctl_outq;

/* Appends line and a newline; false (nothing appended) when the bytes
 * waiting would go over max. */
bool outq_push(ctl_outq *q, const char *line, size_t len, size_t max);
/* Writes what fd takes: 1 when all is written, 0 when fd would block, -1
 * on an error (errno set). */
int outq_write(ctl_outq *q, int fd);
/* Bytes waiting to be written. */
static inline size_t outq_pending(const ctl_outq *q)
{
    return q->len - q->off;
}

typedef struct ctl_client ctl_client;

/* A subscription or a pending request owned by a client, so that both are
 * undone when the client goes away. */
typedef struct client_sub {
    struct client_sub *next;
    ctl_client *client;
    json_int_t sid;
    bus_sub *sub;
    bool resumable; /* the client catches up from the store when paused */
    bool paused;    /* fell behind: live messages are dropped until resumed */
    size_t dropped; /* messages not pushed while paused */
} client_sub;

typedef struct client_request {
    struct client_request *next;
    ctl_client *client;
    uint64_t bus_id;
    json_t *id;
    bool grant_input; /* an agent's cmd.input.create: its answer may be followed */
} client_request;

struct ctl_client {
    ctl_client *next;
    ctl_server *srv;
    int fd;
    ev_io rio, wio;
    bosun_lines *in; /* requests read, framed */
    ctl_outq out;
    size_t charged; /* bytes of in and out.buf counted in srv->budget */
    bool read_closed;
    bool dead; /* closed; freed from the loop once no caller can hold it */
    uid_t uid;
    pid_t pid;
    bus_principal *who; /* what this connection may do on the bus */
    unsigned serial;    /* for log lines */
    client_sub *subs;
    client_request *requests;
    json_int_t next_sid;
    char *mcp_session; /* set once the connection speaks MCP */
    char *mcp_in;      /* and its mcp.session.<SID>.in */
    bus_sub *mcp_out;
    bool mcp_opening;
    bool mcp_hand_over;         /* the open asked for the passed stdin and stdout */
    ctl_mcp_stdio *mcp_stdio;   /* the agent's stdin and stdout, once handed over */
    int passed[CTL_MAX_PASSED]; /* descriptors sent with requests, for op mcp */
    size_t n_passed;
    ctl_agent *agent; /* set once {"op": "agent"} made the connection a run's agent */
    bool agent_opening;
};

struct ctl_server {
    struct ev_loop *loop;
    bus_t *bus;
    char *path;
    int fd;
    ev_io accept_io;
    ev_timer accept_retry;            /* accepting paused: out of descriptors */
    int spare_fd;                     /* closed to accept-and-close when out of them */
    bosun_complaint accept_complaint; /* accept failures, logged at a bounded rate */
    ctl_hooks hooks;
    gid_t sock_gid;   /* members of the socket's group may connect */
    bool agent;       /* the agent socket: anyone connects, a run token decides */
    const char *name; /* "control" or "agent", for log lines */
    ctl_client *clients;
    ctl_client *graveyard;
    ev_idle reaper;
    size_t n_clients;
    unsigned serial;
    bosun_budget *budget;       /* every client's buffers together */
    bool budget_shared;         /* another server's: not freed with this one */
    bosun_authlimit *authlimit; /* failed token checks, per peer uid and in all */
    unsigned long auth_failed;  /* bad tokens since the last report */
    unsigned long auth_limited; /* attempts refused unchecked since then */
    double auth_report;         /* monotonic time before which it stays quiet */
};

/* Token checks are limited per peer uid: at most a burst of CTL_AUTH_BURST
 * failures, then CTL_AUTH_RATE a second; CTL_AUTH_GLOBAL_* for all peers
 * together; CTL_AUTH_PEERS uids tracked at once. */
#define CTL_AUTH_BURST        10
#define CTL_AUTH_RATE         1.0
#define CTL_AUTH_GLOBAL_BURST 100
#define CTL_AUTH_GLOBAL_RATE  20.0
#define CTL_AUTH_PEERS        1024

void client_close(ctl_client *c);
/* Queues one line for the client; false if it was closed (backlog). */
bool client_queue_line(ctl_client *c, const char *line, size_t len);
/* Accounts the client's buffers, as they are now, in the daemon-wide
 * budget, cutting off the client that holds the most when it is exhausted
 * (maybe c itself).  False if c was closed. */
bool client_charge(ctl_client *c);
/* Queues one JSON line (obj stolen). */
bool client_send(ctl_client *c, json_t *obj);
void send_result(ctl_client *c, json_t *id, json_t *result);
void send_error(ctl_client *c, json_t *id, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void detach_request(ctl_client *c, client_request *r);
/* Answers "forbidden" and logs that the client's principal may not do
 * what (an op) on subject. */
void client_refuse(ctl_client *c, json_t *id, const char *what, const char *subject);
/* Closes the descriptors the client passed and nothing took. */
void client_drop_passed(ctl_client *c);

/* ctl_mcp.c */
/* Whether the client may have a token checked now (rate limit per uid),
 * and the outcome of a check, counted against it when it failed. */
bool ctl_auth_allowed(ctl_client *c);
void ctl_auth_outcome(ctl_client *c, bool ok);
void op_mcp(ctl_client *c, json_t *id, json_t *req);
/* A line from a client whose connection is an MCP session. */
void mcp_client_line(ctl_client *c, const char *line, size_t len);
/* Ends the client's MCP session, if any. */
void mcp_close(ctl_client *c);

/* ctl_agent.c: {"op": "agent", "token"} */
void op_agent(ctl_client *c, json_t *id, json_t *req);
/* The data of a request from an agent connection, with "run" and "task"
 * set to its run's, "agent" too for cmd.approval.*, "session" removed (a
 * new reference); data itself otherwise. */
json_t *agent_scope(ctl_client *c, const char *subject, json_t *data, bool *grant_input);
/* A reply to an agent's cmd.input.create: lets it follow that request. */
void agent_follow_input(ctl_client *c, const json_t *reply);
void agent_free(ctl_client *c);

#endif
