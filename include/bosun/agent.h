/* bosun — writing an agent type.
 *
 * An agent type is a plugin of kind BOSUN_PLUGIN_AGENT whose descriptor's
 * `ops` points at a struct bosun_agent_ops.  The core supervises processes
 * (spawn, process groups, restarts, back-off, stop, output capture, runs and
 * their events); the agent type decides how one agent is launched and how
 * its output and exits are understood.  `exec` runs a configured command
 * and passes lines through; claude-code, codex and the built-in LLM loop
 * implement the same table.
 *
 * All calls happen on the loop thread.  `state` is the plugin's state from
 * its init.  Strings handed in are valid only during the call.
 */
#ifndef BOSUN_AGENT_H
#define BOSUN_AGENT_H

#include <bosun/api.h>

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <bosun/cfg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Raised when struct bosun_agent_ops or the structs below change
 * incompatibly; the core refuses an agent type built for another value. */
#define BOSUN_AGENT_ABI 1

/* What the core knows about the run being launched or watched. */
typedef struct bosun_run_info {
    const char *run_id;      /* ULID */
    const char *agent;       /* name from bosun.yaml */
    unsigned instance;       /* 0 .. instances-1 */
    const char *task_id;     /* NULL when the run has no task */
    const char *prompt;      /* NULL when none */
    const char *prompt_file; /* path of a 0600 file holding the prompt, or NULL */
    const char *machine_id;
    const char *run_dir;      /* per-run directory under runtime_dir for the type's files
                                 (0700; removed with the run once the type empties it) */
    const cfg_node *config;   /* the agent's section in bosun.yaml */
    unsigned restarts;        /* how many times this run's process was restarted */
    const char *resume_input; /* answer to resume with (input requests), or the
                                 interrupted-turn text (resume_why CRASH), else NULL */
    /* Added in ABI 1 from reserved slots: an agent type built before them
     * is never handed them, one built after sees NULL/0 from an older core. */
    const char *mcp_config; /* path of the run's MCP config (0600): bosun's server for
                               agents that take an --mcp-config file; NULL when none */
    const char *session_id; /* the agent's session: assigned by assign_session before the
                               first process, or the first one a `session` event reported;
                               carried into resumed runs; NULL when none is known yet */
    int resume_why;         /* enum bosun_resume_why: why build_resume is called */
    const json_t *result;   /* the last event of kind "result" parse_line gave for the
                               current process (for classify_exit), else NULL; its
                               string "reason", when there, is put on the run with a
                               class other than DONE */
    /* From a reserved slot: what the run may still spend in dollars under
     * its agent's budget.usd_per_run (the limit less what its earlier
     * processes cost), for a CLI's own limit; NULL when it has none. */
    const double *budget_usd_left;
    /* From a reserved slot: the run's MCP config (0600) reaching bosun over
     * MCP Streamable HTTP at the http plugin's /mcp, for the types that
     * take a "type": "http" server (claude-code); NULL when the agent's
     * mcp_transport or the daemon's listeners give none. */
    const char *mcp_http_config;
    void *reserved[2];
} bosun_run_info;

/* Why a run is being resumed (bosun_run_info.resume_why). */
enum bosun_resume_why {
    BOSUN_RESUME_NONE = 0,   /* a fresh launch: build_launch */
    BOSUN_RESUME_ANSWER = 1, /* an input request was answered: resume_input is the answer */
    BOSUN_RESUME_CRASH = 2,  /* the last process died (signal, daemon or machine restart)
                                and `resume` is on-crash or always: resume_input is
                                BOSUN_RESUME_CRASH_TEXT */
};

/* The user turn a crashed run is resumed with. */
#define BOSUN_RESUME_CRASH_TEXT                                                                    \
    "You were interrupted (the process running you stopped unexpectedly). Continue the task "      \
    "from where you left off."

/* Longest session id the core stores (bytes, without the NUL); ids are
 * 1..BOSUN_SESSION_ID_MAX of A-Z a-z 0-9 - _ . : */
#define BOSUN_SESSION_ID_MAX 128

