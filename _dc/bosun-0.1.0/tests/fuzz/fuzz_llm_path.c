/* libFuzzer target for the workspace path rule (core/common/llm_path.c),
 * which every llm file path from an agent, a REST client or the bus goes
 * through before the store keeps it or the daemon writes it.
 *
 * The input (up to 2 KiB; an embedded NUL is part of it) is checked with
 * llm_path_check and with a reference written here from the rule's words:
 * both must agree.  A refusal must say why; an accepted path has no
 * segment the daemon's segment-by-segment open could climb out with. */
#include "config.h"

#include "fuzz_check.h"
#include "llm_path.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <bosun/codec.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* C0 controls, DEL and C1 controls (U+0080..U+009F, encoded c2 80..c2 9f). */
static bool reference_control(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            return true;
        if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            return true;
    }
    return false;
}

static bool reference(const uint8_t *p, size_t n)
{
    if (n == 0 || n > LLM_PATH_MAX || memchr(p, 0, n))
        return false;
    if (!bosun_utf8_text((const char *)p, n) || reference_control(p, n))
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '/')
            continue;
        size_t len = i - start;
        if (len == 0 || len > LLM_SEGMENT_MAX)
            return false;
        if ((len == 1 && p[start] == '.') || (len == 2 && p[start] == '.' && p[start + 1] == '.'))
            return false;
        start = i + 1;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2048)
        return 0;
    char err[256] = "";
    bool got = llm_path_check((const char *)data, size, err, sizeof err);
    FUZZ_CHECK(got == reference(data, size));
    FUZZ_CHECK(got || err[0]);
    if (got) {
        FUZZ_CHECK(data[0] != '/' && data[size - 1] != '/');
        FUZZ_CHECK(!memmem(data, size, "//", 2));
    }
    return 0;
}
