/* The approval policy as data (see <bosun/approval_map.h>). */
#include "config.h"

#include <bosun/approval_map.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval_steps.h"

bool bosun_approval_rule_split(const char *rule, bosun_approval_rule_parts *out)
{
    char err[200];
    if (!bosun_approval_rule_check(rule, err, sizeof err))
        return false;
    const char *open = strchr(rule, '(');
    size_t len = strlen(rule);
    *out = (bosun_approval_rule_parts){rule, open ? (size_t)(open - rule) : len,
                                       BOSUN_APPROVAL_SPEC_NONE, NULL, 0};
    if (!open)
        return true;
    const char *spec = open + 1;
    size_t slen = len - out->name_len - 2;
    out->kind = BOSUN_APPROVAL_SPEC_GLOB;
    /* The same readings as bosun_approval_rule_match. */
    if (slen >= 2 && spec[slen - 2] == ':' && spec[slen - 1] == '*') {
        out->kind = BOSUN_APPROVAL_SPEC_PREFIX;
        slen -= 2;
    } else if (out->name_len == 8 && strncmp(rule, "WebFetch", 8) == 0 && slen > 7 &&
               strncmp(spec, "domain:", 7) == 0) {
        out->kind = BOSUN_APPROVAL_SPEC_DOMAIN;
        spec += 7;
        slen -= 7;
    }
    out->spec = spec;
    out->spec_len = slen;
    return true;
}

bool bosun_approval_entries(const bosun_approval_policy *sticky, const bosun_approval_policy *agent,
                            const bosun_approval_policy *global, bosun_approval_entry **out,
                            size_t *n)
{
    const bosun_approval_policy *order[3] = {sticky, agent, global};
    static const enum bosun_approval_source src[3] = {
        BOSUN_APPROVAL_FROM_STICKY, BOSUN_APPROVAL_FROM_AGENT, BOSUN_APPROVAL_FROM_GLOBAL};
    size_t total = 0;
    for (int k = 0; k < 3; k++)
        for (int d = 0; d < 3; d++)
            total += bosun_approval_policy_count(order[k], (enum bosun_approval_decision)d);
    *out = NULL;
    *n = 0;
    if (total == 0)
        return true;
    bosun_approval_entry *e = calloc(total, sizeof *e);
    if (!e)
        return false;
    size_t used = 0;
    for (unsigned s = 0; s < APPROVAL_STEPS; s++)
        for (int k = approval_steps[s].first; k <= approval_steps[s].last; k++)
            for (size_t i = 0; i < bosun_approval_policy_count(order[k], approval_steps[s].d); i++)
                e[used++] = (bosun_approval_entry){
                    approval_steps[s].d, src[k], s,
                    bosun_approval_policy_rule(order[k], approval_steps[s].d, i)};
    /* Sticky ask rules, never made, have no step: not counted in. */
    *out = e;
    *n = used;
    return true;
}

bool bosun_approval_default_of(const bosun_approval_policy *agent,
                               const bosun_approval_policy *global,
                               enum bosun_approval_decision *out)
{
    return bosun_approval_policy_default(agent, out) || bosun_approval_policy_default(global, out);
}

static bool parse_one(const cfg_node *node, bosun_approval_policy **out, char *err, size_t err_size)
{
    cfg_diag d;
    cfg_diag_init(&d);
    bool ok = bosun_approval_policy_parse(node, out, &d);
    if (!ok)
        snprintf(err, err_size, "%s", d.n ? d.msgs[0] : "approvals: not valid");
    cfg_diag_free(&d);
    return ok;
}

bool bosun_approval_policies_of(const cfg_node *agent_section, bosun_approval_policy **agent,
                                bosun_approval_policy **global, char *err, size_t err_size)
{
    const cfg_node *root = agent_section;
    while (root && root->parent)
        root = root->parent;
    *agent = *global = NULL;
    if (!parse_one(cfg_get(agent_section, "approvals"), agent, err, err_size))
        return false;
    if (root != agent_section && parse_one(cfg_get(root, "approvals"), global, err, err_size))
        return true;
    if (root == agent_section)
        return true;
    bosun_approval_policy_free(*agent);
    *agent = NULL;
    return false;
}
