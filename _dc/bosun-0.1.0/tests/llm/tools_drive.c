/* tools_drive: runs bosun-llm's tools (plugins/llm/prog/tools) on a libev
 * loop for the integration tests, without a model.
 *
 *   tools_drive CONFIG.json < CALLS
 *
 * CONFIG.json is the cfg of llm_tools_new.  Each line of CALLS is
 * {"id", "name", "args", "parallel"?: true, "cancel_after"?: seconds}; the
 * calls run in order, each after the one before has answered unless it is
 * marked parallel.  Output, one JSON object a line:
 *   {"event":"result","id","ok","content","category","error","detail","parallel_safe"}
 *   {"event":"file","id","path","op","content"?,"len"}  (host->file_changed)
 *   {"event":"fetch","id","entry"}                       (host->fetch_logged)
 *   {"event":"cancelled","id"}
 *   {"event":"schemas","tools":[...],"parallel":[names]} (first line; parallel:
 *                                    the tools llm_tools_parallel_safe calls reads)
 * With LLM_TOOLS_NO_OPENAT2=1 the paths are resolved as on a kernel
 * without openat2 (the O_NOFOLLOW walk).
 * Exit 0 when every call answered, 2 when the tools could not be made
 * (the reason on stderr and as {"event":"error"}). */
#include "curl_ev.h"
#include "llm_tools.h"
#include "llm_tools_path.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct drive_call {
    json_t *line;
    bool parallel_safe; /* llm_tools_parallel_safe_call on it */
    llm_tool_job *job;
    ev_timer cancel;
    struct drive *d;
};

struct drive {
    struct ev_loop *loop;
    llm_tools *tools;
    struct drive_call *calls;
    size_t count, next, running;
};

static void drive_print(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    if (text) {
        puts(text);
        fflush(stdout);
    }
    free(text);
    json_decref(obj);
}

static void drive_file(void *arg, const char *call_id, const char *path, const char *op,
                       const void *content, size_t len)
{
    (void)arg;
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I}", "event", "file", "id", call_id, "path", path,
                          "op", op, "len", (json_int_t)len);
    /* Text content as text, other bytes as their length only. */
    json_t *text = content ? json_stringn(content, len) : NULL;
    if (o && text)
        json_object_set_new(o, "content", text);
    drive_print(o);
}

static void drive_fetch(void *arg, const char *call_id, json_t *entry)
{
    (void)arg;
    drive_print(json_pack("{s:s,s:s,s:O}", "event", "fetch", "id", call_id, "entry", entry));
}

static void drive_pump(struct drive *d);

static void drive_done(void *arg, const struct llm_tool_result *r)
{
    struct drive_call *c = arg;
    ev_timer_stop(c->d->loop, &c->cancel);
    c->job = NULL;
    drive_print(json_pack("{s:s,s:O,s:b,s:s,s:s?,s:s?,s:O?,s:b}", "event", "result", "id",
                          json_object_get(c->line, "id"), "ok", r->ok, "content", r->content,
                          "category", r->category, "error", r->error, "detail", r->detail,
                          "parallel_safe", c->parallel_safe));
    c->d->running--;
    drive_pump(c->d);
}

static void drive_cancel(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct drive_call *c = w->data;
    llm_tool_job_cancel(c->job);
    c->job = NULL;
    drive_print(json_pack("{s:s,s:O}", "event", "cancelled", "id", json_object_get(c->line, "id")));
    c->d->running--;
    drive_pump(c->d);
}

static void drive_start(struct drive *d, struct drive_call *c)
{
    json_t *l = c->line;
    c->d = d;
    c->parallel_safe = llm_tools_parallel_safe_call(
        d->tools, json_string_value(json_object_get(l, "name")), json_object_get(l, "args"));
    d->running++;
    c->job = llm_tools_run(d->tools, json_string_value(json_object_get(l, "id")),
                           json_string_value(json_object_get(l, "name")),
                           json_object_get(l, "args"), drive_done, c);
    json_t *after = json_object_get(l, "cancel_after");
    if (after) {
        ev_timer_init(&c->cancel, drive_cancel, json_number_value(after), 0);
        c->cancel.data = c;
        ev_timer_start(d->loop, &c->cancel);
    }
}

/* Starts the next calls: one, or a run of parallel ones. */
static void drive_pump(struct drive *d)
{
    while (d->next < d->count) {
        struct drive_call *c = &d->calls[d->next];
        bool parallel = json_is_true(json_object_get(c->line, "parallel"));
        if (d->running > 0 && !parallel)
            return;
        d->next++;
        drive_start(d, c);
    }
}

static json_t *drive_parallel(llm_tools *t)
{
    static const char *const names[] = {"bash",       "read_file",   "write_file", "edit_file",
                                        "list_files", "delete_file", "fetch"};
    json_t *list = json_array();
    for (size_t i = 0; list && i < sizeof names / sizeof *names; i++)
        if (llm_tools_parallel_safe(t, names[i]))
            json_array_append_new(list, json_string(names[i]));
    return list;
}

static int drive_read_calls(struct drive *d)
{
    char line[1 << 20];
    while (fgets(line, sizeof line, stdin)) {
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        json_error_t e;
        json_t *v = json_loads(line, 0, &e);
        struct drive_call *more = realloc(d->calls, (d->count + 1) * sizeof *more);
        if (!v || !more) {
            fprintf(stderr, "tools_drive: bad call line: %s\n", e.text);
            json_decref(v);
            free(more);
            return -1;
        }
        d->calls = more;
        memset(&d->calls[d->count], 0, sizeof *d->calls);
        d->calls[d->count++].line = v;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tools_drive CONFIG.json < CALLS\n");
        return 64;
    }
    json_error_t je;
    json_t *cfg = json_load_file(argv[1], 0, &je);
    struct drive d = {.loop = ev_default_loop(0)};
    if (!cfg || drive_read_calls(&d) < 0) {
        fprintf(stderr, "tools_drive: %s\n", cfg ? "bad calls" : je.text);
        return 64;
    }
    const char *no_openat2 = getenv("LLM_TOOLS_NO_OPENAT2");
    ltp_force_fallback(no_openat2 && strcmp(no_openat2, "1") == 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl_ev *curl = curl_ev_new(d.loop);
    struct llm_tools_host host = {.file_changed = drive_file, .fetch_logged = drive_fetch};
    char err[512];
    d.tools = llm_tools_new(d.loop, curl, cfg, &host, err, sizeof err);
    json_decref(cfg);
    int rc = 0;
    if (!d.tools) {
        fprintf(stderr, "tools_drive: %s\n", err);
        drive_print(json_pack("{s:s,s:s}", "event", "error", "error", err));
        rc = 2;
    } else {
        drive_print(json_pack("{s:s,s:o,s:o}", "event", "schemas", "tools",
                              llm_tools_schemas(d.tools), "parallel", drive_parallel(d.tools)));
        drive_pump(&d);
        ev_run(d.loop, 0);
    }
    llm_tools_free(d.tools);
    curl_ev_free(curl);
    for (size_t i = 0; i < d.count; i++)
        json_decref(d.calls[i].line);
    free(d.calls);
    curl_global_cleanup();
    ev_loop_destroy(d.loop);
    return rc;
}
