/* libFuzzer target for the compact JSON writer.
 *
 * The input is parsed by jansson (any value, embedded NULs allowed); the
 * value is then written by bosun_json_dump in both modes, which must give
 * exactly jansson's json_dumps text, and that text must parse back to an
 * equal value. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const json_t *v, unsigned flags, size_t jflags)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | jflags);
    size_t len = 0;
    char *got = bosun_json_dump(v, flags, &len);
    if (!want || !got || strcmp(want, got) != 0 || len != strlen(got))
        abort();
    json_t *back = json_loadb(got, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!back || !json_equal(back, (json_t *)v))
        abort();
    json_decref(back);
    free(want);
    free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!v)
        return 0;
    check(v, 0, 0);
    check(v, BOSUN_JSON_ASCII, JSON_ENSURE_ASCII);
    json_decref(v);
    return 0;
}
