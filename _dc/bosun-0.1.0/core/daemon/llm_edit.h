/* Human edits of an llm run's workspace: cmd.llm.files.put and
 * cmd.llm.files.delete (bosun-bus(7)).  Served by the daemon, not by the
 * store, because they write where the agent works: the daemon knows the
 * agent's workdir and writes with the no-follow rules of fsafe.h; the
 * store then records the change (cmd.llm.files.record, actor "human"). */
#ifndef BOSUN_LLM_EDIT_H
#define BOSUN_LLM_EDIT_H

#include <bosun/bus.h>

#include "proc.h"

typedef struct llm_edit llm_edit;

/* NULL when the subscriptions cannot be made. */
llm_edit *llm_edit_new(bus_t *bus, proc *p, const char *state_dir);
/* Cancels the edits waiting for the store; their requesters get no reply. */
void llm_edit_free(llm_edit *e);

#endif
