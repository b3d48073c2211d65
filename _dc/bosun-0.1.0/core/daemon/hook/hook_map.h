/* One Claude Code hook call (the JSON `bosunctl hook` read on its stdin),
 * validated and mapped to the typed events of an attached run: the same
 * kinds supervised claude-code runs produce (session, message, tool_use,
 * tool_result), plus "hook" (the raw call, redacted), "attention" and the
 * end of the run.  Pure: no I/O, no globals, so it is fuzzed as it is
 * (tests/fuzz/fuzz_hook.c).  See bosun-claude-code(7), "Sessions started
 * by hand". */
#ifndef BOSUN_HOOK_MAP_H
#define BOSUN_HOOK_MAP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctl_wire.h" /* HOOK_INPUT_MAX */

/* Paths (cwd, transcript_path) and names, at most. */
#define HOOK_PATH_MAX 4096
#define HOOK_NAME_MAX 256
/* Strings kept in the raw "hook" event, each at most. */
#define HOOK_RAW_STRING_MAX 4096

typedef struct hook_call {
    char event[HOOK_NAME_MAX + 1]; /* hook_event_name */
    char session_id[256];
    json_t *events;    /* typed events, each {"kind", ...}, for the run */
    json_t *info;      /* cwd, transcript_path, permission_mode, when given */
    bool known;        /* one of the events bosun maps (else only "hook") */
    bool ends;         /* Stop, SessionEnd: the attached run is over */
    bool ends_session; /* SessionEnd: nothing follows */
    bool attention;    /* a Notification asking the person for something */
    char end_reason[512];
    char attention_reason[512];
} hook_call;

/* Parses and maps text (len bytes).  0 with *out filled (hook_call_clear
 * frees it), or -1 with a sentence naming what was wrong in err. */
int hook_map(const char *text, size_t len, hook_call *out, char *err, size_t err_size);
void hook_call_clear(hook_call *c);

#endif
