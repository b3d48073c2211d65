/* codex — the agent type for OpenAI's Codex CLI, run as
 * `codex exec --json`.  Internal to the plugin. */
#ifndef BOSUN_CODEX_H
#define BOSUN_CODEX_H

#include <bosun/bosun.h>
#include <bosun/agent_stream.h>

/* turn.completed carries the thread's token totals, not the turn's: the
 * last totals of this many threads are remembered so that a usage event
 * says what one turn used. */
#define CODEX_THREADS_SEEN 256

typedef struct codex_totals {
    long long input, cached, output, reasoning;
} codex_totals;

typedef struct codex_thread {
    char id[BOSUN_SESSION_ID_MAX + 1];
    codex_totals totals;
} codex_thread;

typedef struct codex_state {
    codex_thread seen[CODEX_THREADS_SEEN];
    unsigned next; /* the slot a new thread takes (oldest first) */
} codex_state;

/* Codex's sandbox modes: what permission_mode takes. */
extern const char *const codex_modes[];

/* codex_launch.c */
int codex_build_launch(void *state, const bosun_run_info *run, bosun_launch *out, char **error);
int codex_build_resume(void *state, const bosun_run_info *run, bosun_launch *out, char **error);

/* codex_parse.c */
int codex_parse_line(void *state, const bosun_run_info *run, enum bosun_stream stream,
                     const char *line, size_t len, json_t *events);

#endif
