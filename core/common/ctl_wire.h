/* What bosund and bosunctl must agree on: the control socket's limits and
 * the request subjects the CLI sends.  Both sides include this header, so
 * a limit or a subject changes in one place. */
#ifndef BOSUN_CTL_WIRE_H
#define BOSUN_CTL_WIRE_H

/* One request line; MCP messages have their own, lower limit. */
#define CTL_LINE_MAX (8 * 1024 * 1024)
/* Queued output before a client counts as stuck. */
#define CTL_OUTPUT_MAX (16 * 1024 * 1024)
/* Descriptors passed with one request (SCM_RIGHTS): bosunctl mcp's stdio. */
#define CTL_MAX_FDS 2

/* Supervision requests, served by the core (see bosun-bus(7)). */
#define PROC_CMD_PS      "cmd.proc.ps"
#define PROC_CMD_START   "cmd.proc.start"
#define PROC_CMD_STOP    "cmd.proc.stop"
#define PROC_CMD_RESTART "cmd.proc.restart"
/* The budgets in force with what they have spent (proc_budget.c). */
#define PROC_CMD_BUDGETS "cmd.proc.budgets"

/* bosunctl hook: the hook call's stdin, at most, and the request that
 * carries it (core/daemon/hook/, bosun-bus(7)). */
#define HOOK_INPUT_MAX (1024 * 1024)
#define HOOK_CMD_EVENT "cmd.hook.event"

#endif
