/* Approval policy: rule parsing and matching (see <bosun/approval.h>). */
#include "config.h"

#include <bosun/approval.h>

#include "approval_steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_LISTS 3

struct bosun_approval_policy {
    char **rules[N_LISTS]; /* indexed by decision */
    size_t n[N_LISTS];
    bool has_default;
    enum bosun_approval_decision def;
    double timeout;
    enum bosun_approval_decision on_timeout;
};

static const char *const decision_names[] = {"ask", "allow", "deny"};
static const char *const source_names[] = {"default", "global", "agent", "sticky"};

const char *bosun_approval_decision_name(enum bosun_approval_decision d)
{
    return (unsigned)d < N_LISTS ? decision_names[d] : "?";
}

const char *bosun_approval_source_name(enum bosun_approval_source s)
{
    return (unsigned)s < 4 ? source_names[s] : "?";
}

bool bosun_approval_decision_parse(const char *text, enum bosun_approval_decision *out)
{
    for (unsigned i = 0; text && i < N_LISTS; i++)
        if (strcmp(text, decision_names[i]) == 0) {
            *out = (enum bosun_approval_decision)i;
            return true;
        }
    return false;
}

/* ------------------------------------------------------------ rules */

static bool name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '*' || c == '.';
}

/* Control bytes are refused in a specifier, but an exact rule repeats a
 * call's argument, and a multi-line command is an ordinary one. */
static bool spec_byte_ok(unsigned char c, bool exact)
{
    return c >= 0x20 || (exact && (c == '\t' || c == '\n' || c == '\r'));
}

bool bosun_approval_rule_check(const char *rule, char *err, size_t err_size)
{
    size_t len = rule ? strlen(rule) : 0;
    if (len == 0 || len > BOSUN_APPROVAL_RULE_MAX) {
        snprintf(err, err_size, "a rule is 1 to %d bytes", BOSUN_APPROVAL_RULE_MAX);
        return false;
    }
    bool exact = rule[0] == '=';
    size_t i = exact ? 1 : 0;
    while (i < len && name_char(rule[i]) && !(exact && rule[i] == '*'))
        i++;
    if (exact && i == 1) {
        snprintf(err, err_size, "rule '%.64s': '=' is followed by a tool name", rule);
        return false;
    }
    if (i == 0) {
        snprintf(err, err_size, "rule '%.64s' does not start with a tool name", rule);
        return false;
    }
    if (i == len)
        return true;
    if (rule[i] == '(' && rule[len - 1] != ')') {
        snprintf(err, err_size, "rule '%.64s': missing ')' at the end", rule);
        return false;
    }
    if (rule[i] != '(') {
        snprintf(err, err_size,
                 "rule '%.64s': expected TOOL or TOOL(SPECIFIER); byte %zu ('%c') is not allowed "
                 "in a tool name",
                 rule, i + 1, rule[i]);
        return false;
    }
    if (i + 2 == len) {
        snprintf(err, err_size, "rule '%.64s': empty parentheses", rule);
        return false;
    }
    for (size_t k = i + 1; k < len - 1; k++)
        if (!spec_byte_ok((unsigned char)rule[k], exact)) {
            snprintf(err, err_size, "rule '%.64s': control character in the specifier", rule);
            return false;
        }
    return true;
}

/* Glob over text: '*' matches any run of bytes, or (paths) '*' any run
 * without '/' and '**' any run.  Iterative with one back-tracking point per
 * star kind, so it is linear-ish and never recurses. */
