/* The keys of an `llm` agent, checked with FILE:LINE:COL errors and turned
 * into the JSON bosun-llm reads (bosun-llm(7)).  The API key itself is
 * never read here: only where it is (a file or an environment variable),
 * which bosun-llm resolves, so that no event, log or config file of the
 * daemon ever holds it. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "llm.h"

#define PROMPT_MAX   (64 * 1024) /* system_prompt */
#define URL_MAX      2048
#define LIST_MAX     256
#define MODEL_MAX    256
#define ENV_NAME_MAX 128

const char *const llm_agent_keys[] = {
    "llm",         "tools",         "sandbox",    "bash",
    "files",       "fetch",         "max_rounds", "max_context_messages",
    "interactive", "system_prompt", NULL};

static const char *const tool_names[] = {"bash",      "read_file",     "write_file",
                                         "edit_file", "list_files",    "delete_file",
                                         "fetch",     "request_input", NULL};

static bool one_of(const char *v, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(v, list[i]) == 0)
            return true;
    return false;
}

static bool bad(cfg_diag *d, const cfg_node *n, const char *what)
{
    char path[256];
    return cfg_error(d, n, "'%s': %s", cfg_path(n, path, sizeof path), what);
}

/* A non-empty string of at most max bytes, or absent (*out NULL). */
static bool get_text(const cfg_node *map, const char *key, size_t max, const char **out,
                     cfg_diag *d)
{
    *out = NULL;
    if (!cfg_get_string(map, key, NULL, out, d))
        return false;
    if (*out && (!(*out)[0] || strlen(*out) > max)) {
        *out = NULL;
        return bad(d, cfg_get(map, key), "must be a non-empty string of bounded length");
    }
    return true;
}

static bool http_url(const char *v)
{
    return strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0;
}

