/* The "agents:" section of bosun.yaml: one map per agent name with the
 * settings supervisord admins know, plus keys of the agent's type. */
#ifndef BOSUN_AGENT_CONFIG_H
#define BOSUN_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <bosun/agent.h>
#include <bosun/approval.h>
#include <bosun/cfg.h>
#include "git_config.h"
#include "spend_limit.h"
#include <jansson.h>

#define AGENT_NAME_MAX 64
/* line_max of an agent whose type parses its lines, unless it sets one. */
#define AGENT_PARSED_LINE_MAX (4u << 20)

enum restart_policy {
    RESTART_NEVER,
    RESTART_ON_FAILURE,
    RESTART_ALWAYS,
};

/* When a run's agent session is carried on instead of started afresh
 * (`resume:`).  Each includes the ones before it except never. */
enum resume_policy {
    RESUME_NEVER,     /* answers are recorded, no run is resumed */
    RESUME_ON_ANSWER, /* an answered input request resumes the run (the default) */
    RESUME_ON_CRASH,  /* and a run that died is restarted into its session */
    RESUME_ALWAYS,    /* and every restart of a run resumes its session */
};

/* How the run's agent reaches bosun's MCP server (`mcp_transport:`):
 * auto is HTTP when the http plugin serves /mcp on a plain loopback
 * listener, else stdio; http without one is a start error.  Only the
 * types that read mcp_http_config (claude-code) use HTTP. */
enum mcp_transport {
    MCP_TRANSPORT_AUTO,
    MCP_TRANSPORT_STDIO,
    MCP_TRANSPORT_HTTP,
};

typedef struct agent_config {
    char *name;
    char *type;
    const struct bosun_agent_ops *ops; /* the type's table */
    void *type_state;                  /* the type plugin's state */
    const cfg_node *node;              /* this agent's section, in the tree in force */
    char **command;                    /* NULL-terminated, or NULL */
    char *workdir;
    char **env; /* "NAME=value", NULL-terminated */
    char *user;
    char *group;
    /* user and group resolved once, when the configuration is loaded (and
     * at each reload), so that no spawn or file write waits on the name
     * service: valid when user is set. */
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* the user's supplementary groups */
    size_t n_groups;
    bool autostart;
    enum restart_policy restart;
    enum resume_policy resume;
    enum mcp_transport mcp_transport;
    double start_secs;
    long long max_restarts; /* -1: never give up */
    double restart_reset;
    double backoff_base;
    double backoff_max;
    int stop_signal;
    double stop_timeout;
    bool kill_process_only; /* kill_mode: process (leave the group's others) */
    unsigned instances;
    unsigned long long log_max_bytes;
    unsigned log_keep;
    size_t line_max;
    bosun_approval_policy *approvals; /* approvals:, or NULL */
    spend_limits budget;              /* budget: (0: no limit) */
    worktree_config *worktree;        /* worktree:, or NULL */
    changes_config changes;           /* changes: */
} agent_config;

/* Finds a loaded agent-type plugin by name: its ops and state, or NULL. */
typedef const struct bosun_agent_ops *(*agent_type_lookup)(const char *type, void **state,
                                                           void *arg);

/* Parses the whole section (NULL or null: no agents).  Returns false with
 * messages in d; on success *out is a NULL-terminated array. */
bool agent_config_parse(const cfg_node *section, agent_type_lookup lookup, void *lookup_arg,
                        agent_config ***out, cfg_diag *d);
void agent_config_free(agent_config *a);
void agent_config_free_all(agent_config **list);

/* Whether a change between a and b needs running processes restarted: any
 * key other than the supervision policy (restart, back-off, stop, logs,
 * autostart, instances) differs. */
bool agent_config_launch_changed(const agent_config *a, const agent_config *b);

/* The agent's settings as JSON for events, with environment values whose
 * names look secret (TOKEN, KEY, PASSWORD, ...) redacted. */
json_t *agent_config_to_json(const agent_config *a);

#endif
