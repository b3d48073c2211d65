/* bosun's approval policy as a Gemini CLI policy file (its TOML
 * [[rule]]s, passed with --policy), so that the CLI itself allows and
 * refuses tool calls the way the policy says: Gemini has no per-call
 * approval route to bosun (no permission-prompt tool), and in headless
 * mode it treats its own "ask_user" as a refusal.
 *
 * The rules become Gemini rules in bosun's evaluation order, by priority
 * within the user tier (4 + priority/1000): deny 999, sticky allow 800,
 * ask 700, allow 600, and the policy's default, when it is allow or deny,
 * a "*" rule at 1 -- above every built-in rule (tier 1), below the
 * settings' own (bosun's trusted MCP server is 4.2).  A default of ask,
 * or none, leaves unmatched calls to the CLI's approval mode
 * (permission_mode), as Claude Code's does.
 *
 * Tool names: Claude's become Gemini's (Bash -> run_shell_command,
 * Read -> read_file...); mcp__SERVER__TOOL becomes mcpName + toolName; a
 * name starting in lower case is taken as Gemini's own.  Specifiers:
 * "prefix:*" on Bash becomes commandPrefix; other globs become regular
 * expressions over Gemini's JSON text of the arguments.  What cannot be
 * written in Gemini's terms is reported through `note`: a deny rule is
 * then widened to the whole tool (refusing more, never less), an allow or
 * ask rule is left out. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/approval_map.h>
#include <bosun/toml.h>

#include "gemini.h"

/* Priorities within the policy file, by rank (deny, sticky allow, ask,
 * allow), and the default's. */
static const int rank_priority[] = {999, 800, 700, 600};
#define DEFAULT_PRIORITY 1

/* A Gemini tool and the argument a specifier is matched against (NULL:
 * none a specifier can be written over). */
typedef struct gem_tool {
    const char *name, *key;
    bool paths;
} gem_tool;

static const struct {
    const char *claude;
    gem_tool to[2];
} tool_map[] = {
    {"Bash", {{"run_shell_command", "command", false}}},
    {"Read", {{"read_file", "file_path", true}, {"read_many_files", NULL, true}}},
    {"Write", {{"write_file", "file_path", true}}},
    {"Edit", {{"replace", "file_path", true}}},
    {"MultiEdit", {{"replace", "file_path", true}}},
    {"Glob", {{"glob", "dir_path", true}}},
    {"Grep", {{"grep_search", "dir_path", true}}},
    {"LS", {{"list_directory", "dir_path", true}}},
    {"WebFetch", {{"web_fetch", NULL, false}}},
    {"WebSearch", {{"google_web_search", "query", false}}},
};

/* ------------------------------------------------------------ regexes */

/* c as it is in JSON text, each byte escaped for a JavaScript regular
 * expression (only its syntax characters but '/', which needs none
 * outside a literal: valid with and without the u flag). */
static void re_char(FILE *f, char c)
{
    char json[3] = {c, 0, 0};
    if (c == '"' || c == '\\')
        json[0] = '\\', json[1] = c;
    for (const char *p = json; *p; p++) {
        if (strchr("^$\\.*+?()[]{}|", *p))
            fputc('\\', f);
        fputc(*p, f);
    }
}

/* A glob over a JSON string's contents as a regular expression: '*' any
 * run of its characters, or for paths '*' any run without '/' and '**'
 * any run. */
static void re_glob(FILE *f, const char *g, size_t n, bool paths)
{
    for (size_t i = 0; i < n; i++) {
        if (g[i] != '*') {
            re_char(f, g[i]);
            continue;
        }
        bool cross = !paths || (i + 1 < n && g[i + 1] == '*');
        while (i + 1 < n && g[i + 1] == '*')
            i++;
        fputs(cross ? "(?:[^\"\\\\]|\\\\.)*" : "(?:[^\"\\\\/]|\\\\.)*", f);
    }
}

/* The argsPattern of a specifier on argument key: the whole value (a
 * relative path glob: the value or its tail after a '/'), or for a prefix
 * the value's start followed by a blank or its end. */
static char *args_pattern(const gem_tool *t, const bosun_approval_rule_parts *r)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    fprintf(f, "\"%s\":\"", t->key);
    if (r->kind == BOSUN_APPROVAL_SPEC_PREFIX) {
        re_glob(f, r->spec, r->spec_len, false);
        fputs("(?:\"| |\\\\t)", f);
    } else {
        if (t->paths && r->spec[0] != '/')
            fputs("(?:(?:[^\"\\\\]|\\\\.)*/)?", f);
        re_glob(f, r->spec, r->spec_len, t->paths);
        fputc('"', f);
    }
    return fclose(f) == 0 ? out : (free(out), NULL);
}

/* ------------------------------------------------------------ TOML */

