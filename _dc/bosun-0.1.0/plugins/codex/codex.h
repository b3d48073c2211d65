/* codex — the agent type for OpenAI's Codex CLI, run as
 * `codex exec --json`.  Internal to the plugin. */
#ifndef BOSUN_CODEX_H
#define BOSUN_CODEX_H

#include <bosun/bosun.h>
#include <bosun/agent_stream.h>
#include <bosun/approval_map.h>

/* turn.completed carries the thread's token totals, not the turn's: the
 * last totals of this many threads are remembered so that a usage event
 * says what one turn used. */
#define CODEX_THREADS_SEEN 256

typedef struct codex_totals {
    long long input, cached, output, reasoning;
} codex_totals;

typedef struct codex_thread {
    char id[BOSUN_SESSION_ID_MAX + 1];
    codex_totals totals;
} codex_thread;

typedef struct codex_state {
    codex_thread seen[CODEX_THREADS_SEEN];
    unsigned next;                  /* the slot a new thread takes (oldest first) */
    bosun_approval_notices noticed; /* approval rules that cannot be honoured, logged once */
} codex_state;

/* What a launch takes from bosun's approvals (codex_policy.c). */
typedef struct codex_policy {
    const char *sandbox; /* sandbox_mode to pass instead of permission_mode, or NULL */
    char **disabled;     /* bosun's MCP tools to switch off, NULL-terminated, or NULL */
    bool bosun_off;      /* bosun's MCP server switched off (every tool denied) */
} codex_policy;

/* Codex's sandbox modes: what permission_mode takes. */
extern const char *const codex_modes[];

/* codex_launch.c */
int codex_build_launch(void *state, const bosun_run_info *run, bosun_launch *out, char **error);
int codex_build_resume(void *state, const bosun_run_info *run, bosun_launch *out, char **error);

/* codex_policy.c: the policy of the agent's and the global approvals
 * (either may be NULL) for a launch whose permission_mode is given (or
 * NULL), calling note for each rule Codex cannot honour.  0, or -1 when
 * out of memory. */
int codex_policy_of(const bosun_approval_policy *agent, const bosun_approval_policy *global,
                    const char *permission_mode, codex_policy *out, bosun_approval_note *note,
                    void *arg);
/* The same for a run, from its agent's section, logging each rule that
 * cannot be honoured once per agent, at notice.  0, or -1 with *error. */
int codex_policy_of_run(codex_state *st, const bosun_run_info *run, const char *permission_mode,
                        codex_policy *out, char **error);
void codex_policy_clear(codex_policy *p);

/* codex_parse.c */
int codex_parse_line(void *state, const bosun_run_info *run, enum bosun_stream stream,
                     const char *line, size_t len, json_t *events);

#endif
