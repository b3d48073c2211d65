/* llm — the agent type of bosun's own coding agent: a run launches
 * bosun-llm (plugins/llm/prog) with a per-run JSON config file, and its
 * stdout lines (one typed event each) become the run's events.  Internal
 * to the plugin; the keys are documented in bosun-llm(7). */
#ifndef BOSUN_LLM_H
#define BOSUN_LLM_H

#include <bosun/bosun.h>
#include <bosun/agent_stream.h>

/* The sessions given to this many runs are remembered, so that a run
 * restarted without `resume` keeps its conversation (the core asks for a
 * new session then; an llm session is continued, never re-created). */
#define LLM_RUNS_REMEMBERED 256

typedef struct llm_session_slot {
    char run[32];
    char session[40];
} llm_session_slot;

/* The plugin's own section (`llm:` at the top level): where bosun-llm is. */
typedef struct llm_state {
    char *program;   /* absolute path of bosun-llm */
    char *state_dir; /* the daemon's, for default workspaces */
    llm_session_slot sessions[LLM_RUNS_REMEMBERED];
    unsigned next; /* the slot a new run takes (oldest first) */
} llm_state;

/* The agent keys this type reads besides the core's. */
extern const char *const llm_agent_keys[];

/* llm_config.c: the agent's section checked (FILE:LINE:COL errors in d)
 * and turned into the JSON bosun-llm reads: {"llm": {...}, "tools": [...],
 * "sandbox", "bash", "files", "fetch", "max_rounds",
 * "max_context_messages", "interactive", "system_prompt"}.  NULL when the
 * section is not valid. */
json_t *llm_config_json(const cfg_node *agent, cfg_diag *d);

/* llm_launch.c */
int llm_build_launch(void *state, const bosun_run_info *run, bosun_launch *out, char **error);
int llm_build_resume(void *state, const bosun_run_info *run, bosun_launch *out, char **error);

/* llm_parse.c */
int llm_parse_line(void *state, const bosun_run_info *run, enum bosun_stream stream,
                   const char *line, size_t len, json_t *events);
enum bosun_exit_class llm_classify_exit(void *state, const bosun_run_info *run, int status);

#endif
