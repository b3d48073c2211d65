/* What of bosun's approval policy the Codex CLI can take.  `codex exec`
 * asks nobody (its approval policy there is "never": a call its sandbox
 * or rules would ask about is refused), has no permission-prompt tool,
 * and keeps its command rules (.rules files) in the user's CODEX_HOME,
 * which is not bosun's to write.  So the policy maps onto the two things
 * a launch sets:
 *
 *   the sandbox (-c sandbox_mode): read-only when the policy denies Bash,
 *     Edit, Write or MultiEdit as a whole, or its default is deny or ask
 *     without a whole-tool allow of those; workspace-write when it allows
 *     one of them as a whole (or by default) and permission_mode does not
 *     say otherwise.  The policy only ever lowers permission_mode.
 *   bosun's own MCP server: a denied mcp__bosun__TOOL is in its
 *     disabled_tools, a denied mcp__bosun (every tool) switches the
 *     server off.
 *
 * Every other rule (a specifier, a tool Codex has no switch for, an ask
 * rule, another MCP server) is reported through `note`. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codex.h"

/* Tools that write: the sandbox is what stops them. */
static const char *const writers[] = {"Bash", "Edit", "Write", "MultiEdit", NULL};
/* Tools that only read, which Codex does in any sandbox. */
static const char *const readers[] = {"Read", "Glob", "Grep", "LS", NULL};

static bool is_whole(const bosun_approval_rule_parts *r)
{
    return r->kind == BOSUN_APPROVAL_SPEC_NONE ||
           (r->kind == BOSUN_APPROVAL_SPEC_GLOB && r->spec_len == 1 && r->spec[0] == '*');
}

/* Whether the rule's name covers one of the tools. */
static bool names_any(const char *rule, const char *const *tools)
{
    bosun_approval_rule_parts r;
    if (!bosun_approval_rule_split(rule, &r))
        return false;
    char *name = strndup(r.name, r.name_len);
    bool hit = false;
    for (size_t i = 0; name && !hit && tools[i]; i++)
        hit = bosun_approval_rule_match(name, tools[i], NULL);
    free(name);
    return hit;
}

static int add_disabled(codex_policy *out, const char *tool)
{
    size_t n = 0;
    while (out->disabled && out->disabled[n])
        n++;
    char **grown = realloc(out->disabled, (n + 2) * sizeof *grown);
    if (!grown)
        return -1;
    out->disabled = grown;
    grown[n] = strdup(tool);
    grown[n + 1] = NULL;
    return grown[n] ? 0 : -1;
}

/* mcp__bosun__TOOL, mcp__bosun__*, mcp__bosun: bosun's server. */
static int bosun_mcp(const bosun_approval_entry *e, const bosun_approval_rule_parts *r,
                     codex_policy *out, bosun_approval_note *note, void *arg)
{
    const char *tool = r->name_len > 12 ? r->name + 12 : "";
    size_t tlen = r->name_len > 12 ? r->name_len - 12 : 0;
    if (e->decision != BOSUN_APPROVAL_DENY) {
        if (e->decision == BOSUN_APPROVAL_ASK)
            note(arg, e->rule, "codex exec cannot ask: bosun's tools run unasked");
        return 0;
    }
    if (!is_whole(r) || (tlen && memchr(tool, '*', tlen) && !(tlen == 1 && *tool == '*'))) {
        note(arg, e->rule, "Codex switches MCP tools off by exact name only: the rule is left out");
        return 0;
    }
    if (tlen == 0 || (tlen == 1 && *tool == '*')) {
        out->bosun_off = true;
        return 0;
    }
    char *name = strndup(tool, tlen);
    int rc = name ? add_disabled(out, name) : -1;
    free(name);
    return rc;
}

static bool is_bosun_server(const bosun_approval_rule_parts *r)
{
    return r->name_len >= 10 && strncmp(r->name, "mcp__bosun", 10) == 0 &&
           (r->name_len == 10 || (r->name_len > 12 && strncmp(r->name + 10, "__", 2) == 0));
}