static bool glob_match(const char *pat, size_t plen, const char *s, size_t slen, bool paths)
{
    size_t p = 0, i = 0, star_p = (size_t)-1, star_i = 0;
    bool star_cross = false;
    while (i < slen) {
        if (p < plen && pat[p] == '*') {
            star_cross = !paths || (p + 1 < plen && pat[p + 1] == '*');
            while (p < plen && pat[p] == '*')
                p++;
            star_p = p;
            star_i = i;
            continue;
        }
        if (p < plen && pat[p] == s[i]) {
            p++;
            i++;
            continue;
        }
        if (star_p != (size_t)-1 && (star_cross || s[star_i] != '/')) {
            star_i++;
            i = star_i;
            p = star_p;
            continue;
        }
        return false;
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}

static const char *str_field(const json_t *input, const char *key)
{
    return json_string_value(json_object_get(input, key));
}

/* Which argument a tool's specifier is matched against. */
static const struct {
    const char *tool, *key;
    bool paths;
} tool_args[] = {
    {"Bash", "command", false},
    {"Read", "file_path", true},
    {"Write", "file_path", true},
    {"Edit", "file_path", true},
    {"MultiEdit", "file_path", true},
    {"NotebookEdit", "notebook_path", true},
    {"Glob", "path", true},
    {"Grep", "path", true},
    {"LS", "path", true},
    {"WebFetch", "url", false},
    {"WebSearch", "query", false},
};

const char *bosun_approval_tool_arg(const char *tool, bool *paths)
{
    *paths = false;
    for (size_t i = 0; tool && i < sizeof tool_args / sizeof *tool_args; i++)
        if (strcmp(tool, tool_args[i].tool) == 0) {
            *paths = tool_args[i].paths;
            return tool_args[i].key;
        }
    return NULL;
}

static const char *primary_arg(const char *tool, const json_t *input, bool *paths)
{
    *paths = false;
    if (!json_is_object(input))
        return NULL;
    const char *key = bosun_approval_tool_arg(tool, paths);
    if (key)
        return str_field(input, key);
    static const char *const keys[] = {"command", "file_path", "path", "url", "query"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        const char *v = str_field(input, keys[k]);
        if (v) {
            *paths = k == 1 || k == 2;
            return v;
        }
    }
    return NULL;
}

static bool name_match(const char *pat, size_t plen, const char *tool)
{
    size_t tlen = strlen(tool);
    if (glob_match(pat, plen, tool, tlen, false))
        return true;
    /* "mcp__server" names every tool of that server, as in Claude Code. */
    return plen > 5 && strncmp(pat, "mcp__", 5) == 0 && !memchr(pat + 5, '_', plen - 5) &&
           tlen > plen + 2 && strncmp(tool, pat, plen) == 0 && strncmp(tool + plen, "__", 2) == 0;
}

/* The host of an http(s) URL, into buf; false when there is none. */
static bool url_host(const char *url, char *buf, size_t size)
{
    const char *p = strstr(url, "://");
    if (!p)
        return false;
    p += 3;
    const char *at = NULL;
    size_t n = strcspn(p, "/?#");
    for (size_t k = 0; k < n; k++)
        if (p[k] == '@')
            at = p + k;
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t h = 0;
    while (h < n && p[h] != ':')
        h++;
    if (h == 0 || h >= size)
        return false;
    memcpy(buf, p, h);
    buf[h] = '\0';
    return true;
}

static bool spec_match(const char *spec, size_t slen, const char *tool, const char *arg, bool paths)
{
    size_t alen = strlen(arg);
    if (strcmp(tool, "WebFetch") == 0 && slen > 7 && strncmp(spec, "domain:", 7) == 0) {
        char host[256];
        return url_host(arg, host, sizeof host) &&
               glob_match(spec + 7, slen - 7, host, strlen(host), false);
    }
    /* "prefix:*": the argument starts with prefix (Claude's Bash style). */
    if (slen >= 2 && spec[slen - 2] == ':' && spec[slen - 1] == '*') {
        size_t n = slen - 2;
        return alen >= n && memcmp(arg, spec, n) == 0 &&
               (alen == n || arg[n] == ' ' || arg[n] == '\t');
    }
    if (!paths || spec[0] == '/')
        return glob_match(spec, slen, arg, alen, paths);
    /* A relative path glob: the whole path or its tail after any '/'. */
    if (glob_match(spec, slen, arg, alen, true))
        return true;
    for (size_t k = 0; k < alen; k++)
        if (arg[k] == '/' && glob_match(spec, slen, arg + k + 1, alen - k - 1, true))
            return true;
    return false;
}

/* "=TOOL" or "=TOOL(ARG)": this tool, with exactly this argument, compared
 * byte for byte: no wildcard, no prefix, no server-wide name. */
static bool exact_match(const char *rule, const char *tool, const json_t *input)
{
    const char *open = strchr(rule, '(');
    size_t nlen = open ? (size_t)(open - rule) : strlen(rule);
    if (strlen(tool) != nlen || memcmp(tool, rule, nlen) != 0)
        return false;
    if (!open)
        return true;
    size_t slen = strlen(open + 1);
    if (slen == 0 || open[slen] != ')')
        return false;
    bool paths;
    const char *arg = primary_arg(tool, input, &paths);
    return arg && strlen(arg) == slen - 1 && memcmp(arg, open + 1, slen - 1) == 0;
}

bool bosun_approval_rule_match(const char *rule, const char *tool, const json_t *input)
{
    if (!rule || !tool)
        return false;
    if (rule[0] == '=')
        return exact_match(rule + 1, tool, input);
    const char *open = strchr(rule, '(');
    size_t nlen = open ? (size_t)(open - rule) : strlen(rule);
    if (!name_match(rule, nlen, tool))
        return false;
    if (!open)
        return true;
    size_t len = strlen(rule);
    if (len < nlen + 3 || rule[len - 1] != ')')
        return false;
    bool paths;
    const char *arg = primary_arg(tool, input, &paths);
    return arg && spec_match(open + 1, len - nlen - 2, tool, arg, paths);
}

char *bosun_approval_exact_rule(const char *tool, const json_t *input)
{
    bool paths;
    const char *arg = tool ? primary_arg(tool, input, &paths) : NULL;
    size_t tlen = tool ? strlen(tool) : 0;
    if (arg && !*arg)
        arg = NULL; /* "=TOOL()" is no rule; a call with an empty one has none */
    size_t len = 1 + tlen + (arg ? strlen(arg) + 2 : 0);
    if (tlen == 0 || len > BOSUN_APPROVAL_RULE_MAX)
        return NULL;
    char *rule = malloc(len + 1);
    if (!rule)
        return NULL;
    if (arg)
        snprintf(rule, len + 1, "=%s(%s)", tool, arg);
    else
        snprintf(rule, len + 1, "=%s", tool);
    char err[8];
    if (!bosun_approval_rule_check(rule, err, sizeof err) ||
        !bosun_approval_rule_match(rule, tool, input)) {
        free(rule);
        return NULL;
    }
    return rule;
}

/* ------------------------------------------------------------ policies */

bosun_approval_policy *bosun_approval_policy_new(void)
{
    bosun_approval_policy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->timeout = BOSUN_APPROVAL_TIMEOUT_DEFAULT;
    p->on_timeout = BOSUN_APPROVAL_DENY;
    return p;
}

void bosun_approval_policy_free(bosun_approval_policy *p)
{
    if (!p)
        return;
    for (int l = 0; l < N_LISTS; l++) {
        for (size_t i = 0; i < p->n[l]; i++)
            free(p->rules[l][i]);
        free(p->rules[l]);
    }
    free(p);
}

bool bosun_approval_policy_add(bosun_approval_policy *p, enum bosun_approval_decision d,
                               const char *rule, char *err, size_t err_size)
{
    if ((unsigned)d >= N_LISTS) {
        snprintf(err, err_size, "no such decision");
        return false;
    }
    if (!bosun_approval_rule_check(rule, err, err_size))
        return false;
    if (p->n[d] >= BOSUN_APPROVAL_RULES_MAX) {
        snprintf(err, err_size, "at most %d rules in a list", BOSUN_APPROVAL_RULES_MAX);
        return false;
    }
    char **grown = realloc(p->rules[d], (p->n[d] + 1) * sizeof *grown);
    char *copy = strdup(rule);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            p->rules[d] = grown;
        snprintf(err, err_size, "out of memory");
        return false;
    }
    p->rules[d] = grown;
    p->rules[d][p->n[d]++] = copy;
    return true;
}

