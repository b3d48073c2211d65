/* claude-code — runs Claude Code non-interactively:
 *   claude -p --output-format stream-json --verbose [options]
 *          --mcp-config=<the run's bosun MCP file>
 *          --permission-prompt-tool mcp__bosun__approve
 *          --disallowedTools=AskUserQuestion --session-id <uuid> -- PROMPT
 * and resumes the same session with `--resume <id> -- TEXT` after an
 * answer or a crash.  Its lines become typed events (claude_parse.c); the
 * `result` line decides how an exit is understood. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "claude_code.h"

/* One argv string may not exceed MAX_ARG_STRLEN (128 KiB). */
#define CLAUDE_ARG_MAX (120 * 1024)

static const char *const claude_keys[] = {BOSUN_AGENT_CLI_KEYS, "thinking", "max_budget_usd", NULL};
static const char *const claude_modes[] = {"acceptEdits", "auto", "bypassPermissions", "manual",
                                           "dontAsk",     "plan", "default",           NULL};

/* The CLI's own spending limit (--max-budget-usd), a second line of
 * defence behind bosun's budgets: what the run may still spend under
 * budget.usd_per_run, which the core reads, checks and hands over as
 * bosun_run_info.budget_usd_left; or the older max_budget_usd key of the
 * agent, kept working; with both, the lower.  *usd is 0 when neither. */
static bool claude_budget_key(const cfg_node *agent, double *usd, cfg_diag *d)
{
    *usd = 0;
    const cfg_node *n = cfg_get(agent, "max_budget_usd");
    if (!n || n->type == CFG_NULL)
        return true;
    char path[256], *end = NULL;
    double v = n->type == CFG_SCALAR ? strtod(n->value, &end) : 0;
    if (n->type != CFG_SCALAR || end == n->value || *end || !(v > 0 && v <= 1e6))
        return cfg_error(d, n, "'%s': expected a number of dollars above 0 and at most 1000000",
                         cfg_path(n, path, sizeof path));
    *usd = v;
    return true;
}

/* The limit as --max-budget-usd's text into buf, or NULL when none. */
static const char *claude_budget(const bosun_run_info *run, char *buf, size_t size)
{
    double usd;
    if (!claude_budget_key(run->config, &usd, NULL))
        usd = 0;
    if (run->budget_usd_left) {
        /* Spent already: the smallest limit the CLI takes, not none. */
        double left = *run->budget_usd_left > 0.000001 ? *run->budget_usd_left : 0.000001;
        usd = usd > 0 && usd < left ? usd : left;
    }
    if (usd <= 0)
        return NULL;
    snprintf(buf, size, "%.6f", usd);
    char *end = buf + strlen(buf); /* "3.500000" -> "3.5", "1000.000000" -> "1000" */
    while (end > buf && end[-1] == '0')
        *--end = '\0';
    if (end > buf && end[-1] == '.')
        *--end = '\0';
    return buf;
}

static bool claude_check_agent(void *state, const cfg_node *agent, cfg_diag *d)
{
    bosun_agent_cli cli;
    if (!bosun_agent_cli_parse(agent, "claude", claude_modes, &cli, d))
        return false;
    bosun_agent_cli_free(&cli);
    bool thinking;
    double usd;
    bool ok = cfg_get_bool(agent, "thinking", false, &thinking, d);
    return claude_budget_key(agent, &usd, d) && ok;
}

static int fail(char **error, const char *why)
{
    *error = strdup(why);
    return -1;
}

/* Each tool pattern as one --allowedTools=X word: the flag takes a
 * variable number of values and would swallow what follows it. */
static void add_tools(bosun_argv *a, const char *flag, const char *const *tools)
{
    for (size_t i = 0; tools && tools[i]; i++) {
        size_t n = strlen(flag) + strlen(tools[i]) + 2;
        char *w = malloc(n);
        if (!w) {
            a->failed = true;
            return;
        }
        snprintf(w, n, "%s=%s", flag, tools[i]);
        bosun_argv_add(a, w);
        free(w);
    }
}

static bool listed(const char *const *tools, const char *name)
{
    for (size_t i = 0; tools && tools[i]; i++)
        if (strcmp(tools[i], name) == 0)
            return true;
    return false;
}

/* With a permission-prompt tool the CLI offers the model AskUserQuestion
 * (4.6 KB of schema in every request), whose answers the prompt tool
 * would have to make up: approve can only allow or deny.  Questions go to
 * bosun's request_input instead, which waits for a person and resumes the
 * session with the answer.  Naming the tool in allowed_tools keeps it. */
static void add_no_ask(bosun_argv *a, const bosun_agent_cli *cli)
{
    if (!listed(cli->allowed_tools, "AskUserQuestion") &&
        !listed(cli->disallowed_tools, "AskUserQuestion"))
        bosun_argv_add(a, "--disallowedTools=AskUserQuestion");
}

