#include "config.h"

#include "agent_config.h"
#include "proc_spawn.h"
#include "util.h"

#include <bosun/bus.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Keys every agent may have, whatever its type. */
/* clang-format off */
static const char *const common_keys[] = {"type",          "command",
                                          "workdir",       "env",
                                          "user",          "group",
                                          "autostart",     "restart",
                                          "start_secs",    "max_restarts",
                                          "restart_reset", "backoff_base",
                                          "backoff_max",   "stop_signal",
                                          "stop_timeout",  "instances",
                                          "log_max_bytes", "log_keep",
                                          "line_max",      "kill_mode",
                                          "resume",        "approvals",
                                          "budget",        "worktree",
                                          "changes",       "mcp_transport",
                                          NULL};

/* Keys whose change does not need the process restarted. */
static const char *const policy_keys[] = {
    "autostart",     "restart",      "start_secs",    "max_restarts",
    "restart_reset", "backoff_base", "backoff_max",   "stop_signal",
    "stop_timeout",  "instances",    "log_max_bytes", "log_keep",
    "line_max",      "kill_mode",    "resume",        "approvals",
    "budget",        NULL};

/* clang-format on */

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static bool valid_agent_name(const char *name)
{
    return strlen(name) <= AGENT_NAME_MAX && !strchr(name, '.') && bus_subject_check(name) == 0;
}

static bool check_all_keys(const cfg_node *node, const agent_config *a, cfg_diag *d)
{
    bool ok = true;
    const char *const *type_keys = a->ops ? a->ops->config_keys : NULL;
    char path[256];
    for (size_t i = 0; i < node->n_items; i++) {
        const cfg_node *k = node->items[i];
        if (in_list(common_keys, k->key) || in_list(type_keys, k->key))
            continue;
        cfg_node at = *k;
        at.line = k->key_line;
        at.col = k->key_col;
        ok = cfg_error(d, &at, "unknown key '%s' in '%s' (agent type '%s')", k->key,
                       cfg_path(node, path, sizeof path), a->type);
    }
    return ok;
}

static bool parse_env(const cfg_node *node, agent_config *a, cfg_diag *d)
{
    const cfg_node *env = cfg_get(node, "env");
    a->env = xcalloc(1, sizeof *a->env);
    if (!env || env->type == CFG_NULL)
        return true;
    char path[256];
    if (env->type != CFG_MAP)
        return cfg_error(d, env, "'%s': expected a map of NAME: value",
                         cfg_path(env, path, sizeof path));
    a->env = xrealloc(a->env, (env->n_items + 1) * sizeof *a->env);
    size_t n = 0;
    bool ok = true;
    for (size_t i = 0; i < env->n_items; i++) {
        const cfg_node *v = env->items[i];
        bool name_ok = v->key[0] && !strchr(v->key, '=');
        if (!name_ok || v->type == CFG_MAP || v->type == CFG_SEQ) {
            ok = cfg_error(d, v, "'%s': environment values must be scalars with a name without '='",
                           cfg_path(v, path, sizeof path));
            continue;
        }
        a->env[n++] = xasprintf("%s=%s", v->key, v->type == CFG_SCALAR ? v->value : "");
    }
    a->env[n] = NULL;
    return ok;
}

static bool parse_restart(const cfg_node *node, agent_config *a, cfg_diag *d)
{
    const char *v;
    if (!cfg_get_string(node, "restart", "on-failure", &v, d))
        return false;
    if (strcmp(v, "never") == 0)
        a->restart = RESTART_NEVER;
    else if (strcmp(v, "on-failure") == 0)
        a->restart = RESTART_ON_FAILURE;
    else if (strcmp(v, "always") == 0)
        a->restart = RESTART_ALWAYS;
    else {
        char path[256];
        return cfg_error(d, cfg_get(node, "restart"),
                         "'%s': '%s' is not one of never, on-failure, always",
                         cfg_path(cfg_get(node, "restart"), path, sizeof path), v);
    }
    return true;
}

/* A key whose value is one of names (NULL-terminated; the first is the
 * default): its index in *out, or an error listing them. */
