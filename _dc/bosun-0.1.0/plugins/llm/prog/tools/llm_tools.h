/* The tools of bosun-llm (bash, read_file, write_file, edit_file,
 * list_files, delete_file, fetch): each validates its JSON arguments
 * against its schema, runs on the loop without blocking it, and answers
 * once through the job's done callback with a categorised result. */
#ifndef BOSUN_LLM_TOOLS_H
#define BOSUN_LLM_TOOLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct ev_loop;
/* The same typedef as core/common/curl_ev.h (C11 allows the repeat). */
typedef struct curl_ev curl_ev;

typedef struct llm_tools llm_tools;
typedef struct llm_tool_job llm_tool_job;

/* Everything a result points to lives only during the done call (detail: json_incref to keep). */
struct llm_tool_result {
    bool ok;
    const char *content;  /* text for the model (output, file content, listing, fetch body...) */
    const char *category; /* on error: "timeout" | "runtime" | "not_found" | "invalid" | "denied" */
    const char *error;    /* on error: a message the model can act on; fetch uses its codes
                             URL_NOT_ALLOWED / METHOD_NOT_ALLOWED / FETCH_FAILED in it */
    json_t *detail; /* structured extras for the event (exit code, bytes, status, duration...) */
};

struct llm_tools_host { /* implemented by the loop (hA) */
    /* a workspace file changed by a tool (op "write"|"delete"); content NULL for delete */
    void (*file_changed)(void *arg, const char *call_id, const char *path, const char *op,
                         const void *content, size_t len);
    void (*fetch_logged)(void *arg, const char *call_id,
                         json_t *entry); /* time, duration, method, url, status, bytes */
    void *arg;
};

/* cfg: JSON with workspace (absolute dir), tools (array of enabled names), sandbox
   ("none"|"bwrap"), bash {timeout, max_timeout, output_max}, files {read_max, write_max}, fetch
   {allow: [url prefixes], methods: [...], allow_private: bool, max_body, timeout}.
   Added keys: bash.network (bool, under bwrap), files.scan_max_files, files.scan_max_bytes,
   files.scan_file_max, fetch.max_redirects; unknown keys are refused, every error names its key
   (bosun-llm-tools(7)).
   loop must be the default libev loop (bash reaps with ev_child).
   done runs from the loop, never inside llm_tools_run, exactly once unless the job is cancelled;
   the job is freed after done returns (so neither done nor anything after it may cancel it).
   llm_tools_run returns NULL only without memory.
   Free the tools before the curl_ev: llm_tools_free cancels the running jobs (killing bash
   process groups, removing fetches). */
llm_tools *llm_tools_new(struct ev_loop *loop, curl_ev *curl, const json_t *cfg,
                         const struct llm_tools_host *host, char *err, size_t err_size);
json_t *llm_tools_schemas(llm_tools *t); /* new ref: neutral tools array of the enabled tools */
bool llm_tools_parallel_safe(llm_tools *t,
                             const char *name); /* reads: read_file, list_files, fetch GET/HEAD */
llm_tool_job *llm_tools_run(llm_tools *t, const char *call_id, const char *name, json_t *args,
                            void (*done)(void *arg, const struct llm_tool_result *r), void *arg);
/* Added to the shared interface: whether this call (with its arguments) is
 * a read that may run beside others; fetch is one with GET, HEAD or
 * OPTIONS. */
bool llm_tools_parallel_safe_call(llm_tools *t, const char *name, const json_t *args);
void llm_tool_job_cancel(llm_tool_job *j); /* kills a running bash's process group */
void llm_tools_free(llm_tools *t);

#endif