void bosun_approval_policy_set_default(bosun_approval_policy *p, enum bosun_approval_decision d)
{
    p->has_default = true;
    p->def = d;
}

bool bosun_approval_policy_default(const bosun_approval_policy *p,
                                   enum bosun_approval_decision *out)
{
    if (!p || !p->has_default)
        return false;
    *out = p->def;
    return true;
}

double bosun_approval_policy_timeout(const bosun_approval_policy *p)
{
    return p ? p->timeout : BOSUN_APPROVAL_TIMEOUT_DEFAULT;
}

enum bosun_approval_decision bosun_approval_policy_on_timeout(const bosun_approval_policy *p)
{
    return p ? p->on_timeout : BOSUN_APPROVAL_DENY;
}

const char *bosun_approval_policy_find(const bosun_approval_policy *p,
                                       enum bosun_approval_decision d, const char *tool,
                                       const json_t *input)
{
    if (!p || (unsigned)d >= N_LISTS)
        return NULL;
    for (size_t i = 0; i < p->n[d]; i++)
        if (bosun_approval_rule_match(p->rules[d][i], tool, input))
            return p->rules[d][i];
    return NULL;
}

/* A sticky allow must outlast an ask rule, or "always" would never stick. */
const approval_step approval_steps[APPROVAL_STEPS] = {{BOSUN_APPROVAL_DENY, 0, 2},
                                                      {BOSUN_APPROVAL_ALLOW, 0, 0},
                                                      {BOSUN_APPROVAL_ASK, 1, 2},
                                                      {BOSUN_APPROVAL_ALLOW, 1, 2}};

