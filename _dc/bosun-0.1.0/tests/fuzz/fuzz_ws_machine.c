/* libFuzzer target for /ws "sub"'s "machine" filter
 * (plugins/http/http_ws_machine.c), on whatever JSON value a client puts
 * there.
 *
 * Checked against a reference written here: the filter is taken exactly
 * when the value is one id or a list of 1 to 64 ids (1 to 64 bytes of
 * A-Z a-z 0-9 _ -, no NUL), and is then an array of those ids; an event
 * is wanted exactly when its "machine" is one of them, never without a
 * "machine", always with no filter.  Memory errors and leaks are the
 * sanitizers'.
 *
 * Input: the JSON text of the value (any value, NUL allowed in strings). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "http_ws_machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool ref_id(const json_t *v)
{
    if (!json_is_string(v))
        return false;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool ref_ok(const json_t *v)
{
    if (json_is_string(v))
        return ref_id(v);
    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 64)
        return false;
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!ref_id(json_array_get(v, i)))
            return false;
    return true;
}

static bool wants(const json_t *filter, const char *machine)
{
    json_t *ev = machine ? json_pack("{s:s,s:i}", "machine", machine, "seq", 1)
                         : json_pack("{s:i}", "seq", 1);
    FUZZ_CHECK(ev);
    bool w = ws_machine_wants(filter, ev);
    json_decref(ev);
    return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!v)
        return 0;
    json_t *f;
    bool ok = ws_machine_filter(v, &f);
    FUZZ_CHECK(ok == ref_ok(v));
    FUZZ_CHECK(ok == (f != NULL));
    if (ok) {
        const json_t *ids = json_is_string(v) ? NULL : v;
        FUZZ_CHECK(json_is_array(f));
        FUZZ_CHECK(json_array_size(f) == (ids ? json_array_size(ids) : 1));
        for (size_t i = 0; i < json_array_size(f); i++) {
            const json_t *want = ids ? json_array_get(ids, i) : v;
            FUZZ_CHECK(json_equal(json_array_get(f, i), (json_t *)want));
            FUZZ_CHECK(wants(f, json_string_value(want)));
        }
        FUZZ_CHECK(!wants(f, NULL));
        /* An id no filter can hold (a '.' is never in one). */
        FUZZ_CHECK(!wants(f, "not.an.id"));
    }
    FUZZ_CHECK(wants(NULL, "any"));
    FUZZ_CHECK(wants(NULL, NULL));
    json_decref(f);
    json_decref(v);
    return 0;
}
