/* mcp_floor — the C floor of the MCP benchmark (bench_mcp.sh): a minimal
 * MCP server over stdio, newline-delimited JSON-RPC 2.0, that answers each
 * request as soon as it is read.  It is what a round trip costs with the
 * least work a correct server can do: one jansson parse and one dump per
 * message, no SDK, no event loop, no store.
 *
 *   mcp_floor
 *
 * Methods: initialize (the client's protocolVersion echoed, tools
 * capability), ping, tools/list (one tool, echo, with its input schema),
 * tools/call of echo ({"message": string} -> "Echo: <message>", as
 * server-everything's echo answers).  Notifications are read and ignored.
 * Anything else gets a JSON-RPC error naming what was wrong: -32700 for a
 * line that is not JSON, -32600 for a message that is not a request,
 * -32601 for an unknown method, -32602 for an unknown tool or a bad
 * argument.  A line longer than LINE_MAX_BYTES is refused as a parse error
 * and skipped to its end: the server's memory stays bounded.  Exits 0 at
 * the end of its input. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES   (1024 * 1024)
#define PROTOCOL_DEFAULT "2025-06-18"

/* floor_send: one message, one line, flushed at once (the client waits for it). */
static void floor_send(json_t *msg)
{
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    if (text) {
        fputs(text, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    } else {
        fputs("mcp_floor: cannot build a reply\n", stderr);
    }
    free(text);
    json_decref(msg);
}

static void reply(json_t *id, json_t *result)
{
    floor_send(json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id, "result", result));
}

static void fail(json_t *id, int code, const char *message)
{
    floor_send(json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                         "error", "code", code, "message", message));
}

static json_t *initialize_result(json_t *params)
{
    const char *version = json_string_value(json_object_get(params, "protocolVersion"));
    return json_pack("{s:s,s:{s:{}},s:{s:s,s:s}}", "protocolVersion",
                     version ? version : PROTOCOL_DEFAULT, "capabilities", "tools", "serverInfo",
                     "name", "mcp_floor", "version", "1");
}

static json_t *tools_list_result(void)
{
    return json_pack("{s:[{s:s,s:s,s:{s:s,s:{s:{s:s}},s:[s]}}]}", "tools", "name", "echo",
                     "description", "Echoes back the input", "inputSchema", "type", "object",
                     "properties", "message", "type", "string", "required", "message");
}

static void tools_call(json_t *id, json_t *params)
{
    const char *name = json_string_value(json_object_get(params, "name"));
    if (!name || strcmp(name, "echo") != 0) {
        fail(id, -32602, "unknown tool (this server has one: echo)");
        return;
    }
    json_t *message = json_object_get(json_object_get(params, "arguments"), "message");
    if (!json_is_string(message)) {
        fail(id, -32602, "echo: 'message' must be a string");
        return;
    }
    json_t *text = json_sprintf("Echo: %s", json_string_value(message));
    if (!text) {
        fail(id, -32603, "cannot build the result");
        return;
    }
    reply(id, json_pack("{s:[{s:s,s:o}]}", "content", "type", "text", "text", text));
}

static void handle(const char *line, size_t len)
{
    json_error_t err;
    json_t *m = json_loadb(line, len, 0, &err);
    if (!m) {
        fail(NULL, -32700, "parse error: not a JSON text");
        return;
    }
    json_t *id = json_object_get(m, "id");
    const char *method = json_string_value(json_object_get(m, "method"));
    if (!json_is_object(m)) {
        fail(NULL, -32600, "invalid request: a message must be a JSON object (no batches)");
    } else if (!method) {
        /* A response needs no answer; anything else without a method is wrong. */
        if (!json_object_get(m, "result") && !json_object_get(m, "error"))
            fail(id, -32600, "invalid request: 'method' must be a string");
    } else if (!id) {
        /* a notification (notifications/initialized, cancelled): nothing to answer */
    } else if (!json_is_string(id) && !json_is_integer(id)) {
        fail(NULL, -32600, "invalid request: 'id' must be a string or an integer");
    } else if (strcmp(method, "initialize") == 0) {
        reply(id, initialize_result(json_object_get(m, "params")));
    } else if (strcmp(method, "ping") == 0) {
        reply(id, json_object());
    } else if (strcmp(method, "tools/list") == 0) {
        reply(id, tools_list_result());
    } else if (strcmp(method, "tools/call") == 0) {
        tools_call(id, json_object_get(m, "params"));
    } else {
        fail(id, -32601, "method not found");
    }
    json_decref(m);
}

/* Lines are read into a fixed buffer: one longer than LINE_MAX_BYTES is
 * answered with a parse error and skipped to its newline. */
static char line[LINE_MAX_BYTES + 2];

int main(void)
{
    int skipping = 0; /* inside a line that was too long */
    while (fgets(line, sizeof line, stdin)) {
        size_t len = strlen(line);
        int whole = len > 0 && line[len - 1] == '\n';
        if (skipping) {
            skipping = !whole;
            continue;
        }
        if (!whole && len == sizeof line - 1) {
            fail(NULL, -32700, "parse error: message longer than 1 MiB");
            skipping = 1;
            continue;
        }
        len -= (size_t)whole;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len > 0)
            handle(line, len);
    }
    return 0;
}
