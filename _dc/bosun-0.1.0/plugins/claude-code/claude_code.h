/* claude-code — the agent type for Anthropic's Claude Code CLI, run as
 * `claude -p --output-format stream-json --verbose`.  Internal to the
 * plugin. */
#ifndef BOSUN_CLAUDE_CODE_H
#define BOSUN_CLAUDE_CODE_H

#include <bosun/bosun.h>
#include <bosun/agent_stream.h>

/* Assistant messages come one content block a line, each line with the
 * message's usage so far: the usage of a message is published once, from
 * its first line.  The last message id of this many runs is remembered. */
#define CLAUDE_RUNS_SEEN 256

typedef struct claude_seen {
    char run[32];
    char message[64];
} claude_seen;

typedef struct claude_state {
    claude_seen seen[CLAUDE_RUNS_SEEN];
    unsigned next; /* the slot a new run takes (oldest first) */
} claude_state;

/* claude_parse.c */
int claude_parse_line(void *state, const bosun_run_info *run, enum bosun_stream stream,
                      const char *line, size_t len, json_t *events);

#endif
