/* URL allowlist matching (see llm_tools_url.h), on libcurl's URL API so
 * the URL checked is parsed exactly as the one fetched. */
#define _GNU_SOURCE
#include "llm_tools_url.h"

#include <bosun/codec.h>

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *ltu_part(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    if (curl_url_get(u, part, &v, 0) != CURLUE_OK)
        return NULL;
    return v;
}

/* Host names compare without case; curl keeps the case it was given, and
 * decodes %XX in a host into raw bytes.  Only an ASCII name or an IP
 * literal is taken (an IDN goes in its xn-- form), so the text compared is
 * the host connected to.  Returns -1 for another host. */
static int ltu_lower_host(CURLU *u)
{
    char *host = ltu_part(u, CURLUPART_HOST);
    if (!host)
        return -1;
    size_t n = strlen(host);
    bool ok = n > 0 && strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789.-_[]:") == n;
    for (char *p = host; ok && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    if (ok && curl_url_set(u, CURLUPART_HOST, host, 0) != CURLUE_OK)
        ok = false;
    curl_free(host);
    return ok ? 0 : -1;
}

static char *ltu_normalize_once(const char *url, char *err, size_t err_size)
{
    CURLU *u = curl_url();
    char *out = NULL, *scheme = NULL, *user = NULL;
    if (!u) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    CURLUcode rc = CURLUE_OK;
    /* A redirect's Location is bytes from the server: the URL must stay
     * text, for the log and the model. */
    if (!bosun_utf8_text(url, strlen(url))) {
        snprintf(err, err_size, "not a valid URL (not UTF-8 text)");
    } else if ((rc = curl_url_set(u, CURLUPART_URL, url, 0)) != CURLUE_OK) {
        snprintf(err, err_size, "not a valid URL (%s)", curl_url_strerror(rc));
    } else if (!(scheme = ltu_part(u, CURLUPART_SCHEME)) ||
               (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        snprintf(err, err_size, "only http:// and https:// URLs are fetched");
    } else if ((user = ltu_part(u, CURLUPART_USER)) || (user = ltu_part(u, CURLUPART_PASSWORD))) {
        snprintf(err, err_size, "URLs with user information are refused");
    } else {
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
        char *text = NULL;
        if (ltu_lower_host(u) < 0 ||
            curl_url_get(u, CURLUPART_URL, &text, CURLU_NO_DEFAULT_PORT) != CURLUE_OK)
            text = NULL;
        out = text ? strdup(text) : NULL;
        curl_free(text);
        if (!out)
            snprintf(err, err_size,
                     "not a valid URL (the host must be an ASCII name, xn-- for others, or an "
                     "IP address)");
    }
    curl_free(scheme);
    curl_free(user);
    curl_url_cleanup(u);
    return out;
}

static bool ltu_prefix(const char *prefix, const char *url)
{
    size_t n = strlen(prefix);
    if (n == 0 || strncmp(prefix, url, n) != 0)
        return false;
    char next = url[n];
    return prefix[n - 1] == '/' || next == '\0' || next == '/' || next == '?';
}

bool ltu_allowed(const json_t *allow, const char *url)
{
    size_t i;
    json_t *entry;
    json_array_foreach(allow, i, entry)
    {
        char err[128];
        char *norm = ltu_normalize(json_string_value(entry), err, sizeof err);
        /* curl adds "/" to a bare origin: compare without it so the
         * boundary rule applies to the origin itself. */
        if (norm) {
            size_t n = strlen(norm);
            const char *raw = json_string_value(entry);
            if (n > 0 && norm[n - 1] == '/' && raw[strlen(raw) - 1] != '/')
                norm[n - 1] = '\0';
        }
        bool ok = norm && ltu_prefix(norm, url);
        free(norm);
        if (ok)
            return true;
    }
    return false;
}

/* curl's parse of its own output can differ from its first parse (a host
 * given as %XX is decoded, then read as a number the next time), and the
 * URL checked must be the URL fetched: the answer is a fixed point, or
 * the URL is refused. */
char *ltu_normalize(const char *url, char *err, size_t err_size)
{
    char *a = ltu_normalize_once(url, err, err_size);
    for (int round = 0; a && round < 2; round++) {
        char *b = ltu_normalize_once(a, err, err_size);
        if (b && strcmp(a, b) == 0) {
            free(b);
            return a;
        }
        free(a);
        if (!b)
            return NULL; /* err says why */
        a = b;
    }
    if (a)
        snprintf(err, err_size, "not a valid URL (its normal form is not stable)");
    free(a);
    return NULL;
}
