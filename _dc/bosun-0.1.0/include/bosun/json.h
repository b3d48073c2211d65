/* bosun — JSON text to and from jansson values, fast.
 *
 * bosun_json_parse() takes what json_loadb(JSON_DECODE_ANY) takes and
 * builds the same values, in one pass over the buffer instead of
 * jansson's character-at-a-time stream; with BOSUN_JSON_REJECT_DUPLICATES
 * it refuses what json_loadb(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES)
 * refuses, the rule for every request bosun reads from outside.
 *
 * jansson's json_dumps() guards against cycles by printing each container's
 * address into a hash table as it descends, which makes it costly for the
 * small messages bosun writes on every MCP call, control-socket reply and
 * stored event.  This writer produces the same compact text (insertion
 * order, "/" not escaped, reals as "%.17g" with ".0" added when needed,
 * UTF-8 passed through unless BOSUN_JSON_ASCII asks for \u escapes) and
 * guards against cycles by depth instead. */
#ifndef BOSUN_JSON_H
#define BOSUN_JSON_H

#include <bosun/api.h>

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Non-ASCII characters as \uXXXX (with surrogate pairs), like jansson's
 * JSON_ENSURE_ASCII. */
#define BOSUN_JSON_ASCII 0x1

/* bosun_json_parse: an object with the same key twice is refused (the
 * error names the key) instead of keeping the last.  A request that means
 * two things, read one way here and another way by a proxy or a log
 * reader, is refused on every door of the daemon. */
#define BOSUN_JSON_REJECT_DUPLICATES 0x2

/* Deeper values are refused: nothing bosun parses or builds comes close
 * (jansson's own parser stops at 2048), and a cycle ends here too. */
#define BOSUN_JSON_DEPTH_MAX 2048

/* A growable text buffer; zero-initialise it.  data is NUL-terminated
 * after every successful append. */
typedef struct bosun_json_buf {
    char *data;
    size_t len, cap;
} bosun_json_buf;

/* Appends the compact text of v (any value, not only objects and arrays).
 * Returns 0, or -1 (buf unchanged) when v is NULL, too deep, or memory runs
 * out. */
BOSUN_API int bosun_json_append(bosun_json_buf *buf, const json_t *v, unsigned flags);

/* Appends len bytes of UTF-8 text as a JSON string.  Returns 0, or -1
 * (buf unchanged) when the text is not UTF-8 or memory runs out. */
BOSUN_API int bosun_json_append_string(bosun_json_buf *buf, const char *text, size_t len,
                                       unsigned flags);

/* Appends len bytes as they are (a newline after a message, say).
 * Returns 0, or -1 (buf unchanged) when memory runs out. */
BOSUN_API int bosun_json_append_raw(bosun_json_buf *buf, const char *text, size_t len);

/* The compact text of v, malloc'ed and NUL-terminated (*len, when not
 * NULL, is its length), or NULL as above: a drop-in for
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY). */
BOSUN_API char *bosun_json_dump(const json_t *v, unsigned flags, size_t *len);

/* Where and why a text did not parse: line and column (in characters)
 * from 1, the byte offset, and a message. */
typedef struct bosun_json_error {
    int line, column;
    size_t position;
    char text[160];
} bosun_json_error;

/* The value of len bytes of JSON text (any value, not only objects and
 * arrays), or NULL with err (when not NULL) filled in.  Refused as by
 * jansson: text that is not UTF-8, \u0000 in a string, an integer that
 * does not fit json_int_t, a real that overflows, nesting deeper than
 * BOSUN_JSON_DEPTH_MAX, anything after the value but white space (also a
 * NUL byte, which jansson overlooks after a number).  Of duplicate keys,
 * the last is kept, unless flags has BOSUN_JSON_REJECT_DUPLICATES: then
 * the text is refused, as jansson refuses it, with the error
 * 'duplicate object key "KEY"' at the key's second occurrence (found once
 * its value is read, so a fault inside that value is reported first).
 * Other flags are ignored. */
BOSUN_API json_t *bosun_json_parse(const char *text, size_t len, unsigned flags,
                                   bosun_json_error *err);

/* Whether an object key names a secret: it holds token, secret, password,
 * passwd, apikey, api_key, api-key, authorization or credential, in any
 * case. */
BOSUN_API bool bosun_json_key_is_secret(const char *key);
/* A deep copy of v with the values of secret-looking keys replaced by
 * "(redacted)" and, when max_string is not 0, strings longer than that
 * cut at a character boundary with "... (N bytes)" added: fit for an
 * event (MCP tool calls, agent tool_use inputs).  NULL when memory runs
 * out. */
BOSUN_API json_t *bosun_json_redact(const json_t *v, size_t max_string);

#ifdef __cplusplus
}
#endif
#endif