static bool env_name(const char *v)
{
    if (!v[0] || strlen(v) > ENV_NAME_MAX || isdigit((unsigned char)v[0]))
        return false;
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

/* temperature: a number in [0, 2]; absent: left to the model. */
static bool get_temperature(const cfg_node *llm, json_t *out, cfg_diag *d)
{
    const cfg_node *n = cfg_get(llm, "temperature");
    if (!n || n->type == CFG_NULL)
        return true;
    char *end = NULL;
    double v = n->type == CFG_SCALAR ? strtod(n->value, &end) : -1;
    if (n->type != CFG_SCALAR || end == n->value || *end || !(v >= 0 && v <= 2))
        return bad(d, n, "expected a number from 0 to 2");
    json_object_set_new(out, "temperature", json_real(v));
    return true;
}

static bool key_source(const cfg_node *llm, json_t *out, cfg_diag *d)
{
    const char *file, *env;
    bool ok = get_text(llm, "api_key_file", URL_MAX, &file, d);
    ok = get_text(llm, "api_key_env", ENV_NAME_MAX, &env, d) && ok;
    if (!ok)
        return false;
    if (file && env)
        return bad(d, cfg_get(llm, "api_key_env"), "give api_key_file or api_key_env, not both");
    if (file && file[0] != '/')
        return bad(d, cfg_get(llm, "api_key_file"), "must be an absolute path");
    if (env && !env_name(env))
        return bad(d, cfg_get(llm, "api_key_env"),
                   "must be an environment variable name (letters, digits, '_')");
    if (file)
        json_object_set_new(out, "api_key_file", json_string(file));
    if (env)
        json_object_set_new(out, "api_key_env", json_string(env));
    return true;
}

static json_t *llm_section(const cfg_node *agent, cfg_diag *d)
{
    static const char *const keys[] = {
        "provider",   "base_url",    "model",           "api_key_file", "api_key_env",
        "max_tokens", "temperature", "request_timeout", "retries",      NULL};
    static const char *const providers[] = {"openai", "anthropic", NULL};
    const cfg_node *llm = cfg_get(agent, "llm");
    if (!llm || llm->type != CFG_MAP)
        return bad(d, llm ? llm : agent,
                   llm ? "must be a map" : "an llm agent needs an 'llm' section (provider, model)"),
               NULL;
    const char *provider, *base_url, *model;
    long long max_tokens, retries;
    double timeout;
    bool ok = cfg_check_keys(llm, keys, d);
    ok = get_text(llm, "provider", 32, &provider, d) && ok;
    ok = get_text(llm, "base_url", URL_MAX, &base_url, d) && ok;
    ok = get_text(llm, "model", MODEL_MAX, &model, d) && ok;
    ok = cfg_get_int(llm, "max_tokens", 4096, 1, 1000000, &max_tokens, d) && ok;
    ok = cfg_get_duration(llm, "request_timeout", 120, 1, 3600, &timeout, d) && ok;
    ok = cfg_get_int(llm, "retries", 3, 0, 10, &retries, d) && ok;
    if (ok && !provider)
        ok = bad(d, llm, "'provider' is required: openai or anthropic");
    else if (ok && !one_of(provider, providers))
        ok = bad(d, cfg_get(llm, "provider"), "must be openai or anthropic");
    if (ok && !model)
        ok = bad(d, llm, "'model' is required");
    if (ok && base_url && !http_url(base_url))
        ok = bad(d, cfg_get(llm, "base_url"), "must be an http:// or https:// URL");
    json_t *out = json_object();
    ok = key_source(llm, out, d) && ok;
    ok = get_temperature(llm, out, d) && ok;
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    json_object_set_new(out, "provider", json_string(provider));
    if (base_url) /* else the provider's own (https://api.openai.com/v1, ...) */
        json_object_set_new(out, "base_url", json_string(base_url));
    json_object_set_new(out, "model", json_string(model));
    json_object_set_new(out, "max_tokens", json_integer(max_tokens));
    json_object_set_new(out, "request_timeout", json_real(timeout));
    json_object_set_new(out, "retries", json_integer(retries));
    return out;
}

/* A list of strings each passing check (NULL: any), or def when absent. */
static json_t *str_list(const cfg_node *map, const char *key, const char *const *def,
                        bool (*check)(const char *), const char *what, cfg_diag *d)
{
    const char **items = NULL;
    if (!cfg_get_strlist(map, key, &items, d))
        return NULL;
    json_t *out = json_array();
    const char *const *src = items ? (const char *const *)items : def;
    size_t n = 0;
    bool ok = true;
    for (; src && src[n]; n++) {
        const cfg_node *list = cfg_get(map, key);
        const cfg_node *item =
            items && list->type == CFG_SEQ && n < list->n_items ? list->items[n] : list;
        if (check && !check(src[n]))
            ok = bad(d, item, what);
        json_array_append_new(out, json_string(src[n]));
    }
    if (ok && n > LIST_MAX)
        ok = bad(d, cfg_get(map, key), "too many items");
    free(items);
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static bool tool_name(const char *v)
{
    return one_of(v, tool_names);
}

static bool http_method(const char *v)
{
    static const char *const methods[] = {"GET", "HEAD",  "OPTIONS", "POST",
                                          "PUT", "PATCH", "DELETE",  NULL};
    return one_of(v, methods);
}

static bool sub_map(const cfg_node *agent, const char *key, const char *const *keys, cfg_diag *d)
{
    const cfg_node *n = cfg_get(agent, key);
    if (n && n->type != CFG_MAP && n->type != CFG_NULL)
        return bad(d, n, "must be a map");
    return cfg_check_keys(n, keys, d);
}

static json_t *bash_section(const cfg_node *agent, cfg_diag *d)
{
    static const char *const keys[] = {"timeout", "max_timeout", "output_max", "network", NULL};
    if (!sub_map(agent, "bash", keys, d))
        return NULL;
    const cfg_node *b = cfg_get(agent, "bash");
    double timeout, max_timeout;
    unsigned long long output_max;
    bool network;
    bool ok = cfg_get_duration(b, "timeout", 30, 0.1, 86400, &timeout, d);
    ok = cfg_get_duration(b, "max_timeout", 600, 0.1, 86400, &max_timeout, d) && ok;
    ok = cfg_get_size(b, "output_max", 64 * 1024, 1024, 16 << 20, &output_max, d) && ok;
    ok = cfg_get_bool(b, "network", false, &network, d) && ok;
    if (ok && timeout > max_timeout)
        ok = bad(d, cfg_get(b, "timeout"), "must not be above bash.max_timeout");
    return ok ? json_pack("{s:f,s:f,s:I,s:b}", "timeout", timeout, "max_timeout", max_timeout,
                          "output_max", (json_int_t)output_max, "network", network)
              : NULL;
}

static json_t *files_section(const cfg_node *agent, cfg_diag *d)
{
    static const char *const keys[] = {"read_max", "write_max", NULL};
    if (!sub_map(agent, "files", keys, d))
        return NULL;
    const cfg_node *f = cfg_get(agent, "files");
    unsigned long long read_max, write_max;
    bool ok = cfg_get_size(f, "read_max", 1 << 20, 1024, 64 << 20, &read_max, d);
    ok = cfg_get_size(f, "write_max", 1 << 20, 1024, 64 << 20, &write_max, d) && ok;
    return ok ? json_pack("{s:I,s:I}", "read_max", (json_int_t)read_max, "write_max",
                          (json_int_t)write_max)
              : NULL;
}

static json_t *fetch_section(const cfg_node *agent, cfg_diag *d)
{
    static const char *const keys[] = {
        "allow", "methods", "allow_private", "max_body", "timeout", "max_redirects", NULL};
    static const char *const safe[] = {"GET", "HEAD", "OPTIONS", NULL};
    if (!sub_map(agent, "fetch", keys, d))
        return NULL;
    const cfg_node *f = cfg_get(agent, "fetch");
    bool priv;
    unsigned long long max_body;
    double timeout;
    long long redirects;
    json_t *allow =
        str_list(f, "allow", NULL, http_url, "URL prefixes must be http:// or https://", d);
    json_t *methods = str_list(f, "methods", safe, http_method,
                               "methods are GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE", d);
    bool ok = allow && methods;
    ok = cfg_get_bool(f, "allow_private", false, &priv, d) && ok;
    ok = cfg_get_size(f, "max_body", 1 << 20, 1024, 64 << 20, &max_body, d) && ok;
    ok = cfg_get_duration(f, "timeout", 30, 0.1, 3600, &timeout, d) && ok;
    ok = cfg_get_int(f, "max_redirects", 5, 0, 20, &redirects, d) && ok;
    if (!ok) {
        json_decref(allow);
        json_decref(methods);
        return NULL;
    }
    return json_pack("{s:o,s:o,s:b,s:I,s:f,s:I}", "allow", allow, "methods", methods,
                     "allow_private", priv, "max_body", (json_int_t)max_body, "timeout", timeout,
                     "max_redirects", (json_int_t)redirects);
}

static bool loop_keys(const cfg_node *agent, json_t *out, cfg_diag *d)
{
    static const char *const sandboxes[] = {"none", "bwrap", NULL};
    long long rounds, context;
    bool interactive;
    const char *sandbox, *prompt;
    bool ok = cfg_get_int(agent, "max_rounds", 20, 1, 1000, &rounds, d);
    ok = cfg_get_int(agent, "max_context_messages", 50, 2, 10000, &context, d) && ok;
    ok = cfg_get_bool(agent, "interactive", false, &interactive, d) && ok;
    ok = get_text(agent, "sandbox", 16, &sandbox, d) && ok;
    ok = get_text(agent, "system_prompt", PROMPT_MAX, &prompt, d) && ok;
    if (ok && sandbox && !one_of(sandbox, sandboxes))
        ok = bad(d, cfg_get(agent, "sandbox"), "must be none or bwrap");
    if (!ok)
        return false;
    json_object_set_new(out, "sandbox", json_string(sandbox ? sandbox : "none"));
    json_object_set_new(out, "max_rounds", json_integer(rounds));
    json_object_set_new(out, "max_context_messages", json_integer(context));
    json_object_set_new(out, "interactive", json_boolean(interactive));
    if (prompt)
        json_object_set_new(out, "system_prompt", json_string(prompt));
    return true;
}

json_t *llm_config_json(const cfg_node *agent, cfg_diag *d)
{
    static const char *const all_tools[] = {"bash",          "read_file",  "write_file",
                                            "edit_file",     "list_files", "delete_file",
                                            "request_input", NULL};
    json_t *out = json_object();
    json_t *llm = llm_section(agent, d);
    json_t *tools = str_list(agent, "tools", all_tools, tool_name,
                             "tools are bash, read_file, write_file, edit_file, list_files, "
                             "delete_file, fetch, request_input",
                             d);
    json_t *bash = bash_section(agent, d);
    json_t *files = files_section(agent, d);
    json_t *fetch = fetch_section(agent, d);
    bool ok = loop_keys(agent, out, d);
    ok = llm && tools && bash && files && fetch && ok;
    json_object_set_new(out, "llm", llm ? llm : json_null());
    json_object_set_new(out, "tools", tools ? tools : json_null());
    json_object_set_new(out, "bash", bash ? bash : json_null());
    json_object_set_new(out, "files", files ? files : json_null());
    json_object_set_new(out, "fetch", fetch ? fetch : json_null());
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}
