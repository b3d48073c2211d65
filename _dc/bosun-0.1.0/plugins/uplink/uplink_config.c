/* The uplink: section (bosun.yaml(5)).  The hub's URL is read by libcurl's
 * URL parser, which knows IPv6 literals, ports and percent-encoding better
 * than a hand-written one; the connection itself is ours (uplink_net.c). */
#include "config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uplink.h"

static const char *const uplink_keys[] = {"hub",
                                          "registration_token",
                                          "registration_token_file",
                                          "token_file",
                                          "ca_file",
                                          "insecure_skip_verify",
                                          "heartbeat",
                                          "backoff_max",
                                          "reconnect_splay",
                                          "connect_timeout",
                                          "name",
                                          NULL};

#define DEFAULT_TOKEN_FILE "machine.tok"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ws:// sends the token in clear: only to this host. */
static bool is_loopback(const char *host)
{
    unsigned char a[16];
    if (strcmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, host, a) == 1) {
        static const unsigned char one[16] = {[15] = 1};
        return memcmp(a, one, 16) == 0;
    }
    return false;
}

static bool url_part(CURLU *u, CURLUPart part, char **out)
{
    *out = NULL;
    return curl_url_get(u, part, out, 0) == CURLUE_OK;
}

/* The URL's parts into out; false with a message at node n. */
static bool read_hub(const cfg_node *n, const char *url, uplink_cfg *out, cfg_diag *d)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
    bool ok = false;
    if (!u)
        return cfg_error(d, n, "uplink.hub: out of memory");
    if (strlen(url) > 2048 ||
        curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        !url_part(u, CURLUPART_SCHEME, &scheme) || !url_part(u, CURLUPART_HOST, &host)) {
        cfg_error(d, n, "uplink.hub: expected a URL like wss://hub.example.net:8420");
        goto out;
    }
    bool tls = strcmp(scheme, "wss") == 0;
    if (!tls && strcmp(scheme, "ws") != 0) {
        cfg_error(d, n,
                  "uplink.hub: the scheme must be wss:// (or ws:// to this host), not %.16s://",
                  scheme);
        goto out;
    }
    if (url_part(u, CURLUPART_USER, &extra) || url_part(u, CURLUPART_QUERY, &extra) ||
        url_part(u, CURLUPART_FRAGMENT, &extra)) {
        cfg_error(d, n, "uplink.hub: no user, query or fragment in the hub's URL");
        goto out;
    }
    size_t hl = strlen(host);
    char bare[UPLINK_HOST_MAX + 1];
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']')
        snprintf(bare, sizeof bare, "%.*s", (int)(hl - 2), host + 1);
    else if (hl <= UPLINK_HOST_MAX)
        snprintf(bare, sizeof bare, "%s", host);
    else {
        cfg_error(d, n, "uplink.hub: the host name is longer than %d bytes", UPLINK_HOST_MAX);
        goto out;
    }
    if (!tls && !is_loopback(bare)) {
        cfg_error(d, n,
                  "uplink.hub: ws:// would send the machine's token in clear; use wss:// "
                  "(ws:// is for 127.0.0.1, ::1 and localhost only)");
        goto out;
    }
    url_part(u, CURLUPART_PORT, &port);
    url_part(u, CURLUPART_PATH, &path);
    const char *p = path && strcmp(path, "/") != 0 ? path : "";
    size_t pl = strlen(p);
    while (pl > 0 && p[pl - 1] == '/')
        pl--;
    bool has_fleet = pl >= 6 && strncmp(p + pl - 6, "/fleet", 6) == 0;
    out->tls = tls;
    out->host = strdup(bare);
    out->port = strdup(port ? port : tls ? "443" : "80");
    char hh[UPLINK_HOST_MAX + 16];
    snprintf(hh, sizeof hh, port ? "%s:%s" : "%s%s", host, port ? port : "");
    out->host_header = strdup(hh);
    if (asprintf(&out->path, "%.*s%s", (int)pl, p, has_fleet ? "" : "/fleet") < 0)
        out->path = NULL;
    ok = out->host && out->port && out->host_header && out->path;
    if (!ok)
        cfg_error(d, n, "uplink.hub: out of memory");
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(extra);
    curl_url_cleanup(u);
    return ok;
}

static bool absolute_path(const cfg_node *c, const char *key, const char *value, cfg_diag *d)
{
    if (!value || value[0] == '/')
        return true;
    return cfg_error(d, cfg_get(c, key), "uplink.%s: expected an absolute path, not '%.200s'", key,
                     value);
}

static bool readable(const cfg_node *c, const char *key, const char *path, cfg_diag *d)
{
    if (!path || access(path, R_OK) == 0)
        return true;
    return cfg_error(d, cfg_get(c, key), "uplink.%s: %.200s: %s", key, path, strerror(errno));
}

