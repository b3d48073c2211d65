/* llm_provider.h — one model call of bosun-llm, in the neutral conversation
 * format (see bosun-llm(7)): OpenAI-compatible Chat Completions and
 * Anthropic Messages, streamed over SSE, with retries inside the provider.
 *
 * Messages: array of {"role":"user","content":"text"},
 *   {"role":"assistant","content":"text","tool_calls":[{"id","name","arguments":{...}}]}
 *   (arguments that were not a valid JSON object: "arguments":null,
 *   "arguments_error":"why","arguments_raw":"the text"),
 *   {"role":"tool","tool_call_id","name","content","is_error"}.
 * Tools: array of {"name","description","input_schema"}.
 * Usage: {"input_tokens","output_tokens","cache_read_tokens","cache_write_tokens"}. */
#ifndef BOSUN_LLM_PROVIDER_H
#define BOSUN_LLM_PROVIDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "curl_ev.h"

typedef struct llm_provider llm_provider;
typedef struct llm_call llm_call;

struct llm_turn_result {
    bool ok;                 /* false: error/category/message below */
    const char *stop_reason; /* "end_turn" | "tool_use" | "max_tokens" | provider's own */
    json_t *message;         /* neutral assistant message (borrowed; json_incref to keep) */
    json_t *usage;           /* neutral usage (borrowed) */
    const char *category;    /* on error: "auth" | "rate_limit" | "server" | "timeout" | "network" |
                                "invalid_response" */
    const char *error;       /* on error: readable, NEVER contains the API key */
    long http_status;        /* 0 if none */
};

struct llm_turn_ops {
    void (*text_delta)(void *arg, const char *text, size_t len);     /* as SSE deltas arrive */
    void (*thinking_delta)(void *arg, const char *text, size_t len); /* may be NULL */
    void (*retrying)(void *arg, int attempt, double wait_seconds,
                     const char *why);                        /* may be NULL */
    void (*done)(void *arg, const struct llm_turn_result *r); /* exactly once unless cancelled */
};

/* cfg: the agent's `llm:` section as JSON: provider, base_url, model,
 * api_key (the resolved secret), max_tokens, temperature, request_timeout
 * (seconds), retries. */
llm_provider *llm_provider_new(curl_ev *curl, const json_t *cfg, char *err, size_t err_size);
llm_call *llm_provider_call(llm_provider *p, const char *system, json_t *messages, json_t *tools,
                            const struct llm_turn_ops *ops, void *arg);
void llm_call_cancel(llm_call *c);
void llm_provider_free(llm_provider *p);

/* ---- additions to the shared design (compatible with it)
 *
 * The provider's timers (stall timeout, retry back-off) run on libev's
 * default loop, the one bosun-llm runs (ev_child needs it); a program on
 * another loop sets it before the first call.
 *
 * llm_provider_call() returns NULL, without calling done, when the request
 * cannot be made at all (out of memory, messages not in the neutral
 * format); llm_provider_error() then says why.  After done the call is
 * gone: it is freed before done runs, so done may start the next call,
 * and llm_call_cancel() must not be given it any more.  A call may be
 * cancelled from its own text_delta, thinking_delta or retrying callback
 * (nothing more is called then).  Calls are cancelled before
 * llm_provider_free().
 *
 * cfg also takes stall_timeout (seconds without a byte from the server
 * before the attempt is a "timeout"; default 120).  Defaults: base_url
 * https://api.openai.com/v1 (requests go to BASE/chat/completions) or
 * https://api.anthropic.com/v1 (BASE/messages), max_tokens 4096,
 * request_timeout 600, retries 3. */
struct ev_loop;
void llm_provider_set_loop(llm_provider *p, struct ev_loop *loop);
const char *llm_provider_error(const llm_provider *p);

#endif
