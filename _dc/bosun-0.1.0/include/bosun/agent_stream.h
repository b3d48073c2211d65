/* bosun — what the agent types for the coding CLIs (claude-code, codex,
 * gemini) share: reading a stream-json line, building the typed events of
 * a run, the agent keys they all take, argv building, session ids.
 *
 * Events are appended to the `events` array parse_line is given (see
 * <bosun/agent.h>); each builder returns the new event (a borrowed
 * reference: it belongs to `events`) so that a type adds its own fields,
 * or NULL when memory ran out.  Sizes are capped here so that no agent
 * type can publish a 10 MiB tool result as one event: a capped text says
 * so with "truncated": true and its full size in bytes. */
#ifndef BOSUN_AGENT_STREAM_H
#define BOSUN_AGENT_STREAM_H

#include <bosun/api.h>

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <bosun/agent.h>
#include <bosun/cfg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BOSUN_AGENT_TEXT_MAX     (64 * 1024) /* message text kept in one event */
#define BOSUN_AGENT_THINKING_MAX (16 * 1024) /* thinking text, when it is kept at all */
#define BOSUN_AGENT_RESULT_MAX   (16 * 1024) /* tool_result content */
#define BOSUN_AGENT_INPUT_MAX    4096        /* each string in a tool_use input */

/* The JSON object on one line, or NULL when the line is longer than max
 * bytes, is not JSON, or is JSON but not an object (the caller keeps such
 * a line as an "output" event by returning 0 from parse_line). */
BOSUN_API json_t *bosun_agent_line_json(const char *line, size_t len, size_t max);

/* Reading a line's object: o[key] as a string (NULL when it is none, or
 * o is not an object), as an integer (def when it is none), and ev[to] =
 * from[key] when both are there. */
BOSUN_API const char *bosun_agent_str(const json_t *o, const char *key);
BOSUN_API long long bosun_agent_int(const json_t *o, const char *key, long long def);
BOSUN_API void bosun_agent_copy(json_t *ev, const char *to, const json_t *from, const char *key);
/* A token count o[key] as a CLI reports it: -1 when there is none, a
 * negative one as 0, and one past 2^50 (no real count) clamped there, so
 * that sums and differences of counts cannot overflow. */
#define BOSUN_AGENT_TOKENS_MAX (1LL << 50)
BOSUN_API long long bosun_agent_tokens(const json_t *o, const char *key);

/* {"kind": kind}, appended. */
BOSUN_API json_t *bosun_agent_event(json_t *events, const char *kind);

/* "session": {"session_id"}; the type adds model, cwd, tools, mcp_servers. */
BOSUN_API json_t *bosun_agent_ev_session(json_t *events, const char *session_id);
/* "message": {"text"} (assistant text, capped at BOSUN_AGENT_TEXT_MAX). */
BOSUN_API json_t *bosun_agent_ev_message(json_t *events, const char *text, size_t len);
/* "thinking": {"text"} capped at cap (at most BOSUN_AGENT_THINKING_MAX). */
BOSUN_API json_t *bosun_agent_ev_thinking(json_t *events, const char *text, size_t len, size_t cap);
/* "tool_use": {"id", "name", "input"}: input copied with the values of
 * secret-looking keys (token, password, api_key, authorization, ...)
 * replaced by "(redacted)" and strings cut at BOSUN_AGENT_INPUT_MAX, as
 * MCP tool calls are recorded (bosun_json_redact); values bosun issued are
 * also masked by the bus on every evt. message. */
BOSUN_API json_t *bosun_agent_ev_tool_use(json_t *events, const char *id, const char *name,
                                          const json_t *input);
/* "tool_result": {"id", "is_error", "content"}: content is a string or
 * an array of blocks ({"type":"text","text"} and others); its text is
 * kept up to BOSUN_AGENT_RESULT_MAX, other blocks are counted. */
BOSUN_API json_t *bosun_agent_ev_tool_result(json_t *events, const char *id, bool is_error,
                                             const json_t *content);
/* "usage": {"input_tokens", "output_tokens", "cache_read_tokens",
 * "cache_write_tokens"} of one turn (negative: not reported, left out). */
