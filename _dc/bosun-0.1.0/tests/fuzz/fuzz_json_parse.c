/* libFuzzer target for the JSON parser: differential against jansson.
 *
 * Every input is parsed in both modes.  bosun_json_parse(0) must accept
 * exactly what json_loadb(JSON_DECODE_ANY) accepts and build an equal
 * value (the last of duplicate keys kept by both);
 * bosun_json_parse(BOSUN_JSON_REJECT_DUPLICATES), the mode of every door
 * of the daemon, must accept exactly what
 * json_loadb(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES) accepts, build an
 * equal value, and, when jansson refuses a text only for a duplicate key
 * (it parses without the flag), refuse it with bosun's duplicate-key
 * error.  When bosun refuses, its error must be filled in with a position
 * inside the input.
 *
 * The differences allowed, in both modes: jansson overlooks a NUL byte
 * that follows a number or a literal ("4\0" parses as 4), which is not
 * JSON and which bosun refuses.  Error texts and positions are bosun's
 * own (jansson's column counts bytes and points after the token), so only
 * the kind of error is compared, and only for texts whose one fault is
 * duplicate keys: jansson looks a key up before reading its value, bosun
 * notices the duplicate once the value is set, so of a text with several
 * faults each may report a different one ({"a":1,"a":tru}: jansson the
 * duplicate, bosun the invalid token). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const bosun_json_error *err, size_t size)
{
    if (!err->text[0] || err->position > size || err->line < 1 || err->column < 1)
        abort();
}

/* One mode against jansson with the matching flags; *want_out keeps
 * jansson's value (or NULL) for the caller. */
static void compare(const char *text, size_t size, unsigned flags, size_t jflags, json_t **want_out,
                    json_error_t *je)
{
    json_t *want = json_loadb(text, size, JSON_DECODE_ANY | jflags, je);
    bosun_json_error err;
    json_t *got = bosun_json_parse(text, size, flags, &err);
    if (got && !want)
        abort();
    if (want && !got && !memchr(text, 0, size))
        abort();
    if (want && got && !json_equal(want, got))
        abort();
    if (!got)
        check_error(&err, size);
    json_decref(got);
    *want_out = want;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_error_t je;
    json_t *lenient, *strict;
    compare(text, size, 0, 0, &lenient, &je);
    compare(text, size, BOSUN_JSON_REJECT_DUPLICATES, JSON_REJECT_DUPLICATES, &strict, &je);
    /* Valid but for a duplicate key: bosun must say so too. */
    if (lenient && !strict && json_error_code(&je) == json_error_duplicate_key &&
        !memchr(data, 0, size)) {
        bosun_json_error err;
        json_t *got = bosun_json_parse(text, size, BOSUN_JSON_REJECT_DUPLICATES, &err);
        if (got || strncmp(err.text, "duplicate object key \"", 22) != 0)
            abort();
    }
    json_decref(lenient);
    json_decref(strict);
    return 0;
}