/* The common part of a launch and a resume; `text` is the user turn. */
static int build(const bosun_run_info *run, const char *resume_id, const char *text,
                 bosun_launch *out, char **error)
{
    bosun_agent_cli cli;
    if (!bosun_agent_cli_parse(run->config, "claude", claude_modes, &cli, NULL))
        return fail(error, "the agent's claude-code settings are not valid");
    if (!text || !text[0]) {
        bosun_agent_cli_free(&cli);
        return fail(error, "claude-code needs a prompt: start it with one (bosunctl start AGENT "
                           "--prompt TEXT) or through a task");
    }
    if (strlen(text) > CLAUDE_ARG_MAX) {
        bosun_agent_cli_free(&cli);
        return fail(error, "the prompt is longer than 120 KiB, more than one command-line "
                           "argument can hold");
    }
    bosun_argv a = {0};
    bosun_argv_add(&a, cli.bin);
    bosun_argv_add_all(
        &a, (const char *const[]){"-p", "--output-format", "stream-json", "--verbose", NULL});
    bosun_argv_add2(&a, "--model", cli.model);
    char turns[32];
    snprintf(turns, sizeof turns, "%lld", cli.max_turns);
    bosun_argv_add2(&a, "--max-turns", cli.max_turns > 0 ? turns : NULL);
    bosun_argv_add2(&a, "--permission-mode", cli.permission_mode);
    add_tools(&a, "--allowedTools", cli.allowed_tools);
    add_tools(&a, "--disallowedTools", cli.disallowed_tools);
    bosun_argv_add2(&a, "--append-system-prompt", cli.append_system_prompt);
    char budget[64];
    bosun_argv_add2(&a, "--max-budget-usd", claude_budget(run, budget, sizeof budget));
    /* Every permission prompt goes to bosun's approve tool, whenever bosun's
     * MCP server is there to take it: without it, a prompt in -p mode is a
     * silent deny nobody sees (bosun-claude-code(7)). */
    if (run->mcp_config) {
        /* Over HTTP when bosun serves /mcp on loopback: a stdio server
         * costs the CLI a child to start and, at exit, to stop and poll
         * for (tests/bench/README, bench_agent_overhead). */
        const char *cfg = run->mcp_http_config ? run->mcp_http_config : run->mcp_config;
        add_tools(&a, "--mcp-config", (const char *const[]){cfg, NULL});
        bosun_argv_add2(&a, "--permission-prompt-tool", "mcp__bosun__approve");
        add_no_ask(&a, &cli);
    }
    if (resume_id)
        bosun_argv_add2(&a, "--resume", resume_id);
    else
        bosun_argv_add2(&a, "--session-id", run->session_id);
    bosun_argv_add_all(&a, cli.extra_args);
    /* After "--" the prompt is never read as an option, whatever it says. */
    bosun_argv_add(&a, "--");
    bosun_argv_add(&a, text);
    bosun_agent_cli_free(&cli);
    if (bosun_argv_take(&a, &out->argv) != 0)
        return fail(error, "out of memory");
    return 0;
}

static int claude_build_launch(void *state, const bosun_run_info *run, bosun_launch *out,
                               char **error)
{
    return build(run, NULL, run->prompt, out, error);
}

/* The same session, with the answer (or the interrupted-turn text) as
 * the next user turn. */
static int claude_build_resume(void *state, const bosun_run_info *run, bosun_launch *out,
                               char **error)
{
    if (!run->session_id)
        return fail(error, "no Claude Code session to resume (none was started)");
    return build(run, run->session_id, run->resume_input, out, error);
}

static int claude_assign_session(void *state, const bosun_run_info *run, char *buf, size_t size)
{
    bosun_uuid_new(buf, size);
    return 0;
}

/* result.subtype decides; without a result line the CLI crashed. */
static enum bosun_exit_class claude_classify_exit(void *state, const bosun_run_info *run,
                                                  int status)
{
    const char *subtype = json_string_value(json_object_get(run->result, "subtype"));
    const char *st = json_string_value(json_object_get(run->result, "status"));
    if (!subtype)
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? BOSUN_EXIT_DONE : BOSUN_EXIT_FAILED;
    if (strcmp(subtype, "error_max_budget_usd") == 0)
        return BOSUN_EXIT_BUDGET;
    /* Out of turns is not a failure to retry from scratch: a human decides
     * whether the session goes on. */
    if (strcmp(subtype, "error_max_turns") == 0)
        return BOSUN_EXIT_NEEDS_INPUT;
    if (strcmp(subtype, "success") == 0 && st && strcmp(st, "success") == 0)
        return BOSUN_EXIT_DONE;
    return BOSUN_EXIT_FAILED;
}

static bool claude_check(const cfg_node *config, cfg_diag *d)
{
    static const char *const none[] = {NULL};
    return cfg_check_keys(config, none, d);
}

static int claude_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    if (!claude_check(config, d))
        return -1;
    *state = calloc(1, sizeof(claude_state));
    return *state ? 0 : -1;
}

static int claude_start(void *state, cfg_diag *d)
{
    return 0;
}

static void claude_stop(void *state)
{
    free(state);
}

static const struct bosun_agent_ops claude_ops = {
    .abi = BOSUN_AGENT_ABI,
    .config_keys = claude_keys,
    .check_agent = claude_check_agent,
    .build_launch = claude_build_launch,
    .parse_line = claude_parse_line,
    .build_resume = claude_build_resume,
    .classify_exit = claude_classify_exit,
    .assign_session = claude_assign_session,
};

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "claude-code",
    .kind = BOSUN_PLUGIN_AGENT,
    .description = "runs Claude Code (claude -p, stream-json): typed events, sessions, resume",
    .version = BOSUN_VERSION,
    .check = claude_check,
    .init = claude_init,
    .start = claude_start,
    .stop = claude_stop,
    .ops = &claude_ops,
};
