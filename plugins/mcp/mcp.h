/* mcp — what the plugin's files share (not an installed header).
 *
 *   mcp.c          descriptor, configuration, lifecycle, cmd.mcp.open
 *   mcp_session.c  sessions: JSON-RPC framing, lifecycle, dispatch
 *   mcp_call.c     one tools/call in flight: bus requests, result, event
 *   mcp_record.c   events, published once the response is out
 *   mcp_table.c    the tool table: names, descriptions, schemas
 *   mcp_tools.c    the tools themselves
 *   mcp_schema.c   the JSON Schema subset the tools use, and redaction
 */
#ifndef BOSUN_MCP_INTERNAL_H
#define BOSUN_MCP_INTERNAL_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bosun/bosun.h>

#define MCP_PROTOCOL_LATEST "2025-11-25"
#define MCP_SID_LEN         32
/* Bus requests to the core and the store; below the 10 s the control
 * socket gives cmd.mcp.open, so its client hears our own error. */
#define MCP_BUS_TIMEOUT   5.0
#define MCP_STORE_TIMEOUT 30.0
/* Longest string value of the arguments kept in a tool_call event: the
 * event is for the record, artifact contents are stored elsewhere. */
#define MCP_EVENT_STRING_MAX 1024
/* Tool calls one session may have in flight. */
#define MCP_MAX_CALLS 64

/* JSON-RPC 2.0 error codes (the only ones this server uses). */
enum mcp_error_code {
    MCP_PARSE_ERROR = -32700,
    MCP_INVALID_REQUEST = -32600,
    MCP_METHOD_NOT_FOUND = -32601,
    MCP_INVALID_PARAMS = -32602,
    MCP_INTERNAL_ERROR = -32603,
};

/* The tools, in the order tools/list shows them. */
enum mcp_tool_id {
    MCP_TOOL_GET_TASK,
    MCP_TOOL_REPORT_STATUS,
    MCP_TOOL_REQUEST_INPUT,
    MCP_TOOL_CHECK_INPUT,
    MCP_TOOL_ADD_ARTIFACT,
    MCP_TOOL_LINK_PR,
    MCP_TOOL_LOG_EVENT,
    MCP_TOOL_APPROVE,
    MCP_TOOL_COUNT
};
#define MCP_TOOLS_ALL ((1u << MCP_TOOL_COUNT) - 1)

typedef struct mcp_config {
    size_t max_message_bytes;
    double max_wait_seconds;
    long long page_size;
    double progress_interval;
    uint32_t tools; /* bit 1 << mcp_tool_id per enabled tool */
} mcp_config;

typedef struct mcp_open mcp_open;
typedef struct mcp_session mcp_session;
typedef struct mcp_call mcp_call;
typedef struct mcp_tool mcp_tool;
typedef struct mcp_record mcp_record;

typedef struct mcp_plugin {
    const bosun_ctx *ctx;
    mcp_config cfg;
    uint32_t tools_gen; /* changes with the tool set; cursors carry it */
    bus_sub *open_sub;
    bus_sub *state_sub; /* evt.run.*.*.state: a run that ends ends its sessions */
    mcp_open *opens;    /* cmd.mcp.open requests waiting for the token check */
    mcp_session *sessions;
    json_t *input_schemas[MCP_TOOL_COUNT]; /* parsed once at start */
    json_t *output_schemas[MCP_TOOL_COUNT];
    mcp_record *records, *records_tail; /* events waiting to be published */
    ev_prepare records_prepare;
} mcp_plugin;

/* What cmd.auth.agent_token said about the session's token. */
typedef struct mcp_identity {
    const char *run, *task, *agent; /* task NULL when the run has none */
    double expires_at;              /* 0 when not given */
} mcp_identity;

struct mcp_session {
    mcp_session *next, *prev;
    mcp_plugin *mp;
    char sid[MCP_SID_LEN + 1];
    char *run, *task, *agent;
    json_t *j_run, *j_task, *j_agent; /* the same as JSON strings (j_task NULL when none) */
    char evt_prefix[BUS_SUBJECT_MAX]; /* evt.run.<agent>.<run>. */
    double expires_at;
    bus_sub *in_sub, *closed_sub;
    bool initialized; /* initialize answered */
    bool ready;       /* notifications/initialized seen: notifications may flow */
    bool ended;       /* its run ended: its token is dead, every request refused */
    bool stateless;   /* a 2026-07-28 request came (logged once) */
    mcp_call *calls;
    size_t n_calls;
    char out_subject[BUS_SUBJECT_MAX];
    bosun_json_buf out; /* the message being sent */
};

/* A bus request a call waits for; a call has at most MCP_CALL_SLOTS at once. */
#define MCP_CALL_SLOTS 3
typedef void (*mcp_reply_fn)(mcp_call *c, int slot, json_t *reply, const char *error);
typedef struct mcp_slot {
    mcp_call *call;
    uint64_t id; /* pending bus request, 0 when none */
    const char *subject;
    mcp_reply_fn done;
} mcp_slot;

struct mcp_call {
    mcp_call *next, *prev;
    mcp_session *s;
    const mcp_tool *tool; /* NULL when the name is unknown */
    char *tool_name;      /* as the client sent it (shortened) */
    json_t *id;           /* JSON-RPC request id */
    json_t *args;         /* the arguments, an object */
    json_t *progress_token;
    json_t *meta;   /* params._meta, an object or NULL */
    double started; /* ev_now() */
    mcp_slot slots[MCP_CALL_SLOTS];
    json_t *parts[MCP_CALL_SLOTS]; /* replies gathered by tools that ask several */
    /* request_input waiting for an answer */
    bus_sub *sub;
    char *input_id;
    double wait;
    ev_timer wait_timer, progress_timer;
    unsigned progress_sent;
    bool waiting;   /* the timers are initialised */
    bool stateless; /* asked in 2026-07-28: its result says resultType */
};