/* A launch built by the agent type.  The core adds the agent's `env:` map
 * after `env`, then the common environment (BOSUN_RUN_ID, BOSUN_TASK_ID,
 * BOSUN_AGENT, BOSUN_MACHINE_ID, BOSUN_INSTANCE, BOSUN_PROMPT up to 64 KiB,
 * BOSUN_PROMPT_FILE), and uses the agent's `workdir` unless the type sets
 * one. */
typedef struct bosun_launch {
    char **argv;   /* NULL-terminated, malloc'ed strings; argv[0] is the program */
    char **env;    /* NULL-terminated "NAME=value" additions, or NULL */
    char *workdir; /* NULL: the agent's workdir */
} bosun_launch;

/* Frees what an agent type put in a launch (all malloc'ed). */
BOSUN_API void bosun_launch_clear(bosun_launch *l);

enum bosun_stream {
    BOSUN_STREAM_STDOUT = 1,
    BOSUN_STREAM_STDERR = 2,
};

/* How a process exit is to be understood. */
enum bosun_exit_class {
    BOSUN_EXIT_DONE = 1,        /* finished its work */
    BOSUN_EXIT_FAILED = 2,      /* failed: the restart policy decides */
    BOSUN_EXIT_NEEDS_INPUT = 3, /* waiting for a human: not a failure, not restarted */
    BOSUN_EXIT_BUDGET = 4,      /* stopped by a budget: not restarted */
};

struct bosun_agent_ops {
    unsigned abi; /* BOSUN_AGENT_ABI */

    /* Keys this type reads in an agent's section besides the common ones
     * (NULL-terminated, or NULL for none), and their validation (may be
     * NULL when there is nothing to check beyond the keys).  check_agent
     * validates the section alone: its state is NULL when it runs before the
     * plugin's init (bosund --check-config, and the check of a reload that
     * adds the plugin), the plugin's state otherwise. */
    const char *const *config_keys;
    bool (*check_agent)(void *state, const cfg_node *agent, cfg_diag *d);

    /* Mandatory: the argv/env/workdir of a run.  Returns 0, or -1 with a
     * reason in *error (malloc'ed). */
    int (*build_launch)(void *state, const bosun_run_info *run, bosun_launch *out, char **error);

    /* Optional: one output line (without its newline; may not be valid
     * UTF-8; len bytes) into zero or more events, appended to `events` as
     * objects {"kind": "...", ...}.  Each is published as
     * evt.run.<agent>.<run>.<kind>.  The core also publishes the line itself
     * as an "output" event unless this returns 1 (return 0 for a line not
     * understood: it is kept, never dropped).  An event of kind "session"
     * with a string "session_id" gives the run its session id when it has
     * none yet; a later one never replaces it (the event is still
     * published, with "kept": false).  <bosun/agent_stream.h> builds the
     * common kinds. */
    int (*parse_line)(void *state, const bosun_run_info *run, enum bosun_stream stream,
                      const char *line, size_t len, json_t *events);

    /* Optional: the launch to resume a run, with run->resume_input set and
     * run->resume_why saying why (an answered input request, or a crash
     * under `resume: on-crash|always`); run->session_id is the session to
     * continue when one is known.  NULL: build_launch is used. */
    int (*build_resume)(void *state, const bosun_run_info *run, bosun_launch *out, char **error);

    /* Optional: classify an exit.  status is as from waitpid(); run->result
     * is what the CLI said at its end, if it said anything.  NULL: exit
     * code 0 is DONE, anything else FAILED. */
    enum bosun_exit_class (*classify_exit)(void *state, const bosun_run_info *run, int status);

    /* Optional (from a reserved slot): a session id for a new run, chosen
     * before its first process starts (Claude Code's --session-id), written
     * NUL-terminated into buf (size bytes, BOSUN_SESSION_ID_MAX + 1).
     * Returns 0, or -1 when this run gets none (the CLI reports its own in
     * a `session` event).  Not called for runs that carry a session on. */
    int (*assign_session)(void *state, const bosun_run_info *run, char *buf, size_t size);

    void *reserved[7];
};

#ifdef __cplusplus
}
#endif
#endif
