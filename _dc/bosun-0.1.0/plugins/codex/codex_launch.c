/* The command lines of a Codex run:
 *   codex exec --json --skip-git-repo-check [options] -c mcp_servers.bosun.… -- PROMPT
 *   codex exec resume --json --skip-git-repo-check [options] -c … -- SESSION TEXT
 * Everything but the prompt goes in `-c key=TOML` overrides, which both
 * forms take (resume has no --sandbox), so the user's own CODEX_HOME
 * (login, config.toml, the sessions resume needs) stays as it is.  The
 * sandbox and bosun's MCP tools follow bosun's approvals where they say
 * more than permission_mode (codex_policy.c). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/toml.h>

#include "codex.h"

/* One argv string may not exceed MAX_ARG_STRLEN (128 KiB). */
#define CODEX_ARG_MAX (120 * 1024)

const char *const codex_modes[] = {"read-only", "workspace-write", "danger-full-access", NULL};

static int fail(char **error, const char *why)
{
    *error = strdup(why);
    return -1;
}

/* -c key=value, value already TOML; takes value (may be NULL: memory). */
static void add_override(bosun_argv *a, const char *key, char *value)
{
    char *w = NULL;
    if (!value || asprintf(&w, "%s=%s", key, value) < 0) {
        a->failed = true;
        free(value);
        return;
    }
    bosun_argv_add(a, "-c");
    bosun_argv_add(a, w);
    free(w);
    free(value);
}

static void add_override_str(bosun_argv *a, const char *key, const char *s)
{
    if (s)
        add_override(a, key, bosun_toml_string(s));
}

/* A TOML array of the n strings. */
static char *toml_array(const char **items, size_t n)
{
    char **q = calloc(n + 1, sizeof *q);
    size_t len = 3;
    bool ok = q != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        ok = (q[i] = bosun_toml_string(items[i])) != NULL;
        len += ok ? strlen(q[i]) + 1 : 0;
    }
    char *out = ok ? malloc(len) : NULL;
    if (out) {
        char *o = out;
        *o++ = '[';
        for (size_t i = 0; i < n; i++)
            o = stpcpy(i ? stpcpy(o, ",") : o, q[i]);
        strcpy(o, "]");
    }
    for (size_t i = 0; q && i < n; i++)
        free(q[i]);
    free(q);
    return out;
}

/* The strings of a JSON array, or the keys of a JSON object, as a TOML
 * array (bosun_agent_mcp_server checked their types). */
static char *toml_array_of(const json_t *v)
{
    size_t n = json_is_array(v) ? json_array_size(v) : json_object_size(v), i = 0;
    const char **items = calloc(n + 1, sizeof *items);
    if (!items)
        return NULL;
    const char *key;
    json_t *item;
    if (json_is_array(v))
        json_array_foreach(v, i, item) items[i] = json_string_value(item);
    else
        json_object_foreach((json_t *)v, key, item) items[i++] = key;
    char *out = toml_array(items, n);
    free(items);
    return out;
}

/* bosun's MCP server as Codex's mcp_servers.bosun: the command and args
 * of the run's mcp.json, and its environment forwarded by name from the
 * process's own (env_vars), so the token is in no file and on no command
 * line.  Its tools are bosun's: approved without a prompt, which exec
 * mode could not show anyway (it refuses the call instead). */
static int add_mcp(bosun_argv *a, const bosun_run_info *run, const codex_policy *pol, char **error)
{
    if (pol->bosun_off)
        return 0; /* the approvals deny every tool of bosun's: Codex is not given the server */
    json_t *srv = bosun_agent_mcp_server(run, error);
    if (!srv)
        return -1;
    add_override_str(a, "mcp_servers.bosun.command",
                     json_string_value(json_object_get(srv, "command")));
    add_override(a, "mcp_servers.bosun.args", toml_array_of(json_object_get(srv, "args")));
    add_override(a, "mcp_servers.bosun.env_vars", toml_array_of(json_object_get(srv, "env")));
    add_override_str(a, "mcp_servers.bosun.default_tools_approval_mode", "approve");
    size_t n = 0;
    while (pol->disabled && pol->disabled[n])
        n++;
    if (n)
        add_override(a, "mcp_servers.bosun.disabled_tools",
                     toml_array((const char **)pol->disabled, n));
    json_decref(srv);
    return 0;
}

/* The common part of a launch and a resume; `text` is the user turn. */
static int build(void *state, const bosun_run_info *run, const char *resume_id, const char *text,
                 bosun_launch *out, char **error)
{
    bosun_agent_cli cli;
    if (!bosun_agent_cli_parse(run->config, "codex", codex_modes, &cli, NULL))
        return fail(error, "the agent's codex settings are not valid");
    if (!text || !text[0] || strlen(text) > CODEX_ARG_MAX) {
        bosun_agent_cli_free(&cli);
        return fail(error, text && text[0] ? "the prompt is longer than 120 KiB, more than one "
                                             "command-line argument can hold"
                                           : "codex needs a prompt: start it with one (bosunctl "
                                             "start AGENT --prompt TEXT) or through a task");
    }
    codex_policy pol;
    if (codex_policy_of_run(state, run, cli.permission_mode, &pol, error) != 0) {
        bosun_agent_cli_free(&cli);
        return -1;
    }
    bosun_argv a = {0};
    bosun_argv_add_all(&a, (const char *const[]){cli.bin, "exec", NULL});
    if (resume_id)
        bosun_argv_add(&a, "resume");
    bosun_argv_add_all(&a, (const char *const[]){"--json", "--skip-git-repo-check", NULL});
    bosun_argv_add2(&a, "--model", cli.model);
    add_override_str(&a, "sandbox_mode", pol.sandbox ? pol.sandbox : cli.permission_mode);
    add_override_str(&a, "developer_instructions", cli.append_system_prompt);
    int rc = run->mcp_config ? add_mcp(&a, run, &pol, error) : 0;
    codex_policy_clear(&pol);
    bosun_argv_add_all(&a, cli.extra_args);
    /* After "--" neither the session nor the prompt is read as an option. */
    bosun_argv_add(&a, "--");
    if (resume_id)
        bosun_argv_add(&a, resume_id);
    bosun_argv_add(&a, text);
    bosun_agent_cli_free(&cli);
    if (rc != 0) {
        char **v = NULL;
        a.failed = true;
        bosun_argv_take(&a, &v);
        return -1;
    }
    if (bosun_argv_take(&a, &out->argv) != 0)
        return fail(error, "out of memory");
    return 0;
}

int codex_build_launch(void *state, const bosun_run_info *run, bosun_launch *out, char **error)
{
    return build(state, run, NULL, run->prompt, out, error);
}

/* The same thread, with the answer (or the interrupted-turn text) as the
 * next user turn. */
int codex_build_resume(void *state, const bosun_run_info *run, bosun_launch *out, char **error)
{
    if (!run->session_id)
        return fail(error, "no Codex thread to resume (none was reported)");
    return build(state, run, run->session_id, run->resume_input, out, error);
}
