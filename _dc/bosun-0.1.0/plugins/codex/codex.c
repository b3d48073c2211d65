/* codex — runs OpenAI's Codex CLI non-interactively:
 *   codex exec --json [options] -c mcp_servers.bosun.… -- PROMPT
 * and resumes the same thread with `codex exec resume … -- ID TEXT` after
 * an answer or a crash (codex_launch.c).  Its lines become typed events
 * (codex_parse.c); the thread id comes from the first thread.started line
 * (Codex takes no id from outside), and turn.failed decides a failure. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "codex.h"

static const char *const codex_keys[] = {BOSUN_AGENT_CLI_KEYS, "thinking", NULL};

/* Keys of the common set that Codex has nothing for: refused, never
 * silently ignored. */
static bool refuse(const cfg_node *agent, const char *key, const char *why, cfg_diag *d)
{
    const cfg_node *n = cfg_get(agent, key);
    char path[256];
    if (!n)
        return true;
    return cfg_error(d, n, "'%s': the codex agent type has no %s: %s",
                     cfg_path(n, path, sizeof path), key, why);
}

static bool codex_check_agent(void *state, const cfg_node *agent, cfg_diag *d)
{
    bosun_agent_cli cli;
    if (!bosun_agent_cli_parse(agent, "codex", codex_modes, &cli, d))
        return false;
    bosun_agent_cli_free(&cli);
    bool thinking, ok = cfg_get_bool(agent, "thinking", false, &thinking, d);
    ok = refuse(agent, "max_turns", "codex exec runs one turn and has no limit to set", d) && ok;
    ok = refuse(agent, "allowed_tools", "its tools are governed by permission_mode (the sandbox)",
                d) &&
         ok;
    return refuse(agent, "disallowed_tools",
                  "its tools are governed by permission_mode (the sandbox)", d) &&
           ok;
}

/* A turn.failed line is a failure whatever the exit status; without a
 * result line the CLI did not finish its turn. */
static enum bosun_exit_class codex_classify_exit(void *state, const bosun_run_info *run, int status)
{
    const char *st = json_string_value(json_object_get(run->result, "status"));
    bool exited0 = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (st && strcmp(st, "error") == 0)
        return BOSUN_EXIT_FAILED;
    return exited0 && st ? BOSUN_EXIT_DONE : BOSUN_EXIT_FAILED;
}

static bool codex_check(const cfg_node *config, cfg_diag *d)
{
    static const char *const none[] = {NULL};
    return cfg_check_keys(config, none, d);
}

static int codex_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    if (!codex_check(config, d))
        return -1;
    *state = calloc(1, sizeof(codex_state));
    return *state ? 0 : -1;
}

static int codex_start(void *state, cfg_diag *d)
{
    return 0;
}

static void codex_stop(void *state)
{
    codex_state *st = state;
    if (st)
        bosun_approval_notices_clear(&st->noticed);
    free(st);
}

static const struct bosun_agent_ops codex_ops = {
    .abi = BOSUN_AGENT_ABI,
    .config_keys = codex_keys,
    .check_agent = codex_check_agent,
    .build_launch = codex_build_launch,
    .parse_line = codex_parse_line,
    .build_resume = codex_build_resume,
    .classify_exit = codex_classify_exit,
};

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "codex",
    .kind = BOSUN_PLUGIN_AGENT,
    .description = "runs the Codex CLI (codex exec --json): typed events, threads, resume",
    .version = BOSUN_VERSION,
    .check = codex_check,
    .init = codex_init,
    .start = codex_start,
    .stop = codex_stop,
    .ops = &codex_ops,
};
