/* The agent keys every coding-CLI agent type takes, argv building, bosun's
 * MCP server for the CLIs with their own MCP format, and session ids
 * (<bosun/agent_stream.h>). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include <bosun/agent_stream.h>

/* Values that reach a command line: bounded, and never an option in
 * disguise where a value is expected. */
#define CLI_VALUE_MAX (64 * 1024)
#define CLI_LIST_MAX  256

static bool check_value(const cfg_node *agent, const char *key, const char *v, bool may_dash,
                        cfg_diag *d)
{
    char path[256];
    const cfg_node *n = cfg_get(agent, key);
    if (!v[0])
        return cfg_error(d, n, "'%s': must not be empty", cfg_path(n, path, sizeof path));
    if (strlen(v) > CLI_VALUE_MAX)
        return cfg_error(d, n, "'%s': longer than %d bytes", cfg_path(n, path, sizeof path),
                         CLI_VALUE_MAX);
    if (!may_dash && v[0] == '-')
        return cfg_error(d, n, "'%s': '%s' must not start with '-'", cfg_path(n, path, sizeof path),
                         v);
    return true;
}

static bool get_value(const cfg_node *agent, const char *key, const char **out, cfg_diag *d)
{
    *out = NULL;
    if (!cfg_get_string(agent, key, NULL, out, d))
        return false;
    return !*out || check_value(agent, key, *out, strcmp(key, "append_system_prompt") == 0, d);
}

static bool get_list(const cfg_node *agent, const char *key, bool may_dash, const char ***out,
                     cfg_diag *d)
{
    *out = NULL;
    if (!cfg_get_strlist(agent, key, out, d))
        return false;
    size_t n = 0;
    bool ok = true;
    for (; *out && (*out)[n]; n++)
        ok = ok && check_value(agent, key, (*out)[n], may_dash, d);
    char path[256];
    if (ok && n > CLI_LIST_MAX)
        ok = cfg_error(d, cfg_get(agent, key), "'%s': more than %d items",
                       cfg_path(cfg_get(agent, key), path, sizeof path), CLI_LIST_MAX);
    if (!ok) {
        free(*out);
        *out = NULL;
    }
    return ok;
}

static bool check_mode(const cfg_node *agent, const char *mode, const char *const *modes,
                       cfg_diag *d)
{
    if (!mode || !modes)
        return true;
    for (size_t i = 0; modes[i]; i++)
        if (strcmp(modes[i], mode) == 0)
            return true;
    char path[256], list[512] = "";
    for (size_t i = 0; modes[i]; i++) {
        if (i)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, modes[i], sizeof list - strlen(list) - 1);
    }
    const cfg_node *n = cfg_get(agent, "permission_mode");
    return cfg_error(d, n, "'%s': '%s' is not one of %s", cfg_path(n, path, sizeof path), mode,
                     list);
}

bool bosun_agent_cli_parse(const cfg_node *agent, const char *default_bin,
                           const char *const *permission_modes, bosun_agent_cli *out, cfg_diag *d)
{
    memset(out, 0, sizeof *out);
    const char *bin;
    bool ok = get_value(agent, "bin", &bin, d);
    ok = get_value(agent, "model", &out->model, d) && ok;
    ok = get_value(agent, "permission_mode", &out->permission_mode, d) && ok;
    ok = get_value(agent, "append_system_prompt", &out->append_system_prompt, d) && ok;
    ok = cfg_get_int(agent, "max_turns", 0, 0, 100000, &out->max_turns, d) && ok;
    ok = ok && check_mode(agent, out->permission_mode, permission_modes, d);
    ok = get_list(agent, "allowed_tools", false, &out->allowed_tools, d) && ok;
    ok = get_list(agent, "disallowed_tools", false, &out->disallowed_tools, d) && ok;
    /* extra_args are the admin's own flags: they may (must) start with '-'. */
    ok = get_list(agent, "extra_args", true, &out->extra_args, d) && ok;
    out->bin = bin ? bin : default_bin;
    if (!ok)
        bosun_agent_cli_free(out);
    return ok;
}

void bosun_agent_cli_free(bosun_agent_cli *c)
{
    free(c->allowed_tools);
    free(c->disallowed_tools);
    free(c->extra_args);
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- argv */

void bosun_argv_add(bosun_argv *a, const char *s)
{
    if (a->failed)
        return;
    if (a->n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        char **v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            a->failed = true;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    char *copy = strdup(s);
    if (!copy) {
        a->failed = true;
        return;
    }
    a->v[a->n++] = copy;
    a->v[a->n] = NULL;
}

void bosun_argv_add2(bosun_argv *a, const char *flag, const char *value)
{
    if (!value)
        return;
    bosun_argv_add(a, flag);
    bosun_argv_add(a, value);
}

void bosun_argv_add_all(bosun_argv *a, const char *const *list)
{
    for (size_t i = 0; list && list[i]; i++)
        bosun_argv_add(a, list[i]);
}

int bosun_argv_take(bosun_argv *a, char ***out)
{
    *out = NULL;
    if (a->failed || !a->v) {
        for (size_t i = 0; i < a->n; i++)
            free(a->v[i]);
        free(a->v);
        memset(a, 0, sizeof *a);
        return -1;
    }
    *out = a->v;
    memset(a, 0, sizeof *a);
    return 0;
}

/* ---------------------------------------------------------------- MCP */

/* The file is the daemon's own, written a moment before: the bound only
 * keeps a damaged one from costing memory. */
#define MCP_FILE_MAX (64 * 1024)

static json_t *mcp_fail(char **error, const char *why, json_t *root)
{
    json_decref(root);
    *error = strdup(why);
    return NULL;
}

static bool all_strings(const json_t *args)
{
    size_t i;
    json_t *v;
    json_array_foreach(args, i, v) if (!json_is_string(v)) return false;
    return true;
}

static bool string_values(const json_t *env)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)env, k, v) if (!json_is_string(v)) return false;
    return true;
}

json_t *bosun_agent_mcp_server(const bosun_run_info *run, char **error)
{
    if (!run->mcp_config)
        return mcp_fail(error, "the run has no MCP configuration", NULL);
    FILE *f = fopen(run->mcp_config, "re");
    if (!f)
        return mcp_fail(error, "cannot open the run's MCP configuration", NULL);
    char *buf = malloc(MCP_FILE_MAX);
    size_t n = buf ? fread(buf, 1, MCP_FILE_MAX, f) : 0;
    bool whole = buf && feof(f) && !ferror(f);
    fclose(f);
    json_t *root = whole ? json_loadb(buf, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(buf);
    json_t *srv = json_object_get(json_object_get(root, "mcpServers"), "bosun");
    json_t *args = json_object_get(srv, "args"), *env = json_object_get(srv, "env");
    if (!json_is_string(json_object_get(srv, "command")) || !json_is_array(args) ||
        !all_strings(args) || !json_is_object(env) || !string_values(env))
        return mcp_fail(error, "the run's MCP configuration has no valid bosun server", root);
    json_incref(srv);
    json_decref(root);
    return srv;
}

/* ---------------------------------------------------------------- sessions */

void bosun_uuid_new(char *out, size_t size)
{
    uuid_t u;
    char text[37];
    uuid_generate_random(u);
    uuid_unparse_lower(u, text);
    snprintf(out, size, "%s", text);
}

bool bosun_session_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > BOSUN_SESSION_ID_MAX || id[0] == '-')
        return false;
    return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:") == n;
}
