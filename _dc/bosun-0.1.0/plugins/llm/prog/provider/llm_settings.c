/* llm_settings.c — the agent's llm: section (as JSON, from the llm agent
 * type) checked into llm_settings, and the small helpers the dialects
 * share.  Every value is bounded; the API key must be usable as one header
 * value (no control characters), and is never named in an error. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_dialect.h"
#include "llm_settings.h"

#define MAX_KEY   8192 /* api_key_file may hold 8 KiB (bosun-llm(7)) */
#define MAX_URL   2048
#define MAX_MODEL 256

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static int get_string(const json_t *cfg, const char *key, size_t max, bool required, char **out,
                      char *err, size_t err_size)
{
    const json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v)) {
        if (required) {
            snprintf(err, err_size, "llm.%s is required", key);
            return -1;
        }
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) > max || !printable(json_string_value(v)) ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        /* Say what is wrong without showing the value (it may be the key). */
        snprintf(err, err_size, "llm.%s must be a string of at most %zu printable characters", key,
                 max);
        return -1;
    }
    *out = strdup(json_string_value(v));
    if (!*out) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    return 0;
}

static int get_number(const json_t *cfg, const char *key, double lo, double hi, double def,
                      double *out, char *err, size_t err_size)
{
    const json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    double d = json_number_value(v);
    if (!json_is_number(v) || !isfinite(d) || d < lo || d > hi) {
        snprintf(err, err_size, "llm.%s must be a number from %g to %g", key, lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

static int check_url(const char *url, char *err, size_t err_size)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, err_size, "llm.base_url must start with http:// or https://");
        return -1;
    }
    return 0;
}

static const char *const known_keys[] = {"provider",        "base_url",      "model",
                                         "api_key",         "max_tokens",    "temperature",
                                         "request_timeout", "stall_timeout", "retries"};

static int check_keys(const json_t *cfg, char *err, size_t err_size)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)cfg, k, v)
    {
        size_t i = 0;
        while (i < sizeof known_keys / sizeof *known_keys && strcmp(k, known_keys[i]) != 0)
            i++;
        if (i == sizeof known_keys / sizeof *known_keys) {
            snprintf(err, err_size, "llm.%.64s is not a known key", k);
            return -1;
        }
    }
    return 0;
}

int llm_settings_load(llm_settings *s, const llm_dialect **dialect, const json_t *cfg, char *err,
                      size_t err_size)
{
    memset(s, 0, sizeof *s);
    if (!json_is_object(cfg)) {
        snprintf(err, err_size, "llm: must be a map");
        return -1;
    }
    if (check_keys(cfg, err, err_size))
        return -1;
    const char *prov = llm_str(cfg, "provider");
    if (strcmp(prov, "openai") == 0)
        *dialect = &llm_dialect_openai;
    else if (strcmp(prov, "anthropic") == 0)
        *dialect = &llm_dialect_anthropic;
    else {
        snprintf(err, err_size, "llm.provider must be openai or anthropic");
        return -1;
    }
    double max_tokens, retries;
    if (get_string(cfg, "model", MAX_MODEL, true, &s->model, err, err_size) ||
        get_string(cfg, "api_key", MAX_KEY, false, &s->api_key, err, err_size) ||
        get_string(cfg, "base_url", MAX_URL, false, &s->base_url, err, err_size) ||
        get_number(cfg, "max_tokens", 1, 1000000, 4096, &max_tokens, err, err_size) ||
        get_number(cfg, "temperature", 0, 2, -1, &s->temperature, err, err_size) ||
        get_number(cfg, "request_timeout", 1, 86400, 600, &s->request_timeout, err, err_size) ||
        get_number(cfg, "stall_timeout", 1, 86400, 120, &s->stall_timeout, err, err_size) ||
        get_number(cfg, "retries", 0, 20, 3, &retries, err, err_size))
        goto fail;
    if (!*s->model) {
        snprintf(err, err_size, "llm.model must not be empty");
        goto fail;
    }
    s->has_temperature = s->temperature >= 0;
    s->max_tokens = (long)max_tokens;
    s->retries = (int)retries;
    if (!s->api_key && !(s->api_key = strdup("")))
        goto oom;
    if (!s->base_url && !(s->base_url = strdup((*dialect)->default_base_url)))
        goto oom;
    /* A trailing slash would double the path's. */
    size_t n = strlen(s->base_url);
    while (n > 0 && s->base_url[n - 1] == '/')
        s->base_url[--n] = '\0';
    if (check_url(s->base_url, err, err_size))
        goto fail;
    return 0;
oom:
    snprintf(err, err_size, "out of memory");
fail:
    llm_settings_clear(s);
    return -1;
}

void llm_settings_clear(llm_settings *s)
{
    if (s->api_key)
        explicit_bzero(s->api_key, strlen(s->api_key));
    free(s->api_key);
    free(s->model);
    free(s->base_url);
    memset(s, 0, sizeof *s);
}
