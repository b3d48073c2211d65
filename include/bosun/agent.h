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
    const char *resume_input; /* answer to resume with (input requests), else NULL */
    void *reserved[8];
} bosun_run_info;

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
     * as an "output" event unless this returns 1. */
    int (*parse_line)(void *state, const bosun_run_info *run, enum bosun_stream stream,
                      const char *line, size_t len, json_t *events);

    /* Optional: the launch to resume a run that exited waiting for input,
     * with run->resume_input set.  NULL: build_launch is used. */
    int (*build_resume)(void *state, const bosun_run_info *run, bosun_launch *out, char **error);

    /* Optional: classify an exit.  status is as from waitpid().  NULL: exit
     * code 0 is DONE, anything else FAILED. */
    enum bosun_exit_class (*classify_exit)(void *state, const bosun_run_info *run, int status);

    void *reserved[8];
};

#ifdef __cplusplus
}
#endif
#endif
