#include "config.h"

#include "daemon_config.h"
#include "util.h"

#include <bosun/bus.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const daemon_keys[] = {
    "machine_id",         "state_dir",           "runtime_dir",
    "log_level",          "plugin_path",         "plugins",
    "control_socket",     "control_socket_mode", "control_socket_group",
    "control_buffer_max", "agent_socket",        "adopt_orphans",
    "agent_token_ttl",    "mcp_command",         NULL};

/* systemd's /etc/machine-id is 32 hex digits, a valid subject token; fall
 * back to the host name with anything outside the token alphabet replaced. */
static char *default_machine_id(void)
{
    char buf[256] = "";
    FILE *f = fopen("/etc/machine-id", "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = '\0';
        fclose(f);
        buf[strcspn(buf, "\r\n")] = '\0';
    }
    if (!buf[0] && gethostname(buf, sizeof buf - 1) != 0)
        buf[0] = '\0';
    buf[DAEMON_MACHINE_ID_MAX] = '\0';
    for (char *p = buf; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            *p = '_';
    return xstrdup(buf[0] ? buf : "localhost");
}

static bool parse_machine_id(const cfg_node *sec, daemon_config *out, cfg_diag *d)
{
    const char *id = NULL;
    if (!cfg_get_string(sec, "machine_id", NULL, &id, d))
        return false;
    if (!id) {
        out->machine_id = default_machine_id();
        return true;
    }
    if (strlen(id) > DAEMON_MACHINE_ID_MAX || strchr(id, '.') || bus_subject_check(id) != 0)
        return cfg_error(d, cfg_get(sec, "machine_id"),
                         "'daemon.machine_id': '%s' is not a valid machine id (1 to %d of "
                         "A-Z a-z 0-9 _ -)",
                         id, DAEMON_MACHINE_ID_MAX);
    out->machine_id = xstrdup(id);
    return true;
}

static bool parse_dir(const cfg_node *sec, const char *key, const char *def, char **out,
                      cfg_diag *d)
{
    const char *v = NULL;
    if (!cfg_get_string(sec, key, def, &v, d))
        return false;
    if (!v || v[0] != '/')
        return cfg_error(d, cfg_get(sec, key), "'daemon.%s': must be an absolute path", key);
    *out = xstrdup(v);
    return true;
}

static bool parse_log_level(const cfg_node *sec, daemon_config *out, cfg_diag *d)
{
    const char *v = NULL;
    if (!cfg_get_string(sec, "log_level", "info", &v, d))
        return false;
    int level = log_level_parse(v);
    if (level < 0)
        return cfg_error(d, cfg_get(sec, "log_level"),
                         "'daemon.log_level': unknown level '%s' (error, warning, notice, info, "
                         "debug)",
                         v);
    out->log_level = (enum log_level)level;
    return true;
}

static bool parse_plugins(const cfg_node *sec, daemon_config *out, cfg_diag *d)
{
    const char **path = NULL, **names = NULL;
    bool ok = cfg_get_strlist(sec, "plugin_path", &path, d);
    ok = cfg_get_strlist(sec, "plugins", &names, d) && ok;
    const cfg_node *list = cfg_get(sec, "plugins");
    for (size_t i = 0; ok && names && names[i]; i++) {
        const cfg_node *item = list && list->type == CFG_SEQ ? list->items[i] : list;
        if (!plugin_name_valid(names[i]))
            ok = cfg_error(d, item, "'daemon.plugins': invalid plugin name '%s'", names[i]);
        for (size_t j = 0; ok && j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                ok = cfg_error(d, item, "'daemon.plugins': '%s' is listed twice", names[i]);
    }
    if (ok) {
        out->plugin_path = util_strv_dup(path);
        out->plugins = util_strv_dup(names);
    }
    free(path);
    free(names);
    return ok;
}

static bool parse_socket(const cfg_node *sec, daemon_config *out, cfg_diag *d)
{
    const char *sock = NULL, *mode = NULL, *group = NULL;
    bool ok = cfg_get_string(sec, "control_socket", NULL, &sock, d);
    ok = cfg_get_string(sec, "control_socket_mode", "0660", &mode, d) && ok;
    ok = cfg_get_string(sec, "control_socket_group", NULL, &group, d) && ok;
    const char *agent_sock = NULL;
    ok = cfg_get_string(sec, "agent_socket", NULL, &agent_sock, d) && ok;
    if (!ok)
        return false;
    if (agent_sock && agent_sock[0] != '/')
        return cfg_error(d, cfg_get(sec, "agent_socket"),
                         "'daemon.agent_socket': must be an absolute path");
    if (sock && sock[0] != '/')
        return cfg_error(d, cfg_get(sec, "control_socket"),
                         "'daemon.control_socket': must be an absolute path");
    char *end = NULL;
    unsigned long m = strtoul(mode, &end, 8);
    if (!*mode || *end || m > 0777)
        return cfg_error(d, cfg_get(sec, "control_socket_mode"),
                         "'daemon.control_socket_mode': '%s' is not an octal mode like 0660", mode);
    out->control_socket =
        sock ? xstrdup(sock) : xasprintf("%s/%s", out->runtime_dir, DAEMON_SOCKET_NAME);
    out->control_socket_mode = (unsigned)m;
    out->agent_socket = agent_sock ? xstrdup(agent_sock)
                                   : xasprintf("%s/%s", out->runtime_dir, DAEMON_AGENT_SOCKET_NAME);
    out->control_socket_group = group ? xstrdup(group) : NULL;
    return true;
}

static bool is_listed_plugin(const daemon_config *c, const char *key)
{
    for (size_t i = 0; c->plugins && c->plugins[i]; i++)
        if (strcmp(c->plugins[i], key) == 0)
            return true;
    return false;
}

static bool check_sections(const cfg_node *root, const daemon_config *c, cfg_diag *d)
{
    bool ok = true;
    for (size_t i = 0; i < root->n_items; i++) {
        const cfg_node *sec = root->items[i];
        if (strcmp(sec->key, "daemon") == 0 || strcmp(sec->key, "agents") == 0 ||
            strcmp(sec->key, "approvals") == 0 || strcmp(sec->key, "budget") == 0 ||
            strcmp(sec->key, "prices") == 0 || is_listed_plugin(c, sec->key))
            continue;
        /* Point at the key, not at the section's value. */
        cfg_node at = *sec;
        at.line = sec->key_line;
        at.col = sec->key_col;
        ok = cfg_error(d, &at,
                       "unknown section '%s': top-level keys are 'daemon', 'agents', "
                       "'approvals', 'budget', 'prices' and the names listed in daemon.plugins",
                       sec->key);
    }
    return ok;
}

bool daemon_config_parse(const cfg_node *root, bool check_secs, daemon_config *out, cfg_diag *d)
{
    memset(out, 0, sizeof *out);
    if (!root || root->type != CFG_MAP)
        return cfg_error(d, root, "top level must be a map");
    const cfg_node *sec = cfg_get(root, "daemon");
    if (sec && sec->type != CFG_MAP && sec->type != CFG_NULL)
        return cfg_error(d, sec, "'daemon': expected a map");
    bool ok = cfg_check_keys(sec, daemon_keys, d);
    ok = parse_machine_id(sec, out, d) && ok;
    const char *state_env = getenv("STATE_DIRECTORY");     /* set by systemd */
    const char *runtime_env = getenv("RUNTIME_DIRECTORY"); /* StateDirectory= etc. */
    ok = parse_dir(sec, "state_dir", state_env && *state_env ? state_env : DAEMON_DEFAULT_STATE,
                   &out->state_dir, d) &&
         ok;
    ok = parse_dir(sec, "runtime_dir",
                   runtime_env && *runtime_env ? runtime_env : DAEMON_DEFAULT_RUNTIME,
                   &out->runtime_dir, d) &&
         ok;
    ok = parse_log_level(sec, out, d) && ok;
    ok = parse_plugins(sec, out, d) && ok;
    ok = cfg_get_bool(sec, "adopt_orphans", false, &out->adopt_orphans, d) && ok;
    ok = cfg_get_size(sec, "control_buffer_max", DAEMON_CONTROL_BUFFER_DEFAULT,
                      DAEMON_CONTROL_BUFFER_MIN, SIZE_MAX / 2, &out->control_buffer_max, d) &&
         ok;
    ok = cfg_get_duration(sec, "agent_token_ttl", 86400, 1, 30 * 86400, &out->agent_token_ttl, d) &&
         ok;
    const char *mcp_command = NULL;
    ok = cfg_get_string(sec, "mcp_command", BINDIR "/bosun-mcp", &mcp_command, d) && ok;
    if (mcp_command && mcp_command[0] != '/')
        ok = cfg_error(d, cfg_get(sec, "mcp_command"),
                       "'daemon.mcp_command': must be an absolute "
                       "path");
    out->mcp_command = mcp_command ? xstrdup(mcp_command) : NULL;
    if (out->runtime_dir)
        ok = parse_socket(sec, out, d) && ok;
    if (ok && check_secs)
        ok = check_sections(root, out, d);
    ok = bosun_approval_policy_parse(cfg_get(root, "approvals"), &out->approvals, d) && ok;
    if (!ok)
        daemon_config_free(out);
    return ok;
}

void daemon_config_free(daemon_config *c)
{
    free(c->machine_id);
    free(c->state_dir);
    free(c->runtime_dir);
    util_strv_free(c->plugin_path);
    util_strv_free(c->plugins);
    free(c->control_socket);
    free(c->agent_socket);
    free(c->control_socket_group);
    free(c->mcp_command);
    bosun_approval_policy_free(c->approvals);
    memset(c, 0, sizeof *c);
}

const char *daemon_config_path(const char *arg)
{
    if (arg && *arg)
        return arg;
    const char *env = getenv("BOSUN_CONFIG");
    return env && *env ? env : DAEMON_DEFAULT_CONFIG;
}

bool plugin_name_valid(const char *name)
{
    if (!name || !*name)
        return false;
    if (strchr(name, '/'))
        return strlen(name) < 4096;
    size_t len = 0;
    for (const char *p = name; *p; p++, len++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-';
        if (!ok)
            return false;
    }
    return len <= 64;
}
