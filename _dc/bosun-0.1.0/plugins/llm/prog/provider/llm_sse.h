/* llm_sse.h — a bounded reader of text/event-stream (the WHATWG "server-sent
 * events" format) as model APIs stream it.  Bytes go in as they arrive, in
 * any split; each complete event comes out through a callback with its type
 * ("message" when the stream names none) and its data (the data lines joined
 * by LF).  Lines end with LF, CRLF or CR; comments (":") and the id and
 * retry fields are skipped.  A line longer than max_line or an event whose
 * data passes max_event stops the reader with an error naming the limit. */
#ifndef BOSUN_LLM_SSE_H
#define BOSUN_LLM_SSE_H

#include <stddef.h>

typedef struct llm_sse llm_sse;

/* Returns 0 to go on; anything else stops the reader and is returned by
 * llm_sse_feed().  data is NUL-terminated (the NUL not counted in len). */
typedef int (*llm_sse_event_fn)(void *arg, const char *event, const char *data, size_t len);

/* NULL when out of memory. */
llm_sse *llm_sse_new(size_t max_line, size_t max_event, llm_sse_event_fn fn, void *arg);
/* 0; -1 on a limit passed (llm_sse_error says which); or the callback's
 * non-zero value.  After a non-zero return the reader refuses more input. */
int llm_sse_feed(llm_sse *s, const char *buf, size_t len);
/* The end of the stream: a last line without its end is taken as ended;
 * an event not closed by a blank line is dropped, as the format says.
 * Returns as llm_sse_feed. */
int llm_sse_finish(llm_sse *s);
/* The reason of the last -1, or "". */
const char *llm_sse_error(const llm_sse *s);
/* Events delivered so far. */
size_t llm_sse_events(const llm_sse *s);
void llm_sse_free(llm_sse *s);

#endif