static bool parse_choice(const cfg_node *node, const char *key, const char *const *names, int *out,
                         cfg_diag *d)
{
    const char *v;
    if (!cfg_get_string(node, key, names[0], &v, d))
        return false;
    char list[128] = "";
    for (int i = 0; names[i]; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return true;
        }
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", names[i]);
    }
    char path[256];
    return cfg_error(d, cfg_get(node, key), "'%s': '%s' is not one of %s",
                     cfg_path(cfg_get(node, key), path, sizeof path), v, list);
}

static bool parse_resume(const cfg_node *node, agent_config *a, cfg_diag *d)
{
    static const char *const names[] = {"on-answer", "never", "on-crash", "always", NULL};
    static const enum resume_policy values[] = {RESUME_ON_ANSWER, RESUME_NEVER, RESUME_ON_CRASH,
                                                RESUME_ALWAYS};
    int i;
    if (!parse_choice(node, "resume", names, &i, d))
        return false;
    a->resume = values[i];
    return true;
}

static bool parse_mcp_transport(const cfg_node *node, agent_config *a, cfg_diag *d)
{
    static const char *const names[] = {"auto", "stdio", "http", NULL};
    int i;
    if (!parse_choice(node, "mcp_transport", names, &i, d))
        return false;
    a->mcp_transport = (enum mcp_transport)i;
    return true;
}

static bool parse_max_restarts(const cfg_node *node, agent_config *a, cfg_diag *d)
{
    const cfg_node *v = cfg_get(node, "max_restarts");
    if (v && v->type == CFG_SCALAR && strcmp(v->value, "unlimited") == 0) {
        a->max_restarts = -1;
        return true;
    }
    return cfg_get_int(node, "max_restarts", 5, -1, 1000000, &a->max_restarts, d);
}

static bool parse_strings(const cfg_node *node, agent_config *a, cfg_diag *d)
{
    const char *type, *workdir, *user, *group, *sig, *kill_mode;
    bool ok = cfg_get_string(node, "type", "exec", &type, d);
    ok = cfg_get_string(node, "workdir", NULL, &workdir, d) && ok;
    ok = cfg_get_string(node, "user", NULL, &user, d) && ok;
    ok = cfg_get_string(node, "group", NULL, &group, d) && ok;
    ok = cfg_get_string(node, "stop_signal", "TERM", &sig, d) && ok;
    ok = cfg_get_string(node, "kill_mode", "group", &kill_mode, d) && ok;
    if (!ok)
        return false;
    char path[256];
    a->type = xstrdup(type);
    a->workdir = workdir ? xstrdup(workdir) : NULL;
    a->user = user ? xstrdup(user) : NULL;
    a->group = group ? xstrdup(group) : NULL;
    if (workdir && workdir[0] != '/')
        ok = cfg_error(d, cfg_get(node, "workdir"), "'%s': must be an absolute path",
                       cfg_path(cfg_get(node, "workdir"), path, sizeof path));
    if (group && !user)
        ok = cfg_error(d, cfg_get(node, "group"), "'%s': needs 'user' as well",
                       cfg_path(cfg_get(node, "group"), path, sizeof path));
    a->kill_process_only = strcmp(kill_mode, "process") == 0;
    if (!a->kill_process_only && strcmp(kill_mode, "group") != 0)
        ok = cfg_error(d, cfg_get(node, "kill_mode"), "'%s': '%s' is not one of group, process",
                       cfg_path(cfg_get(node, "kill_mode"), path, sizeof path), kill_mode);
    a->stop_signal = signal_from_name(sig);
    if (a->stop_signal < 0)
        ok = cfg_error(d, cfg_get(node, "stop_signal"),
                       "'%s': unknown signal '%s' (TERM, INT, HUP, QUIT, KILL, USR1, USR2)",
                       cfg_path(cfg_get(node, "stop_signal"), path, sizeof path), sig);
    return ok;
}

