/* llm_dialect.h — what differs between the model APIs bosun-llm speaks: the
 * request (URL path, headers, body from the neutral conversation) and the
 * reading of the streamed events into an llm_asm.  The transfer, timeouts
 * and retries around them are the same for all (llm_provider.c). */
#ifndef BOSUN_LLM_DIALECT_H
#define BOSUN_LLM_DIALECT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "llm_asm.h"
#include "llm_provider.h"

/* The agent's llm: settings, checked (llm_provider_new). */
typedef struct llm_settings {
    char *model;
    char *api_key; /* "" when none */
    char *base_url;
    long max_tokens;
    double temperature;
    bool has_temperature;
    double request_timeout; /* seconds, one attempt */
    double stall_timeout;   /* seconds without a byte */
    int retries;
} llm_settings;

/* One attempt's stream, as a dialect's event reader sees it. */
typedef struct llm_stream {
    llm_asm *a;
    const struct llm_turn_ops *ops;
    void *arg;
    bool finished;  /* the stream's own end came ([DONE], message_stop) */
    bool delivered; /* a delta went to the caller */
    bool cancelled; /* the caller cancelled from a callback: pass nothing more on */
} llm_stream;

typedef struct llm_dialect {
    const char *name;
    const char *default_base_url;
    const char *path; /* appended to base_url */
    /* The request body (new reference), or NULL with err filled. */
    json_t *(*body)(const llm_settings *s, const char *system, const json_t *messages,
                    const json_t *tools, char *err, size_t err_size);
    /* Adds the API's own headers (the key among them) to list. */
    struct curl_slist *(*headers)(const llm_settings *s, struct curl_slist *list);
    /* One SSE event: 0, or -1 with the error in st->a. */
    int (*event)(llm_stream *st, const char *event, const char *data, size_t len);
} llm_dialect;

extern const llm_dialect llm_dialect_openai;
extern const llm_dialect llm_dialect_anthropic;

/* Shared by the dialects: a text or thinking delta to the asm and the
 * caller. */
int llm_stream_text(llm_stream *st, const char *text, size_t len);
void llm_stream_thinking(llm_stream *st, const char *text, size_t len);
/* A header line "Name: value" appended (NULL on out of memory, list freed). */
struct curl_slist *llm_header_add(struct curl_slist *list, const char *name, const char *value);
/* A string member, or "". */
const char *llm_str(const json_t *o, const char *key);
/* A JSON integer member, or -1. */
json_int_t llm_json_int(const json_t *o, const char *key);

#endif
