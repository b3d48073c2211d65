/* The "http:" section -> http_config, every error with FILE:LINE:COL.
 * See bosun.yaml(5), section http. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"

#define DEFAULT_LISTEN "127.0.0.1:8420"

static const char *const http_keys[] = {"listen",
                                        "tls",
                                        "limits",
                                        "allowed_origins",
                                        "trusted_proxies",
                                        "bootstrap_token_file",
                                        "session_ttl",
                                        "access_log",
                                        "web_root",
                                        "public_url",
                                        NULL};
static const char *const tls_keys[] = {"cert", "key", NULL};

void http_limits_default(http_limits *l)
{
    *l = (http_limits){
        .request_line_max = 8 * 1024,
        .header_bytes_max = 16 * 1024,
        .header_count_max = 100,
        .body_max = 1024 * 1024,
        .upload_max = 16 * 1024 * 1024,
        .header_timeout = 10,
        .body_timeout = 30,
        .idle_timeout = 60,
        .conns_per_ip = 256,
        .conns_max = 10000,
        .send_queue_max = 1024 * 1024,
        .ws_frame_max = 1024 * 1024,
        .ws_message_max = 4 * 1024 * 1024,
        .ws_subs_max = 100,
        .ws_auth_timeout = 10,
        .ping_interval = 30,
        .request_timeout = 30,
    };
}

/* One table for sizes, counts and durations: name, where in the struct,
 * and the bounds.  http-parser refuses more than 80 KiB of request line
 * and headers together on its own, hence the two caps below it. */
enum lim_type { LIM_SIZE, LIM_COUNT, LIM_TIME };
static const struct lim_spec {
    const char *key;
    enum lim_type type;
    size_t off;
    double min, max;
} lim_specs[] = {
#define S(k, t, lo, hi)                                                                            \
    {                                                                                              \
#k, t, offsetof(http_limits, k), lo, hi                                                    \
    }
    S(request_line_max, LIM_SIZE, 256, 16 * 1024),
    S(header_bytes_max, LIM_SIZE, 1024, 60 * 1024),
    S(header_count_max, LIM_COUNT, 1, 1000),
    S(body_max, LIM_SIZE, 0, 1024.0 * 1024 * 1024),
    S(upload_max, LIM_SIZE, 0, 1024.0 * 1024 * 1024),
    S(header_timeout, LIM_TIME, 0.05, 3600),
    S(body_timeout, LIM_TIME, 0.05, 3600),
    S(idle_timeout, LIM_TIME, 0.05, 86400),
    S(conns_per_ip, LIM_COUNT, 1, 1000000),
    S(conns_max, LIM_COUNT, 1, 1000000),
    S(send_queue_max, LIM_SIZE, 4096, 1024.0 * 1024 * 1024),
    S(ws_frame_max, LIM_SIZE, 125, 1024.0 * 1024 * 1024),
    S(ws_message_max, LIM_SIZE, 125, 1024.0 * 1024 * 1024),
    S(ws_subs_max, LIM_COUNT, 1, 100000),
    S(ws_auth_timeout, LIM_TIME, 0.05, 3600),
    S(ping_interval, LIM_TIME, 0.05, 86400),
    S(request_timeout, LIM_TIME, 0.05, 3600),
#undef S
};
#define N_LIM (sizeof lim_specs / sizeof lim_specs[0])

static bool read_limit(const cfg_node *map, const struct lim_spec *s, http_limits *l, cfg_diag *d)
{
    char *field = (char *)l + s->off;
    if (s->type == LIM_TIME) {
        double *v = (double *)field;
        return cfg_get_duration(map, s->key, *v, s->min, s->max, v, d);
    }
    size_t *v = (size_t *)field;
    if (s->type == LIM_COUNT) {
        long long n;
        bool ok =
            cfg_get_int(map, s->key, (long long)*v, (long long)s->min, (long long)s->max, &n, d);
        *v = (size_t)n;
        return ok;
    }
    unsigned long long n;
    bool ok = cfg_get_size(map, s->key, *v, (unsigned long long)s->min, (unsigned long long)s->max,
                           &n, d);
    *v = (size_t)n;
    return ok;
}