size_t bosun_approval_policy_count(const bosun_approval_policy *p, enum bosun_approval_decision d)
{
    return p && (unsigned)d < N_LISTS ? p->n[d] : 0;
}

const char *bosun_approval_policy_rule(const bosun_approval_policy *p,
                                       enum bosun_approval_decision d, size_t i)
{
    return i < bosun_approval_policy_count(p, d) ? p->rules[d][i] : NULL;
}

bosun_approval_result bosun_approval_evaluate(const bosun_approval_policy *sticky,
                                              const bosun_approval_policy *agent,
                                              const bosun_approval_policy *global, const char *tool,
                                              const json_t *input)
{
    const bosun_approval_policy *order[3] = {sticky, agent, global};
    const enum bosun_approval_source src[3] = {
        BOSUN_APPROVAL_FROM_STICKY, BOSUN_APPROVAL_FROM_AGENT, BOSUN_APPROVAL_FROM_GLOBAL};
    bosun_approval_result r = {BOSUN_APPROVAL_ASK, BOSUN_APPROVAL_FROM_DEFAULT, NULL};
    for (size_t s = 0; s < APPROVAL_STEPS; s++)
        for (int k = approval_steps[s].first; k <= approval_steps[s].last; k++) {
            const char *rule =
                bosun_approval_policy_find(order[k], approval_steps[s].d, tool, input);
            if (rule) {
                r.decision = approval_steps[s].d;
                r.source = src[k];
                r.rule = rule;
                return r;
            }
        }
    if (!bosun_approval_policy_default(agent, &r.decision))
        bosun_approval_policy_default(global, &r.decision);
    return r;
}

/* ------------------------------------------------------------ config */

static const char *const policy_keys[] = {"allow",   "deny",       "ask", "default",
                                          "timeout", "on_timeout", NULL};

static bool parse_list(const cfg_node *node, const char *key, enum bosun_approval_decision dec,
                       bosun_approval_policy *p, cfg_diag *d)
{
    const cfg_node *list = cfg_get(node, key);
    if (!list || list->type == CFG_NULL)
        return true;
    char path[256], err[200];
    if (list->type != CFG_SEQ)
        return cfg_error(d, list, "'%s': expected a list of rules like Bash(git status:*)",
                         cfg_path(list, path, sizeof path));
    bool ok = true;
    for (size_t i = 0; i < list->n_items; i++) {
        const cfg_node *it = list->items[i];
        if (it->type != CFG_SCALAR)
            ok = cfg_error(d, it, "'%s': expected a rule (a string)",
                           cfg_path(it, path, sizeof path));
        else if (!bosun_approval_policy_add(p, dec, it->value, err, sizeof err))
            ok = cfg_error(d, it, "'%s': %s", cfg_path(it, path, sizeof path), err);
    }
    return ok;
}

static bool parse_decision(const cfg_node *node, const char *key, bool two, bool *set,
                           enum bosun_approval_decision *out, cfg_diag *d)
{
    const char *v = NULL;
    if (!cfg_get_string(node, key, NULL, &v, d))
        return false;
    if (!v)
        return true;
    char path[256];
    enum bosun_approval_decision dec;
    if (!bosun_approval_decision_parse(v, &dec) || (two && dec == BOSUN_APPROVAL_ASK))
        return cfg_error(d, cfg_get(node, key), "'%s': '%s' is not one of %s",
                         cfg_path(cfg_get(node, key), path, sizeof path), v,
                         two ? "allow, deny" : "ask, allow, deny");
    *out = dec;
    if (set)
        *set = true;
    return true;
}

