/* llm_asm.h — one streamed assistant turn put together from its deltas, the
 * same for every provider: the text, tool calls in slots numbered by the
 * provider's index (OpenAI's tool_calls[].index, Anthropic's content block
 * index), the stop reason and the usage.  Every part is bounded; the first
 * bound passed or malformed piece is kept as the turn's error.  When the
 * stream has ended, llm_asm_message() builds the neutral assistant message,
 * parsing each tool call's arguments once, whole. */
#ifndef BOSUN_LLM_ASM_H
#define BOSUN_LLM_ASM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define LLM_ASM_MAX_TEXT  (4u << 20) /* bytes of text in one turn */
#define LLM_ASM_MAX_ARGS  (1u << 20) /* bytes of one tool call's arguments */
#define LLM_ASM_MAX_CALLS 128        /* tool calls in one turn, and their highest index + 1 */
#define LLM_ASM_MAX_FIELD 256        /* bytes of a tool call's id or name */

typedef struct llm_asm llm_asm;

llm_asm *llm_asm_new(void);
void llm_asm_free(llm_asm *a);

/* Each returns 0, or -1 with llm_asm_error() set. */
int llm_asm_text(llm_asm *a, const char *text, size_t len);
/* Opens slot index if new; id and name (NULL: unchanged) are set when the
 * slot has none yet, as servers may repeat them on every delta. */
int llm_asm_call(llm_asm *a, long index, const char *id, const char *name);
int llm_asm_args(llm_asm *a, long index, const char *text, size_t len);
/* Arguments given whole as a value (Anthropic's content_block_start input,
 * used when no input_json_delta follows). */
int llm_asm_args_value(llm_asm *a, long index, const json_t *value);
bool llm_asm_has_call(const llm_asm *a, long index);

void llm_asm_stop(llm_asm *a, const char *reason);
const char *llm_asm_stop_reason(const llm_asm *a); /* NULL until set */
/* Sets a usage counter; negative values are ignored. */
void llm_asm_usage(llm_asm *a, const char *key, json_int_t value);

/* A turn's error (first one kept) and whether it came from the stream's
 * own error event (then category names it) rather than a malformed piece. */
void llm_asm_fail(llm_asm *a, const char *category, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *llm_asm_error(const llm_asm *a);    /* NULL when none */
const char *llm_asm_category(const llm_asm *a); /* NULL when none */

/* The neutral assistant message (new reference) and usage (borrowed). */
json_t *llm_asm_message(llm_asm *a);
json_t *llm_asm_usage_json(llm_asm *a);
size_t llm_asm_text_len(const llm_asm *a);

#endif
