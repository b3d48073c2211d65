/* The workspace path rule (llm_path.h).  Segments are checked one by one
 * so the message names the first one at fault. */
#include "llm_path.h"

#include <stdio.h>
#include <string.h>

#include <bosun/codec.h>

/* C0 controls, DEL and C1 controls (U+0080..U+009F) in valid UTF-8. */
static bool llm_path_control(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f || (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0))
            return true;
    return false;
}

static bool llm_path_segment(const char *seg, size_t len, char *err, size_t err_size)
{
    if (len == 0) {
        snprintf(err, err_size, "the path has an empty segment ('//', or '/' at an end)");
        return false;
    }
    if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) {
        snprintf(err, err_size, "the path must not have a '.' or '..' segment");
        return false;
    }
    if (len > LLM_SEGMENT_MAX) {
        snprintf(err, err_size, "a path segment is %zu bytes, more than %d", len, LLM_SEGMENT_MAX);
        return false;
    }
    return true;
}

bool llm_path_check(const char *path, size_t n, char *err, size_t err_size)
{
    if (n == 0 || n > LLM_PATH_MAX) {
        snprintf(err, err_size, "the path must be 1 to %d bytes, got %zu", LLM_PATH_MAX, n);
        return false;
    }
    if (!bosun_utf8_text(path, n) || llm_path_control((const unsigned char *)path, n)) {
        snprintf(err, err_size, "the path must be UTF-8 text without control characters");
        return false;
    }
    if (path[0] == '/') {
        snprintf(err, err_size, "the path must be relative to the workspace (no leading '/')");
        return false;
    }
    for (size_t i = 0; i <= n;) {
        const char *slash = memchr(path + i, '/', n - i);
        size_t len = slash ? (size_t)(slash - (path + i)) : n - i;
        if (!llm_path_segment(path + i, len, err, err_size))
            return false;
        i += len + 1;
    }
    return true;
}
