/* The order in which bosun_approval_evaluate consults a policy set, shared
 * by approval_policy.c (which evaluates) and approval_map.c (which lists
 * the rules in that order for the CLIs that take them).  Internal to
 * libbosun. */
#ifndef BOSUN_APPROVAL_STEPS_H
#define BOSUN_APPROVAL_STEPS_H

#include <bosun/approval.h>

/* One step: the rules of decision d of the policies first..last (0 sticky,
 * 1 agent, 2 global).  Deny, then sticky allow, then ask, then allow. */
typedef struct approval_step {
    enum bosun_approval_decision d;
    int first, last;
} approval_step;

#define APPROVAL_STEPS 4
extern const approval_step approval_steps[APPROVAL_STEPS];

#endif
