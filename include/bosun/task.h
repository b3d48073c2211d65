/* bosun — tasks, input requests and agent sessions on the bus.
 *
 * These requests are served by bosund's core; transports (the control
 * socket, the MCP plugin, later HTTP) call them.  Replies carry
 * {"error": {"code", "message"}} on failure.
 *
 *   cmd.task.create   {"title", "prompt"?, "agent"?, "owner"?}
 *                  -> {"task": ID, "run": ID|null}; publishes
 *                     evt.task.<id>.updated {"task","title","prompt",
 *                     "status": "open","agent","owner"} and, with an agent,
 *                     starts a run of it on the task.
 *   cmd.input.create  {"run", "question", "choices"?: [strings],
 *                      "blocking"?: bool}
 *                  -> {"input": ID, "status": "pending"}; publishes
 *                     evt.input.<id>.requested.  A blocking request marks the
 *                     run as waiting: when its process exits, the run ends in
 *                     WAITING_INPUT (not a failure, not restarted) and is
 *                     resumed when the request is answered.
 *   cmd.input.answer  {"input", "answer"? | "choice"?: index, "by"?}
 *                  -> {"input", "answer", "resumed": RUN|null}; publishes
 *                     evt.input.<id>.answered.  When the asking run ended in
 *                     WAITING_INPUT, a new run of its agent starts on the same
 *                     task through the agent type's resume hook, with
 *                     "resumed_from" set, BOSUN_RESUME=1,
 *                     BOSUN_INPUT_REQUEST_ID, BOSUN_INPUT_ANSWER and
 *                     BOSUN_INPUT_ANSWER_FILE in its environment.
 *   cmd.auth.agent_token {"token"}
 *                  -> {"run","task","agent","machine","expires_at"} for a
 *                     valid, unexpired token of this machine; else
 *                     {"error": {"code": "unauthorized", ...}}
 */
#ifndef BOSUN_TASK_H
#define BOSUN_TASK_H

#define BOSUN_TASK_CREATE  "cmd.task.create"
#define BOSUN_INPUT_CREATE "cmd.input.create"
#define BOSUN_INPUT_ANSWER "cmd.input.answer"
#define BOSUN_AUTH_TOKEN   "cmd.auth.agent_token"

/* MCP sessions between a transport and the mcp plugin.
 *
 *   cmd.mcp.open {"token", "run"?} -> {"session": SID, "run", "task",
 *                "agent", "max_message_bytes"} or {"error": {"code": "unauthorized", ...}}
 *   mcp.session.<SID>.in     {"line": raw JSON-RPC text from the client}
 *   mcp.session.<SID>.out    {"line": raw JSON-RPC text for the client}
 *   mcp.session.<SID>.closed {} the client went away: pending work stops
 *
 * add_artifact's "path" is a file of the agent's: the transport reads it
 * with the agent's rights and sends "content" (text) or "content_base64"
 * instead.  When it cannot, it keeps "path" and puts the reason in the
 * call's params._meta under BOSUN_MCP_META_PATH_ERROR, so that the call
 * fails with it (and is recorded like any other).
 */
#define BOSUN_MCP_OPEN            "cmd.mcp.open"
#define BOSUN_MCP_SESSION         "mcp.session"
#define BOSUN_MCP_META_PATH_ERROR "bosun/path_error"

/* MCP 2026-07-28, the stateless revision, beside the 2025 ones: no
 * initialize; each request names its revision and the client's
 * capabilities in params._meta (bosun-mcp(7)). */
#define BOSUN_MCP_STATELESS_VERSION "2026-07-28"
#define BOSUN_MCP_META_VERSION      "io.modelcontextprotocol/protocolVersion"
#define BOSUN_MCP_META_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
/* Its error codes: a header that disagrees with the body (HTTP), and a
 * revision this server does not speak (data: supported, requested). */
#define BOSUN_MCP_HEADER_MISMATCH      (-32020)
#define BOSUN_MCP_UNSUPPORTED_PROTOCOL (-32022)

/* The http plugin serves MCP Streamable HTTP at /mcp (bosun-mcp(7)):
 *   evt.http.mcp_url {"url": "http://127.0.0.1:P/mcp" | null}
 * published at its start, once the daemon is ready and at each reload;
 * the URL is that of a plain-HTTP loopback listener (null: none, or TLS),
 * which the supervisor writes into Claude Code's MCP configuration. */
#define BOSUN_HTTP_MCP_URL "evt.http.mcp_url"

#endif
