/* The command lines of a Gemini run:
 *   gemini --output-format stream-json --skip-trust [options] --session-id ID --prompt=PROMPT
 *   gemini --output-format stream-json --skip-trust [options] --resume ID --prompt=TEXT
 * with GEMINI_CLI_HOME set to the agent's home, whose settings.json
 * (gemini_home.c) carries bosun's MCP server and the settings Gemini has
 * no flag for, and, when approvals: apply to the agent, --policy with the
 * policy file made from them (gemini_policy.c). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemini.h"

/* One argv string may not exceed MAX_ARG_STRLEN (128 KiB). */
#define GEMINI_ARG_MAX (120 * 1024)

const char *const gemini_modes[] = {"default", "auto_edit", "yolo", "plan", NULL};
const char *const gemini_auth_types[] = {"gemini-api-key", "vertex-ai", "oauth-personal",
                                         "compute-default-credentials", NULL};

static int fail(char **error, const char *why)
{
    *error = strdup(why);
    return -1;
}

static json_t *str_array(const char *const *list)
{
    json_t *a = json_array();
    for (size_t i = 0; a && list && list[i]; i++)
        json_array_append_new(a, json_string(list[i]));
    return a;
}

/* bosun's MCP server in Gemini's format.  Its environment is written as
 * $NAME references, which Gemini expands from its own environment (where
 * the core put the token): the file holds no secret.  trust: its tools
 * are bosun's own and run without a confirmation, which headless mode
 * cannot ask for (it would leave them out). */
static json_t *mcp_entry(const bosun_run_info *run, char **error)
{
    json_t *srv = bosun_agent_mcp_server(run, error);
    if (!srv)
        return NULL;
    json_t *env = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(srv, "env"), k, v)
    {
        char *ref = NULL;
        if (asprintf(&ref, "$%s", k) >= 0)
            json_object_set_new(env, k, json_string(ref));
        free(ref);
    }
    json_t *e = json_pack("{s:O,s:O,s:o,s:b}", "command", json_object_get(srv, "command"), "args",
                          json_object_get(srv, "args"), "env", env, "trust", 1);
    json_decref(srv);
    if (!e)
        *error = strdup("out of memory");
    return e;
}

/* What goes in settings.json.  Updates are off: a supervised CLI must not
 * change under bosun between a run and its resume; usage statistics are
 * off: a daemon's agents report to nobody but bosun. */
static json_t *settings_of(const bosun_run_info *run, const bosun_agent_cli *cli, char **error)
{
    const char *auth = "gemini-api-key";
    cfg_get_string(run->config, "auth_type", auth, &auth, NULL);
    json_t *s = json_pack("{s:{s:{s:s}},s:{s:b},s:{s:b,s:b}}", "security", "auth", "selectedType",
                          auth, "privacy", "usageStatisticsEnabled", 0, "general",
                          "enableAutoUpdate", 0, "enableAutoUpdateNotification", 0);
    if (!s) {
        fail(error, "out of memory");
        return NULL;
    }
    if (cli->max_turns > 0)
        json_object_set_new(s, "model",
                            json_pack("{s:I}", "maxSessionTurns", (json_int_t)cli->max_turns));
    if (cli->allowed_tools || cli->disallowed_tools) {
        json_t *tools = json_object();
        if (cli->allowed_tools)
            json_object_set_new(tools, "allowed", str_array(cli->allowed_tools));
        if (cli->disallowed_tools)
            json_object_set_new(tools, "exclude", str_array(cli->disallowed_tools));
        json_object_set_new(s, "tools", tools);
    }
    if (run->mcp_config) {
        json_t *bosun = mcp_entry(run, error);
        if (!bosun) {
            json_decref(s);
            return NULL;
        }
        json_object_set_new(s, "mcpServers", json_pack("{s:o}", "bosun", bosun));
    }
    return s;
}

/* GEMINI_CLI_HOME=<home> for the launch's environment. */
static int home_env(bosun_launch *out, const char *home)
{
    char *kv = NULL;
    out->env = calloc(2, sizeof *out->env);
    if (!out->env || asprintf(&kv, "GEMINI_CLI_HOME=%s", home) < 0)
        return -1;
    out->env[0] = kv;
    return 0;
}

/* The home with its settings and the policy file from bosun's approvals
 * (*policy: its path, NULL when no approvals apply). */
static int prepare_home(void *state, const bosun_run_info *run, const bosun_agent_cli *cli,
                        bosun_launch *out, char **policy, char **error)
{
    char *text = NULL;
    if (gemini_policy_of_run(state, run, &text, error) != 0)
        return -1;
    json_t *settings = settings_of(run, cli, error);
    char *home = settings ? gemini_home_prepare(state, run, settings, text, error) : NULL;
    json_decref(settings);
    int rc = home ? 0 : -1;
    if (rc == 0 && (home_env(out, home) != 0 ||
                    (text && asprintf(policy, "%s/.gemini/%s", home, GEMINI_POLICY_FILE) < 0))) {
        *policy = NULL;
        rc = fail(error, "out of memory");
    }
    free(text);
    free(home);
    return rc;
}

/* The common part of a launch and a resume; `text` is the user turn. */
static int build(void *state, const bosun_run_info *run, const char *resume_id, const char *text,
                 bosun_launch *out, char **error)
{
    bosun_agent_cli cli;
    if (!bosun_agent_cli_parse(run->config, "gemini", gemini_modes, &cli, NULL))
        return fail(error, "the agent's gemini settings are not valid");
    if (!text || !text[0] || strlen(text) > GEMINI_ARG_MAX) {
        bosun_agent_cli_free(&cli);
        return fail(error, text && text[0] ? "the prompt is longer than 120 KiB, more than one "
                                             "command-line argument can hold"
                                           : "gemini needs a prompt: start it with one (bosunctl "
                                             "start AGENT --prompt TEXT) or through a task");
    }
    char *policy = NULL;
    if (prepare_home(state, run, &cli, out, &policy, error) != 0) {
        bosun_agent_cli_free(&cli);
        return -1;
    }
    bosun_argv a = {0};
    bosun_argv_add_all(
        &a, (const char *const[]){cli.bin, "--output-format", "stream-json", "--skip-trust", NULL});
    bosun_argv_add2(&a, "--model", cli.model);
    bosun_argv_add2(&a, "--approval-mode", cli.permission_mode);
    bosun_argv_add2(&a, "--policy", policy);
    free(policy);
    if (resume_id)
        bosun_argv_add2(&a, "--resume", resume_id);
    else
        bosun_argv_add2(&a, "--session-id", run->session_id);
    bosun_argv_add_all(&a, cli.extra_args);
    /* One word: a prompt that starts with '-' is still the prompt. */
    char *p = NULL;
    if (asprintf(&p, "--prompt=%s", text) < 0)
        a.failed = true;
    else
        bosun_argv_add(&a, p);
    free(p);
    bosun_agent_cli_free(&cli);
    if (bosun_argv_take(&a, &out->argv) != 0)
        return fail(error, "out of memory");
    return 0;
}

int gemini_build_launch(void *state, const bosun_run_info *run, bosun_launch *out, char **error)
{
    return build(state, run, NULL, run->prompt, out, error);
}

/* The same session, with the answer (or the interrupted-turn text) as the
 * next user turn. */
int gemini_build_resume(void *state, const bosun_run_info *run, bosun_launch *out, char **error)
{
    if (!run->session_id)
        return fail(error, "no Gemini session to resume (none was started)");
    return build(state, run, run->session_id, run->resume_input, out, error);
}
