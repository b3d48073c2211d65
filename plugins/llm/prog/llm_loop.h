/* The loop of bosun-llm: user message -> model (streamed) -> tool calls
 * (in parallel when all are reads, else in order; each through the
 * approval policy) -> results -> model ... until the model stops or
 * max_rounds tool rounds are done.  The conversation is kept in the
 * neutral format (llm_provider.h) and appended to the session's history
 * in the store (cmd.llm.chat.append); a restarted run reloads it and goes
 * on from where it stopped.  Internal to bosun-llm. */
#ifndef BOSUN_LLM_LOOP_H
#define BOSUN_LLM_LOOP_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "curl_ev.h"
#include "llm_conf.h"
#include "llm_ctl.h"
#include "llm_out.h"
#include "llm_policy.h"
#include "provider/llm_provider.h"
#include "tools/llm_tools.h"

struct ev_loop;

/* How long a bus request may wait: approvals and input wait for people. */
#define LLM_BUS_TIMEOUT   10.0
#define LLM_HUMAN_TIMEOUT 3600.0
/* Messages kept in memory (the context takes the last max_context_messages). */
#define LLM_HISTORY_MAX 20000
/* Messages of history read back at start. */
#define LLM_HISTORY_LOAD 1000

typedef struct llm_loop llm_loop;
typedef struct llm_job llm_job;

/* One tool call of a round. */
struct llm_job {
    llm_loop *l;
    size_t index;       /* in the round */
    json_t *call;       /* {"id","name","arguments"...} (borrowed from the message) */
    llm_tool_job *tool; /* running tool, else NULL */
    uint64_t request;   /* pending bus request (approval, input), else 0 */
    uint64_t sub;       /* input answer subscription, else 0 */
    char *input_id;     /* request_input's request */
    json_t *result;     /* the tool message once done */
    bool started;
    bool tool_ended;      /* the tool's done ran (maybe inside llm_tools_run) */
    bool policy_wait;     /* waits for the policy copy (llm_policy.h) */
    unsigned policy_asks; /* times it was told to wait */
};

struct llm_loop {
    struct ev_loop *loop;
    llm_conf *conf;
    llm_out *out;
    llm_ctl *ctl;
    curl_ev *curl;
    llm_provider *provider;
    llm_tools *tools;
    llm_policy *policy; /* the approval policies, decided here (NULL: asked) */
    json_t *schemas;    /* the tools the model is offered */
    const char *system; /* the system prompt */
    char *system_owned;

    json_t *history;       /* every message of the session so far */
    bool pinned;           /* history[0] is the task prompt: always in context */
    json_t *pending_users; /* chat messages that came while busy */
    json_t *seen_users;    /* ids of the people's messages already in the history */
    bool waiting_chat;     /* idle: the next person's message starts a turn */

    llm_call *call;  /* the model call running, else NULL */
    json_t *context; /* what it was given */
    llm_job *jobs;   /* the round running, else NULL */
    size_t n_jobs, jobs_done, next_job;
    bool parallel;
    ev_timer advance; /* the round's next step, outside any tool's callback */

    long long rounds; /* tool rounds since the last user message */
    long long turns, total_rounds;
    json_t *usage; /* totals of this process */
    double started;
    bool history_stored; /* appends are answered (hD's store is there) */
    bool warned_history, warned_files;
    bool finished;
    ev_timer drain;     /* finished: waits for the last appends to be answered */
    double drain_until; /* ... at most until then (monotonic) */
    bool aborted;       /* stopped from outside: no result line */
    int exit_code;
    const char *status; /* the last status event */
};

/* Sets up the provider and tools and starts: history, then the first
 * turn.  false with the reason in err. */
bool llm_loop_start(llm_loop *l, char *err, size_t err_size);
void llm_loop_free(llm_loop *l);
/* Stops what runs (SIGTERM, the daemon gone) and ends without a result. */
void llm_loop_abort(llm_loop *l, const char *why);

/* llm_loop.c, for the other parts */
void llm_status(llm_loop *l, const char *status, const char *tool, const char *reason);
/* Appends msg (stolen) to the history and the store. */
void llm_history_add(llm_loop *l, json_t *msg);
/* The same, not stored (a message the store has already). */
void llm_history_keep(llm_loop *l, json_t *msg);
/* The next model turn. */
void llm_model_turn(llm_loop *l);
/* Ends the run: a result event, then the loop stops. */
void llm_finish(llm_loop *l, const char *status, const char *subtype, const char *reason,
                int exit_code);
/* The turn answered without tool calls: idle for chat, or done. */
void llm_turn_over(llm_loop *l);

/* llm_round.c: runs the tool calls of the assistant message just added. */
void llm_round_start(llm_loop *l, json_t *calls);
void llm_round_cancel(llm_loop *l);
/* A restart inside a round: calls (their results missing) are answered as
 * interrupted, except input_call, whose request input_id is waited for. */
void llm_round_resume(llm_loop *l, json_t *calls, const char *input_call, const char *input_id);
/* request_input: waits (idle) for the answer to request id. */
void llm_input_wait(llm_job *j, const char *id);
/* The advance timer's callback: starts the next call, or ends the round. */
void llm_round_advance(struct ev_loop *loop, ev_timer *w, int revents);
/* The policy copy's ready (llm_policy_new): the calls waiting go on. */
void llm_round_policy_ready(void *loop);

/* llm_context.c: the messages the model is given: history[0] when pinned,
 * then the last max messages, reaching back to the assistant message of a
 * round the window would cut (a tool result never comes without its
 * call).  New reference. */
json_t *llm_context(const json_t *history, bool pinned, size_t max);

/* llm_chat.c */
/* Loads the session's history, then calls llm_chat_resume. */
void llm_chat_load(llm_loop *l);
/* Stores one message of the conversation (fire and forget). */
void llm_chat_store(llm_loop *l, const json_t *msg);
/* Follows evt.run.*.<run>.chat.user: a person's messages. */
void llm_chat_follow(llm_loop *l);
/* Idle: the next message queued, or wait for one. */
void llm_chat_next(llm_loop *l);
/* request_input's request, noted in the run's directory so that a
 * restarted process waits for the same answer; and read back. */
void llm_input_note(llm_loop *l, const char *call_id, const char *input_id);
json_t *llm_input_noted(llm_loop *l);
/* A workspace file a tool changed: recorded in the store. */
void llm_files_record(llm_loop *l, const char *call_id, const char *path, const char *op,
                      const void *content, size_t len);

#endif
