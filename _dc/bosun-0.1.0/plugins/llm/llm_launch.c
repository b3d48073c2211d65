/* A run of an llm agent: `bosun-llm --config RUN_DIR/llm.json`.  The file
 * (0600, in the run's own 0700 directory) holds the agent's settings, the
 * run's ids, its prompt and workspace, and why it is resumed; the API key
 * stays where the admin put it (bosun-llm reads it), and the connection to
 * bosund comes from the environment the core sets (BOSUN_SOCKET,
 * BOSUN_AGENT_TOKEN). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bosun/json.h>
#include <bosun/sys.h>

#include "llm.h"

static int fail(char **error, const char *why)
{
    *error = strdup(why);
    return -1;
}

/* why, then ": " and the text of errno err. */
static int fail_errno(char **error, const char *why, int err)
{
    char buf[600];
    snprintf(buf, sizeof buf, "%s: %s", why, strerror(err));
    return fail(error, buf);
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc < 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* The agent's workdir, else state_dir/llm/<session>/workspace: a resumed
 * or restarted run of the session works on the same files. */
static char *workspace(const llm_state *st, const bosun_run_info *run, char **error)
{
    const cfg_node *w = cfg_get(run->config, "workdir");
    if (w && w->type == CFG_SCALAR)
        return strdup(w->value);
    const char *sid = run->session_id;
    if (!sid || strcmp(sid, ".") == 0 || strcmp(sid, "..") == 0 || strchr(sid, '/')) {
        fail(error, "the run has no usable session id for its workspace");
        return NULL;
    }
    size_t n = strlen(st->state_dir) + strlen(sid) + 32;
    char *dir = malloc(n);
    if (!dir) {
        fail(error, "out of memory");
        return NULL;
    }
    snprintf(dir, n, "%s/llm/%s/workspace", st->state_dir, sid);
    if (make_dirs(dir) < 0) {
        char why[300];
        snprintf(why, sizeof why, "cannot create the workspace %.200s: %s", dir, strerror(errno));
        free(dir);
        fail(error, why);
        return NULL;
    }
    return dir;
}

static const char *resume_why(int why)
{
    return why == BOSUN_RESUME_ANSWER ? "answer" : why == BOSUN_RESUME_CRASH ? "crash" : NULL;
}

/* What bosun-llm reads: the agent's settings plus the run's facts. */
static json_t *run_config(const bosun_run_info *run, const char *ws, char **error)
{
    json_t *cfg = llm_config_json(run->config, NULL);
    if (!cfg) {
        fail(error, "the agent's llm settings are not valid");
        return NULL;
    }
    json_object_set_new(cfg, "run", json_string(run->run_id));
    json_object_set_new(cfg, "agent", json_string(run->agent));
    json_object_set_new(cfg, "task", run->task_id ? json_string(run->task_id) : json_null());
    json_object_set_new(cfg, "session", json_string(run->session_id));
    json_object_set_new(cfg, "workspace", json_string(ws));
    json_object_set_new(cfg, "prompt", run->prompt ? json_string(run->prompt) : json_null());
    const char *why = resume_why(run->resume_why);
    json_object_set_new(cfg, "resume_why", why ? json_string(why) : json_null());
    json_object_set_new(cfg, "resume_input",
                        why && run->resume_input ? json_string(run->resume_input) : json_null());
    json_object_set_new(cfg, "restarts", json_integer(run->restarts));
    return cfg;
}

/* run_dir/llm.json, 0600, replaced atomically (a restart rewrites it). */
static char *write_config(const bosun_run_info *run, json_t *cfg, char **error)
{
    size_t len;
    char *text = bosun_json_dump(cfg, 0, &len);
    if (!text) {
        fail(error, "out of memory");
        return NULL;
    }
    int rc = bosun_file_replace(run->run_dir, "llm.json", text, len, 0600);
    int err = errno;
    free(text);
    if (rc < 0) {
        fail_errno(error, "cannot write the run's llm.json", err);
        return NULL;
    }
    size_t n = strlen(run->run_dir) + 16;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/llm.json", run->run_dir);
    else
        fail(error, "out of memory");
    return path;
}

static int build(llm_state *st, const bosun_run_info *run, bosun_launch *out, char **error)
{
    if (!run->run_dir)
        return fail(error, "the run has no directory for its llm.json");
    char *ws = workspace(st, run, error);
    if (!ws)
        return -1;
    json_t *cfg = run_config(run, ws, error);
    char *path = cfg ? write_config(run, cfg, error) : NULL;
    json_decref(cfg);
    if (!path) {
        free(ws);
        return -1;
    }
    bosun_argv a = {0};
    bosun_argv_add_all(&a, (const char *const[]){st->program, "--config", path, NULL});
    free(path);
    if (bosun_argv_take(&a, &out->argv) != 0) {
        free(ws);
        return fail(error, "out of memory");
    }
    out->workdir = ws;
    return 0;
}

int llm_build_launch(void *state, const bosun_run_info *run, bosun_launch *out, char **error)
{
    return build(state, run, out, error);
}

/* The same program: bosun-llm reloads the session's conversation and
 * carries on with the answer (resume_why "answer") or after a crash. */
int llm_build_resume(void *state, const bosun_run_info *run, bosun_launch *out, char **error)
{
    return build(state, run, out, error);
}
