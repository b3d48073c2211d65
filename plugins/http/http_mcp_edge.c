/* /mcp: the edge checks of MCP 2026-07-28 requests, before any session.
 *
 * The revision puts the request's revision, method and target in HTTP
 * headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name) so that gateways
 * can route without reading the body; a server must refuse a request
 * whose headers say something else than its body, since a gateway and the
 * server would then act on two different requests.  Pure functions of the
 * body and the header values, so that tests/fuzz/fuzz_mcp_edge.c can
 * drive them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <bosun/codec.h>
#include <bosun/task.h>

#include "http.h"

char *http_mcp_name_decode(const char *header)
{
    static const char open[] = "=?base64?", close[] = "?=";
    size_t n = strlen(header);
    if (n < sizeof open - 1 + sizeof close - 1 || strncmp(header, open, sizeof open - 1) != 0 ||
        strcmp(header + n - (sizeof close - 1), close) != 0)
        return strdup(header);
    char *b64 = strndup(header + sizeof open - 1, n - (sizeof open - 1) - (sizeof close - 1));
    size_t len = 0;
    unsigned char *raw = b64 ? bosun_base64_decode(b64, &len) : NULL;
    free(b64);
    char *text = raw && bosun_utf8_text((const char *)raw, len) ? strndup((char *)raw, len) : NULL;
    free(raw);
    return text;
}

/* Whether the Mcp-Name header (NULL: absent) names exactly name. */
static bool name_matches(const char *header, const char *name)
{
    char *decoded = header ? http_mcp_name_decode(header) : NULL;
    bool same = decoded && strcmp(decoded, name) == 0;
    free(decoded);
    return same;
}

int http_mcp_stateless_check(const json_t *msg, const http_mcp_headers *h, const char **why)
{
    const json_t *params = json_object_get(msg, "params");
    const json_t *meta = json_object_get(params, "_meta");
    const char *version = json_string_value(json_object_get(meta, BOSUN_MCP_META_VERSION));
    const char *method = json_string_value(json_object_get(msg, "method"));
    if (!version) {
        *why = "params._meta: '" BOSUN_MCP_META_VERSION "' must be a string";
        return -32602;
    }
    if (!h->version || strcmp(h->version, version) != 0) {
        *why = "header mismatch: MCP-Protocol-Version must be the revision params._meta names";
        return BOSUN_MCP_HEADER_MISMATCH;
    }
    if (json_object_get(msg, "id") &&
        !json_is_object(json_object_get(meta, BOSUN_MCP_META_CAPABILITIES))) {
        *why = "params._meta: '" BOSUN_MCP_META_CAPABILITIES "' (an object) is required";
        return -32602;
    }
    if (!method || !h->method || strcmp(h->method, method) != 0) {
        *why = "header mismatch: Mcp-Method must be the request's method";
        return BOSUN_MCP_HEADER_MISMATCH;
    }
    const char *target = json_string_value(
        json_object_get(params, strcmp(method, "resources/read") == 0 ? "uri" : "name"));
    if (target && !name_matches(h->name, target)) {
        *why = "header mismatch: Mcp-Name must be the request's params.name (or uri)";
        return BOSUN_MCP_HEADER_MISMATCH;
    }
    *why = NULL;
    return 0;
}
