/* The JSON Schemas of the tools (what the model is shown and what its
 * arguments are checked against) and of the tools' config. */
#ifndef BOSUN_LLM_TOOLS_SCHEMA_H
#define BOSUN_LLM_TOOLS_SCHEMA_H

#include <jansson.h>

struct lt_tool_def {
    const char *name;
    const char *description;
    const char *schema; /* JSON text */
};

enum { LT_TOOL_COUNT = 7 };
extern const struct lt_tool_def lt_tool_defs[LT_TOOL_COUNT];

/* The index of a tool by name, or -1. */
int lt_tool_index(const char *name);

/* New references, NULL only without memory. */
json_t *lt_tool_schema(int index);
json_t *lt_config_schema(void);

#endif
