/* Small helpers shared by the core: allocation that aborts on exhaustion,
 * clocks, and string utilities.  Internal to libbosun and its programs. */
#ifndef BOSUN_UTIL_H
#define BOSUN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <bosun/sys.h> /* bosun_now, bosun_monotonic, bosun_random_bytes */

/* Allocation failure is not recoverable for a daemon this small: these log
 * and abort() rather than let every caller grow an error path that cannot be
 * tested. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What they do when n bytes cannot be had, for allocators of others
 * (bosun_lines). */
void util_oom(size_t n) __attribute__((noreturn));

/* NULL-terminated string arrays: a deep copy (NULL gives an empty array),
 * and freeing one with its strings. */
char **util_strv_dup(const char *const *v);
void util_strv_free(char **v);

/* Creates a directory and its parents with mode (like mkdir -p).  Returns 0
 * or -1 with errno. */
int util_mkdir_p(const char *path, unsigned mode);

/* Standard base64 (RFC 4648) of len bytes; malloc'ed, NUL-terminated. */
char *util_base64_encode(const void *data, size_t len);
/* Decodes base64 into a malloc'ed buffer (*out_len bytes); NULL when the
 * input is not base64. */
unsigned char *util_base64_decode(const char *text, size_t *out_len);

#endif
