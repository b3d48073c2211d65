/* bosun — the approval policy as data, for agent types whose CLI takes
 * permission rules of its own (Gemini's policy files, Codex's sandbox)
 * instead of asking bosun about each call: the rules of the policies that
 * apply to an agent, in the order bosun evaluates them, and each rule
 * taken apart into its tool name and specifier.  Each agent type turns
 * these into its CLI's terms and says what it could not map.
 *
 * Pure (no I/O, no globals) but for bosun_approval_notice, which logs. */
#ifndef BOSUN_APPROVAL_MAP_H
#define BOSUN_APPROVAL_MAP_H

#include <bosun/approval.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One rule of a policy set.  rank orders them as bosun_approval_evaluate
 * does: 0 deny, 1 sticky allow, 2 ask, 3 allow; a lower rank wins. */
typedef struct bosun_approval_entry {
    enum bosun_approval_decision decision;
    enum bosun_approval_source source;
    unsigned rank;
    const char *rule; /* points into its policy */
} bosun_approval_entry;

/* What the text in a rule's parentheses is. */
enum bosun_approval_spec {
    BOSUN_APPROVAL_SPEC_NONE,   /* no parentheses: every call of the tool */
    BOSUN_APPROVAL_SPEC_PREFIX, /* "git status:*": the argument starts with spec, then a
                                   blank or its end */
    BOSUN_APPROVAL_SPEC_DOMAIN, /* "domain:HOST" (WebFetch): spec is the host glob */
    BOSUN_APPROVAL_SPEC_GLOB,   /* any other text: a glob over the whole argument */
};

typedef struct bosun_approval_rule_parts {
    const char *name; /* the tool name (a glob), name_len bytes, not terminated */
    size_t name_len;
    enum bosun_approval_spec kind;
    const char *spec; /* the specifier without its decoration, spec_len bytes; NULL for
                         SPEC_NONE */
    size_t spec_len;
} bosun_approval_rule_parts;

/* Takes a rule apart; false when it is not one (bosun_approval_rule_check). */
BOSUN_API bool bosun_approval_rule_split(const char *rule, bosun_approval_rule_parts *out);

/* The rules of the three policies (any may be NULL) in evaluation order:
 * by rank, then sticky, agent, global, then as written.  *out is a
 * malloc'ed array of *n entries (NULL when there are none).  False when
 * out of memory. */
BOSUN_API bool bosun_approval_entries(const bosun_approval_policy *sticky,
                                      const bosun_approval_policy *agent,
                                      const bosun_approval_policy *global,
                                      bosun_approval_entry **out, size_t *n);

/* The decision for a call no rule matches, when one of the policies set
 * it: the agent's default, else the global one.  False when neither did
 * (bosun then asks). */
BOSUN_API bool bosun_approval_default_of(const bosun_approval_policy *agent,
                                         const bosun_approval_policy *global,
                                         enum bosun_approval_decision *out);

/* The policies of an agent from bosun.yaml: its section's `approvals:`
 * and the document's top-level one (reached through the section's
 * parents).  Each is NULL where none is written.  False with the first
 * problem in err (the daemon checked both when it loaded the file, so
 * this is rare). */
BOSUN_API bool bosun_approval_policies_of(const cfg_node *agent_section,
                                          bosun_approval_policy **agent,
                                          bosun_approval_policy **global, char *err,
                                          size_t err_size);

/* How an agent type's mapping reports a rule it cannot honour as
 * written: why, in a sentence. */
typedef void bosun_approval_note(void *arg, const char *rule, const char *why);

/* Notices about rules an agent type cannot honour, each logged once per
 * agent, rule and reason while the daemon runs (the same rules come with
 * every launch).  Start zeroed; single-threaded use. */
#define BOSUN_APPROVAL_NOTICES_MAX 256
typedef struct bosun_approval_notices {
    char *seen[BOSUN_APPROVAL_NOTICES_MAX];
    unsigned n;
} bosun_approval_notices;

/* Logs "TYPE: agent AGENT: approvals rule RULE: WHY" at notice, unless it
 * was logged before (past the first BOSUN_APPROVAL_NOTICES_MAX, every
 * time: never silent). */
BOSUN_API void bosun_approval_notice(bosun_approval_notices *ns, const char *type,
                                     const char *agent, const char *rule, const char *why);
BOSUN_API void bosun_approval_notices_clear(bosun_approval_notices *ns);

#ifdef __cplusplus
}
#endif
#endif
