/* The github: section (bosun-github(7), bosun.yaml(5)).  URLs are read by
 * libcurl's URL parser; the secrets are read from their files here, so
 * that --check-config finds an unreadable or too open file before the
 * daemon needs it. */
#define _GNU_SOURCE
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <unistd.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "github.h"

static const char *const github_keys[] = {"api_url",          "web_url",
                                          "client_id",        "client_secret_file",
                                          "token_file",       "webhook_secret_file",
                                          "ca_file",          "allowed_users",
                                          "allowed_orgs",     "admins",
                                          "refresh_interval", "request_timeout",
                                          "webhook_max_age",  "max_prs",
                                          "max_deliveries",   NULL};

/* http:// sends the token in clear: only to this host (a test's fake). */
static bool is_loopback(const char *host)
{
    unsigned char a[16];
    char bare[64];
    size_t n = strlen(host);
    if (strcmp(host, "localhost") == 0)
        return true;
    if (host[0] == '[' && n > 2 && n < sizeof bare && host[n - 1] == ']') {
        snprintf(bare, sizeof bare, "%.*s", (int)(n - 2), host + 1);
        static const unsigned char one[16] = {[15] = 1};
        return inet_pton(AF_INET6, bare, a) == 1 && memcmp(a, one, 16) == 0;
    }
    return inet_pton(AF_INET, host, a) == 1 && a[0] == 127;
}

static bool url_has(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    bool has = curl_url_get(u, part, &v, 0) == CURLUE_OK;
    curl_free(v);
    return has;
}

/* The URL at key (def when absent), checked, without its final slashes. */
static bool read_url(const cfg_node *c, const char *key, const char *def, char **out, cfg_diag *d)
{
    const char *url = NULL;
    *out = NULL;
    if (!cfg_get_string(c, key, def, &url, d))
        return false;
    const cfg_node *n = cfg_get(c, key);
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = false;
    if (!u)
        return cfg_error(d, n, "github.%s: out of memory", key);
    if (strlen(url) > GITHUB_URL_MAX ||
        curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        cfg_error(d, n, "github.%s: expected a URL like %s", key, def);
    else if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
        cfg_error(d, n, "github.%s: the scheme must be https://, not %.16s://", key, scheme);
    else if (strcmp(scheme, "http") == 0 && !is_loopback(host))
        cfg_error(d, n,
                  "github.%s: http:// would send the token in clear; use https:// (http:// is "
                  "for 127.0.0.1, ::1 and localhost only)",
                  key);
    else if (url_has(u, CURLUPART_USER) || url_has(u, CURLUPART_QUERY) ||
             url_has(u, CURLUPART_FRAGMENT))
        cfg_error(d, n, "github.%s: no user, query or fragment in the URL", key);
    else {
        size_t len = strlen(url);
        while (len > 0 && url[len - 1] == '/')
            len--;
        ok = (*out = strndup(url, len)) != NULL;
        if (!ok)
            cfg_error(d, n, "github.%s: out of memory", key);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

bool github_login_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > GITHUB_LOGIN_MAX || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        bool hyphen = s[i] == '-';
        if (!(isascii((unsigned char)s[i]) && isalnum((unsigned char)s[i])) && !hyphen)
            return false;
        if (hyphen && s[i + 1] == '-')
            return false;
    }
    return true;
}

bool github_login_in(char *const *list, const char *login)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcasecmp(list[i], login) == 0)
            return true;
    return false;
}

