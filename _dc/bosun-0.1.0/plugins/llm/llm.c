/* llm — bosun's own coding agent as an agent type: `type: llm` agents run
 * bosun-llm, a tool loop against an OpenAI-compatible or Anthropic API
 * (bosun-llm(7)), supervised like any run.  The type pre-assigns the
 * session (a UUID): chat history, file versions and the default workspace
 * are keyed by it, so a restarted or resumed run continues them.
 *
 * Its own section, `llm:` at the top level, says where bosun-llm is:
 *   program   absolute path (default $(libexecdir)/bosun-llm) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm.h"

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/local/libexec"
#endif

static const char *const plugin_keys[] = {"program", NULL};

static bool llm_check(const cfg_node *config, cfg_diag *d)
{
    if (!cfg_check_keys(config, plugin_keys, d))
        return false;
    const char *program;
    if (!cfg_get_string(config, "program", NULL, &program, d))
        return false;
    if (program && program[0] != '/') {
        char path[256];
        const cfg_node *n = cfg_get(config, "program");
        return cfg_error(d, n, "'%s': must be an absolute path", cfg_path(n, path, sizeof path));
    }
    return true;
}

static bool llm_check_agent(void *state, const cfg_node *agent, cfg_diag *d)
{
    json_t *cfg = llm_config_json(agent, d);
    json_decref(cfg);
    return cfg != NULL;
}

/* A new run's UUID; a restarted run's own again (its history and files
 * are keyed by it). */
static int llm_assign_session(void *state, const bosun_run_info *run, char *buf, size_t size)
{
    llm_state *st = state;
    for (unsigned i = 0; i < LLM_RUNS_REMEMBERED; i++)
        if (strcmp(st->sessions[i].run, run->run_id) == 0 && st->sessions[i].session[0]) {
            snprintf(buf, size, "%s", st->sessions[i].session);
            return 0;
        }
    bosun_uuid_new(buf, size);
    llm_session_slot *slot = &st->sessions[st->next];
    st->next = (st->next + 1) % LLM_RUNS_REMEMBERED;
    snprintf(slot->run, sizeof slot->run, "%s", run->run_id);
    snprintf(slot->session, sizeof slot->session, "%s", buf);
    return 0;
}

static void state_free(llm_state *st)
{
    if (!st)
        return;
    free(st->program);
    free(st->state_dir);
    free(st);
}

static int llm_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    if (!llm_check(config, d))
        return -1;
    const char *program = NULL;
    cfg_get_string(config, "program", LIBEXECDIR "/bosun-llm", &program, d);
    llm_state *st = calloc(1, sizeof *st);
    if (st) {
        st->program = strdup(program);
        st->state_dir = strdup(ctx->state_dir);
    }
    if (!st || !st->program || !st->state_dir) {
        state_free(st);
        cfg_error(d, NULL, "llm: out of memory");
        return -1;
    }
    *state = st;
    return 0;
}

static int llm_reload(void *state, const cfg_node *config, cfg_diag *d)
{
    llm_state *st = state;
    if (!llm_check(config, d))
        return -1;
    const char *program = NULL;
    cfg_get_string(config, "program", LIBEXECDIR "/bosun-llm", &program, d);
    char *copy = strdup(program);
    if (!copy) {
        cfg_error(d, NULL, "llm: out of memory");
        return -1;
    }
    free(st->program);
    st->program = copy;
    return 0;
}

static int llm_start(void *state, cfg_diag *d)
{
    return 0;
}

static void llm_stop(void *state)
{
    state_free(state);
}

static const struct bosun_agent_ops llm_ops = {
    .abi = BOSUN_AGENT_ABI,
    .config_keys = llm_agent_keys,
    .check_agent = llm_check_agent,
    .build_launch = llm_build_launch,
    .parse_line = llm_parse_line,
    .build_resume = llm_build_resume,
    .classify_exit = llm_classify_exit,
    .assign_session = llm_assign_session,
};

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "llm",
    .kind = BOSUN_PLUGIN_AGENT,
    .description = "bosun's own coding agent: bosun-llm, a tool loop against OpenAI-compatible "
                   "and Anthropic APIs",
    .version = BOSUN_VERSION,
    .check = llm_check,
    .init = llm_init,
    .start = llm_start,
    .reload = llm_reload,
    .stop = llm_stop,
    .ops = &llm_ops,
};
