/* bosun — approval policy: which tool calls an agent may make unasked.
 *
 * Rules are written the way Claude Code writes its permission rules:
 *
 *   Read                 every call of the tool Read
 *   mcp__github__*       a glob over the tool name ('*' any run of bytes)
 *   mcp__github          every tool of that MCP server (mcp__github__...)
 *   Bash(git status:*)   Bash whose command starts with "git status"
 *   Bash(rm -rf *)       Bash whose command matches the glob
 *   Edit(**.c)           Edit whose file matches the path glob ('**' crosses
 *                        '/', '*' does not); a relative glob matches the
 *                        path's tail after any '/'
 *   WebFetch(domain:example.com)  WebFetch of a URL on that host
 *   =Bash(rm -rf *)      exactly this call: the tool named Bash (compared
 *                        byte for byte) whose command is "rm -rf *", no
 *                        wildcard; "=Read" every call of the tool named
 *                        Read and of no other.  "--always" makes these.
 *
 * The text in parentheses is matched against the tool's primary argument:
 * Bash: command; Read, Write, Edit, MultiEdit: file_path; NotebookEdit:
 * notebook_path; Glob, Grep, LS: path; WebFetch: url; WebSearch: query;
 * any other tool: the first string of command, file_path, path, url,
 * query.  A call without that argument is not matched by a rule with
 * parentheses.
 *
 * A policy has three lists and a default.  Evaluation of one call against
 * a policy set (sticky rules of the agent+task, the agent's policy, the
 * global policy): a deny rule of any of them wins; then a sticky allow
 * (a human said "always" for this agent+task, which must outlast an ask
 * rule or it would never stick); then an ask rule of any; then an allow
 * rule of any; else the agent's default if it set one, else the global
 * default, else ask.
 *
 * Pure: no I/O, no globals; single-threaded use per policy. */
#ifndef BOSUN_APPROVAL_H
#define BOSUN_APPROVAL_H

#include <bosun/api.h>
#include <bosun/cfg.h>

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bus requests served by bosund (bosun-bus(7)).
 *   cmd.approval.check    {"agent", "task"?, "tool", "input"?} ->
 *                         {"decision", "rule": pattern|null, "source"};
 *                         evaluation only.  Agent "claude-code:attached" (or
 *                         any name not configured) gets the global policy.
 *   cmd.approval.request  the approve MCP tool's path; a pending request
 *                         when the policy says ask, reply held until decided.
 *   cmd.approval.list     pending (and recent) requests.
 *   cmd.approval.answer   {"id", "decision": allow|deny, "always"?, "message"?}
 *   cmd.approval.policy   {"agent", "task"?} -> {"generation", "global",
 *                         "agent", "sticky"}: the policies a call of that
 *                         agent+task is evaluated against (each a policy's
 *                         JSON or null), and the generation they are of.
 *   cmd.approval.record   {"agent", "task"?, "run"?, "tool", "input"?,
 *                         "decision", "generation"}: a decision an agent
 *                         made itself from those policies; recorded as
 *                         evt.approval.<id>.decided ("stale" when the
 *                         generation is not the current one).
 * Events: evt.approval.<id>.requested | decided (with decided_by);
 * evt.approval.policy.changed {"generation"} whenever any policy changes
 * (a reload, a sticky rule), published before the change is answered. */
#define BOSUN_APPROVAL_CHECK   "cmd.approval.check"
#define BOSUN_APPROVAL_REQUEST "cmd.approval.request"
#define BOSUN_APPROVAL_LIST    "cmd.approval.list"
#define BOSUN_APPROVAL_ANSWER  "cmd.approval.answer"
#define BOSUN_APPROVAL_POLICY  "cmd.approval.policy"
#define BOSUN_APPROVAL_RECORD  "cmd.approval.record"
#define BOSUN_APPROVAL_CHANGED "evt.approval.policy.changed"
/* The agent name of hand-started Claude sessions (bosunctl hook). */
#define BOSUN_APPROVAL_ATTACHED "claude-code:attached"

/* A rule's text is at most this long (bytes). */
#define BOSUN_APPROVAL_RULE_MAX 1024
/* At most this many rules in one list. */
#define BOSUN_APPROVAL_RULES_MAX 1000
/* timeout: default and bounds, seconds. */
#define BOSUN_APPROVAL_TIMEOUT_DEFAULT 600.0
#define BOSUN_APPROVAL_TIMEOUT_MAX     (7.0 * 86400)

enum bosun_approval_decision {
    BOSUN_APPROVAL_ASK,
    BOSUN_APPROVAL_ALLOW,
    BOSUN_APPROVAL_DENY,
};

/* Which part of a policy set decided. */
enum bosun_approval_source {
    BOSUN_APPROVAL_FROM_DEFAULT,
    BOSUN_APPROVAL_FROM_GLOBAL,
    BOSUN_APPROVAL_FROM_AGENT,
    BOSUN_APPROVAL_FROM_STICKY,
};