struct mcp_tool {
    enum mcp_tool_id id;
    const char *name;
    const char *title;
    const char *description;
    bool read_only;            /* annotations.readOnlyHint */
    const char *input_schema;  /* JSON text */
    const char *output_schema; /* JSON text */
    /* Checks beyond the schema (NULL: none): false with a message makes
     * the call an isError result. */
    bool (*check)(const json_t *args, char *err, size_t size);
    void (*run)(mcp_call *c);
};

/* mcp_approve.c */
void mcp_tool_approve(mcp_call *c);

/* mcp.c */
bool mcp_tool_enabled(const mcp_plugin *mp, const mcp_tool *t);

/* mcp_session.c */
mcp_session *mcp_session_new(mcp_plugin *mp, const mcp_identity *who);
void mcp_session_free(mcp_session *s);
void mcp_session_send(mcp_session *s, json_t *msg); /* steals msg */
/* Starts a response in s->out, up to its "result": member's value; the
 * caller appends the result object and "}", then sends it. */
bool mcp_session_begin_result(mcp_session *s, const json_t *id);
void mcp_session_send_out(mcp_session *s);
void mcp_session_reply(mcp_session *s, json_t *id, json_t *result); /* steals result */
void mcp_session_error(mcp_session *s, json_t *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void mcp_session_notify(mcp_session *s, const char *method, json_t *params); /* steals */
void mcp_sessions_tools_changed(mcp_plugin *mp);
/* The run ended: its sessions refuse everything from now on. */
void mcp_sessions_run_ended(mcp_plugin *mp, const char *run);

/* mcp_record.c */
void mcp_record_init(mcp_plugin *mp);
/* Queues evt.run.<agent>.<run>.<kind>, with run, task and agent added when
 * it is published, right after the response in hand. */
void mcp_session_event(mcp_session *s, const char *kind, json_t *data); /* steals */
/* Queues the call's tool_call event (error: the protocol error or the
 * cancel reason, or NULL); takes the call's tool_name. */
void mcp_record_tool_call(mcp_call *c, const char *outcome, bool is_error, json_t *error);
/* Publishes every queued event, in order. */
void mcp_record_flush(mcp_plugin *mp);

/* mcp_call.c */
mcp_call *mcp_call_new(mcp_session *s, json_t *id, const char *tool_name);
mcp_call *mcp_call_find(mcp_session *s, const json_t *id);
void mcp_call_start(mcp_call *c);
/* Ends a call: a result (text NULL: the structured content as JSON), a
 * tool error (isError), or a protocol error.  Each sends the response,
 * publishes the tool_call event and frees the call. */
void mcp_call_result(mcp_call *c, const char *text, json_t *structured); /* steals */
void mcp_call_fail(mcp_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mcp_call_error(mcp_call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends a call without a response (notifications/cancelled, closed session). */
void mcp_call_cancel(mcp_call *c, const char *reason);
/* A bus request for the call; done runs once with the reply data, or with
 * error set (timeout, no responders, or the reply's error.message). */
bool mcp_call_request(mcp_call *c, int slot, const char *subject, json_t *data, double timeout,
                      mcp_reply_fn done); /* steals data */
bool mcp_call_pending(const mcp_call *c);

/* mcp_table.c */
const mcp_tool *mcp_tool_get(enum mcp_tool_id id);
const mcp_tool *mcp_tool_find(const char *name);
json_t *mcp_tool_describe(const mcp_plugin *mp, const mcp_tool *t);
/* Whether the arguments fit the tool's input schema; else a message in err. */
bool mcp_tool_check_args(mcp_plugin *mp, const mcp_tool *t, json_t *args, char *err, size_t size);
/* Parses every tool's schemas (at start); -1 with the error in d. */
int mcp_tool_schemas_load(mcp_plugin *mp, cfg_diag *d);
void mcp_tool_schemas_free(mcp_plugin *mp);

/* mcp_tools.c */
void mcp_tool_get_task(mcp_call *c);
void mcp_tool_report_status(mcp_call *c);
void mcp_tool_request_input(mcp_call *c);
void mcp_tool_check_input(mcp_call *c);
void mcp_tool_add_artifact(mcp_call *c);
bool mcp_tool_check_artifact(const json_t *args, char *err, size_t size);
void mcp_tool_link_pr(mcp_call *c);
bool mcp_tool_check_pr(const json_t *args, char *err, size_t size);
void mcp_tool_log_event(mcp_call *c);
/* Stops what a call's tool left running (waits, subscriptions). */
void mcp_tool_release(mcp_call *c);

/* mcp_schema.c */
/* Frees the compiled patterns mcp_schema_check keeps (at plugin stop). */
void mcp_schema_patterns_free(void);
bool mcp_schema_check(const json_t *schema, const json_t *value, const char *name, char *err,
                      size_t size);
/* Redaction (the values of secret-looking keys, long strings cut) is
 * bosun_json_redact in <bosun/json.h>, shared with the agent types. */
/* Length in code points of valid UTF-8 (jansson's strings are). */
size_t mcp_utf8_length(const char *s, size_t bytes);
/* Drops a character that a truncating snprintf cut in two, so that the
 * text is valid UTF-8 again: jansson refuses anything else, and a message
 * it refuses would never reach the client. */
void mcp_utf8_trim(char *s);

#endif
