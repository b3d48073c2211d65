/* gemini — the agent type for Google's Gemini CLI, run as
 * `gemini --output-format stream-json --prompt=…`.  Internal to the
 * plugin. */
#ifndef BOSUN_GEMINI_H
#define BOSUN_GEMINI_H

#include <bosun/bosun.h>
#include <bosun/agent_stream.h>
#include <bosun/approval_map.h>

typedef struct gemini_state {
    char *state_dir;                /* the daemon's: default homes are made under it */
    bosun_approval_notices noticed; /* rules that cannot be honoured, logged once */
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
 * its .gemini/settings.json written afresh from `settings`, and its
 * .gemini/GEMINI_POLICY_FILE from `policy` (removed when NULL), without
 * following links.  NULL with *error on failure. */
#define GEMINI_POLICY_FILE "bosun-policy.toml"
char *gemini_home_prepare(const gemini_state *st, const bosun_run_info *run, const json_t *settings,
                          const char *policy, char **error);

/* gemini_policy.c: the TOML text of a Gemini policy file from the agent's
 * and the global approval policies (either may be NULL; *text NULL when
 * both are).  note(arg, rule, why) is called for each rule Gemini cannot
 * honour as written.  0, or -1 when out of memory. */
int gemini_policy_toml(const bosun_approval_policy *agent, const bosun_approval_policy *global,
                       char **text, bosun_approval_note *note, void *arg);
/* The policy file's text for a run from its agent's approvals and the
 * global ones (*text NULL when none apply), logging each rule that cannot
 * be honoured once per agent, at notice.  0, or -1 with *error. */
int gemini_policy_of_run(gemini_state *st, const bosun_run_info *run, char **text, char **error);

/* gemini_parse.c */
int gemini_parse_line(void *state, const bosun_run_info *run, enum bosun_stream stream,
                      const char *line, size_t len, json_t *events);

#endif