BOSUN_API json_t *bosun_agent_ev_usage(json_t *events, long long input, long long output,
                                       long long cache_read, long long cache_write);
/* "result": {"status", "subtype"} (NULL: left out); the type adds turns,
 * duration_ms, cost_usd, error and "reason" (see bosun_run_info.result). */
BOSUN_API json_t *bosun_agent_ev_result(json_t *events, const char *status, const char *subtype);

/* result.usage from a usage event's counts, for a CLI whose result line
 * has no totals of its own: the core adds each result's usage to the
 * run's tokens.  Nothing when either is NULL. */
BOSUN_API void bosun_agent_result_usage(json_t *result, const json_t *usage);

/* ---------------------------------------------------------------- keys */

/* The keys every coding-CLI agent type takes, for its config_keys list:
 *   static const char *const keys[] = {BOSUN_AGENT_CLI_KEYS, "mine", NULL};
 * (env, workdir, resume and the supervision keys are the core's.) */
#define BOSUN_AGENT_CLI_KEYS                                                                       \
    "bin", "model", "max_turns", "permission_mode", "allowed_tools", "disallowed_tools",           \
        "append_system_prompt", "extra_args"

typedef struct bosun_agent_cli {
    const char *bin;                  /* program: the type's default unless set */
    const char *model;                /* NULL: the CLI's default */
    long long max_turns;              /* 0: the CLI's default */
    const char *permission_mode;      /* NULL: the CLI's default */
    const char **allowed_tools;       /* NULL-terminated, or NULL */
    const char **disallowed_tools;    /* NULL-terminated, or NULL */
    const char *append_system_prompt; /* NULL: none */
    const char **extra_args;          /* appended to argv as they are, or NULL */
} bosun_agent_cli;

/* Reads and checks the keys above in an agent's section, with
 * FILE:LINE:COL errors in d.  permission_modes lists the values the CLI
 * accepts (NULL-terminated; NULL: any non-empty string).  Strings point
 * into the section; bosun_agent_cli_free frees the lists.  On false, *out
 * holds nothing to free. */
BOSUN_API bool bosun_agent_cli_parse(const cfg_node *agent, const char *default_bin,
                                     const char *const *permission_modes, bosun_agent_cli *out,
                                     cfg_diag *d);
BOSUN_API void bosun_agent_cli_free(bosun_agent_cli *c);

/* ---------------------------------------------------------------- argv */

/* A growing NULL-terminated argv of malloc'ed strings; zero-initialise.
 * A failed allocation is remembered and reported by bosun_argv_take. */
typedef struct bosun_argv {
    char **v;
    size_t n, cap;
    bool failed;
} bosun_argv;

BOSUN_API void bosun_argv_add(bosun_argv *a, const char *s);
/* flag then value, when value is not NULL. */
BOSUN_API void bosun_argv_add2(bosun_argv *a, const char *flag, const char *value);
/* Each of list (NULL-terminated; NULL adds nothing). */
BOSUN_API void bosun_argv_add_all(bosun_argv *a, const char *const *list);
/* Hands the argv over (0), or frees it all and returns -1 when memory ran
 * out on the way: never a shortened command. */
BOSUN_API int bosun_argv_take(bosun_argv *a, char ***out);

/* ---------------------------------------------------------------- MCP */

/* bosun's own server from the run's MCP file (run->mcp_config, the
 * mcpServers format): {"command": S, "args": [S...], "env": {NAME: S}} as
 * a new reference, for the CLIs that take MCP servers in their own format
 * (Codex, Gemini).  NULL with a reason in *error (malloc'ed) when the run
 * has no such file or it does not hold that shape. */
BOSUN_API json_t *bosun_agent_mcp_server(const bosun_run_info *run, char **error);

/* ---------------------------------------------------------------- sessions */

/* A random (version 4) UUID, lower-case, into out (at least 37 bytes). */
BOSUN_API void bosun_uuid_new(char *out, size_t size);
/* Whether id is a session id the core stores: 1..BOSUN_SESSION_ID_MAX of
 * A-Z a-z 0-9 - _ . : (what goes on a command line as one argument). */
BOSUN_API bool bosun_session_id_valid(const char *id);

#ifdef __cplusplus
}
#endif
#endif
