/* mcp — the tool table: names, titles, descriptions and JSON Schemas.
 *
 * The input schemas are what tools/list shows and what arguments are
 * checked against (mcp_schema.c), one text for both: arguments that do not
 * fit get an isError result naming the argument.  What a schema cannot say (a URL that is not a
 * pull request, bad base64) is each tool's own check, reported as an isError result the model can
 * act on.  Output schemas describe structuredContent; a result with isError carries none. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "mcp.h"

static const mcp_tool mcp_tools[MCP_TOOL_COUNT] = {
    {
        .id = MCP_TOOL_GET_TASK,
        .name = "get_task",
        .title = "Get the task",
        .read_only = true,
        .description =
            "Read the task this run works on: its id, title, prompt and status, the pull "
            "requests linked to it, and the questions asked on it so far with their answers. "
            "Call it first, and again when you are started with an answer.",
        .input_schema = "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
        .output_schema =
            "{\"type\":\"object\",\"properties\":{"
            "\"run\":{\"type\":\"string\"},"
            "\"task\":{\"type\":\"object\",\"properties\":{"
            "\"id\":{\"type\":\"string\"},"
            "\"title\":{\"type\":[\"string\",\"null\"]},"
            "\"prompt\":{\"type\":[\"string\",\"null\"]},"
            "\"status\":{\"type\":[\"string\",\"null\"]},"
            "\"agent\":{\"type\":[\"string\",\"null\"]},"
            "\"owner\":{\"type\":[\"string\",\"null\"]}},"
            "\"required\":[\"id\"]},"
            "\"prs\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
            "\"url\":{\"type\":\"string\"},"
            "\"owner\":{\"type\":\"string\"},"
            "\"repo\":{\"type\":\"string\"},"
            "\"number\":{\"type\":\"integer\"},"
            "\"run\":{\"type\":[\"string\",\"null\"]},"
            "\"linked_at\":{\"type\":[\"number\",\"null\"]}},"
            "\"required\":[\"url\"]}},"
            "\"inputs\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
            "\"id\":{\"type\":\"string\"},"
            "\"question\":{\"type\":\"string\"},"
            "\"choices\":{\"type\":[\"array\",\"null\"],\"items\":{\"type\":\"string\"}},"
            "\"status\":{\"type\":\"string\"},"
            "\"answer\":{\"type\":[\"string\",\"null\"]},"
            "\"choice\":{\"type\":[\"integer\",\"null\"]},"
            "\"created_at\":{\"type\":[\"number\",\"null\"]},"
            "\"answered_at\":{\"type\":[\"number\",\"null\"]}},"
            "\"required\":[\"id\",\"status\"]}}},"
            "\"required\":[\"run\",\"task\",\"prs\",\"inputs\"]}",
        .run = mcp_tool_get_task,
    },
    {
        .id = MCP_TOOL_REPORT_STATUS,
        .name = "report_status",
        .title = "Report your status",
        .description =
            "Tell the humans watching what you are doing; shown in `bosunctl ps` and the task "
            "views.  Call it when your state changes.  state is a short word such as working, "
            "blocked, done or failed; message says more.",
        .input_schema = "{\"type\":\"object\",\"properties\":{"
                        "\"state\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64,"
                        "\"description\":\"a short state: working, blocked, done, failed, ...\"},"
                        "\"message\":{\"type\":\"string\",\"maxLength\":4096,"
                        "\"description\":\"what you are doing or why\"}},"
                        "\"required\":[\"state\"],\"additionalProperties\":false}",
        .output_schema = "{\"type\":\"object\",\"properties\":{"
                         "\"state\":{\"type\":\"string\"},"
                         "\"message\":{\"type\":\"string\"}},"
                         "\"required\":[\"state\"]}",
        .run = mcp_tool_report_status,
    },
    {
        .id = MCP_TOOL_REQUEST_INPUT,
        .name = "request_input",
        .title = "Ask a human",
        .description =
            "Ask a human a question, optionally with choices.  With blocking: true the "
            "question is recorded and you are told at once that it is pending: you may then "
            "exit, and you will be started again with the answer (environment "
            "BOSUN_INPUT_ANSWER, BOSUN_INPUT_REQUEST_ID); exiting then is not a failure.  "
            "Otherwise the call waits up to wait_seconds for the answer and returns it, or "
            "returns the request_id to poll with check_input.",
        .input_schema =
            "{\"type\":\"object\",\"properties\":{"
            "\"question\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":8192,"
            "\"description\":\"the question, with the context a human needs\"},"
            "\"choices\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":50,"
            "\"items\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":512},"
            "\"description\":\"answers to offer; the human may pick one\"},"
            "\"blocking\":{\"type\":\"boolean\",\"default\":false,"
            "\"description\":\"true: return at once; you may exit and be resumed with the "
            "answer\"},"
            "\"wait_seconds\":{\"type\":\"number\",\"minimum\":0,\"default\":0,"
            "\"description\":\"how long to wait for the answer (not blocking only)\"}},"
            "\"required\":[\"question\"],\"additionalProperties\":false}",
        .output_schema =
            "{\"type\":\"object\",\"properties\":{"
            "\"request_id\":{\"type\":\"string\"},"
            "\"status\":{\"type\":\"string\",\"enum\":[\"pending\",\"answered\",\"cancelled\"]},"
            "\"blocking\":{\"type\":\"boolean\"},"
            "\"answer\":{\"type\":[\"string\",\"null\"]},"
            "\"choice\":{\"type\":[\"integer\",\"null\"]},"
            "\"reason\":{\"type\":[\"string\",\"null\"]}},"
            "\"required\":[\"request_id\",\"status\"]}",
        .run = mcp_tool_request_input,
    },
    {
        .id = MCP_TOOL_CHECK_INPUT,
        .name = "check_input",
        .title = "Check a question",
        .read_only = true,
        .description = "Get the status and, once given, the answer of a question asked with "
                       "request_input on this task.",
        .input_schema = "{\"type\":\"object\",\"properties\":{"
                        "\"request_id\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":128,"
                        "\"description\":\"the request_id request_input returned\"}},"
                        "\"required\":[\"request_id\"],\"additionalProperties\":false}",
        .output_schema =
            "{\"type\":\"object\",\"properties\":{"
            "\"request_id\":{\"type\":\"string\"},"
            "\"status\":{\"type\":\"string\"},"
            "\"question\":{\"type\":[\"string\",\"null\"]},"
            "\"choices\":{\"type\":[\"array\",\"null\"],\"items\":{\"type\":\"string\"}},"
            "\"answer\":{\"type\":[\"string\",\"null\"]},"
            "\"choice\":{\"type\":[\"integer\",\"null\"]}},"
            "\"required\":[\"request_id\",\"status\"]}",
        .run = mcp_tool_check_input,
    },
    {
        .id = MCP_TOOL_ADD_ARTIFACT,
        .name = "add_artifact",
        .title = "Store an artifact",
        .description =
            "Store a file you produced (a report, a patch, a log) on the task.  Storing the "
            "same name again adds a new version; earlier versions are kept.  Give exactly one "
            "of content (text), content_base64 (binary) or path (a file, read for you by "
            "bosunctl mcp with your permissions).",
        .input_schema =
            "{\"type\":\"object\",\"properties\":{"
            "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255,"
            "\"description\":\"the name to store it under, e.g. report.md\"},"
            "\"content\":{\"type\":\"string\",\"description\":\"the content, as text\"},"
            "\"content_base64\":{\"type\":\"string\","
            "\"description\":\"the content, base64-encoded\"},"
            "\"path\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4096,"
            "\"description\":\"a file whose content to store\"},"
            "\"mime_type\":{\"type\":\"string\",\"maxLength\":255,"
            "\"pattern\":\"^[A-Za-z0-9][-A-Za-z0-9!#$&^_.+]*/[A-Za-z0-9][-A-Za-z0-9!#$&^_.+]*"
            "( *;[ -~]*)?$\","
            "\"description\":\"default text/plain for content, application/octet-stream "
            "for content_base64\"}},"
            "\"required\":[\"name\"],\"additionalProperties\":false}",
        .output_schema = "{\"type\":\"object\",\"properties\":{"
                         "\"name\":{\"type\":\"string\"},"
                         "\"version\":{\"type\":\"integer\"},"
                         "\"size\":{\"type\":\"integer\"},"
                         "\"mime_type\":{\"type\":[\"string\",\"null\"]},"
                         "\"sha256\":{\"type\":[\"string\",\"null\"]}},"
                         "\"required\":[\"name\",\"version\",\"size\"]}",
        .check = mcp_tool_check_artifact,
        .run = mcp_tool_add_artifact,
    },
    {
        .id = MCP_TOOL_LINK_PR,
        .name = "link_pr",
        .title = "Link a pull request",
        .description = "Record a GitHub pull request you opened or worked on for this task.",
        .input_schema = "{\"type\":\"object\",\"properties\":{"
                        "\"url\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":512,"
                        "\"description\":\"https://github.com/OWNER/REPO/pull/NUMBER\"}},"
                        "\"required\":[\"url\"],\"additionalProperties\":false}",
        .output_schema = "{\"type\":\"object\",\"properties\":{"
                         "\"url\":{\"type\":\"string\"},"
                         "\"owner\":{\"type\":\"string\"},"
                         "\"repo\":{\"type\":\"string\"},"
                         "\"number\":{\"type\":\"integer\"}},"
                         "\"required\":[\"url\",\"owner\",\"repo\",\"number\"]}",
        .check = mcp_tool_check_pr,
        .run = mcp_tool_link_pr,
    },
    {
        .id = MCP_TOOL_LOG_EVENT,
        .name = "log_event",
        .title = "Log an event",
        .description = "Record a structured event on this run, such as a milestone or a "
                       "measurement.  Values of keys that look like secrets (token, password, "
                       "api_key, ...) are stored as \"(redacted)\".",
        .input_schema = "{\"type\":\"object\",\"properties\":{"
                        "\"kind\":{\"type\":\"string\",\"pattern\":\"^[A-Za-z0-9_-]{1,64}$\","
                        "\"description\":\"a short name: letters, digits, _ and -\"},"
                        "\"data\":{\"type\":\"object\",\"description\":\"any JSON object\"}},"
                        "\"required\":[\"kind\"],\"additionalProperties\":false}",
        .output_schema = "{\"type\":\"object\",\"properties\":{\"kind\":{\"type\":\"string\"}},"
                         "\"required\":[\"kind\"]}",
        .run = mcp_tool_log_event,
    },
    {
        .id = MCP_TOOL_APPROVE,
        .name = "approve",
        .title = "Ask bosun for permission",
        .description =
            "Claude Code's permission prompt (--permission-prompt-tool mcp__bosun__approve): "
            "bosun's approval policy decides, or a person does.  The result is "
            "{\"behavior\":\"allow\",\"updatedInput\":{...}} or "
            "{\"behavior\":\"deny\",\"message\":\"...\"}.",
        .input_schema = "{\"type\":\"object\",\"properties\":{"
                        "\"tool_name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256,"
                        "\"description\":\"the tool that needs permission\"},"
                        "\"input\":{\"type\":\"object\",\"description\":\"the tool's input\"},"
                        "\"tool_use_id\":{\"type\":\"string\",\"maxLength\":256}},"
                        "\"required\":[\"tool_name\"]}",
        /* No outputSchema: Claude Code reads the permission answer from one
         * text block, and a structured result is handed to it instead. */
        .run = mcp_tool_approve,
    },
};

