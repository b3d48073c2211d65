/* bosun-llm's stdout: one JSON object a line, {"kind": K, ...}, the typed
 * events the llm agent type turns into the run's events (bosun-llm(7),
 * "EVENT LINES").  Text deltas are coalesced: at most one message_delta
 * line every LLM_DELTA_INTERVAL seconds, whatever the model's pace. */
#ifndef BOSUN_LLM_OUT_H
#define BOSUN_LLM_OUT_H

#include <jansson.h>
#include <stddef.h>

struct ev_loop;

#define LLM_DELTA_INTERVAL 0.05

typedef struct llm_out llm_out;

llm_out *llm_out_new(struct ev_loop *loop, int fd);
void llm_out_free(llm_out *o);

/* Writes ev (stolen) with "kind" set, as one line. */
void llm_out_event(llm_out *o, const char *kind, json_t *ev);
/* A piece of the answer being streamed. */
void llm_out_delta(llm_out *o, const char *text, size_t len);
/* What is held goes out now (the turn ended). */
void llm_out_flush(llm_out *o);
/* What is held is dropped: the turn is being retried from its start. */
void llm_out_reset(llm_out *o);
/* message_delta lines written so far (for tests and the log). */
size_t llm_out_delta_lines(const llm_out *o);

#endif