static void list_free(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

/* A list of logins at key, lower-cased. */
static bool read_logins(const cfg_node *c, const char *key, char ***out, cfg_diag *d)
{
    const char **items = NULL;
    *out = NULL;
    if (!cfg_get_strlist(c, key, &items, d))
        return false;
    if (!items)
        return true;
    size_t n = 0;
    while (items[n])
        n++;
    const cfg_node *node = cfg_get(c, key);
    bool ok = n <= GITHUB_LIST_MAX ||
              cfg_error(d, node, "github.%s: at most %d logins", key, GITHUB_LIST_MAX);
    char **list = ok ? calloc(n + 1, sizeof *list) : NULL;
    if (ok && !list)
        ok = cfg_error(d, node, "github.%s: out of memory", key);
    for (size_t i = 0; ok && i < n; i++) {
        const cfg_node *item = node->type == CFG_SEQ ? node->items[i] : node;
        if (!github_login_valid(items[i]))
            ok = cfg_error(d, item,
                           "github.%s: '%.64s' is not a GitHub login (letters, digits and "
                           "inner single hyphens, at most %d)",
                           key, items[i], GITHUB_LOGIN_MAX);
        else if ((list[i] = strdup(items[i])) == NULL)
            ok = cfg_error(d, item, "github.%s: out of memory", key);
        for (char *p = list[i]; ok && *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    free(items);
    if (!ok)
        list_free(list);
    else
        *out = list;
    return ok;
}

static bool read_client_id(const cfg_node *c, github_cfg *out, cfg_diag *d)
{
    const char *id = NULL;
    if (!cfg_get_string(c, "client_id", NULL, &id, d))
        return false;
    if (!id)
        return true;
    size_t n = strlen(id);
    bool ok = n > 0 && n <= GITHUB_CLIENT_ID_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = isascii((unsigned char)id[i]) &&
             (isalnum((unsigned char)id[i]) || id[i] == '.' || id[i] == '_' || id[i] == '-');
    if (!ok)
        return cfg_error(d, cfg_get(c, "client_id"),
                         "github.client_id: 1 to %d letters, digits, '.', '_' or '-'",
                         GITHUB_CLIENT_ID_MAX);
    out->client_id = strdup(id);
    return out->client_id ? true : cfg_error(d, c, "github: out of memory");
}

/* An absolute path at key; with secret, the secret it holds too. */
static bool read_file(const cfg_node *c, const char *key, char **path, char **secret, cfg_diag *d)
{
    const char *p = NULL;
    char why[512];
    if (!cfg_get_string(c, key, NULL, &p, d))
        return false;
    if (!p)
        return true;
    if (p[0] != '/' || strlen(p) > 4096)
        return cfg_error(d, cfg_get(c, key), "github.%s: expected an absolute path, not '%.200s'",
                         key, p);
    if (!(*path = strdup(p)))
        return cfg_error(d, c, "github: out of memory");
    if (secret && !(*secret = github_secret_read(p, why, sizeof why)))
        return cfg_error(d, cfg_get(c, key), "github.%s: %s", key, why);
    if (!secret && access(p, R_OK) != 0)
        return cfg_error(d, cfg_get(c, key), "github.%s: %.200s: %s", key, p, strerror(errno));
    return true;
}

static bool read_numbers(const cfg_node *c, github_cfg *out, cfg_diag *d)
{
    bool ok =
        cfg_get_duration(c, "refresh_interval", 300.0, 10.0, 86400.0, &out->refresh_interval, d);
    ok = cfg_get_duration(c, "request_timeout", 30.0, 1.0, 300.0, &out->request_timeout, d) && ok;
    ok = cfg_get_duration(c, "webhook_max_age", 3600.0, 60.0, 7 * 86400.0, &out->webhook_max_age,
                          d) &&
         ok;
    ok = cfg_get_int(c, "max_prs", 1000, 1, 100000, &out->max_prs, d) && ok;
    ok = cfg_get_int(c, "max_deliveries", 10000, 100, 1000000, &out->max_deliveries, d) && ok;
    return ok;
}

bool github_cfg_read(const cfg_node *c, github_cfg *out, cfg_diag *d)
{
    memset(out, 0, sizeof *out);
    if (c && c->type != CFG_MAP && c->type != CFG_NULL)
        return cfg_error(d, c, "github: expected a map (see bosun-github(7))");
    bool ok = cfg_check_keys(c, github_keys, d);
    ok = read_url(c, "api_url", "https://api.github.com", &out->api_url, d) && ok;
    ok = read_url(c, "web_url", "https://github.com", &out->web_url, d) && ok;
    ok = read_client_id(c, out, d) && ok;
    ok = read_file(c, "client_secret_file", &out->client_secret_file, &out->client_secret, d) && ok;
    ok = read_file(c, "token_file", &out->token_file, &out->token, d) && ok;
    ok = read_file(c, "webhook_secret_file", &out->webhook_secret_file, &out->webhook_secret, d) &&
         ok;
    ok = read_file(c, "ca_file", &out->ca_file, NULL, d) && ok;
    ok = read_logins(c, "allowed_users", &out->allowed_users, d) && ok;
    ok = read_logins(c, "allowed_orgs", &out->allowed_orgs, d) && ok;
    ok = read_logins(c, "admins", &out->admins, d) && ok;
    ok = read_numbers(c, out, d) && ok;
    if (ok && out->client_id && !out->client_secret)
        ok = cfg_error(d, cfg_get(c, "client_id"),
                       "github.client_id: the login needs client_secret_file too");
    if (ok && out->client_secret && !out->client_id)
        ok = cfg_error(d, cfg_get(c, "client_secret_file"),
                       "github.client_secret_file: the login needs client_id too");
    if (!ok)
        github_cfg_free(out);
    return ok;
}

/* Masked in the log and on the bus should one ever be pasted there: the
 * first bytes serve as the prefix the redaction scans for.  Not done by
 * github_cfg_read, which also serves the side-effect-free check. */
void github_cfg_mask_secrets(const github_cfg *c)
{
    const char *s[] = {c->client_secret, c->token, c->webhook_secret};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        if (s[i] && strlen(s[i]) <= BOSUN_SECRET_MAX)
            bosun_secret_add(s[i], 8);
}

void github_cfg_free(github_cfg *c)
{
    free(c->api_url);
    free(c->web_url);
    free(c->client_id);
    free(c->client_secret_file);
    free(c->token_file);
    free(c->webhook_secret_file);
    free(c->ca_file);
    github_secret_free(c->client_secret);
    github_secret_free(c->token);
    github_secret_free(c->webhook_secret);
    list_free(c->allowed_users);
    list_free(c->allowed_orgs);
    list_free(c->admins);
    memset(c, 0, sizeof *c);
}
