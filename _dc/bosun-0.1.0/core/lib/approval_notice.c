/* Notices about approval rules an agent type cannot honour, logged once
 * (see <bosun/approval_map.h>). */
#include "config.h"

#include <bosun/approval_map.h>
#include <bosun/log.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bosun_approval_notice(bosun_approval_notices *ns, const char *type, const char *agent,
                           const char *rule, const char *why)
{
    size_t len = strlen(type) + strlen(agent) + strlen(rule) + strlen(why) + 4;
    char *key = malloc(len);
    if (key)
        snprintf(key, len, "%s\n%s\n%s\n%s", type, agent, rule, why);
    for (unsigned i = 0; key && i < ns->n; i++)
        if (strcmp(ns->seen[i], key) == 0) {
            free(key);
            return;
        }
    log_notice("%s: agent %s: approvals rule %s: %s", type, agent, rule, why);
    if (key && ns->n < BOSUN_APPROVAL_NOTICES_MAX)
        ns->seen[ns->n++] = key;
    else
        free(key);
}

void bosun_approval_notices_clear(bosun_approval_notices *ns)
{
    for (unsigned i = 0; i < ns->n; i++)
        free(ns->seen[i]);
    ns->n = 0;
}
