/* Tool and config schemas, kept as text so they read as the model sees
 * them.  Limits the config can change (file and body sizes) are checked
 * by the tools, not here.  files.write_max and files.scan_file_max stop at
 * 6,000,000 bytes: a file's record (base64 in JSON) must fit one control
 * socket line (CTL_LINE_MAX, 8 MiB). */
#include "llm_tools_schema.h"

#include <string.h>

#define PATH_PROP                                                                                  \
    "\"path\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4095,"                            \
    "\"description\":\"A path relative to the workspace\"}"

const struct lt_tool_def lt_tool_defs[LT_TOOL_COUNT] = {
    {"bash",
     "Run a shell command (/bin/sh -c) in the workspace directory. Returns the combined "
     "stdout and stderr (long output keeps its head and tail) and the exit code.",
     "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"command\"],"
     "\"properties\":{\"command\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":65536},"
     "\"timeout\":{\"type\":\"number\",\"minimum\":0.001,\"maximum\":86400,"
     "\"description\":\"Seconds before the command and everything it started are killed\"}}}"},
    {"read_file",
     "Read a text file of the workspace. offset is the first line (1-based), limit the "
     "number of lines.",
     "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"path\"],"
     "\"properties\":{" PATH_PROP ",\"offset\":{\"type\":\"integer\",\"minimum\":1},"
     "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000000}}}"},
    {"write_file",
     "Create or replace a file of the workspace with content (directories are made as "
     "needed).",
     "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"path\",\"content\"],"
     "\"properties\":{" PATH_PROP ",\"content\":{\"type\":\"string\"}}}"},
    {"edit_file",
     "Replace the exact text search by replace in a file of the workspace. The search text "
     "must occur at least once and at most count times (default 1); every occurrence is "
     "replaced.",
     "{\"type\":\"object\",\"additionalProperties\":false,"
     "\"required\":[\"path\",\"search\",\"replace\"],\"properties\":{" PATH_PROP ","
     "\"search\":{\"type\":\"string\",\"minLength\":1},\"replace\":{\"type\":\"string\"},"
     "\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100000}}}"},
    {"list_files",
     "List the files under a directory of the workspace (default: all of it), recursively; "
     "directories end with /. glob filters names (a pattern with / matches whole paths).",
     "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" PATH_PROP ","
     "\"glob\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":512}}}"},
    {"delete_file", "Delete a file (not a directory) of the workspace.",
     "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"path\"],"
     "\"properties\":{" PATH_PROP "}}"},
    {"fetch",
     "Make an HTTP request to an allowed URL. Returns the status, the content type and the "
     "body (long bodies are cut).",
     "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"url\"],"
     "\"properties\":{\"url\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":8192},"
     "\"method\":{\"type\":\"string\",\"enum\":[\"GET\",\"HEAD\",\"OPTIONS\",\"POST\",\"PUT\","
     "\"PATCH\",\"DELETE\"]},\"headers\":{\"type\":\"object\",\"additionalProperties\":"
     "{\"type\":\"string\",\"maxLength\":8192}},\"body\":{\"type\":\"string\"}}}"},
};

static const char lt_config_text[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"workspace\"],"
    "\"properties\":{"
    "\"workspace\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4095},"
    "\"tools\":{\"type\":\"array\",\"maxItems\":16,\"items\":{\"type\":\"string\",\"enum\":"
    "[\"bash\",\"read_file\",\"write_file\",\"edit_file\",\"list_files\",\"delete_file\","
    "\"fetch\"]}},"
    "\"sandbox\":{\"type\":\"string\",\"enum\":[\"none\",\"bwrap\"]},"
    "\"bash\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"timeout\":{\"type\":\"number\",\"minimum\":0.001,\"maximum\":86400},"
    "\"max_timeout\":{\"type\":\"number\",\"minimum\":0.001,\"maximum\":86400},"
    "\"output_max\":{\"type\":\"integer\",\"minimum\":256,\"maximum\":67108864},"
    "\"network\":{\"type\":\"boolean\"}}},"
    "\"files\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"read_max\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":67108864},"
    "\"write_max\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":6000000},"
    "\"scan_max_files\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":1000000},"
    "\"scan_max_bytes\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":4294967296},"
    "\"scan_file_max\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":6000000}}},"
    "\"fetch\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"allow\":{\"type\":\"array\",\"maxItems\":256,\"items\":{\"type\":\"string\","
    "\"minLength\":1,\"maxLength\":2048}},"
    "\"methods\":{\"type\":\"array\",\"maxItems\":7,\"items\":{\"type\":\"string\",\"enum\":"
    "[\"GET\",\"HEAD\",\"OPTIONS\",\"POST\",\"PUT\",\"PATCH\",\"DELETE\"]}},"
    "\"allow_private\":{\"type\":\"boolean\"},"
    "\"max_body\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":67108864},"
    "\"timeout\":{\"type\":\"number\",\"minimum\":0.001,\"maximum\":3600},"
    "\"max_redirects\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":20}}}}}";

int lt_tool_index(const char *name)
{
    for (int i = 0; i < LT_TOOL_COUNT; i++)
        if (strcmp(lt_tool_defs[i].name, name) == 0)
            return i;
    return -1;
}

json_t *lt_tool_schema(int index)
{
    return json_loads(lt_tool_defs[index].schema, 0, NULL);
}

json_t *lt_config_schema(void)
{
    return json_loads(lt_config_text, 0, NULL);
}
