/* bosun-llm's settings (llm_conf.h). */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bosun/json.h>

#include "llm_conf.h"

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The whole of a small regular file, NUL-terminated; NULL with errno. */
static char *read_small(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        int e = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
        close(fd);
        errno = e;
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    ssize_t got = 1;
    while (buf && n < (size_t)st.st_size && got > 0) {
        got = read(fd, buf + n, (size_t)st.st_size - n);
        if (got < 0 && errno == EINTR)
            got = 1;
        else if (got > 0)
            n += (size_t)got;
    }
    int e = errno;
    close(fd);
    if (!buf || got < 0) {
        free(buf);
        errno = buf ? e : ENOMEM;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

bool llm_conf_load(llm_conf *c, const char *path, char *err, size_t err_size)
{
    memset(c, 0, sizeof *c);
    size_t len;
    char *text = read_small(path, LLM_CONF_MAX, &len);
    if (!text) {
        snprintf(err, err_size, "cannot read %s: %s", path, strerror(errno));
        return false;
    }
    bosun_json_error je;
    c->root = bosun_json_parse(text, len, BOSUN_JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!json_is_object(c->root)) {
        snprintf(err, err_size, "%s: not a JSON object (column %d: %s)", path, je.column,
                 c->root ? "" : je.text);
        llm_conf_free(c);
        return false;
    }
    json_t *r = c->root;
    c->path = path;
    c->run = str(r, "run");
    c->agent = str(r, "agent");
    c->task = str(r, "task");
    c->session = str(r, "session");
    c->workspace = str(r, "workspace");
    c->prompt = str(r, "prompt");
    c->resume_why = str(r, "resume_why");
    c->resume_input = str(r, "resume_input");
    c->system_prompt = str(r, "system_prompt");
    c->max_rounds = json_integer_value(json_object_get(r, "max_rounds"));
    c->max_context_messages = json_integer_value(json_object_get(r, "max_context_messages"));
    c->interactive = json_is_true(json_object_get(r, "interactive"));
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(r, "tools"), i, t) c->request_input =
        c->request_input ||
        (json_is_string(t) && strcmp(json_string_value(t), "request_input") == 0);
    const json_t *llm = json_object_get(r, "llm");
    if (!c->run || !c->session || !c->workspace || c->workspace[0] != '/' || !json_is_object(llm) ||
        c->max_rounds < 1 || c->max_context_messages < 2) {
        snprintf(err, err_size,
                 "%s: run, session, an absolute workspace, llm, max_rounds and "
                 "max_context_messages are required",
                 path);
        llm_conf_free(c);
        return false;
    }
    c->run_dir = strdup(path);
    char *slash = c->run_dir ? strrchr(c->run_dir, '/') : NULL;
    if (slash)
        *slash = '\0';
    return true;
}

void llm_conf_free(llm_conf *c)
{
    json_decref(c->root);
    free(c->run_dir);
    memset(c, 0, sizeof *c);
}

/* The key from api_key_file (trailing white space taken off) or
 * api_key_env; "" when neither is set (a local server without auth). */
static char *resolve_key(const json_t *llm, char *err, size_t err_size)
{
    const char *file = str(llm, "api_key_file"), *env = str(llm, "api_key_env");
    if (env) {
        const char *v = getenv(env);
        if (!v || !v[0]) {
            snprintf(err, err_size,
                     "the API key variable %s is not set in bosun-llm's environment "
                     "(set it in the agent's env: or the daemon's)",
                     env);
            return NULL;
        }
        return strdup(v);
    }
    if (!file)
        return strdup("");
    size_t len;
    char *key = read_small(file, LLM_KEY_MAX, &len);
    if (!key) {
        snprintf(err, err_size, "cannot read the API key file %s: %s", file,
                 errno == EFBIG ? "longer than 8 KiB" : strerror(errno));
        return NULL;
    }
    while (len > 0 && (key[len - 1] == '\n' || key[len - 1] == '\r' || key[len - 1] == ' ' ||
                       key[len - 1] == '\t'))
        key[--len] = '\0';
    if (!len) {
        free(key);
        snprintf(err, err_size, "the API key file %s is empty", file);
        return NULL;
    }
    return key;
}

json_t *llm_conf_provider(const llm_conf *c, char *err, size_t err_size)
{
    const json_t *llm = json_object_get(c->root, "llm");
    char *key = resolve_key(llm, err, err_size);
    if (!key)
        return NULL;
    json_t *cfg = json_deep_copy(llm);
    json_object_del(cfg, "api_key_file");
    json_object_del(cfg, "api_key_env");
    json_object_set_new(cfg, "api_key", json_string(key));
    explicit_bzero(key, strlen(key));
    free(key);
    return cfg;
}

void llm_conf_wipe(json_t *cfg)
{
    json_t *k = json_object_get(cfg, "api_key");
    if (json_is_string(k) && json_string_length(k))
        explicit_bzero((char *)json_string_value(k), json_string_length(k));
    json_decref(cfg);
}

json_t *llm_conf_tools(const llm_conf *c)
{
    json_t *tools = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(c->root, "tools"), i,
                       t) if (json_is_string(t) && strcmp(json_string_value(t), "request_input") !=
                                                       0) json_array_append(tools, t);
    return json_pack("{s:s,s:o,s:O?,s:O?,s:O?,s:O?}", "workspace", c->workspace, "tools", tools,
                     "sandbox", json_object_get(c->root, "sandbox"), "bash",
                     json_object_get(c->root, "bash"), "files", json_object_get(c->root, "files"),
                     "fetch", json_object_get(c->root, "fetch"));
}
