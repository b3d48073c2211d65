/* gemini — runs Google's Gemini CLI non-interactively:
 *   gemini --output-format stream-json [options] --session-id UUID --prompt=PROMPT
 * in a home of the agent's own that carries bosun's MCP server
 * (gemini_home.c), and resumes the same session with `--resume UUID` after
 * an answer or a crash (gemini_launch.c).  Its lines become typed events
 * (gemini_parse.c); its exit codes decide how an exit is understood. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "gemini.h"

/* Gemini's exit codes for what went wrong (its FatalError classes). */
#define GEMINI_EXIT_INPUT      42 /* bad or missing input */
#define GEMINI_EXIT_TURN_LIMIT 53 /* model.maxSessionTurns reached */

static const char *const gemini_keys[] = {BOSUN_AGENT_CLI_KEYS, "home", "auth_type", NULL};

static bool one_of(const cfg_node *agent, const char *key, const char *const *values, cfg_diag *d)
{
    const char *v = NULL;
    char path[256];
    if (!cfg_get_string(agent, key, NULL, &v, d))
        return false;
    for (size_t i = 0; v && values[i]; i++)
        if (strcmp(values[i], v) == 0)
            return true;
    return !v || cfg_error(d, cfg_get(agent, key), "'%s': '%s' is not an auth type Gemini knows",
                           cfg_path(cfg_get(agent, key), path, sizeof path), v);
}

static bool check_home(const cfg_node *agent, cfg_diag *d)
{
    const char *home = NULL;
    char path[256];
    if (!cfg_get_string(agent, "home", NULL, &home, d))
        return false;
    const cfg_node *n = cfg_get(agent, "home");
    if (home && home[0] != '/')
        return cfg_error(d, n, "'%s': must be an absolute path", cfg_path(n, path, sizeof path));
    /* The default home is in the daemon's state directory, which an agent
     * of another user cannot enter. */
    if (!home && cfg_get(agent, "user"))
        return cfg_error(d, agent,
                         "'%s': a gemini agent with 'user' needs 'home', a directory "
                         "that user owns, for the CLI's settings and sessions",
                         cfg_path(agent, path, sizeof path));
    return true;
}

static bool gemini_check_agent(void *state, const cfg_node *agent, cfg_diag *d)
{
    bosun_agent_cli cli;
    if (!bosun_agent_cli_parse(agent, "gemini", gemini_modes, &cli, d))
        return false;
    bool appends = cli.append_system_prompt != NULL;
    bosun_agent_cli_free(&cli);
    char path[256];
    const cfg_node *n = cfg_get(agent, "append_system_prompt");
    bool ok = !appends || cfg_error(d, n,
                                    "'%s': the Gemini CLI cannot add to its system prompt; put the "
                                    "text in a GEMINI.md in the agent's workdir instead",
                                    cfg_path(n, path, sizeof path));
    ok = one_of(agent, "auth_type", gemini_auth_types, d) && ok;
    return check_home(agent, d) && ok;
}

static int gemini_assign_session(void *state, const bosun_run_info *run, char *buf, size_t size)
{
    bosun_uuid_new(buf, size);
    return 0;
}

/* The exit code decides; a result line with status error makes even a
 * zero exit a failure. */
static enum bosun_exit_class gemini_classify_exit(void *state, const bosun_run_info *run,
                                                  int status)
{
    const char *st = json_string_value(json_object_get(run->result, "status"));
    if (!WIFEXITED(status))
        return BOSUN_EXIT_FAILED;
    switch (WEXITSTATUS(status)) {
    case 0:
        return st && strcmp(st, "error") == 0 ? BOSUN_EXIT_FAILED : BOSUN_EXIT_DONE;
    case GEMINI_EXIT_INPUT:
        return BOSUN_EXIT_NEEDS_INPUT; /* retrying the same input fails again */
    case GEMINI_EXIT_TURN_LIMIT:
        return BOSUN_EXIT_BUDGET; /* its turns are spent: not restarted */
    default:
        return BOSUN_EXIT_FAILED;
    }
}

static bool gemini_check(const cfg_node *config, cfg_diag *d)
{
    static const char *const none[] = {NULL};
    return cfg_check_keys(config, none, d);
}

static int gemini_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    if (!gemini_check(config, d))
        return -1;
    gemini_state *st = calloc(1, sizeof *st);
    if (st && ctx->state_dir && !(st->state_dir = strdup(ctx->state_dir))) {
        free(st);
        st = NULL;
    }
    *state = st;
    return st ? 0 : -1;
}

static int gemini_start(void *state, cfg_diag *d)
{
    return 0;
}

static void gemini_stop(void *state)
{
    gemini_state *st = state;
    if (st) {
        free(st->state_dir);
        bosun_approval_notices_clear(&st->noticed);
    }
    free(st);
}

static const struct bosun_agent_ops gemini_ops = {
    .abi = BOSUN_AGENT_ABI,
    .config_keys = gemini_keys,
    .check_agent = gemini_check_agent,
    .build_launch = gemini_build_launch,
    .parse_line = gemini_parse_line,
    .build_resume = gemini_build_resume,
    .classify_exit = gemini_classify_exit,
    .assign_session = gemini_assign_session,
};

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "gemini",
    .kind = BOSUN_PLUGIN_AGENT,
    .description = "runs the Gemini CLI (gemini --output-format stream-json): typed events, "
                   "sessions, resume",
    .version = BOSUN_VERSION,
    .check = gemini_check,
    .init = gemini_init,
    .start = gemini_start,
    .stop = gemini_stop,
    .ops = &gemini_ops,
};