const mcp_tool *mcp_tool_get(enum mcp_tool_id id)
{
    return id < MCP_TOOL_COUNT ? &mcp_tools[id] : NULL;
}

const mcp_tool *mcp_tool_find(const char *name)
{
    for (size_t i = 0; name && i < MCP_TOOL_COUNT; i++)
        if (strcmp(mcp_tools[i].name, name) == 0)
            return &mcp_tools[i];
    return NULL;
}

static json_t *mcp_schema(const mcp_tool *t, const char *text, cfg_diag *d)
{
    bosun_json_error je;
    json_t *schema = bosun_json_parse(text, strlen(text), BOSUN_JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(schema)) {
        json_decref(schema);
        cfg_error(d, NULL, "mcp: tool %s: bad schema at column %d: %s", t->name, je.column,
                  je.text[0] ? je.text : "not an object");
        return NULL;
    }
    return schema;
}

int mcp_tool_schemas_load(mcp_plugin *mp, cfg_diag *d)
{
    for (size_t i = 0; i < MCP_TOOL_COUNT; i++) {
        mp->input_schemas[i] = mcp_schema(&mcp_tools[i], mcp_tools[i].input_schema, d);
        mp->output_schemas[i] = mcp_tools[i].output_schema
                                    ? mcp_schema(&mcp_tools[i], mcp_tools[i].output_schema, d)
                                    : NULL;
        if (!mp->input_schemas[i] || (mcp_tools[i].output_schema && !mp->output_schemas[i]))
            return -1;
    }
    return 0;
}