bool bosun_approval_policy_parse(const cfg_node *node, bosun_approval_policy **out, cfg_diag *d)
{
    *out = NULL;
    if (!node || node->type == CFG_NULL)
        return true;
    char path[256];
    if (node->type != CFG_MAP)
        return cfg_error(d, node,
                         "'%s': expected a map (allow, deny, ask, default, timeout, "
                         "on_timeout)",
                         cfg_path(node, path, sizeof path));
    bosun_approval_policy *p = bosun_approval_policy_new();
    if (!p)
        return cfg_error(d, node, "out of memory");
    bool ok = cfg_check_keys(node, policy_keys, d);
    ok = parse_list(node, "allow", BOSUN_APPROVAL_ALLOW, p, d) && ok;
    ok = parse_list(node, "deny", BOSUN_APPROVAL_DENY, p, d) && ok;
    ok = parse_list(node, "ask", BOSUN_APPROVAL_ASK, p, d) && ok;
    ok = parse_decision(node, "default", false, &p->has_default, &p->def, d) && ok;
    ok = parse_decision(node, "on_timeout", true, NULL, &p->on_timeout, d) && ok;
    ok = cfg_get_duration(node, "timeout", BOSUN_APPROVAL_TIMEOUT_DEFAULT, 1,
                          BOSUN_APPROVAL_TIMEOUT_MAX, &p->timeout, d) &&
         ok;
    if (!ok) {
        bosun_approval_policy_free(p);
        return false;
    }
    *out = p;
    return true;
}

static bool json_list(bosun_approval_policy *p, const json_t *v, const char *key,
                      enum bosun_approval_decision dec, char *err, size_t err_size)
{
    const json_t *list = json_object_get(v, key);
    if (!list || json_is_null(list))
        return true;
    if (!json_is_array(list)) {
        snprintf(err, err_size, "'%s' must be a list of rules", key);
        return false;
    }
    size_t i;
    const json_t *it;
    json_array_foreach(list, i, it)
    {
        if (!json_is_string(it)) {
            snprintf(err, err_size, "'%s[%zu]' must be a string", key, i);
            return false;
        }
        if (!bosun_approval_policy_add(p, dec, json_string_value(it), err, err_size))
            return false;
    }
    return true;
}

bosun_approval_policy *bosun_approval_policy_from_json(const json_t *v, char *err, size_t err_size)
{
    if (!json_is_object(v)) {
        snprintf(err, err_size, "a policy is an object");
        return NULL;
    }
    bosun_approval_policy *p = bosun_approval_policy_new();
    if (!p) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    bool ok = json_list(p, v, "allow", BOSUN_APPROVAL_ALLOW, err, err_size) &&
              json_list(p, v, "deny", BOSUN_APPROVAL_DENY, err, err_size) &&
              json_list(p, v, "ask", BOSUN_APPROVAL_ASK, err, err_size);
    const json_t *def = json_object_get(v, "default"), *ot = json_object_get(v, "on_timeout"),
                 *to = json_object_get(v, "timeout");
    enum bosun_approval_decision dec;
    if (ok && def && !json_is_null(def)) {
        ok = bosun_approval_decision_parse(json_string_value(def), &dec);
        if (ok)
            bosun_approval_policy_set_default(p, dec);
        else
            snprintf(err, err_size, "'default' must be ask, allow or deny");
    }
    if (ok && ot && !json_is_null(ot)) {
        ok =
            bosun_approval_decision_parse(json_string_value(ot), &dec) && dec != BOSUN_APPROVAL_ASK;
        if (ok)
            p->on_timeout = dec;
        else
            snprintf(err, err_size, "'on_timeout' must be allow or deny");
    }
    if (ok && to && !json_is_null(to)) {
        double t = json_number_value(to);
        ok = json_is_number(to) && t >= 1 && t <= BOSUN_APPROVAL_TIMEOUT_MAX;
        if (ok)
            p->timeout = t;
        else
            snprintf(err, err_size, "'timeout' must be 1 to %.0f seconds",
                     BOSUN_APPROVAL_TIMEOUT_MAX);
    }
    if (!ok) {
        bosun_approval_policy_free(p);
        return NULL;
    }
    return p;
}

/* The inverse of bosun_approval_policy_from_json: a copy of a policy that
 * travels over the bus (cmd.approval.policy) and parses back the same. */
json_t *bosun_approval_policy_to_json(const bosun_approval_policy *p)
{
    static const char *const keys[N_LISTS] = {"ask", "allow", "deny"};
    json_t *v = json_object();
    for (int d = 0; v && d < N_LISTS; d++) {
        json_t *list = json_array();
        for (size_t i = 0; list && i < p->n[d]; i++)
            json_array_append_new(list, json_string(p->rules[d][i]));
        json_object_set_new(v, keys[d], list ? list : json_null());
    }
    if (!v)
        return NULL;
    json_object_set_new(v, "default",
                        p->has_default ? json_string(decision_names[p->def]) : json_null());
    json_object_set_new(v, "timeout", json_real(p->timeout));
    json_object_set_new(v, "on_timeout", json_string(decision_names[p->on_timeout]));
    return v;
}
