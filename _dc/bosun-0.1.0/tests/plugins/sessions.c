/* An agent type for the tests of agent sessions in the core: it runs the
 * agent's `command` (like exec), reads a line "SESSION <id>" as a session
 * event, and with `assign: true` pre-assigns a UUID before each new run.
 * Its resume is its launch with RESUMED=<why> added to the environment, so
 * a test sees how each process was started. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/bosun.h>
#include <bosun/agent_stream.h>

static const char *const keys[] = {"assign", NULL};

static int launch(void *state, const bosun_run_info *run, bosun_launch *out, char **error)
{
    const char **cmd = NULL;
    bosun_argv a = {0};
    if (cfg_get_strlist(run->config, "command", &cmd, NULL) && cmd)
        bosun_argv_add_all(&a, cmd);
    free(cmd);
    if (bosun_argv_take(&a, &out->argv) != 0) {
        *error = strdup("no command");
        return -1;
    }
    return 0;
}

static int resume(void *state, const bosun_run_info *run, bosun_launch *out, char **error)
{
    if (launch(state, run, out, error) != 0)
        return -1;
    out->env = calloc(2, sizeof *out->env);
    if (!out->env ||
        !(out->env[0] =
              strdup(run->resume_why == BOSUN_RESUME_CRASH ? "RESUMED=crash" : "RESUMED=answer"))) {
        *error = strdup("out of memory");
        return -1;
    }
    return 0;
}

static int parse(void *state, const bosun_run_info *run, enum bosun_stream stream, const char *line,
                 size_t len, json_t *events)
{
    if (len < 9 || strncmp(line, "SESSION ", 8) != 0)
        return 0;
    char id[256];
    snprintf(id, sizeof id, "%.*s", (int)(len - 8 < 255 ? len - 8 : 255), line + 8);
    return bosun_agent_ev_session(events, id) ? 1 : 0;
}

static int assign(void *state, const bosun_run_info *run, char *buf, size_t size)
{
    bool on = false;
    const cfg_node *n = cfg_get(run->config, "assign");
    if (!n || !cfg_as_bool(n, &on, NULL) || !on)
        return -1;
    bosun_uuid_new(buf, size);
    return 0;
}

static bool check(const cfg_node *c, cfg_diag *d)
{
    return true;
}

static int init(const bosun_ctx *ctx, const cfg_node *c, cfg_diag *d, void **state)
{
    *state = NULL;
    return 0;
}

static int start(void *state, cfg_diag *d)
{
    return 0;
}

static void stop(void *state)
{
}

static const struct bosun_agent_ops ops = {
    .abi = BOSUN_AGENT_ABI,
    .config_keys = keys,
    .build_launch = launch,
    .parse_line = parse,
    .build_resume = resume,
    .assign_session = assign,
};

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "sessions",
    .kind = BOSUN_PLUGIN_AGENT,
    .description = "test agent type: sessions from SESSION lines, optionally pre-assigned",
    .version = BOSUN_VERSION,
    .check = check,
    .init = init,
    .start = start,
    .stop = stop,
    .ops = &ops,
};