/* The cap of wait_seconds is configuration: say it where clients read,
 * in a copy of the schema. */
static json_t *mcp_describe_wait(const mcp_plugin *mp, const json_t *schema)
{
    json_t *input = json_deep_copy(schema);
    json_t *wait = json_object_get(json_object_get(input, "properties"), "wait_seconds");
    char text[160];
    snprintf(text, sizeof text,
             "how long to wait for the answer, in seconds (not blocking only; at most %g)",
             mp->cfg.max_wait_seconds);
    json_object_set_new(wait, "description", json_string(text));
    return input;
}

json_t *mcp_tool_describe(const mcp_plugin *mp, const mcp_tool *t)
{
    json_t *input = t->id == MCP_TOOL_REQUEST_INPUT
                        ? mcp_describe_wait(mp, mp->input_schemas[t->id])
                        : json_incref(mp->input_schemas[t->id]);
    json_t *output = json_incref(mp->output_schemas[t->id]);
    return json_pack("{s:s,s:s,s:s,s:o,s:o*,s:{s:b,s:b,s:b}}", "name", t->name, "title", t->title,
                     "description", t->description, "inputSchema", input, "outputSchema", output,
                     "annotations", "readOnlyHint", t->read_only, "destructiveHint", 0,
                     "openWorldHint", 0);
}

bool mcp_tool_check_args(mcp_plugin *mp, const mcp_tool *t, json_t *args, char *err, size_t size)
{
    bool ok = mcp_schema_check(mp->input_schemas[t->id], args, NULL, err, size);
    if (!ok) /* err is only written on failure */
        mcp_utf8_trim(err);
    return ok;
}

void mcp_tool_schemas_free(mcp_plugin *mp)
{
    for (size_t i = 0; i < MCP_TOOL_COUNT; i++) {
        json_decref(mp->input_schemas[i]);
        json_decref(mp->output_schemas[i]);
        mp->input_schemas[i] = mp->output_schemas[i] = NULL;
    }
}
