/* The tool set: creation, the schemas shown to the model, and running one
 * call as a job whose result is delivered from the loop. */
#define _GNU_SOURCE
#include "llm_tools.h"

#include "llm_tools_args.h"
#include "llm_tools_config.h"
#include "llm_tools_int.h"
#include "llm_tools_scan.h"
#include "llm_tools_schema.h"
#include "llm_tools_spawn.h"

#include <bosun/codec.h>
#include <bosun/log.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void (*lt_start_fn)(llm_tool_job *j, json_t *args);

/* In the order of lt_tool_defs. */
static const lt_start_fn lt_starts[LT_TOOL_COUNT] = {
    lt_bash, lt_read_file, lt_write_file, lt_edit_file, lt_list_files, lt_delete_file, lt_fetch,
};

static int lt_open_workspace(llm_tools *t, char *err, size_t err_size)
{
    t->ws_fd = open(t->workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (t->ws_fd < 0) {
        snprintf(err, err_size, "tools config: workspace %s cannot be opened: %m", t->workspace);
        return -1;
    }
    t->scan =
        lts_new(t->ws_fd, t->files.scan_max_files, t->files.scan_max_bytes, t->files.scan_file_max);
    if (!t->scan) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    lts_baseline(t->scan);
    return 0;
}

static void release_held(llm_tools *t)
{
    for (size_t i = 0; i < t->n_held; i++)
        close(t->held[i]);
    t->n_held = 0;
    ev_idle_stop(t->loop, &t->release);
}

static void on_release(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)loop;
    (void)revents;
    release_held(w->data);
}

void lt_hold_until_idle(llm_tools *t, int fd)
{
    if (fd < 0)
        return;
    if (t->n_held == LT_HELD_MAX) {
        close(fd);
        return;
    }
    t->held[t->n_held++] = fd;
    ev_idle_start(t->loop, &t->release);
}

llm_tools *llm_tools_new(struct ev_loop *loop, curl_ev *curl, const json_t *cfg,
                         const struct llm_tools_host *host, char *err, size_t err_size)
{
    /* bash reaps its children with ev_child, which libev runs on the
     * default loop only. */
    if (!ev_is_default_loop(loop)) {
        snprintf(err, err_size, "llm_tools_new needs the default libev loop");
        return NULL;
    }
    llm_tools *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    t->loop = loop;
    t->curl = curl;
    t->ws_fd = -1;
    ev_idle_init(&t->release, on_release);
    /* Below every other watcher: the model's next request goes out first. */
    ev_set_priority(&t->release, EV_MINPRI);
    t->release.data = t;
    if (host)
        t->host = *host;
    if (ltc_read(t, cfg, err, err_size) < 0 || lt_open_workspace(t, err, err_size) < 0 ||
        (t->bash.bwrap && (t->enabled & (1u << lt_tool_index("bash"))) &&
         lt_bwrap_probe(t, err, err_size) < 0)) {
        llm_tools_free(t);
        return NULL;
    }
    if (!curl && (t->enabled & (1u << lt_tool_index("fetch")))) {
        snprintf(err, err_size, "the fetch tool needs a curl_ev");
        llm_tools_free(t);
        return NULL;
    }
    return t;
}