typedef struct bosun_approval_policy bosun_approval_policy;

/* "ask", "allow", "deny"; "agent", "global", "sticky", "default". */
BOSUN_API const char *bosun_approval_decision_name(enum bosun_approval_decision d);
BOSUN_API const char *bosun_approval_source_name(enum bosun_approval_source s);
/* The decision named by text ("ask", "allow", "deny"); false if none. */
BOSUN_API bool bosun_approval_decision_parse(const char *text, enum bosun_approval_decision *out);

/* Checks one rule's text.  Returns true, or false with a reason in err. */
BOSUN_API bool bosun_approval_rule_check(const char *rule, char *err, size_t err_size);
/* Whether one rule matches a call of tool with input (an object or NULL). */
BOSUN_API bool bosun_approval_rule_match(const char *rule, const char *tool, const json_t *input);

/* The exact-call rule of one call ("=TOOL(ARG)" with the call's primary
 * argument, "=TOOL" when it has none), malloc'd; NULL when none can say it
 * (no tool, a tool name with bytes other than A-Z a-z 0-9 _ - ., a rule
 * longer than BOSUN_APPROVAL_RULE_MAX, a control byte other than tab, CR,
 * LF in the argument). */
BOSUN_API char *bosun_approval_exact_rule(const char *tool, const json_t *input);
/* The argument of a tool's input a rule's specifier is matched against
 * ("command" for Bash, "file_path" for Read...) and whether it is a path;
 * NULL for a tool not in the list above. */
BOSUN_API const char *bosun_approval_tool_arg(const char *tool, bool *paths);

/* An empty policy: no rules, no default of its own, timeout 10 minutes,
 * on_timeout deny. */
BOSUN_API bosun_approval_policy *bosun_approval_policy_new(void);
BOSUN_API void bosun_approval_policy_free(bosun_approval_policy *p);
/* Adds a rule to the list of decision d.  Returns true, or false with a
 * reason in err (bad rule, list full). */
BOSUN_API bool bosun_approval_policy_add(bosun_approval_policy *p, enum bosun_approval_decision d,
                                         const char *rule, char *err, size_t err_size);
/* The policy's own default (has_default false: defers to the next). */
BOSUN_API void bosun_approval_policy_set_default(bosun_approval_policy *p,
                                                 enum bosun_approval_decision d);
BOSUN_API bool bosun_approval_policy_default(const bosun_approval_policy *p,
                                             enum bosun_approval_decision *out);
BOSUN_API double bosun_approval_policy_timeout(const bosun_approval_policy *p);
BOSUN_API enum bosun_approval_decision
bosun_approval_policy_on_timeout(const bosun_approval_policy *p);
/* The first rule of list d matching the call, or NULL. */
BOSUN_API const char *bosun_approval_policy_find(const bosun_approval_policy *p,
                                                 enum bosun_approval_decision d, const char *tool,
                                                 const json_t *input);

/* How many rules list d holds, and its i-th (in the order added), for
 * agent types that hand the policy to their CLI (<bosun/approval_map.h>). */
BOSUN_API size_t bosun_approval_policy_count(const bosun_approval_policy *p,
                                             enum bosun_approval_decision d);
BOSUN_API const char *bosun_approval_policy_rule(const bosun_approval_policy *p,
                                                 enum bosun_approval_decision d, size_t i);

/* Parses an "approvals:" map (NULL or null: *out is NULL, true) into a
 * new policy.  Errors name FILE:LINE:COL and the key. */
BOSUN_API bool bosun_approval_policy_parse(const cfg_node *node, bosun_approval_policy **out,
                                           cfg_diag *d);
/* The same from a JSON object {allow, deny, ask, default, timeout (seconds),
 * on_timeout}; NULL with a reason in err when it is not one. */
BOSUN_API bosun_approval_policy *bosun_approval_policy_from_json(const json_t *v, char *err,
                                                                 size_t err_size);
/* The policy as that JSON object (a new reference; NULL out of memory). */
BOSUN_API json_t *bosun_approval_policy_to_json(const bosun_approval_policy *p);

/* The outcome of an evaluation: rule points into the policy that decided
 * (NULL when the default did). */
typedef struct bosun_approval_result {
    enum bosun_approval_decision decision;
    enum bosun_approval_source source;
    const char *rule;
} bosun_approval_result;

/* Evaluates a call against sticky, agent and global policies (any may be
 * NULL), in the order described above. */
BOSUN_API bosun_approval_result bosun_approval_evaluate(const bosun_approval_policy *sticky,
                                                        const bosun_approval_policy *agent,
                                                        const bosun_approval_policy *global,
                                                        const char *tool, const json_t *input);

#ifdef __cplusplus
}
#endif
#endif
