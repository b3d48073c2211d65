/* llm_retry.h — when to try a model request again, and how long to wait:
 * the failures worth another attempt (429, 408, 5xx, network, timeouts),
 * exponential back-off, and the server's Retry-After (seconds or an HTTP
 * date) when it gives one. */
#ifndef BOSUN_LLM_RETRY_H
#define BOSUN_LLM_RETRY_H

#include <stdbool.h>
#include <time.h>

#define LLM_RETRY_BASE      1.0   /* seconds before the first retry */
#define LLM_RETRY_MAX       60.0  /* longest back-off of our own */
#define LLM_RETRY_AFTER_MAX 300.0 /* longest Retry-After honoured */

/* The category of an HTTP status that is not 2xx. */
const char *llm_retry_status_category(long status);
/* Whether a failure of that category may succeed when tried again. */
bool llm_retry_category_retryable(const char *category);
/* Seconds a Retry-After value asks for, now being the current time; -1
 * when the value is neither a number of seconds nor an HTTP date.  A date
 * in the past is 0; the result is capped at LLM_RETRY_AFTER_MAX. */
double llm_retry_after_parse(const char *value, time_t now);
/* The wait before attempt number `attempt` (2 for the first retry):
 * retry_after when >= 0, else LLM_RETRY_BASE doubled per attempt up to
 * LLM_RETRY_MAX. */
double llm_retry_wait(int attempt, double retry_after);

#endif
