/* gemini — the agent type for Google's Gemini CLI, run as
 * `gemini --output-format stream-json --prompt=…`.  Internal to the
 * plugin. */
#ifndef BOSUN_GEMINI_H
#define BOSUN_GEMINI_H

#include <bosun/bosun.h>
#include <bosun/agent_stream.h>

typedef struct gemini_state {
    char *state_dir; /* the daemon's: default homes are made under it */
} gemini_state;

/* Gemini's approval modes (what permission_mode takes) and auth types
 * (auth_type). */
extern const char *const gemini_modes[];
extern const char *const gemini_auth_types[];

/* gemini_launch.c */
int gemini_build_launch(void *state, const bosun_run_info *run, bosun_launch *out, char **error);
int gemini_build_resume(void *state, const bosun_run_info *run, bosun_launch *out, char **error);

/* gemini_home.c: the CLI's home (GEMINI_CLI_HOME) for a run, malloc'ed:
 * the agent's `home`, else <state_dir>/gemini/<agent>, made when missing;
 * and its .gemini/settings.json written afresh from `settings` (without
 * following links).  NULL with *error on failure. */
char *gemini_home_prepare(const gemini_state *st, const bosun_run_info *run, const json_t *settings,
                          char **error);

/* gemini_parse.c */
int gemini_parse_line(void *state, const bosun_run_info *run, enum bosun_stream stream,
                      const char *line, size_t len, json_t *events);

#endif
