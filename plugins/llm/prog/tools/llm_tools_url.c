/* URL allowlist matching (see llm_tools_url.h), on libcurl's URL API so
 * the URL checked is parsed exactly as the one fetched. */
#define _GNU_SOURCE
#include "llm_tools_url.h"

#include <curl/curl.h>
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

/* Host names compare without case; curl keeps the case it was given. */
static void ltu_lower_host(CURLU *u)
{
    char *host = ltu_part(u, CURLUPART_HOST);
    if (!host)
        return;
    for (char *p = host; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    curl_url_set(u, CURLUPART_HOST, host, 0);
    curl_free(host);
}

char *ltu_normalize(const char *url, char *err, size_t err_size)
{
    CURLU *u = curl_url();
    char *out = NULL, *scheme = NULL, *user = NULL;
    if (!u) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (rc != CURLUE_OK) {
        snprintf(err, err_size, "not a valid URL (%s)", curl_url_strerror(rc));
    } else if (!(scheme = ltu_part(u, CURLUPART_SCHEME)) ||
               (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        snprintf(err, err_size, "only http:// and https:// URLs are fetched");
    } else if ((user = ltu_part(u, CURLUPART_USER)) || (user = ltu_part(u, CURLUPART_PASSWORD))) {
        snprintf(err, err_size, "URLs with user information are refused");
    } else {
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
        ltu_lower_host(u);
        char *text = NULL;
        if (curl_url_get(u, CURLUPART_URL, &text, CURLU_NO_DEFAULT_PORT) != CURLUE_OK)
            text = NULL;
        out = text ? strdup(text) : NULL;
        curl_free(text);
        if (!out)
            snprintf(err, err_size, "not a valid URL");
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