static void toml_kv(FILE *f, const char *key, const char *value)
{
    char *q = bosun_toml_string(value);
    if (q)
        fprintf(f, "%s = %s\n", key, q);
    else
        fputs("# out of memory\n", f); /* the file then fails to load: refused, not widened */
    free(q);
}

static const char *gem_decision(enum bosun_approval_decision d)
{
    return d == BOSUN_APPROVAL_DENY ? "deny" : d == BOSUN_APPROVAL_ALLOW ? "allow" : "ask_user";
}

/* The end of a rule: decision, priority, and why it refuses. */
static void rule_tail(FILE *f, const bosun_approval_entry *e, int priority, bool shell)
{
    toml_kv(f, "decision", gem_decision(e->decision));
    fprintf(f, "priority = %d\n", priority);
    /* bosun's rules match the whole command text, redirections included. */
    if (shell && e->decision == BOSUN_APPROVAL_ALLOW)
        fputs("allowRedirection = true\n", f);
    if (e->decision != BOSUN_APPROVAL_ALLOW) {
        char *msg = NULL;
        if (asprintf(&msg, "bosun's approval policy (%s rule %s) %s this call",
                     bosun_approval_source_name(e->source), e->rule,
                     e->decision == BOSUN_APPROVAL_DENY ? "denies" : "asks before") >= 0)
            toml_kv(f, "denyMessage", msg);
        free(msg);
    }
}

static void rule_head(FILE *f, const bosun_approval_entry *e)
{
    fprintf(f, "\n# %s %s (%s)\n[[rule]]\n", bosun_approval_decision_name(e->decision), e->rule,
            bosun_approval_source_name(e->source));
}

/* One Gemini tool's rule for entry e; false (nothing written) when its
 * specifier cannot be written for that tool. */
static bool write_tool(FILE *f, const bosun_approval_entry *e, const bosun_approval_rule_parts *r,
                       const gem_tool *t, int priority)
{
    bool shell = strcmp(t->name, "run_shell_command") == 0;
    if (r->kind == BOSUN_APPROVAL_SPEC_NONE) {
        rule_head(f, e);
        toml_kv(f, "toolName", t->name);
    } else if (!t->key || r->kind == BOSUN_APPROVAL_SPEC_DOMAIN) {
        return false;
    } else if (shell && r->kind == BOSUN_APPROVAL_SPEC_PREFIX) {
        char *prefix = strndup(r->spec, r->spec_len);
        rule_head(f, e);
        toml_kv(f, "toolName", t->name);
        toml_kv(f, "commandPrefix", prefix ? prefix : "");
        free(prefix);
    } else {
        char *re = args_pattern(t, r);
        rule_head(f, e);
        toml_kv(f, "toolName", t->name);
        toml_kv(f, "argsPattern", re ? re : "(?!)");
        free(re);
    }
    rule_tail(f, e, priority, shell);
    return true;
}

/* A tool of the whole rule, with no specifier. */
static void write_whole(FILE *f, const bosun_approval_entry *e, const char *tool, const char *mcp,
                        int priority)
{
    rule_head(f, e);
    if (tool)
        toml_kv(f, "toolName", tool);
    if (mcp)
        toml_kv(f, "mcpName", mcp);
    rule_tail(f, e, priority, tool && strcmp(tool, "run_shell_command") == 0);
}

static bool has_glob(const char *s, size_t n)
{
    return memchr(s, '*', n) != NULL;
}

/* mcp__SERVER[__TOOL] as mcpName (+ toolName). */
static void write_mcp(FILE *f, const bosun_approval_entry *e, const bosun_approval_rule_parts *r,
                      int priority, bosun_approval_note *note, void *arg)
{
    const char *srv = r->name + 5, *end = r->name + r->name_len;
    const char *sep = NULL;
    for (const char *p = srv; p + 1 < end; p++)
        if (p[0] == '_' && p[1] == '_') {
            sep = p;
            break;
        }
    char *server = strndup(srv, (size_t)((sep ? sep : end) - srv));
    char *tool = sep ? strndup(sep + 2, (size_t)(end - sep - 2)) : NULL;
    bool whole_tool = !tool || strcmp(tool, "*") == 0;
    bool mappable = server && server[0] &&
                    (!has_glob(server, strlen(server)) || strcmp(server, "*") == 0) &&
                    (whole_tool || (tool[0] && !has_glob(tool, strlen(tool))));
    if (mappable && r->kind == BOSUN_APPROVAL_SPEC_NONE) {
        write_whole(f, e, whole_tool ? "*" : tool, server, priority);
    } else if (e->decision == BOSUN_APPROVAL_DENY && server && server[0] &&
               !has_glob(server, strlen(server))) {
        note(arg, e->rule,
             "Gemini matches MCP tools by server and exact name only: the whole "
             "server is denied");
        write_whole(f, e, "*", server, priority);
    } else {
        note(arg, e->rule,
             "Gemini matches MCP tools by server and exact name only, with no arguments: "
             "the rule is left out");
    }
    free(server);
    free(tool);
}

