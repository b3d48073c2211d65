/* mcp — the approve tool: Claude Code's permission prompt.
 *
 * Claude Code, launched with --permission-prompt-tool mcp__bosun__approve,
 * calls it with {tool_name, input, tool_use_id} before a tool it may not
 * run unasked, and reads the text of the result as JSON:
 * {"behavior":"allow","updatedInput":{...}} or
 * {"behavior":"deny","message":"..."}.  The call goes to the core's
 * cmd.approval.request with the session's own run, task and agent (never
 * taken from the arguments, so an agent asks only for itself); a request
 * the policy asks about holds the call until a person answers or the
 * policy's timeout decides. */
#include "config.h"

#include "mcp.h"

#include <bosun/approval.h>

#include <stdlib.h>
#include <string.h>

/* The core decides within the policy's timeout, which is at most
 * BOSUN_APPROVAL_TIMEOUT_MAX; this only guards against a core that never
 * answers. */
#define APPROVE_BUS_TIMEOUT (BOSUN_APPROVAL_TIMEOUT_MAX + 60.0)

static void mcp_approved(mcp_call *c, int slot, json_t *reply, const char *error)
{
    (void)slot;
    json_t *out;
    const char *behavior = json_string_value(json_object_get(reply, "behavior"));
    if (error) { /* a deny Claude can read beats a failed call it retries */
        out = json_pack("{s:s,s:s+}", "behavior", "deny", "message",
                        "bosun could not decide: ", error);
    } else if (behavior && strcmp(behavior, "allow") == 0) {
        json_t *input = json_object_get(reply, "updatedInput");
        out = json_pack("{s:s,s:O}", "behavior", "allow", "updatedInput",
                        json_is_object(input) ? input : json_object_get(c->args, "input"));
    } else {
        const char *msg = json_string_value(json_object_get(reply, "message"));
        out = json_pack("{s:s,s:s}", "behavior", "deny", "message",
                        msg ? msg : "denied by bosun's approval policy");
    }
    char *text = out ? bosun_json_dump(out, 0, NULL) : NULL;
    json_decref(out);
    if (!text)
        return mcp_call_error(c, MCP_INTERNAL_ERROR, "out of memory");
    mcp_call_result(c, text, NULL); /* one text block, no structuredContent */
    free(text);
}

void mcp_tool_approve(mcp_call *c)
{
    mcp_session *s = c->s;
    json_t *input = json_object_get(c->args, "input");
    json_t *q = json_pack("{s:s,s:s?,s:s,s:O,s:O?}", "agent", s->agent ? s->agent : "", "task",
                          s->task, "run", s->run, "tool", json_object_get(c->args, "tool_name"),
                          "input", json_is_object(input) ? input : NULL);
    if (!q || !mcp_call_request(c, 0, BOSUN_APPROVAL_REQUEST, q, APPROVE_BUS_TIMEOUT, mcp_approved))
        mcp_call_error(c, MCP_INTERNAL_ERROR, "cannot ask for approval");
}