static bool read_limits(const cfg_node *map, http_limits *l, cfg_diag *d)
{
    http_limits_default(l);
    if (!map)
        return true;
    if (map->type != CFG_MAP && map->type != CFG_NULL)
        return cfg_error(d, map, "http.limits: expected a map");
    const char *keys[N_LIM + 1];
    for (size_t i = 0; i < N_LIM; i++)
        keys[i] = lim_specs[i].key;
    keys[N_LIM] = NULL;
    bool ok = cfg_check_keys(map, keys, d);
    for (size_t i = 0; i < N_LIM; i++)
        ok = read_limit(map, &lim_specs[i], l, d) && ok;
    return ok;
}

/* "HOST:PORT" or "[V6]:PORT", numeric. */
static bool parse_listen(const cfg_node *n, http_listen_addr *a, cfg_diag *d)
{
    if (n->type != CFG_SCALAR)
        return cfg_error(d, n, "http.listen: expected \"HOST:PORT\"");
    const char *s = n->value;
    const char *colon;
    char host[HTTP_ADDR_MAX];
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return cfg_error(d, n, "http.listen: '%s': expected \"[IPV6]:PORT\"", s);
        hlen = (size_t)(close - s - 1);
        if (hlen >= sizeof host)
            return cfg_error(d, n, "http.listen: '%s': address too long", s);
        memcpy(host, s + 1, hlen);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return cfg_error(d, n, "http.listen: '%s': expected \"HOST:PORT\"", s);
        hlen = (size_t)(colon - s);
        if (hlen >= sizeof host)
            return cfg_error(d, n, "http.listen: '%s': address too long", s);
        memcpy(host, s, hlen);
    }
    host[hlen] = '\0';
    unsigned char bin[16];
    bool v6 = inet_pton(AF_INET6, host, bin) == 1;
    if (!v6 && inet_pton(AF_INET, host, bin) != 1)
        return cfg_error(d, n,
                         "http.listen: '%s': '%s' is not a numeric IPv4 or IPv6 address "
                         "(IPv6 in brackets)",
                         s, host);
    if (v6 && s[0] != '[')
        return cfg_error(d, n, "http.listen: '%s': write an IPv6 address in brackets", s);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
        return cfg_error(d, n, "http.listen: '%s': port must be 0 to 65535", s);
    a->host = strdup(host);
    a->port = strdup(colon + 1);
    a->text = strdup(s);
    return a->host && a->port && a->text ? true : cfg_error(d, n, "http: out of memory");
}

static bool same_addr(const http_listen_addr *a, const http_listen_addr *b)
{
    unsigned char x[16] = {0}, y[16] = {0};
    int fa = strchr(a->host, ':') ? AF_INET6 : AF_INET;
    int fb = strchr(b->host, ':') ? AF_INET6 : AF_INET;
    inet_pton(fa, a->host, x);
    inet_pton(fb, b->host, y);
    return fa == fb && memcmp(x, y, sizeof x) == 0 && atoi(a->port) == atoi(b->port) &&
           atoi(a->port) != 0;
}

static bool read_listen(const cfg_node *section, http_config *cfg, cfg_diag *d)
{
    const cfg_node *n = cfg_get(section, "listen");
    const cfg_node *single[1];
    const cfg_node *const *items;
    size_t count;
    if (!n || n->type == CFG_NULL) {
        cfg->listen = calloc(1, sizeof *cfg->listen);
        if (!cfg->listen)
            return cfg_error(d, NULL, "http: out of memory");
        char *colon = strrchr(DEFAULT_LISTEN, ':');
        cfg->listen[0].host = strndup(DEFAULT_LISTEN, (size_t)(colon - DEFAULT_LISTEN));
        cfg->listen[0].port = strdup(colon + 1);
        cfg->listen[0].text = strdup(DEFAULT_LISTEN);
        cfg->n_listen = 1;
        return true;
    }
    if (n->type == CFG_SEQ) {
        items = (const cfg_node *const *)n->items;
        count = n->n_items;
        if (count == 0)
            return cfg_error(d, n, "http.listen: at least one address");
    } else {
        single[0] = n;
        items = single;
        count = 1;
    }
    cfg->listen = calloc(count, sizeof *cfg->listen);
    if (!cfg->listen)
        return cfg_error(d, n, "http: out of memory");
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        if (!parse_listen(items[i], &cfg->listen[cfg->n_listen], d)) {
            ok = false;
            continue;
        }
        for (size_t j = 0; j < cfg->n_listen; j++)
            if (same_addr(&cfg->listen[j], &cfg->listen[cfg->n_listen]))
                ok = cfg_error(d, items[i], "http.listen: '%s' is listed twice", items[i]->value);
        cfg->n_listen++;
    }
    return ok;
}

