/* libFuzzer target for the edge checks of MCP 2026-07-28 requests on /mcp
 * (plugins/http/http_mcp_edge.c).  The input is four lines: the
 * MCP-Protocol-Version, Mcp-Method and Mcp-Name header values (an empty
 * line: the header is absent) and the body.  The body goes through
 * bosun_json_parse as the handler reads it; the check must return 0 or
 * one of its two codes, with a reason exactly when it refuses, and may
 * accept only what agrees with the body: the version and method headers
 * equal to the body's, and the decoded Mcp-Name equal to params.name (or
 * uri).  Each header value is also decoded alone: NULL, or UTF-8 without
 * NUL; and "=?base64?B?=" of a decoded value decodes back to it. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/codec.h>
#include <bosun/json.h>
#include <bosun/task.h>

#include "fuzz_check.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of the input, NUL-terminated in place of its newline. */
static char *next_line(char **cursor, char *end)
{
    char *line = *cursor;
    char *nl = memchr(line, '\n', (size_t)(end - line));
    *cursor = nl ? nl + 1 : end;
    if (nl)
        *nl = '\0';
    return line;
}

static void check_decode(const char *header)
{
    char *text = http_mcp_name_decode(header);
    if (!text)
        return;
    size_t len = strlen(header);
    bool wrapped_form =
        len >= 11 && strncmp(header, "=?base64?", 9) == 0 && strcmp(header + len - 2, "?=") == 0;
    FUZZ_CHECK(wrapped_form ? bosun_utf8_text(text, strlen(text)) : strcmp(text, header) == 0);
    char *b64 = bosun_base64_encode(text, strlen(text));
    FUZZ_CHECK(b64);
    size_t n = strlen(b64) + 12;
    char *wrapped = malloc(n);
    FUZZ_CHECK(wrapped);
    snprintf(wrapped, n, "=?base64?%s?=", b64);
    char *again = http_mcp_name_decode(wrapped);
    FUZZ_CHECK(bosun_utf8_text(text, strlen(text)) ? again && strcmp(again, text) == 0 : !again);
    free(again);
    free(wrapped);
    free(b64);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *cursor = copy, *end = copy + size;
    char *lines[3];
    for (int i = 0; i < 3; i++)
        lines[i] = next_line(&cursor, end);
    const http_mcp_headers h = {lines[0][0] ? lines[0] : NULL, lines[1][0] ? lines[1] : NULL,
                                lines[2][0] ? lines[2] : NULL};
    for (int i = 0; i < 3; i++)
        check_decode(lines[i]);
    json_t *msg =
        bosun_json_parse(cursor, (size_t)(end - cursor), BOSUN_JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(msg)) {
        const char *why = "unset";
        int code = http_mcp_stateless_check(msg, &h, &why);
        FUZZ_CHECK(code == 0 || code == BOSUN_MCP_HEADER_MISMATCH || code == -32602);
        FUZZ_CHECK(code == 0 ? why == NULL : why != NULL && why[0] != '\0');
        if (code == 0) {
            const json_t *params = json_object_get(msg, "params");
            const char *version = json_string_value(
                json_object_get(json_object_get(params, "_meta"), BOSUN_MCP_META_VERSION));
            const char *method = json_string_value(json_object_get(msg, "method"));
            FUZZ_CHECK(version && h.version && strcmp(version, h.version) == 0);
            FUZZ_CHECK(method && h.method && strcmp(method, h.method) == 0);
            const char *target = json_string_value(
                json_object_get(params, strcmp(method, "resources/read") == 0 ? "uri" : "name"));
            if (target) {
                char *decoded = h.name ? http_mcp_name_decode(h.name) : NULL;
                FUZZ_CHECK(decoded && strcmp(decoded, target) == 0);
                free(decoded);
            }
        }
    }
    json_decref(msg);
    free(copy);
    return 0;
}
