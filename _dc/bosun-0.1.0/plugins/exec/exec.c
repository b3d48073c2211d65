/* exec — the plain agent type: runs the agent's `command` as it is and
 * passes its output lines through as "output" events.  Any program can be
 * supervised this way; richer types (claude-code, codex) parse their
 * agent's structured output instead. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <bosun/bosun.h>

static bool exec_check_agent(void *state, const cfg_node *agent, cfg_diag *d)
{
    const cfg_node *cmd = cfg_get(agent, "command");
    char path[256];
    if (!cmd || cmd->type == CFG_NULL || (cmd->type == CFG_SEQ && cmd->n_items == 0))
        return cfg_error(d, cmd ? cmd : agent,
                         "'%s': agent type exec needs 'command' (a list: "
                         "program and arguments)",
                         cfg_path(agent, path, sizeof path));
    const cfg_node *first = cmd->type == CFG_SEQ ? cmd->items[0] : cmd;
    if (first->type != CFG_SCALAR || !first->value[0])
        return cfg_error(d, first, "'%s': the program must be a non-empty string",
                         cfg_path(first, path, sizeof path));
    return true;
}

/* argv is the configured command, word for word: no shell, so nothing in a
 * task or prompt can be injected into the command line. */
static int exec_build_launch(void *state, const bosun_run_info *run, bosun_launch *out,
                             char **error)
{
    const char **cmd = NULL;
    if (!cfg_get_strlist(run->config, "command", &cmd, NULL) || !cmd || !cmd[0]) {
        free(cmd);
        *error = strdup("no command configured");
        return -1;
    }
    size_t n = 0;
    while (cmd[n])
        n++;
    out->argv = calloc(n + 1, sizeof *out->argv);
    bool copied = out->argv != NULL;
    for (size_t i = 0; copied && i < n; i++)
        copied = (out->argv[i] = strdup(cmd[i])) != NULL;
    free(cmd);
    if (!copied) {
        /* Never a shortened command: all of it or nothing. */
        for (size_t i = 0; out->argv && i < n; i++)
            free(out->argv[i]);
        free(out->argv);
        out->argv = NULL;
        *error = strdup("out of memory");
        return -1;
    }
    return 0;
}

/* Nothing to keep between calls. */
static bool exec_check(const cfg_node *config, cfg_diag *d)
{
    static const char *const none[] = {NULL};
    return cfg_check_keys(config, none, d);
}

static int exec_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    *state = NULL;
    return exec_check(config, d) ? 0 : -1;
}

static int exec_start(void *state, cfg_diag *d)
{
    return 0;
}

static void exec_stop(void *state)
{
}

static const struct bosun_agent_ops exec_ops = {
    .abi = BOSUN_AGENT_ABI,
    .config_keys = NULL,
    .check_agent = exec_check_agent,
    .build_launch = exec_build_launch,
};

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "exec",
    .kind = BOSUN_PLUGIN_AGENT,
    .description = "runs the agent's configured command; output lines pass through",
    .version = BOSUN_VERSION,
    .check = exec_check,
    .init = exec_init,
    .start = exec_start,
    .stop = exec_stop,
    .ops = &exec_ops,
};
