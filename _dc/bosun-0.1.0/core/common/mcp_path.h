/* add_artifact's "path": the file is read by bosunctl mcp, with the agent's
 * own rights and working directory, never by the daemon.  bosunctl reads it
 * (mcp_path_read) and the message is rewritten to carry the content
 * (mcp_path_apply): by bosunctl when it relays lines, by the daemon when
 * bosunctl handed it the agent's stdin and stdout. */
#ifndef BOSUN_MCP_PATH_H
#define BOSUN_MCP_PATH_H

#include <jansson.h>
#include <stddef.h>

/* Largest file read: its base64 form must fit in one control-socket line
 * (CTL_LINE_MAX); the mcp plugin's max_message_bytes usually caps it lower. */
#define MCP_PATH_FILE_MAX      (6 * 1024 * 1024)
#define MCP_PATH_FILE_MAX_TEXT "6 MiB"
/* The encoded content, leaving room in the line for the rest of the call. */
#define MCP_PATH_SEND_MAX (CTL_LINE_MAX - 64 * 1024)

/* If line is a tools/call of add_artifact with a string "path" argument,
 * returns the parsed message (the caller owns it) and sets *path to the
 * path inside it; otherwise NULL.  Cheap for every other line. */
json_t *mcp_path_wanted(const char *line, size_t len, const char **path);

/* Reads path: {"content": text} for UTF-8 text, {"content_base64": b64}
 * otherwise, or {"error": reason} (a readable sentence naming the path). */
json_t *mcp_path_read(const char *path);

/* Rewrites msg (from mcp_path_wanted) with what mcp_path_read gave: the
 * content replaces "path", or the reason goes to params._meta so that the
 * mcp plugin fails the call with it. */
void mcp_path_apply(json_t *msg, const json_t *file);

#endif
