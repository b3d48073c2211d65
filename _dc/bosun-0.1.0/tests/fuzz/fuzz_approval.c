/* libFuzzer target for the approval policy (core/lib/approval_policy.c).
 *
 * An input starting with "Y" is the rest as a bosun.yaml "approvals:" map,
 * parsed as the daemon parses it.  Any other input is lines: the tool name,
 * the tool's input as JSON, then rules.  Every rule is checked and, when
 * valid, added to a policy and matched; the evaluation must name a rule
 * of the policy or the default.  A tool name without '*' given as its own
 * rule must match itself, and the exact-call rule of the call
 * (bosun_approval_exact_rule) must be valid and match only it. */
#include "config.h"

#include "fuzz_check.h"

#include <bosun/approval.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES    16
#define LINE_MAX_LEN (BOSUN_APPROVAL_RULE_MAX + 8)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK FUZZ_CHECK

static void fuzz_yaml(const uint8_t *data, size_t size)
{
    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node *root = cfg_load_string((const char *)data, size, "fuzz.yaml", &d);
    if (root) {
        bosun_approval_policy *p = NULL;
        bool ok = bosun_approval_policy_parse(cfg_get(root, "approvals"), &p, &d);
        CHECK(ok || (!p && d.n > 0));
        if (p) {
            bosun_approval_result r = bosun_approval_evaluate(NULL, p, NULL, "Bash", NULL);
            CHECK(r.decision <= BOSUN_APPROVAL_DENY);
        }
        bosun_approval_policy_free(p);
        cfg_free(root);
    }
    cfg_diag_free(&d);
}

static size_t split_lines(const uint8_t *data, size_t size, char lines[][LINE_MAX_LEN + 1])
{
    size_t n = 0, start = 0;
    while (start <= size && n < MAX_LINES) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        size_t len = end - start < LINE_MAX_LEN ? end - start : LINE_MAX_LEN;
        memcpy(lines[n], data + start, len);
        lines[n][len] = '\0';
        n++;
        if (!nl)
            break;
        start = end + 1;
    }
    return n;
}

static void fuzz_rules(const uint8_t *data, size_t size)
{
    static char lines[MAX_LINES][LINE_MAX_LEN + 1];
    size_t n = split_lines(data, size, lines);
    if (n < 2)
        return;
    const char *tool = lines[0];
    json_t *input = json_loads(lines[1], JSON_DECODE_ANY, NULL);
    bosun_approval_policy *p = bosun_approval_policy_new();
    CHECK(p);
    char err[256];
    for (size_t i = 2; i < n; i++) {
        bool valid = bosun_approval_rule_check(lines[i], err, sizeof err);
        (void)bosun_approval_rule_match(lines[i], tool, input);
        CHECK(bosun_approval_policy_add(p, (enum bosun_approval_decision)(i % 3), lines[i], err,
                                        sizeof err) == valid);
    }
    bosun_approval_result r = bosun_approval_evaluate(p, p, p, tool, input);
    CHECK(r.decision <= BOSUN_APPROVAL_DENY);
    CHECK((r.rule != NULL) == (r.source != BOSUN_APPROVAL_FROM_DEFAULT));
    /* (A name starting with '=' is the exact form of the name after it.) */
    if (*tool && *tool != '=' && !strchr(tool, '*') &&
        bosun_approval_rule_check(tool, err, sizeof err) && !strchr(tool, '('))
        CHECK(bosun_approval_rule_match(tool, tool, input));
    /* The exact-call rule of the call: a valid rule that matches it, and
     * neither a longer tool name nor (when it names an argument) the tool
     * without one. */
    char *exact = bosun_approval_exact_rule(tool, input);
    if (exact) {
        CHECK(bosun_approval_rule_check(exact, err, sizeof err));
        CHECK(bosun_approval_rule_match(exact, tool, input));
        char longer[LINE_MAX_LEN + 2];
        snprintf(longer, sizeof longer, "%sx", tool);
        CHECK(!bosun_approval_rule_match(exact, longer, input));
        json_t *none = json_object();
        CHECK(!strchr(exact, '(') || !bosun_approval_rule_match(exact, tool, none));
        json_decref(none);
        free(exact);
    }
    bosun_approval_policy_free(p);
    json_decref(input);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == 'Y')
        fuzz_yaml(data + 1, size - 1);
    else
        fuzz_rules(data, size);
    return 0;
}