json_t *llm_tools_schemas(llm_tools *t)
{
    json_t *list = json_array();
    for (int i = 0; list && i < LT_TOOL_COUNT; i++) {
        if (!(t->enabled & (1u << i)))
            continue;
        json_t *tool = json_pack("{s:s,s:s,s:o*}", "name", lt_tool_defs[i].name, "description",
                                 lt_tool_defs[i].description, "input_schema", lt_tool_schema(i));
        if (!tool || json_array_append_new(list, tool) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static bool lt_safe_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

bool llm_tools_parallel_safe(llm_tools *t, const char *name)
{
    if (strcmp(name, "read_file") == 0 || strcmp(name, "list_files") == 0)
        return true;
    if (strcmp(name, "fetch") != 0)
        return false;
    /* Without the call's arguments fetch is a read only when no method
     * that writes is allowed at all. */
    size_t i;
    json_t *m;
    json_array_foreach(t->fetch.methods, i,
                       m) if (!lt_safe_method(json_string_value(m))) return false;
    return true;
}

bool llm_tools_parallel_safe_call(llm_tools *t, const char *name, const json_t *args)
{
    if (strcmp(name, "fetch") != 0)
        return llm_tools_parallel_safe(t, name);
    const char *m = json_string_value(json_object_get(args, "method"));
    return !m || lt_safe_method(m);
}

static void lt_job_unlink(llm_tool_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        j->t->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
}

static void lt_job_free(llm_tool_job *j)
{
    ev_timer_stop(j->t->loop, &j->deliver);
    lt_job_unlink(j);
    json_decref(j->detail);
    free(j->content);
    free(j->error);
    free(j->call_id);
    free(j);
}

static void lt_job_deliver(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    llm_tool_job *j = w->data;
    struct llm_tool_result r = {
        .ok = j->ok,
        .content = j->content ? j->content : "",
        .category = j->ok ? NULL : j->category,
        .error = j->ok ? NULL : j->error,
        .detail = j->detail,
    };
    j->done(j->arg, &r);
    lt_job_free(j);
}

static void lt_job_finish(llm_tool_job *j)
{
    j->finished = true;
    j->impl = NULL;
    j->impl_cancel = NULL;
    if (!j->detail)
        j->detail = json_object();
    ev_timer_set(&j->deliver, 0, 0);
    ev_timer_start(j->t->loop, &j->deliver);
}

void lt_job_ok(llm_tool_job *j, char *content, json_t *detail)
{
    j->ok = true;
    j->content = content;
    j->detail = detail;
    lt_job_finish(j);
}

void lt_job_fail(llm_tool_job *j, const char *category, json_t *detail, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&j->error, fmt, ap) < 0)
        j->error = NULL;
    va_end(ap);
    j->ok = false;
    j->category = category;
    j->detail = detail;
    if (!j->error)
        j->error = strdup("out of memory");
    lt_job_finish(j);
}

llm_tool_job *llm_tools_run(llm_tools *t, const char *call_id, const char *name, json_t *args,
                            void (*done)(void *arg, const struct llm_tool_result *r), void *arg)
{
    llm_tool_job *j = calloc(1, sizeof *j);
    if (!j || !(j->call_id = strdup(call_id ? call_id : ""))) {
        free(j);
        return NULL;
    }
    j->t = t;
    j->done = done;
    j->arg = arg;
    ev_init(&j->deliver, lt_job_deliver);
    j->deliver.data = j;
    j->next = t->jobs;
    if (t->jobs)
        t->jobs->prev = j;
    t->jobs = j;
    int i = lt_tool_index(name ? name : "");
    if (i < 0 || !(t->enabled & (1u << i))) {
        lt_job_fail(j, "invalid", NULL, "unknown tool \"%.64s\"", name ? name : "");
        return j;
    }
    json_t *schema = lt_tool_schema(i);
    char why[512];
    bool valid = schema && lta_validate(schema, args, "arguments", why, sizeof why);
    json_decref(schema);
    if (!valid)
        lt_job_fail(j, "invalid", NULL, "invalid arguments for %s: %s", name,
                    schema ? why : "out of memory");
    else
        lt_starts[i](j, args);
    return j;
}

void llm_tool_job_cancel(llm_tool_job *j)
{
    if (!j)
        return;
    if (j->impl_cancel)
        j->impl_cancel(j->impl);
    lt_job_free(j);
}

void llm_tools_free(llm_tools *t)
{
    if (!t)
        return;
    while (t->jobs)
        llm_tool_job_cancel(t->jobs);
    release_held(t);
    lts_free(t->scan);
    if (t->ws_fd >= 0)
        close(t->ws_fd);
    ltc_free(t);
    free(t);
}

void lt_file_changed(llm_tool_job *j, const char *path, const char *op, const void *content,
                     size_t len)
{
    lts_note(j->t->scan, path, content, len, strcmp(op, "delete") == 0);
    if (j->t->host.file_changed)
        j->t->host.file_changed(j->t->host.arg, j->call_id, path, op, content, len);
}

char *lt_text(const char *data, size_t n)
{
    /* U+FFFD takes 3 bytes for each byte it replaces at most. */
    char *out = malloc(n * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; out && i < n;) {
        uint32_t cp;
        size_t len = data[i] ? bosun_utf8_next(data + i, n - i, &cp) : 0;
        if (len == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(out + o, data + i, len);
        o += len;
        i += len;
    }
    if (out)
        out[o] = '\0';
    return out;
}