/* One rule: what it does to the sandbox, or why it cannot be honoured. */
static int take(const bosun_approval_entry *e, codex_policy *out, bool *broad, bool *cap,
                bosun_approval_note *note, void *arg)
{
    bosun_approval_rule_parts r;
    if (!bosun_approval_rule_split(e->rule, &r))
        return 0;
    if (is_bosun_server(&r))
        return bosun_mcp(e, &r, out, note, arg);
    bool deny = e->decision == BOSUN_APPROVAL_DENY;
    bool writes = names_any(e->rule, writers);
    if (writes && is_whole(&r)) {
        if (deny) {
            *cap = true;
            if (names_any(e->rule, (const char *const[]){"Bash", NULL}))
                note(arg, e->rule,
                     "Codex cannot refuse shell commands: they run in the read-only sandbox");
        } else if (e->decision == BOSUN_APPROVAL_ALLOW) {
            *broad = true;
        } else {
            note(arg, e->rule, "codex exec cannot ask: the sandbox decides");
        }
        return 0;
    }
    if (e->decision == BOSUN_APPROVAL_ALLOW && names_any(e->rule, readers))
        return 0; /* Codex reads in every sandbox: honoured as it is */
    if (r.name_len > 5 && strncmp(r.name, "mcp__", 5) == 0)
        note(arg, e->rule,
             "the MCP servers of Codex's own configuration are not bosun's to change: the rule "
             "is left out");
    else if (writes)
        note(arg, e->rule,
             "Codex takes no per-command or per-path rules from bosun (its sandbox is per run): "
             "the rule is left out");
    else
        note(arg, e->rule, "Codex has no switch for this tool: the rule is left out");
    return 0;
}

int codex_policy_of(const bosun_approval_policy *agent, const bosun_approval_policy *global,
                    const char *permission_mode, codex_policy *out, bosun_approval_note *note,
                    void *arg)
{
    *out = (codex_policy){NULL, NULL, false};
    if (!agent && !global)
        return 0;
    bosun_approval_entry *e = NULL;
    size_t n = 0;
    if (!bosun_approval_entries(NULL, agent, global, &e, &n))
        return -1;
    bool broad = false, cap = false;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = take(&e[i], out, &broad, &cap, note, arg);
    free(e);
    enum bosun_approval_decision def;
    if (bosun_approval_default_of(agent, global, &def)) {
        if (def == BOSUN_APPROVAL_ALLOW)
            broad = true;
        else if (!broad)
            cap = true;
    }
    if (cap) {
        out->sandbox = "read-only";
        if (permission_mode && strcmp(permission_mode, "read-only") != 0)
            note(arg, "permission_mode", "lowered to read-only by the approvals");
    } else if (!permission_mode && broad) {
        out->sandbox = "workspace-write";
    }
    return rc;
}

void codex_policy_clear(codex_policy *p)
{
    for (size_t i = 0; p->disabled && p->disabled[i]; i++)
        free(p->disabled[i]);
    free(p->disabled);
    *p = (codex_policy){NULL, NULL, false};
}

typedef struct notice_ctx {
    codex_state *st;
    const char *agent;
} notice_ctx;

static void log_once(void *arg, const char *rule, const char *why)
{
    notice_ctx *c = arg;
    bosun_approval_notice(&c->st->noticed, "codex", c->agent, rule, why);
}

int codex_policy_of_run(codex_state *st, const bosun_run_info *run, const char *permission_mode,
                        codex_policy *out, char **error)
{
    bosun_approval_policy *agent = NULL, *global = NULL;
    char err[300];
    *out = (codex_policy){NULL, NULL, false};
    if (!bosun_approval_policies_of(run->config, &agent, &global, err, sizeof err)) {
        *error = strdup(err);
        return -1;
    }
    notice_ctx c = {st, run->agent};
    int rc = codex_policy_of(agent, global, permission_mode, out, log_once, &c);
    bosun_approval_policy_free(agent);
    bosun_approval_policy_free(global);
    if (rc != 0) {
        codex_policy_clear(out);
        *error = strdup("out of memory");
    }
    return rc;
}