/* A copied, NULL-terminated list; check validates each item. */
static bool read_list(const cfg_node *section, const char *key, char ***out, size_t *n_out,
                      bool (*check)(const cfg_node *, cfg_diag *), cfg_diag *d)
{
    const char **list = NULL;
    if (!cfg_get_strlist(section, key, &list, d))
        return false;
    size_t n = 0;
    while (list && list[n])
        n++;
    const cfg_node *node = cfg_get(section, key);
    bool ok = true;
    for (size_t i = 0; check && i < n; i++) {
        const cfg_node *item = node->type == CFG_SEQ ? node->items[i] : node;
        ok = check(item, d) && ok;
    }
    *out = calloc(n + 1, sizeof **out);
    for (size_t i = 0; *out && i < n; i++)
        (*out)[i] = strdup(list[i]);
    *n_out = n;
    free(list);
    return ok && *out;
}

static bool check_origin(const cfg_node *n, cfg_diag *d)
{
    const char *s = n->value;
    const char *rest = strncmp(s, "https://", 8) == 0  ? s + 8
                       : strncmp(s, "http://", 7) == 0 ? s + 7
                                                       : NULL;
    if (!rest || !*rest || strpbrk(rest, "/?# "))
        return cfg_error(d, n,
                         "http.allowed_origins: '%s': expected an origin, "
                         "\"https://host[:port]\" without a path",
                         s);
    return true;
}

/* "ADDR" or "ADDR/BITS" -> family, bytes, prefix length. */
static bool parse_cidr(const char *s, int *family, unsigned char *bin, int *bits)
{
    char addr[HTTP_ADDR_MAX];
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t)(slash - s) : strlen(s);
    if (len == 0 || len >= sizeof addr)
        return false;
    memcpy(addr, s, len);
    addr[len] = '\0';
    memset(bin, 0, 16);
    if (inet_pton(AF_INET, addr, bin) == 1)
        *family = AF_INET;
    else if (inet_pton(AF_INET6, addr, bin) == 1)
        *family = AF_INET6;
    else
        return false;
    int max = *family == AF_INET ? 32 : 128;
    *bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || b < 0 || b > max)
            return false;
        *bits = (int)b;
    }
    return true;
}

static bool check_cidr(const cfg_node *n, cfg_diag *d)
{
    int family, bits;
    unsigned char bin[16];
    if (!parse_cidr(n->value, &family, bin, &bits))
        return cfg_error(d, n,
                         "http.trusted_proxies: '%s': expected an address or a CIDR "
                         "(\"10.0.0.0/8\", \"::1\")",
                         n->value);
    return true;
}

static bool in_cidr(const char *cidr, int family, const unsigned char *bin)
{
    int cf, bits;
    unsigned char net[16];
    if (!parse_cidr(cidr, &cf, net, &bits) || cf != family)
        return false;
    int full = bits / 8, rem = bits % 8;
    if (memcmp(net, bin, (size_t)full) != 0)
        return false;
    if (rem == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rem));
    return (net[full] & mask) == (bin[full] & mask);
}

bool http_config_trusted(const http_config *cfg, const char *addr)
{
    unsigned char bin[16] = {0};
    int family = AF_INET;
    if (inet_pton(AF_INET, addr, bin) != 1) {
        family = AF_INET6;
        if (inet_pton(AF_INET6, addr, bin) != 1)
            return false;
    }
    for (size_t i = 0; i < cfg->n_trusted_proxies; i++)
        if (in_cidr(cfg->trusted_proxies[i], family, bin))
            return true;
    return false;
}

static bool read_tls(const cfg_node *section, http_config *cfg, cfg_diag *d)
{
    const cfg_node *tls = cfg_get(section, "tls");
    if (!tls || tls->type == CFG_NULL)
        return true;
    if (tls->type != CFG_MAP)
        return cfg_error(d, tls, "http.tls: expected a map with cert and key");
    const char *cert = NULL, *key = NULL;
    bool ok = cfg_check_keys(tls, tls_keys, d);
    ok = cfg_get_string(tls, "cert", NULL, &cert, d) && ok;
    ok = cfg_get_string(tls, "key", NULL, &key, d) && ok;
    if (!ok)
        return false;
    if (!cert || !key)
        return cfg_error(d, tls, "http.tls: both cert and key are needed");
    cfg->tls_cert = strdup(cert);
    cfg->tls_key = strdup(key);
    /* Loaded once here so that a bad file is a configuration error. */
    http_tls *t = http_tls_new(cert, key, d, tls);
    if (!t)
        return false;
    http_tls_free(t);
    return true;
}

