/* Fuzzes what the model hands bosun-llm's tools: the first byte picks the
 * reader, the rest is its input.
 *   0..6  a tool's arguments (JSON) against its schema (lta_validate)
 *   7     the tools' config (JSON) against the config schema
 *   8     a workspace path (ltp_normalize)
 *   9     a fetch URL (ltu_normalize, ltu_allowed)
 * Checks: no crash or leak; the validator answers the same twice and a
 * refusal always says why; a normalised path is relative, has no ".", ".."
 * or empty component and normalises to itself; a normalised URL is
 * http(s), normalises to itself and is allowed by itself as the list. */
#include "fuzz_check.h"
#include "llm_tools_args.h"
#include "llm_tools_path.h"
#include "llm_tools_schema.h"
#include "llm_tools_url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_schema(int which, const char *text, size_t len)
{
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!v)
        return;
    json_t *schema = which < LT_TOOL_COUNT ? lt_tool_schema(which) : lt_config_schema();
    FUZZ_CHECK(schema);
    char err[512] = "", err2[512] = "";
    bool ok = lta_validate(schema, v, "arguments", err, sizeof err);
    FUZZ_CHECK(ok == lta_validate(schema, v, "arguments", err2, sizeof err2));
    FUZZ_CHECK(ok || (err[0] && strcmp(err, err2) == 0));
    if (ok && which == lt_tool_index("bash"))
        FUZZ_CHECK(json_string_length(json_object_get(v, "command")) >= 1);
    json_decref(schema);
    json_decref(v);
}

static void fuzz_path(const char *in)
{
    char out[LTP_PATH_MAX], again[LTP_PATH_MAX], err[256];
    if (ltp_normalize(in, out, err, sizeof err) < 0) {
        FUZZ_CHECK(err[0]);
        return;
    }
    FUZZ_CHECK(out[0] != '/');
    if (strcmp(out, ".") != 0) {
        for (const char *p = out; *p;) {
            size_t c = strcspn(p, "/");
            FUZZ_CHECK(c > 0);
            FUZZ_CHECK(!(c == 1 && p[0] == '.'));
            FUZZ_CHECK(!(c == 2 && p[0] == '.' && p[1] == '.'));
            p += c;
            if (*p == '/') {
                p++;
                FUZZ_CHECK(*p);
            }
        }
    }
    FUZZ_CHECK(ltp_normalize(out, again, err, sizeof err) == 0);
    FUZZ_CHECK(strcmp(out, again) == 0);
}

static void fuzz_url(const char *in)
{
    char err[256];
    char *norm = ltu_normalize(in, err, sizeof err);
    if (!norm) {
        FUZZ_CHECK(err[0]);
        return;
    }
    FUZZ_CHECK(strncmp(norm, "http://", 7) == 0 || strncmp(norm, "https://", 8) == 0);
    char *again = ltu_normalize(norm, err, sizeof err);
    FUZZ_CHECK(again && strcmp(norm, again) == 0);
    json_t *allow = json_pack("[s]", norm);
    FUZZ_CHECK(allow && ltu_allowed(allow, norm));
    json_decref(allow);
    free(again);
    free(norm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    int which = data[0] % 10;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (which <= 7)
        fuzz_schema(which, text, size - 1);
    else if (which == 8)
        fuzz_path(text);
    else
        fuzz_url(text);
    free(text);
    return 0;
}
