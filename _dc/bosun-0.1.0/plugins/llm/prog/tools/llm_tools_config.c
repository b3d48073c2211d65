/* The tools' config: checked against its schema, then read into the tool
 * set with the defaults of bosun-llm(7). */
#define _GNU_SOURCE
#include "llm_tools_config.h"

#include "llm_tools_args.h"
#include "llm_tools_schema.h"
#include "llm_tools_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double ltc_number(const json_t *section, const char *key, double dflt)
{
    json_t *v = json_object_get(section, key);
    return v ? json_number_value(v) : dflt;
}

static size_t ltc_size(const json_t *section, const char *key, size_t dflt)
{
    json_t *v = json_object_get(section, key);
    return v ? (size_t)json_integer_value(v) : dflt;
}

/* The first executable "bwrap" on PATH, malloc'ed, or NULL. */
static char *ltc_find_bwrap(void)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        char *cand = NULL;
        if (n > 0 && asprintf(&cand, "%.*s/bwrap", (int)n, p) >= 0) {
            if (access(cand, X_OK) == 0)
                return cand;
            free(cand);
        }
        p += n;
        p += *p == ':';
    }
    return NULL;
}

static unsigned ltc_enabled(const json_t *cfg)
{
    json_t *tools = json_object_get(cfg, "tools");
    if (!tools)
        return (1u << LT_TOOL_COUNT) - 1;
    unsigned set = 0;
    size_t i;
    json_t *name;
    json_array_foreach(tools, i, name) set |= 1u << lt_tool_index(json_string_value(name));
    return set;
}

static int ltc_bash(llm_tools *t, const json_t *cfg, char *err, size_t err_size)
{
    json_t *bash = json_object_get(cfg, "bash");
    t->bash.timeout = ltc_number(bash, "timeout", 30);
    t->bash.max_timeout = ltc_number(bash, "max_timeout", 600);
    t->bash.output_max = ltc_size(bash, "output_max", 64 * 1024);
    t->bash.network = json_is_true(json_object_get(bash, "network"));
    if (t->bash.timeout > t->bash.max_timeout) {
        snprintf(err, err_size,
                 "tools config: bash.timeout (%g s) is above bash.max_timeout (%g s)",
                 t->bash.timeout, t->bash.max_timeout);
        return -1;
    }
    const char *sandbox = json_string_value(json_object_get(cfg, "sandbox"));
    if (!sandbox || strcmp(sandbox, "bwrap") != 0)
        return 0;
    t->bash.bwrap = ltc_find_bwrap();
    if (!t->bash.bwrap) {
        snprintf(err, err_size,
                 "tools config: sandbox: bwrap is set but bwrap is not on PATH (install the Debian "
                 "package "
                 "bubblewrap)");
        return -1;
    }
    return 0;
}

static void ltc_files(llm_tools *t, const json_t *cfg)
{
    json_t *files = json_object_get(cfg, "files");
    t->files.read_max = ltc_size(files, "read_max", 256 * 1024);
    t->files.write_max = ltc_size(files, "write_max", 1024 * 1024);
    t->files.scan_max_files = ltc_size(files, "scan_max_files", 10000);
    t->files.scan_max_bytes = ltc_size(files, "scan_max_bytes", 256u * 1024 * 1024);
    t->files.scan_file_max = ltc_size(files, "scan_file_max", 4u * 1024 * 1024);
}

/* Every allowlist entry must be a URL the fetch tool could match. */
static int ltc_check_allow(const json_t *allow, char *err, size_t err_size)
{
    size_t i;
    json_t *entry;
    json_array_foreach(allow, i, entry)
    {
        char why[256];
        char *norm = ltu_normalize(json_string_value(entry), why, sizeof why);
        if (!norm) {
            snprintf(err, err_size, "tools config: fetch.allow[%zu] \"%.200s\": %s", i,
                     json_string_value(entry), why);
            return -1;
        }
        free(norm);
    }
    return 0;
}

static int ltc_fetch(llm_tools *t, const json_t *cfg)
{
    json_t *fetch = json_object_get(cfg, "fetch");
    json_t *allow = json_object_get(fetch, "allow"), *methods = json_object_get(fetch, "methods");
    t->fetch.allow = allow ? json_deep_copy(allow) : json_array();
    t->fetch.methods =
        methods ? json_deep_copy(methods) : json_pack("[sss]", "GET", "HEAD", "OPTIONS");
    t->fetch.allow_private = json_is_true(json_object_get(fetch, "allow_private"));
    t->fetch.max_body = ltc_size(fetch, "max_body", 1024 * 1024);
    t->fetch.timeout_ms = (long)(ltc_number(fetch, "timeout", 30) * 1000);
    t->fetch.max_redirects = (int)ltc_size(fetch, "max_redirects", 5);
    return t->fetch.allow && t->fetch.methods ? 0 : -1;
}

int ltc_read(llm_tools *t, const json_t *cfg, char *err, size_t err_size)
{
    json_t *schema = lt_config_schema();
    char why[512];
    bool ok = schema && lta_validate(schema, cfg, "tools config", why, sizeof why);
    json_decref(schema);
    if (!ok) {
        snprintf(err, err_size, "%s", schema ? why : "out of memory");
        return -1;
    }
    const char *ws = json_string_value(json_object_get(cfg, "workspace"));
    if (ws[0] != '/') {
        snprintf(err, err_size, "tools config: workspace must be an absolute path (is \"%s\")", ws);
        return -1;
    }
    t->workspace = strdup(ws);
    t->enabled = ltc_enabled(cfg);
    ltc_files(t, cfg);
    if (ltc_check_allow(json_object_get(json_object_get(cfg, "fetch"), "allow"), err, err_size) < 0)
        return -1;
    if (!t->workspace || ltc_fetch(t, cfg) < 0) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    return ltc_bash(t, cfg, err, err_size);
}

void ltc_free(llm_tools *t)
{
    free(t->workspace);
    free(t->bash.bwrap);
    json_decref(t->fetch.allow);
    json_decref(t->fetch.methods);
}