static bool parse_numbers(const cfg_node *node, agent_config *a, cfg_diag *d)
{
    long long instances, keep;
    unsigned long long line_max;
    bool ok = cfg_get_bool(node, "autostart", false, &a->autostart, d);
    ok = parse_restart(node, a, d) && ok;
    ok = parse_resume(node, a, d) && ok;
    ok = parse_mcp_transport(node, a, d) && ok;
    ok = cfg_get_duration(node, "start_secs", 1, 0, 3600, &a->start_secs, d) && ok;
    ok = parse_max_restarts(node, a, d) && ok;
    ok = cfg_get_duration(node, "restart_reset", 60, 0, 86400, &a->restart_reset, d) && ok;
    ok = cfg_get_duration(node, "backoff_base", 1, 0, 3600, &a->backoff_base, d) && ok;
    ok = cfg_get_duration(node, "backoff_max", 60, 0, 86400, &a->backoff_max, d) && ok;
    ok = cfg_get_duration(node, "stop_timeout", 10, 0, 3600, &a->stop_timeout, d) && ok;
    ok = cfg_get_int(node, "instances", 1, 1, 10000, &instances, d) && ok;
    ok = cfg_get_size(node, "log_max_bytes", 10ull << 20, 4096, 1ull << 40, &a->log_max_bytes, d) &&
         ok;
    ok = cfg_get_int(node, "log_keep", 5, 0, 1000, &keep, d) && ok;
    ok = cfg_get_size(node, "line_max", 64 << 10, 256, 16 << 20, &line_max, d) && ok;
    ok = spend_limits_parse(node, true, &a->budget, d) && ok;
    a->instances = (unsigned)instances;
    a->log_keep = (unsigned)keep;
    a->line_max = (size_t)line_max;
    return ok;
}

static bool parse_user(const cfg_node *node, agent_config *a, cfg_diag *d)
{
    if (!a->user)
        return true;
    char path[256];
    if (geteuid() != 0)
        return cfg_error(d, cfg_get(node, "user"),
                         "'%s': running agents as another user needs bosund to run as root",
                         cfg_path(cfg_get(node, "user"), path, sizeof path));
    char err[256];
    int rc = spawn_resolve_user(a->user, a->group, &a->uid, &a->gid, &a->groups, &a->n_groups, err,
                                sizeof err);
    if (rc != 0)
        return cfg_error(d, cfg_get(node, a->group && strstr(err, "group") ? "group" : "user"),
                         "'%s': %s", cfg_path(node, path, sizeof path), err);
    return true;
}

static agent_config *parse_one(const cfg_node *node, agent_type_lookup lookup, void *arg,
                               cfg_diag *d)
{
    char path[256];
    if (!valid_agent_name(node->key)) {
        cfg_node at = *node;
        at.line = node->key_line;
        at.col = node->key_col;
        cfg_error(d, &at, "agent name '%s' is not valid (1 to %d of A-Z a-z 0-9 _ -)", node->key,
                  AGENT_NAME_MAX);
        return NULL;
    }
    if (node->type != CFG_MAP) {
        cfg_error(d, node, "'%s': expected a map of settings", cfg_path(node, path, sizeof path));
        return NULL;
    }
    agent_config *a = xcalloc(1, sizeof *a);
    a->name = xstrdup(node->key);
    a->node = node;
    bool ok = parse_strings(node, a, d);
    const char **command = NULL;
    ok = cfg_get_strlist(node, "command", &command, d) && ok;
    a->command = command ? util_strv_dup(command) : NULL;
    free(command);
    ok = parse_env(node, a, d) && ok;
    ok = parse_numbers(node, a, d) && ok;
    ok = bosun_approval_policy_parse(cfg_get(node, "approvals"), &a->approvals, d) && ok;
    ok = worktree_config_parse(node, &a->worktree, d) && ok;
    ok = changes_config_parse(node, &a->changes, d) && ok;
    if (ok) {
        a->ops = lookup(a->type, &a->type_state, arg);
        if (!a->ops)
            ok = cfg_error(d, cfg_get(node, "type") ? cfg_get(node, "type") : node,
                           "'%s': agent type '%s' is not loaded (list a plugin of kind agent "
                           "named '%s' in daemon.plugins)",
                           cfg_path(node, path, sizeof path), a->type, a->type);
    }
    /* A type that reads structured lines needs them whole: one JSON line
     * holds a tool's whole result (a file read, a command's output). */
    if (ok && a->ops->parse_line && !cfg_get(node, "line_max"))
        a->line_max = AGENT_PARSED_LINE_MAX;
    ok = ok && check_all_keys(node, a, d);
    ok = ok && parse_user(node, a, d);
    if (ok && a->ops->check_agent)
        ok = a->ops->check_agent(a->type_state, node, d);
    if (!ok) {
        agent_config_free(a);
        return NULL;
    }
    return a;
}

