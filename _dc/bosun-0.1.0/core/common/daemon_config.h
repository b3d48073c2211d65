/* The "daemon:" section of bosun.yaml, and the checks of the top level. */
#ifndef BOSUN_DAEMON_CONFIG_H
#define BOSUN_DAEMON_CONFIG_H

#include <stdbool.h>
#include <bosun/approval.h>
#include <bosun/cfg.h>
#include <bosun/log.h>

#define DAEMON_DEFAULT_CONFIG    SYSCONFDIR "/bosun/bosun.yaml"
#define DAEMON_DEFAULT_STATE     LOCALSTATEDIR "/lib/bosun"
#define DAEMON_DEFAULT_RUNTIME   RUNSTATEDIR "/bosun"
#define DAEMON_SOCKET_NAME       "bosund.sock"
#define DAEMON_AGENT_SOCKET_NAME "agent.sock"
#define DAEMON_LOCK_NAME         "bosund.lock"
#define DAEMON_MACHINE_ID_MAX    64
/* daemon.control_buffer_max: default and smallest value, bytes.  The
 * smallest still holds one client's largest request and a full page of
 * output. */
#define DAEMON_CONTROL_BUFFER_DEFAULT (128ULL * 1024 * 1024)
#define DAEMON_CONTROL_BUFFER_MIN     (16ULL * 1024 * 1024)

typedef struct daemon_config {
    char *machine_id;
    char *state_dir;
    char *runtime_dir;
    enum log_level log_level;
    char **plugin_path; /* NULL-terminated */
    char **plugins;     /* NULL-terminated, load order */
    char *control_socket;
    unsigned control_socket_mode;
    char *control_socket_group;            /* NULL: the daemon's group */
    unsigned long long control_buffer_max; /* all control clients' buffers, bytes */
    char *agent_socket;                    /* what agents get as BOSUN_SOCKET */
    bool adopt_orphans;                    /* watch runs that survived a daemon crash */
    double agent_token_ttl;                /* seconds */
    char *mcp_command;                     /* what agents run as their bosun MCP server */
    bosun_approval_policy *approvals;      /* top-level approvals:, or NULL */
} daemon_config;

/* Reads the daemon section of root into out (zeroed first) and applies
 * defaults.  With check_sections, also refuses top-level sections that are
 * neither "daemon" nor a listed plugin.  Returns false with messages in d. */
bool daemon_config_parse(const cfg_node *root, bool check_sections, daemon_config *out,
                         cfg_diag *d);
void daemon_config_free(daemon_config *c);

/* The config file to use: -c argument, else $BOSUN_CONFIG, else the
 * installed default. */
const char *daemon_config_path(const char *arg);

/* Whether name is a valid plugin name: [A-Za-z0-9_-]+, at most 64 bytes,
 * or a path containing '/' to one module file. */
bool plugin_name_valid(const char *name);

#endif