static bool read_files(const cfg_node *c, const char *state_dir, uplink_cfg *out, cfg_diag *d)
{
    const char *reg = NULL, *reg_file = NULL, *tok = NULL, *ca = NULL;
    bool ok = cfg_get_string(c, "registration_token", NULL, &reg, d);
    ok = cfg_get_string(c, "registration_token_file", NULL, &reg_file, d) && ok;
    ok = cfg_get_string(c, "token_file", NULL, &tok, d) && ok;
    ok = cfg_get_string(c, "ca_file", NULL, &ca, d) && ok;
    if (!ok)
        return false;
    /* Never the value in a message: it is a secret. */
    if (reg && !uplink_token_valid(reg, "bsn_reg_"))
        ok = cfg_error(d, cfg_get(c, "registration_token"),
                       "uplink.registration_token: not a registration token (bsn_reg_...)");
    if (reg && reg_file)
        ok = cfg_error(d, cfg_get(c, "registration_token_file"),
                       "uplink.registration_token_file: give registration_token or "
                       "registration_token_file, not both");
    ok = absolute_path(c, "registration_token_file", reg_file, d) && ok;
    ok = absolute_path(c, "token_file", tok, d) && ok;
    ok = absolute_path(c, "ca_file", ca, d) && ok;
    ok = ok && readable(c, "ca_file", ca, d);
    if (!ok)
        return false;
    out->reg_token = dup_or_null(reg);
    out->reg_token_file = dup_or_null(reg_file);
    out->ca_file = dup_or_null(ca);
    if (tok)
        out->token_file = strdup(tok);
    else if (asprintf(&out->token_file, "%s/%s", state_dir, DEFAULT_TOKEN_FILE) < 0)
        out->token_file = NULL;
    if (!out->token_file || (reg && !out->reg_token) || (reg_file && !out->reg_token_file) ||
        (ca && !out->ca_file))
        return cfg_error(d, c, "uplink: out of memory");
    return true;
}

static bool read_name(const cfg_node *c, const char *machine_id, uplink_cfg *out, cfg_diag *d)
{
    const char *name = NULL;
    if (!cfg_get_string(c, "name", machine_id, &name, d))
        return false;
    size_t n = strlen(name);
    bool printable = n > 0 && n <= UPLINK_NAME_MAX;
    for (size_t i = 0; printable && i < n; i++)
        printable = (unsigned char)name[i] >= 0x20 && name[i] != 0x7f;
    if (!printable)
        return cfg_error(d, cfg_get(c, "name"),
                         "uplink.name: 1 to %d bytes of text without control characters",
                         UPLINK_NAME_MAX);
    out->name = strdup(name);
    return out->name ? true : cfg_error(d, c, "uplink: out of memory");
}

bool uplink_cfg_read(const cfg_node *c, const char *state_dir, const char *machine_id,
                     uplink_cfg *out, cfg_diag *d)
{
    memset(out, 0, sizeof *out);
    if (!c || c->type != CFG_MAP)
        return cfg_error(d, c,
                         "uplink: expected a map with at least hub (see bosun.yaml(5), uplink)");
    bool ok = cfg_check_keys(c, uplink_keys, d);
    const char *hub = NULL;
    if (!cfg_get_string(c, "hub", NULL, &hub, d))
        ok = false;
    else if (!hub)
        ok = cfg_error(d, c, "uplink.hub: the hub's URL is required (wss://HOST:PORT)");
    else if ((out->hub = strdup(hub)) == NULL || !read_hub(cfg_get(c, "hub"), hub, out, d))
        ok = false;
    ok = read_files(c, state_dir, out, d) && ok;
    ok = read_name(c, machine_id, out, d) && ok;
    ok = cfg_get_bool(c, "insecure_skip_verify", false, &out->insecure, d) && ok;
    ok = cfg_get_duration(c, "heartbeat", 30.0, 0.1, 3600.0, &out->heartbeat, d) && ok;
    ok = cfg_get_duration(c, "backoff_max", 60.0, 1.0, 3600.0, &out->backoff_max, d) && ok;
    ok = cfg_get_duration(c, "reconnect_splay", 10.0, 0.0, 600.0, &out->reconnect_splay, d) && ok;
    ok = cfg_get_duration(c, "connect_timeout", 10.0, 0.5, 300.0, &out->connect_timeout, d) && ok;
    if (!ok)
        uplink_cfg_free(out);
    return ok;
}

void uplink_cfg_free(uplink_cfg *c)
{
    if (c->reg_token)
        explicit_bzero(c->reg_token, strlen(c->reg_token));
    free(c->hub);
    free(c->host);
    free(c->host_header);
    free(c->port);
    free(c->path);
    free(c->reg_token);
    free(c->reg_token_file);
    free(c->token_file);
    free(c->ca_file);
    free(c->name);
    memset(c, 0, sizeof *c);
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool uplink_cfg_link_differs(const uplink_cfg *a, const uplink_cfg *b)
{
    return !same(a->hub, b->hub) || !same(a->reg_token, b->reg_token) ||
           !same(a->reg_token_file, b->reg_token_file) || !same(a->token_file, b->token_file) ||
           !same(a->ca_file, b->ca_file) || a->insecure != b->insecure || !same(a->name, b->name);
}
