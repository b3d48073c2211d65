/* Shared by the unit tests of the approval mappings: a policy from JSON,
 * and the notes a mapping gives, collected. */
#ifndef BOSUN_TEST_APPROVAL_HELPERS_H
#define BOSUN_TEST_APPROVAL_HELPERS_H

#include <bosun/approval.h>

#include <stdio.h>
#include <string.h>

static bosun_approval_policy *pol(const char *json)
{
    json_t *v = json_loads(json, 0, NULL);
    char err[200];
    bosun_approval_policy *p = bosun_approval_policy_from_json(v, err, sizeof err);
    json_decref(v);
    assert_non_null(p);
    return p;
}

typedef struct notes {
    char text[4096];
    unsigned n;
} notes;

static void note(void *arg, const char *rule, const char *why)
{
    notes *ns = arg;
    size_t len = strlen(ns->text);
    snprintf(ns->text + len, sizeof ns->text - len, "%s: %s\n", rule, why);
    ns->n++;
}

#endif