bool agent_config_parse(const cfg_node *section, agent_type_lookup lookup, void *lookup_arg,
                        agent_config ***out, cfg_diag *d)
{
    *out = NULL;
    if (!section || section->type == CFG_NULL) {
        *out = xcalloc(1, sizeof **out);
        return true;
    }
    if (section->type != CFG_MAP)
        return cfg_error(d, section, "'agents': expected a map of agent name to settings");
    agent_config **list = xcalloc(section->n_items + 1, sizeof *list);
    size_t n = 0;
    bool ok = true;
    for (size_t i = 0; i < section->n_items; i++) {
        agent_config *a = parse_one(section->items[i], lookup, lookup_arg, d);
        if (a)
            list[n++] = a;
        else
            ok = false;
    }
    *out = list;
    if (!ok) {
        agent_config_free_all(list);
        *out = NULL;
    }
    return ok;
}

void agent_config_free(agent_config *a)
{
    if (!a)
        return;
    bosun_approval_policy_free(a->approvals);
    worktree_config_free(a->worktree);
    free(a->name);
    free(a->type);
    util_strv_free(a->command);
    free(a->workdir);
    util_strv_free(a->env);
    free(a->user);
    free(a->group);
    free(a->groups);
    free(a);
}

void agent_config_free_all(agent_config **list)
{
    for (size_t i = 0; list && list[i]; i++)
        agent_config_free(list[i]);
    free(list);
}

/* Compares the two sections key by key, skipping policy keys; a key present
 * on one side only is a change. */
static bool launch_subset_equal(const cfg_node *a, const cfg_node *b)
{
    for (size_t i = 0; i < a->n_items; i++) {
        const cfg_node *x = a->items[i];
        if (in_list(policy_keys, x->key))
            continue;
        const cfg_node *y = cfg_get(b, x->key);
        if (!y || !cfg_equal(x, y))
            return false;
    }
    return true;
}

bool agent_config_launch_changed(const agent_config *a, const agent_config *b)
{
    return !launch_subset_equal(a->node, b->node) || !launch_subset_equal(b->node, a->node);
}

/* Environment values whose names suggest a secret never leave the daemon. */
static bool looks_secret(const char *name)
{
    static const char *const words[] = {"TOKEN", "SECRET",     "PASSWORD", "PASSWD",
                                        "KEY",   "CREDENTIAL", "AUTH",     NULL};
    for (size_t i = 0; words[i]; i++) {
        const char *w = words[i];
        for (const char *p = name; *p; p++) {
            size_t k = 0;
            while (w[k] && p[k] && (p[k] & ~0x20) == w[k])
                k++;
            if (!w[k])
                return true;
        }
    }
    return false;
}

static json_t *node_to_json(const cfg_node *n, bool in_env)
{
    switch (n->type) {
    case CFG_NULL:
        return json_null();
    case CFG_SCALAR:
        return json_string(in_env && n->key && looks_secret(n->key) ? "(redacted)" : n->value);
    case CFG_SEQ: {
        json_t *a = json_array();
        for (size_t i = 0; i < n->n_items; i++)
            json_array_append_new(a, node_to_json(n->items[i], false));
        return a;
    }
    case CFG_MAP: {
        json_t *o = json_object();
        for (size_t i = 0; i < n->n_items; i++) {
            const cfg_node *c = n->items[i];
            bool env = n->parent && n->key && strcmp(n->key, "env") == 0;
            json_object_set_new(o, c->key, node_to_json(c, env));
        }
        return o;
    }
    }
    return json_null();
}

json_t *agent_config_to_json(const agent_config *a)
{
    return a->node ? node_to_json(a->node, false) : json_object();
}
