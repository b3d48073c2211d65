/* libFuzzer target for the JSON parser: differential against jansson.
 *
 * bosun_json_parse must accept exactly what json_loadb(JSON_DECODE_ANY)
 * accepts and build an equal value; when it refuses, its error must be
 * filled in with a position inside the input.  One difference is
 * allowed: jansson overlooks a NUL byte that follows a number or a literal
 * ("4\0" parses as 4), which is not JSON and which bosun refuses. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_t *want = json_loadb(text, size, JSON_DECODE_ANY, NULL);
    bosun_json_error err;
    json_t *got = bosun_json_parse(text, size, &err);
    if (got && !want)
        abort();
    if (want && !got && !memchr(data, 0, size))
        abort();
    if (want && got && !json_equal(want, got))
        abort();
    if (!got && (!err.text[0] || err.position > size || err.line < 1 || err.column < 1))
        abort();
    json_decref(want);
    json_decref(got);
    return 0;
}
