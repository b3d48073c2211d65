/* libFuzzer target for bosun-llm's event-stream reader
 * (plugins/llm/prog/provider/llm_sse.c).
 *
 * The first byte chooses the chunk size (1 to 64), the next two the limits
 * (a line of 1 to 256 bytes, an event of 1 to 1024); the rest is the
 * stream.  Fed whole and fed in chunks, the reader must give the same
 * events and the same outcome: it may not depend on how the bytes arrive.
 * Every event holds to the limits (its type, unless the default
 * "message", fits a line), its type has no line end, its data no CR; a
 * refusal says why. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "llm_sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct record {
    char *buf;
    size_t len, cap;
    size_t max_line, max_event;
} record;

static void put(record *r, const void *p, size_t n)
{
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        while (cap < r->len + n)
            cap *= 2;
        r->buf = realloc(r->buf, cap);
        FUZZ_CHECK(r->buf);
        r->cap = cap;
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}

static int on_event(void *arg, const char *event, const char *d, size_t len)
{
    record *r = arg;
    size_t elen = strlen(event);
    /* A type given fits a line; none given is "message". */
    FUZZ_CHECK(elen > 0 && (elen <= r->max_line || strcmp(event, "message") == 0));
    FUZZ_CHECK(!strpbrk(event, "\r\n"));
    FUZZ_CHECK(len <= r->max_event);
    FUZZ_CHECK(d[len] == '\0');
    FUZZ_CHECK(!memchr(d, '\r', len));
    put(r, &elen, sizeof elen);
    put(r, event, elen);
    put(r, &len, sizeof len);
    put(r, d, len);
    return 0;
}

static int run(record *r, const uint8_t *in, size_t n, size_t step)
{
    llm_sse *s = llm_sse_new(r->max_line, r->max_event, on_event, r);
    FUZZ_CHECK(s);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i += step)
        rc = llm_sse_feed(s, (const char *)in + i, n - i < step ? n - i : step);
    if (rc == 0)
        rc = llm_sse_finish(s);
    if (rc)
        FUZZ_CHECK(rc == -1 && *llm_sse_error(s));
    llm_sse_free(s);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t step = 1 + data[0] % 64;
    record whole = {.max_line = 1 + data[1], .max_event = 1 + (size_t)data[2] * 4};
    record split = whole;
    int a = run(&whole, data + 3, size - 3, size);
    int b = run(&split, data + 3, size - 3, step);
    FUZZ_CHECK(a == b);
    FUZZ_CHECK(whole.len == split.len);
    FUZZ_CHECK(whole.len == 0 || memcmp(whole.buf, split.buf, whole.len) == 0);
    free(whole.buf);
    free(split.buf);
    return 0;
}