/* web_root: the key, else $BOSUN_WEB_ROOT (the quickstart points it at the
 * source tree), else the installed files.  "" turns the dashboard off. */
static bool read_web_root(const cfg_node *section, http_config *cfg, cfg_diag *d)
{
    const char *env = getenv("BOSUN_WEB_ROOT");
    const char *root = NULL;
    if (!cfg_get_string(section, "web_root", env && *env ? env : WEBDIR, &root, d))
        return false;
    if (root && *root && root[0] != '/')
        return cfg_error(d, cfg_get(section, "web_root"),
                         "'http.web_root': must be an absolute path (or \"\" for no dashboard)");
    cfg->web_root = strdup(root ? root : "");
    return true;
}

/* public_url: the daemon's origin as people reach it (behind a reverse
 * proxy, say), where GitHub's login sends browsers back to; final slashes
 * dropped. */
static bool read_public_url(const cfg_node *section, http_config *cfg, cfg_diag *d)
{
    const char *url = NULL;
    if (!cfg_get_string(section, "public_url", NULL, &url, d))
        return false;
    if (!url)
        return true;
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    const char *rest = strncmp(url, "https://", 8) == 0  ? url + 8
                       : strncmp(url, "http://", 7) == 0 ? url + 7
                                                         : NULL;
    bool ok = rest && rest < url + n && n <= 512;
    for (const char *p = rest; ok && p < url + n; p++)
        ok = *p > ' ' && *p < 0x7f && !strchr("/?#@\\", *p);
    if (!ok)
        return cfg_error(d, cfg_get(section, "public_url"),
                         "'http.public_url': '%s': expected an origin, \"https://host[:port]\" "
                         "without a path",
                         url);
    cfg->public_url = strndup(url, n);
    return true;
}

bool http_config_parse(const cfg_node *section, http_config *cfg, cfg_diag *d)
{
    memset(cfg, 0, sizeof *cfg);
    http_limits_default(&cfg->limits);
    cfg->session_ttl = 7 * 86400;
    cfg->access_log = true;
    if (section && section->type != CFG_MAP && section->type != CFG_NULL)
        return cfg_error(d, section, "http: expected a map");
    bool ok = cfg_check_keys(section, http_keys, d);
    ok = read_listen(section, cfg, d) && ok;
    ok = read_limits(cfg_get(section, "limits"), &cfg->limits, d) && ok;
    ok = read_list(section, "allowed_origins", &cfg->allowed_origins, &cfg->n_allowed_origins,
                   check_origin, d) &&
         ok;
    ok = read_list(section, "trusted_proxies", &cfg->trusted_proxies, &cfg->n_trusted_proxies,
                   check_cidr, d) &&
         ok;
    const char *boot = NULL;
    ok = cfg_get_string(section, "bootstrap_token_file", NULL, &boot, d) && ok;
    if (boot)
        cfg->bootstrap_token_file = strdup(boot);
    ok = cfg_get_duration(section, "session_ttl", cfg->session_ttl, 60, 366 * 86400.0,
                          &cfg->session_ttl, d) &&
         ok;
    ok = cfg_get_bool(section, "access_log", true, &cfg->access_log, d) && ok;
    ok = read_web_root(section, cfg, d) && ok;
    ok = read_public_url(section, cfg, d) && ok;
    ok = ok && read_tls(section, cfg, d);
    return ok;
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        free(list[i]);
    free(list);
}

void http_config_free(http_config *cfg)
{
    for (size_t i = 0; i < cfg->n_listen; i++) {
        free(cfg->listen[i].host);
        free(cfg->listen[i].port);
        free(cfg->listen[i].text);
    }
    free(cfg->listen);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free_list(cfg->allowed_origins, cfg->n_allowed_origins);
    free_list(cfg->trusted_proxies, cfg->n_trusted_proxies);
    free(cfg->bootstrap_token_file);
    free(cfg->web_root);
    free(cfg->public_url);
    memset(cfg, 0, sizeof *cfg);
}
