/* Process supervision: agents from bosun.yaml run as supervised processes
 * ("runs") with supervisord's states, restart policies, exponential
 * back-off, process-group stop with SIGKILL escalation, output capture, and
 * every step published as events.  Requests on cmd.proc.* start, stop,
 * restart and list them.  See bosund(8) and bosun.yaml(5). */
#ifndef BOSUN_PROC_H
#define BOSUN_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <bosun/bus.h>
#include <bosun/price.h>

#include "agent_config.h"
#include "ctl_wire.h"

struct ev_loop;

typedef struct proc proc;

typedef struct proc_options {
    struct ev_loop *loop; /* must be the default loop: child watchers need it */
    bus_t *bus;
    const char *machine_id;
    const char *state_dir;
    const char *runtime_dir;  /* per-run secrets (mcp.json with the token) */
    const char *agent_socket; /* BOSUN_SOCKET of agents, for `bosunctl mcp` */
    const char *mcp_command;  /* the bosunctl program agents run as MCP server */
    double token_ttl;         /* seconds an agent token stays valid */
    bool adopt_orphans;
} proc_options;

proc *proc_new(const proc_options *opts);
/* Frees everything; runs still active are left to themselves (call
 * proc_shutdown first to stop them). */
void proc_free(proc *p);

/* Installs the agents (taking the list): at start, autostart agents start;
 * at reload, new agents appear, removed ones stop, and agents whose launch
 * settings changed restart their runs.  Configs must stay valid until the
 * next call (they point into the config tree in force). */
void proc_set_agents(proc *p, agent_config **agents);
/* The top-level budget (usd_per_day over every agent); a reload sets it
 * again. */
void proc_set_budget(proc *p, const spend_limits *global);
/* Adds a stored run's spending to the totals (start-up, from the store). */
void proc_budget_seed(proc *p, const char *agent, const char *task, double usd, double when);

/* Installs the price table (taking it; NULL: the defaults) for results that
 * carry usage but no cost_usd (see bosun.yaml(5), prices). */
void proc_set_prices(proc *p, bosun_prices *prices);

/* Asks the store for runs a previous daemon left active and settles them
 * (stopped, adopted, or marked LOST); then autostarts, and calls
 * began(arg) (may be NULL) once, from the loop: the daemon's start is
 * complete. */
void proc_begin(proc *p, void (*began)(void *arg), void *arg);

/* Rows of runs proc does not supervise (attached sessions, hook_attach.h)
 * that ps lists after its own: rows(arg, array) appends them. */
void proc_set_ps_extra(proc *p, void (*rows)(void *arg, json_t *rows), void *arg);

/* Stops every run; done(arg) is called from the loop once none is left. */
void proc_shutdown(proc *p, void (*done)(void *arg), void *arg);
/* Sends SIGKILL to every run's process group now. */
void proc_kill_all(proc *p);

size_t proc_active_count(const proc *p);

/* For tasks and input requests (core/task.c). */
/* This daemon's machine id (daemon.machine_id). */
const char *proc_machine_id(const proc *p);
bool proc_has_agent(proc *p, const char *agent);
/* The configuration of the agent named so, or NULL; valid until the next
 * reload. */
const agent_config *proc_agent(proc *p, const char *agent);
/* Starts a run of a configured agent; returns 0 with its id in run_id
 * (ULID_LEN + 1 bytes), or -1 with a reason. */
int proc_start(proc *p, const char *agent, const char *task, const char *prompt, char *run_id,
               char *err, size_t err_size);
/* The agent and task of a run this daemon knows; false if unknown. */
bool proc_run_lookup(proc *p, const char *run_id, const char **agent, const char **task);
/* Whether the run's agent token may be used now: the run is running, or
 * waiting for an answer (a token dies with its run). */
bool proc_run_accepts_token(proc *p, const char *run_id);
/* A blocking input request: the run waits (and may exit) until answered. */
void proc_set_waiting(proc *p, const char *run_id, const char *input_id);
/* An input request was answered.  Resumes the run if it exited waiting on
 * it (the new run's id goes to resumed, else resumed is ""). */
void proc_input_answered(proc *p, const char *run_id, const char *input_id, const char *answer,
                         char *resumed, size_t resumed_size);

/* The requests it serves on the bus are named in ctl_wire.h. */

#endif
