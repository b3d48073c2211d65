/* bosun — compact JSON text of a jansson value, fast.
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

#include <stddef.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Non-ASCII characters as \uXXXX (with surrogate pairs), like jansson's
 * JSON_ENSURE_ASCII. */
#define BOSUN_JSON_ASCII 0x1

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
int bosun_json_append(bosun_json_buf *buf, const json_t *v, unsigned flags);

/* Appends len bytes of UTF-8 text as a JSON string.  Returns 0, or -1
 * (buf unchanged) when the text is not UTF-8 or memory runs out. */
int bosun_json_append_string(bosun_json_buf *buf, const char *text, size_t len, unsigned flags);

/* Appends len bytes as they are (a newline after a message, say).
 * Returns 0, or -1 (buf unchanged) when memory runs out. */
int bosun_json_append_raw(bosun_json_buf *buf, const char *text, size_t len);

/* The compact text of v, malloc'ed and NUL-terminated (*len, when not
 * NULL, is its length), or NULL as above: a drop-in for
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY). */
char *bosun_json_dump(const json_t *v, unsigned flags, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
