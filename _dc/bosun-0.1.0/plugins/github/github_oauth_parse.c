/* GitHub's answers to the login: the token endpoint (its errors come with
 * status 200), the device code endpoint, GET /user and GET /user/orgs.
 * Each answer is bounded (GH_ANSWER_MAX before parsing, each member
 * after) and its members checked for type and shape; a reason never
 * carries a member's value (a token, a code). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "github_oauth.h"

static json_t *load_object(const char *body, size_t len, char *why, size_t why_size)
{
    if (len > GH_ANSWER_MAX) {
        snprintf(why, why_size, "GitHub's answer is over %u bytes", GH_ANSWER_MAX);
        return NULL;
    }
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        snprintf(why, why_size, "GitHub's answer is not a JSON object");
        return NULL;
    }
    return o;
}

/* A string member of 1 to max visible ASCII bytes into out (max+1 bytes). */
static int take_word(json_t *o, const char *key, char *out, size_t max, char *why, size_t why_size)
{
    const char *s = json_string_value(json_object_get(o, key));
    size_t n = s ? strlen(s) : 0;
    bool ok = s && n > 0 && n <= max && n == json_string_length(json_object_get(o, key));
    for (size_t i = 0; ok && i < n; i++)
        ok = isgraph((unsigned char)s[i]);
    if (!ok) {
        snprintf(why, why_size, "GitHub's answer has no valid \"%s\"", key);
        return -1;
    }
    memcpy(out, s, n + 1);
    return 0;
}

/* A whole number member in [min, max]; absent leaves *out. */
static int take_long(json_t *o, const char *key, long min, long max, long *out, char *why,
                     size_t why_size)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        snprintf(why, why_size, "GitHub's \"%s\" is not a number from %ld to %ld", key, min, max);
        return -1;
    }
    *out = (long)json_integer_value(v);
    return 0;
}

int gh_parse_token(const char *body, size_t len, gh_token_answer *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    json_t *o = load_object(body, len, why, why_size);
    if (!o)
        return -1;
    int rc;
    if (json_object_get(o, "error")) {
        rc = take_word(o, "error", out->error, sizeof out->error - 1, why, why_size);
        if (rc == 0)
            rc = take_long(o, "interval", 1, 3600, &out->interval, why, why_size);
    } else {
        rc = take_word(o, "access_token", out->token, GH_TOKEN_MAX, why, why_size);
    }
    json_decref(o);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

static bool http_url(const char *s)
{
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

int gh_parse_device(const char *body, size_t len, gh_device_answer *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    json_t *o = load_object(body, len, why, why_size);
    if (!o)
        return -1;
    out->expires_in = (long)GH_DEVICE_TTL;
    out->interval = 5; /* GitHub's default */
    int rc = take_word(o, "device_code", out->device_code, GH_CODE_MAX, why, why_size);
    if (rc == 0)
        rc = take_word(o, "user_code", out->user_code, sizeof out->user_code - 1, why, why_size);
    if (rc == 0)
        rc = take_word(o, "verification_uri", out->verification_uri, GITHUB_URL_MAX, why, why_size);
    if (rc == 0 && !http_url(out->verification_uri)) {
        snprintf(why, why_size, "GitHub's \"verification_uri\" is not an http(s) URL");
        rc = -1;
    }
    if (rc == 0)
        rc = take_long(o, "expires_in", 1, 86400, &out->expires_in, why, why_size);
    if (rc == 0)
        rc = take_long(o, "interval", 1, 3600, &out->interval, why, why_size);
    json_decref(o);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

int gh_parse_user(const char *body, size_t len, char login[GITHUB_LOGIN_MAX + 1], char *why,
                  size_t why_size)
{
    login[0] = '\0';
    json_t *o = load_object(body, len, why, why_size);
    if (!o)
        return -1;
    const char *s = json_string_value(json_object_get(o, "login"));
    int rc = -1;
    if (!s || !github_login_valid(s))
        snprintf(why, why_size, "GitHub's user has no valid \"login\"");
    else {
        snprintf(login, GITHUB_LOGIN_MAX + 1, "%s", s);
        rc = 0;
    }
    json_decref(o);
    return rc;
}

int gh_parse_orgs(const char *body, size_t len, char *const *allowed, bool *member, char *why,
                  size_t why_size)
{
    *member = false;
    if (len > GH_ANSWER_MAX) {
        snprintf(why, why_size, "GitHub's answer is over %u bytes", GH_ANSWER_MAX);
        return -1;
    }
    json_t *a = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_array(a)) {
        json_decref(a);
        snprintf(why, why_size, "GitHub's list of orgs is not a JSON array");
        return -1;
    }
    size_t i;
    json_t *e;
    int rc = 0;
    json_array_foreach(a, i, e)
    {
        const char *s = json_string_value(json_object_get(e, "login"));
        if (!s || !github_login_valid(s)) {
            snprintf(why, why_size, "GitHub's org %zu has no valid \"login\"", i);
            rc = -1;
            *member = false;
            break;
        }
        if (allowed && github_login_in(allowed, s))
            *member = true;
    }
    json_decref(a);
    return rc;
}