static void write_entry(FILE *f, const bosun_approval_entry *e, bosun_approval_note *note,
                        void *arg)
{
    bosun_approval_rule_parts r;
    int priority = rank_priority[e->rank < 4 ? e->rank : 3];
    bool deny = e->decision == BOSUN_APPROVAL_DENY;
    if (!bosun_approval_rule_split(e->rule, &r))
        return;
    if (e->decision == BOSUN_APPROVAL_ASK)
        note(arg, e->rule,
             "headless Gemini cannot ask: its ask_user refuses the call, bosun is not asked");
    if (r.name_len > 5 && strncmp(r.name, "mcp__", 5) == 0) {
        write_mcp(f, e, &r, priority, note, arg);
        return;
    }
    if (r.name_len == 1 && r.name[0] == '*' && r.kind == BOSUN_APPROVAL_SPEC_NONE) {
        write_whole(f, e, "*", NULL, priority);
        return;
    }
    for (size_t i = 0; i < sizeof tool_map / sizeof *tool_map; i++) {
        if (strlen(tool_map[i].claude) != r.name_len ||
            strncmp(tool_map[i].claude, r.name, r.name_len) != 0)
            continue;
        for (int k = 0; k < 2 && tool_map[i].to[k].name; k++)
            if (!write_tool(f, e, &r, &tool_map[i].to[k], priority)) {
                note(arg, e->rule,
                     deny ? "Gemini cannot match this specifier: the whole tool is denied"
                          : "Gemini cannot match this specifier: the rule is left out");
                if (deny)
                    write_whole(f, e, tool_map[i].to[k].name, NULL, priority);
            }
        return;
    }
    if (r.name[0] >= 'a' && r.name[0] <= 'z') {
        /* Gemini's own tool name (run_shell_command, read_file, a glob). */
        char *name = strndup(r.name, r.name_len);
        gem_tool own = {name, strcmp(name ? name : "", "run_shell_command") == 0 ? "command" : NULL,
                        false};
        if (name && !write_tool(f, e, &r, &own, priority)) {
            note(arg, e->rule,
                 deny ? "a specifier on this Gemini tool cannot be matched: the whole tool is "
                        "denied"
                      : "a specifier on this Gemini tool cannot be matched: the rule is left out");
            if (deny)
                write_whole(f, e, name, NULL, priority);
        }
        free(name);
        return;
    }
    note(arg, e->rule, "the Gemini CLI has no such tool: nothing to map");
}

int gemini_policy_toml(const bosun_approval_policy *agent, const bosun_approval_policy *global,
                       char **text, bosun_approval_note *note, void *arg)
{
    *text = NULL;
    bosun_approval_entry *e = NULL;
    size_t n = 0;
    enum bosun_approval_decision def;
    bool has_default = bosun_approval_default_of(agent, global, &def);
    if (!bosun_approval_entries(NULL, agent, global, &e, &n))
        return -1;
    if (!agent && !global) {
        free(e);
        return 0;
    }
    size_t len = 0;
    FILE *f = open_memstream(text, &len);
    if (!f) {
        free(e);
        return -1;
    }
    fputs("# Written by bosun from its approval policy (approvals: in bosun.yaml) before each\n"
          "# launch; changes here are lost.  See bosun-gemini(7), \"Approvals\".\n",
          f);
    for (size_t i = 0; i < n; i++)
        write_entry(f, &e[i], note, arg);
    if (has_default && def != BOSUN_APPROVAL_ASK) {
        bosun_approval_entry d = {def, BOSUN_APPROVAL_FROM_DEFAULT, 3, "default"};
        write_whole(f, &d, "*", NULL, DEFAULT_PRIORITY);
    } else if (has_default) {
        note(arg, "default: ask",
             "headless Gemini cannot ask: calls no rule matches are left to its approval mode "
             "(permission_mode), which refuses what it would ask about");
    }
    free(e);
    if (fclose(f) != 0) {
        free(*text);
        *text = NULL;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ the file */

typedef struct notice_ctx {
    gemini_state *st;
    const char *agent;
} notice_ctx;

static void log_once(void *arg, const char *rule, const char *why)
{
    notice_ctx *c = arg;
    bosun_approval_notice(&c->st->noticed, "gemini", c->agent, rule, why);
}

int gemini_policy_of_run(gemini_state *st, const bosun_run_info *run, char **text, char **error)
{
    bosun_approval_policy *agent = NULL, *global = NULL;
    char err[300];
    *text = NULL;
    if (!bosun_approval_policies_of(run->config, &agent, &global, err, sizeof err)) {
        *error = strdup(err);
        return -1;
    }
    notice_ctx c = {st, run->agent};
    int rc = gemini_policy_toml(agent, global, text, log_once, &c);
    bosun_approval_policy_free(agent);
    bosun_approval_policy_free(global);
    if (rc != 0)
        *error = strdup("out of memory");
    return rc;
}
