/* Approvals: the requests of <bosun/approval.h>, served by the core because
 * the policy lives in the daemon's configuration (global and per agent). */
#ifndef BOSUN_APPROVAL_SERVICE_H
#define BOSUN_APPROVAL_SERVICE_H

#include <bosun/approval.h>
#include <bosun/bus.h>

#include "proc.h"

typedef struct approval_service approval_service;

/* global points at the daemon's current global policy (replaced at each
 * reload, so it is read through the pointer every time). */
struct ev_loop;
approval_service *approval_service_new(struct ev_loop *loop, bus_t *bus, proc *p,
                                       bosun_approval_policy *const *global);
void approval_service_free(approval_service *s);
/* Some policy changed (a reload): a new generation, and its notice
 * (BOSUN_APPROVAL_CHANGED) published.  NULL s: nothing. */
void approval_service_changed(approval_service *s);

#endif
