/* bosun — secrets the daemon issued, redacted by value.
 *
 * Redacting by key name ("token", "password") misses a secret pasted into
 * free text.  The daemon knows the secrets it hands out (agent tokens, and
 * later admin and machine tokens): it registers each one here while it is
 * live, and the bus (for every evt.… message, which the store persists)
 * and the log replace any registered value by BOSUN_SECRET_MASK before the
 * text goes anywhere.
 *
 * Every secret starts with a short fixed prefix ("bat_"); a scan looks for
 * the registered prefixes only, and each hit costs one hash lookup, so a
 * text without a prefix costs a memmem per prefix.  The registry is
 * process-wide and thread-safe (the log is written from other threads). */
#ifndef BOSUN_SECRET_H
#define BOSUN_SECRET_H

#include <bosun/api.h>

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BOSUN_SECRET_MASK       "[redacted]"
#define BOSUN_SECRET_MIN        16  /* shortest value accepted, bytes */
#define BOSUN_SECRET_MAX        256 /* longest */
#define BOSUN_SECRET_PREFIX_MAX 15

/* Registers value, whose first prefix_len bytes (1..15) are the prefix
 * shared by its kind.  Idempotent.  -1 with errno EINVAL for a bad length,
 * ENOMEM on memory failure. */
BOSUN_API int bosun_secret_add(const char *value, size_t prefix_len);
/* Forgets a value (its credential died).  Unknown values are ignored. */
BOSUN_API void bosun_secret_remove(const char *value);
BOSUN_API size_t bosun_secret_count(void);
/* Whether text holds a registered value. */
BOSUN_API bool bosun_secret_find(const char *text, size_t len);
/* A copy of text with every registered value replaced by the mask (and its
 * length in *out_len when not NULL), or NULL when there was nothing to
 * replace (or no memory). */
BOSUN_API char *bosun_secret_redact(const char *text, size_t len, size_t *out_len);
/* v itself (a new reference) when no string or key in it holds a
 * registered value, else a redacted deep copy (a new reference). */
BOSUN_API json_t *bosun_secret_redact_json(json_t *v);

#ifdef __cplusplus
}
#endif
#endif
