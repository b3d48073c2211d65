/* What the tools' modules share: the tool set, a running job, and the
 * helpers every tool answers through.  Not seen outside tools/. */
#ifndef BOSUN_LLM_TOOLS_INT_H
#define BOSUN_LLM_TOOLS_INT_H

#include "llm_tools.h"

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

struct lt_scan;

struct lt_bash_cfg {
    double timeout;     /* seconds, when the call gives none */
    double max_timeout; /* seconds, the most a call may ask for */
    size_t output_max;  /* bytes kept of the combined stdout+stderr */
    bool network;       /* under bwrap: share the host's network */
    char *bwrap;        /* bwrap's path when sandbox is bwrap, else NULL */
};

struct lt_files_cfg {
    size_t read_max;  /* bytes of content one read_file returns */
    size_t write_max; /* bytes one write_file/edit_file may write */
    size_t scan_max_files;
    size_t scan_max_bytes;
    size_t scan_file_max; /* a file bash changed larger than this is not recorded */
};

struct lt_fetch_cfg {
    json_t *allow;   /* array of URL prefixes */
    json_t *methods; /* array of upper-case method names */
    bool allow_private;
    size_t max_body;
    long timeout_ms;
    int max_redirects;
};

/* Files replaced or deleted, kept open until the loop is idle. */
#define LT_HELD_MAX 16

struct llm_tools {
    struct ev_loop *loop;
    curl_ev *curl;
    struct llm_tools_host host;
    char *workspace;
    int ws_fd; /* the workspace directory, O_RDONLY|O_DIRECTORY */
    unsigned enabled;
    struct lt_bash_cfg bash;
    struct lt_files_cfg files;
    struct lt_fetch_cfg fetch;
    struct lt_scan *scan;
    llm_tool_job *jobs;    /* running, so llm_tools_free can end them */
    int held[LT_HELD_MAX]; /* see lt_hold_until_idle */
    size_t n_held;
    ev_idle release;
};

struct llm_tool_job {
    llm_tools *t;
    char *call_id;
    void (*done)(void *arg, const struct llm_tool_result *r);
    void *arg;
    llm_tool_job *prev, *next;
    /* the running tool's state and how to stop it (NULL when finished) */
    void *impl;
    void (*impl_cancel)(void *impl);
    /* a result ready before llm_tools_run returned waits here for the
     * next loop iteration, so done never runs inside llm_tools_run */
    ev_timer deliver;
    bool finished;
    bool ok;
    char *content, *error;
    const char *category;
    json_t *detail;
};

/* Finishes j: success with content (taken, may be NULL for "") and detail
 * (taken, may be NULL). */
void lt_job_ok(llm_tool_job *j, char *content, json_t *detail);
/* Finishes j with an error of category; detail taken, may be NULL. */
void lt_job_fail(llm_tool_job *j, const char *category, json_t *detail, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reports a file change to the host and notes it in the scan index so the
 * next scan does not report it again. */
/* Keeps fd (an O_PATH descriptor of a file a tool replaced or deleted)
 * open until the loop has nothing else to do, then closes it: the kernel
 * frees the file's blocks at that close, which on a filesystem mounted
 * with discard waits for the device (0.1-0.3 ms here), and that wait then
 * comes after the round's next model request is sent, not before.  fd -1
 * is nothing to hold. */
void lt_hold_until_idle(llm_tools *t, int fd);
void lt_file_changed(llm_tool_job *j, const char *path, const char *op, const void *content,
                     size_t len);

/* A malloc'ed, NUL-terminated copy of n bytes as valid UTF-8 (each
 * ill-formed byte and NUL becomes U+FFFD), NULL without memory. */
char *lt_text(const char *data, size_t n);

/* The tools, each started with validated arguments.  A start finishes the
 * job itself (at once or later from the loop). */
void lt_read_file(llm_tool_job *j, json_t *args);
void lt_write_file(llm_tool_job *j, json_t *args);
void lt_edit_file(llm_tool_job *j, json_t *args);
void lt_list_files(llm_tool_job *j, json_t *args);
void lt_delete_file(llm_tool_job *j, json_t *args);
void lt_bash(llm_tool_job *j, json_t *args);
void lt_fetch(llm_tool_job *j, json_t *args);

#endif
