/* bosun-llm's copy of its approval policies (cmd.approval.policy): the
 * global, agent and sticky policies of its agent+task, of one generation,
 * kept fresh by evt.approval.policy.changed, so that a call allowed or
 * denied by a rule or a default is decided here without a round trip to
 * bosund.  Internal to bosun-llm. */
#ifndef BOSUN_LLM_POLICY_H
#define BOSUN_LLM_POLICY_H

#include <bosun/approval.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "llm_ctl.h"

typedef struct llm_policy llm_policy;

/* Subscribes to the change notice, then asks for the policies; ready(arg)
 * is called each time an answer ends a wait (llm_policy_coming), whether a
 * copy came or not.  NULL out of memory (every call then goes to bosund,
 * as without a copy). */
llm_policy *llm_policy_new(llm_ctl *ctl, void (*ready)(void *), void *arg);
void llm_policy_free(llm_policy *p);

enum llm_policy_verdict {
    LLM_POLICY_DECIDED, /* *r and *generation set: exactly bosund's decision */
    LLM_POLICY_COMING,  /* a copy is on its way: ready will say */
    LLM_POLICY_UNREAD,  /* the connection holds bytes not read yet (a notice
                         * may be among them): ask again after the loop ran */
    LLM_POLICY_ASK,     /* no copy: bosund decides (cmd.approval.check) */
    LLM_POLICY_FREE,    /* no rule decides and no policy has a default:
                         * the call runs unasked (bosund's check says the
                         * same: source default, no default_set) */
};

/* The decision of the copy for one call, when it is exactly bosund's. */
enum llm_policy_verdict llm_policy_decide(llm_policy *p, const char *tool, const json_t *input,
                                          bosun_approval_result *r, uint64_t *generation);

/* A copy is on its way (the subscription or cmd.approval.policy is not
 * answered yet): a call may wait for ready rather than ask bosund. */
bool llm_policy_coming(const llm_policy *p);

#endif
