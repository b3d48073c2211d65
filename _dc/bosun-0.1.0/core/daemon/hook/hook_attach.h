/* Attached runs: Claude Code sessions a person started by hand, reported
 * by `bosunctl hook` over the control socket (cmd.hook.event).  Each
 * session is a run of agent "claude-code:attached" (its subjects use the
 * token "claude-code_attached"), created on its first hook, ended by Stop
 * or SessionEnd, stored and listed like any run.  See bosun-bus(7) and
 * bosun-claude-code(7). */
#ifndef BOSUN_HOOK_ATTACH_H
#define BOSUN_HOOK_ATTACH_H

#include <bosun/bus.h>
#include <jansson.h>

#include "ctl_wire.h"

/* HOOK_CMD_EVENT (ctl_wire.h): {"input": TEXT} (the hook's stdin as it
 * was), {"oversize": BYTES} or {"not_text": BYTES} -> {"run",
 * "session_id", "state", "event", "attention"}. */
/* The agent's name, and the token that stands for it in subjects (':' is
 * not a subject character). */
#define HOOK_AGENT         "claude-code:attached"
#define HOOK_AGENT_SUBJECT "claude-code_attached"

typedef struct hook_service hook_service;

hook_service *hook_service_new(bus_t *bus, const char *machine_id);
void hook_service_free(hook_service *s);
/* Appends the ps rows of the attached runs (active ones, and the latest
 * that ended) to rows. */
void hook_service_ps_rows(void *service, json_t *rows);

#endif
