/* notify_config — the notify: section (bosun-notify(7)).
 *
 * Everything is checked before anything runs: a rule naming an unknown
 * channel or kind, a URL of the wrong scheme, a secret file missing or
 * empty, an address with a line break are errors at FILE:LINE:COL.  Secret
 * files are read here, once, so that a bad one fails --check-config and a
 * reload keeps the old settings; their contents never reach a message. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "notify.h"

#define SECRET_FILE_MAX  4096
#define CHANNEL_NAME_MAX 64
#define CHANNELS_MAX     64
#define RULES_MAX        256

static const char *const section_keys[] = {"public_url", "window", "rules", "channels", NULL};
static const char *const rule_keys[] = {"on", "agents", "tasks", "to", NULL};
static const char *const common_keys[] = {"type",        "url",   "timeout", "retries", "backoff",
                                          "backoff_max", "queue", "ca_file", NULL};
static const char *const webhook_keys[] = {"secret_file", "format", NULL};
static const char *const ntfy_keys[] = {"token_file", "priority", "tags", NULL};
static const char *const email_keys[] = {"from",          "to",       "username",
                                         "password_file", "starttls", NULL};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void free_strv(char **v)
{
    if (v)
        for (size_t i = 0; v[i]; i++)
            free(v[i]);
    free(v);
}

static char **dup_strv(const char **v)
{
    if (!v)
        return NULL;
    size_t n = 0;
    while (v[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            free_strv(out);
            return NULL;
        }
    return out;
}

/* scheme://host... with one of the schemes allowed (libcurl's URL parser,
 * the one the transfer will use). */
static bool check_url(const cfg_node *node, const char *what, const char *url,
                      const char *const *schemes, cfg_diag *d)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && *host;
    bool known = false;
    for (size_t i = 0; ok && schemes[i]; i++)
        known = known || strcasecmp(scheme, schemes[i]) == 0;
    if (!ok)
        cfg_error(d, node, "%s: not a URL: '%.200s'", what, url);
    else if (!known)
        cfg_error(d, node, "%s: the scheme must be %s%s%s, not '%.20s'", what, schemes[0],
                  schemes[1] ? " or " : "", schemes[1] ? schemes[1] : "", scheme);
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok && known;
}

/* The first line of a 0600-style secret file, trailing blanks cut. */
static bool read_secret(const cfg_node *ch, const char *key, char **out, cfg_diag *d)
{
    const char *path = NULL;
    if (!cfg_get_string(ch, key, NULL, &path, d))
        return false;
    if (!path)
        return true;
    const cfg_node *node = cfg_get(ch, key);
    if (path[0] != '/')
        return cfg_error(d, node, "%s: expected an absolute path, not '%.200s'", key, path);
    char *a = strdup(path), *b = strdup(path);
    size_t len = 0;
    char *text = a && b ? bosun_file_read(dirname(a), basename(b), SECRET_FILE_MAX, &len) : NULL;
    int err = errno;
    free(a);
    free(b);
    if (!text)
        return cfg_error(d, node, "%s: %.200s: %s", key, path,
                         err == EFBIG ? "longer than 4096 bytes" : strerror(err));
    text[strcspn(text, "\r\n")] = '\0';
    for (size_t n = strlen(text); n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'); n--)
        text[n - 1] = '\0';
    if (!*text) {
        free(text);
        return cfg_error(d, node, "%s: %.200s is empty", key, path);
    }
    *out = text;
    return true;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= CHANNEL_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* A bare address, local@domain, nothing a header or SMTP line could be
 * bent with. */
static bool valid_address(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && at[1] && !strchr(at + 1, '@') && strlen(s) <= 254 &&
           !strpbrk(s, " \t\r\n<>,;:\"()[]\\");
}

static bool read_limits(const cfg_node *ch, notify_channel_cfg *c, cfg_diag *d)
{
    long long retries = 5, queue = 100;
    bool ok = cfg_get_duration(ch, "timeout", 10.0, 0.1, 300.0, &c->timeout, d);
    ok = cfg_get_int(ch, "retries", 5, 0, 100, &retries, d) && ok;
    ok = cfg_get_duration(ch, "backoff", 1.0, 0.01, 3600.0, &c->backoff_min, d) && ok;
    ok = cfg_get_duration(ch, "backoff_max", 300.0, 0.01, 86400.0, &c->backoff_max, d) && ok;
    ok = cfg_get_int(ch, "queue", 100, 1, 100000, &queue, d) && ok;
    if (ok && c->backoff_max < c->backoff_min)
        ok = cfg_error(d, cfg_get(ch, "backoff_max"), "backoff_max: less than backoff");
    c->retries = (int)retries;
    c->queue_max = (size_t)queue;
    return ok;
}

static bool read_webhook(const cfg_node *ch, notify_channel_cfg *c, cfg_diag *d)
{
    const char *format = NULL;
    bool ok = cfg_get_string(ch, "format", "json", &format, d);
    if (ok && strcmp(format, "json") != 0 && strcmp(format, "slack") != 0)
        ok = cfg_error(d, cfg_get(ch, "format"), "format: json or slack, not '%.40s'", format);
    c->slack = ok && strcmp(format, "slack") == 0;
    ok = read_secret(ch, "secret_file", &c->secret, d) && ok;
    /* Slack's and Discord's hook URLs are their own secret and verify
     * nothing; any other receiver must be able to tell us from a forger. */
    if (ok && !c->secret && !c->slack)
        ok = cfg_error(d, ch, "webhook channel '%s': secret_file is required (the HMAC key)",
                       c->name);
    return ok;
}

static bool read_ntfy(const cfg_node *ch, notify_channel_cfg *c, cfg_diag *d)
{
    const char *prio = NULL, *tags = NULL;
    static const char *const prios[] = {"min", "low", "default", "high", "max", "urgent",
                                        "1",   "2",   "3",       "4",    "5",   NULL};
    bool ok = cfg_get_string(ch, "priority", NULL, &prio, d);
    ok = cfg_get_string(ch, "tags", NULL, &tags, d) && ok;
    bool known = !prio;
    for (size_t i = 0; prio && prios[i]; i++)
        known = known || strcmp(prio, prios[i]) == 0;
    if (ok && !known)
        ok = cfg_error(d, cfg_get(ch, "priority"),
                       "priority: min, low, default, high, max or "
                       "urgent (or 1-5), not '%.40s'",
                       prio);
    if (ok && tags && (strlen(tags) > 200 || strpbrk(tags, "\r\n")))
        ok = cfg_error(d, cfg_get(ch, "tags"), "tags: one line of at most 200 bytes");
    c->priority = dup_or_null(prio);
    c->tags = dup_or_null(tags);
    return read_secret(ch, "token_file", &c->secret, d) && ok;
}

static bool read_email(const cfg_node *ch, notify_channel_cfg *c, cfg_diag *d)
{
    const char *from = NULL, *user = NULL, **to = NULL;
    bool ok = cfg_get_string(ch, "from", NULL, &from, d);
    ok = cfg_get_strlist(ch, "to", &to, d) && ok;
    ok = cfg_get_string(ch, "username", NULL, &user, d) && ok;
    ok = cfg_get_bool(ch, "starttls", true, &c->starttls, d) && ok;
    if (ok && (!from || !valid_address(from)))
        ok = cfg_error(d, from ? cfg_get(ch, "from") : ch, "email channel '%s': from: %s", c->name,
                       from ? "not a bare address (local@domain)" : "required");
    if (ok && (!to || !to[0]))
        ok = cfg_error(d, ch, "email channel '%s': to: at least one address", c->name);
    const cfg_node *list = cfg_get(ch, "to");
    for (size_t i = 0; ok && to[i]; i++)
        if (!valid_address(to[i]))
            ok = cfg_error(d, list->type == CFG_SEQ ? list->items[i] : list,
                           "to: '%.200s' is not a bare address (local@domain)", to[i]);
    if (ok && user && strpbrk(user, "\r\n"))
        ok = cfg_error(d, cfg_get(ch, "username"), "username: one line");
    c->from = dup_or_null(from);
    c->to = ok ? dup_strv(to) : NULL;
    c->username = dup_or_null(user);
    free(to);
    ok = read_secret(ch, "password_file", &c->secret, d) && ok;
    if (ok && c->secret && !c->username)
        ok = cfg_error(d, cfg_get(ch, "password_file"), "password_file: without a username");
    return ok;
}

static bool read_channel(const cfg_node *ch, notify_channel_cfg *c, cfg_diag *d)
{
    static const char *const http[] = {"http", "https", NULL}, *const smtp[] = {"smtp", "smtps",
                                                                                NULL};
    const char *type = NULL, *url = NULL, *ca = NULL;
    if (!(c->name = strdup(ch->key)))
        return cfg_error(d, ch, "notify: out of memory");
    if (!valid_name(ch->key))
        return cfg_error(d, ch,
                         "channel name '%.80s': letters, digits, '_' and '-' only, at "
                         "most 64",
                         ch->key);
    bool ok = cfg_get_string(ch, "type", NULL, &type, d);
    ok = cfg_get_string(ch, "url", NULL, &url, d) && ok;
    ok = cfg_get_string(ch, "ca_file", NULL, &ca, d) && ok;
    ok = read_limits(ch, c, d) && ok;
    if (!ok)
        return false;
    const char *const *own;
    if (type && strcmp(type, "webhook") == 0)
        c->type = NT_WEBHOOK, own = webhook_keys;
    else if (type && strcmp(type, "ntfy") == 0)
        c->type = NT_NTFY, own = ntfy_keys;
    else if (type && strcmp(type, "email") == 0)
        c->type = NT_EMAIL, own = email_keys;
    else
        return cfg_error(d, type ? cfg_get(ch, "type") : ch,
                         "channel '%s': type: webhook, ntfy or email%s%.40s%s", c->name,
                         type ? ", not '" : " is required", type ? type : "", type ? "'" : "");
    const char *allowed[16];
    size_t n = 0;
    for (size_t i = 0; common_keys[i]; i++)
        allowed[n++] = common_keys[i];
    for (size_t i = 0; own[i]; i++)
        allowed[n++] = own[i];
    allowed[n] = NULL;
    ok = cfg_check_keys(ch, allowed, d);
    if (!url)
        ok = cfg_error(d, ch, "channel '%s': url is required", c->name);
    else
        ok = check_url(cfg_get(ch, "url"), "url", url, c->type == NT_EMAIL ? smtp : http, d) && ok;
    if (ca && (ca[0] != '/' || access(ca, R_OK) != 0))
        ok = cfg_error(d, cfg_get(ch, "ca_file"), "ca_file: %.200s: %s", ca,
                       ca[0] != '/' ? "expected an absolute path" : strerror(errno));
    c->url = dup_or_null(url);
    c->ca_file = dup_or_null(ca);
    bool own_ok = c->type == NT_WEBHOOK ? read_webhook(ch, c, d)
                  : c->type == NT_NTFY  ? read_ntfy(ch, c, d)
                                        : read_email(ch, c, d);
    return own_ok && ok;
}

static bool read_channels(const cfg_node *map, notify_cfg *out, cfg_diag *d)
{
    if (!map || map->type == CFG_NULL)
        return true;
    if (map->type != CFG_MAP)
        return cfg_error(d, map, "notify.channels: expected a map of channel names");
    if (map->n_items > CHANNELS_MAX)
        return cfg_error(d, map, "notify.channels: at most %d", CHANNELS_MAX);
    out->channels = calloc(map->n_items ? map->n_items : 1, sizeof *out->channels);
    if (!out->channels)
        return cfg_error(d, map, "notify: out of memory");
    bool ok = true;
    for (size_t i = 0; i < map->n_items; i++) {
        const cfg_node *ch = map->items[i];
        out->n_channels++;
        if (ch->type != CFG_MAP)
            ok = cfg_error(d, ch, "channel '%.80s': expected a map", ch->key);
        else
            ok = read_channel(ch, &out->channels[i], d) && ok;
    }
    return ok;
}

static int channel_index(const notify_cfg *c, const char *name)
{
    for (size_t i = 0; i < c->n_channels; i++)
        if (c->channels[i].name && strcmp(c->channels[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* An item of a strlist whose node the message names. */
static const cfg_node *item(const cfg_node *list, size_t i)
{
    return list->type == CFG_SEQ && i < list->n_items ? list->items[i] : list;
}

static bool read_rule(const cfg_node *rn, const notify_cfg *c, notify_rule *r, cfg_diag *d)
{
    const char **on = NULL, **to = NULL, **agents = NULL, **tasks = NULL;
    bool ok = cfg_check_keys(rn, rule_keys, d);
    ok = cfg_get_strlist(rn, "on", &on, d) && ok;
    ok = cfg_get_strlist(rn, "to", &to, d) && ok;
    ok = cfg_get_strlist(rn, "agents", &agents, d) && ok;
    ok = cfg_get_strlist(rn, "tasks", &tasks, d) && ok;
    if (ok && (!on || !on[0]))
        ok = cfg_error(d, rn,
                       "rule: on: at least one of input.requested, approval.requested, "
                       "run.failed, run.fatal, run.needs_attention, task.done, "
                       "budget.exceeded, machine.offline");
    for (size_t i = 0; ok && on[i]; i++) {
        int k = notify_kind_parse(on[i]);
        if (k < 0)
            ok = cfg_error(d, item(cfg_get(rn, "on"), i), "on: unknown event '%.80s'", on[i]);
        else
            r->on[k] = true;
    }
    if (ok && (!to || !to[0]))
        ok = cfg_error(d, rn, "rule: to: at least one channel");
    size_t n = 0;
    while (ok && to[n])
        n++;
    r->to = ok ? calloc(n, sizeof *r->to) : NULL;
    for (size_t i = 0; ok && i < n; i++) {
        int ix = channel_index(c, to[i]);
        if (ix < 0)
            ok = cfg_error(d, item(cfg_get(rn, "to"), i), "to: no channel named '%.80s'", to[i]);
        else
            r->to[r->n_to++] = (size_t)ix;
    }
    r->agents = dup_strv(agents);
    r->tasks = dup_strv(tasks);
    free(on);
    free(to);
    free(agents);
    free(tasks);
    return ok;
}

static bool read_rules(const cfg_node *seq, notify_cfg *out, cfg_diag *d)
{
    if (!seq || seq->type == CFG_NULL)
        return true;
    if (seq->type != CFG_SEQ)
        return cfg_error(d, seq, "notify.rules: expected a list of rules");
    if (seq->n_items > RULES_MAX)
        return cfg_error(d, seq, "notify.rules: at most %d", RULES_MAX);
    out->rules = calloc(seq->n_items ? seq->n_items : 1, sizeof *out->rules);
    if (!out->rules)
        return cfg_error(d, seq, "notify: out of memory");
    bool ok = true;
    for (size_t i = 0; i < seq->n_items; i++) {
        out->n_rules++;
        if (seq->items[i]->type != CFG_MAP)
            ok = cfg_error(d, seq->items[i], "rule: expected a map (on, to, agents, tasks)");
        else
            ok = read_rule(seq->items[i], out, &out->rules[i], d) && ok;
    }
    return ok;
}

bool notify_cfg_read(const cfg_node *s, notify_cfg *out, cfg_diag *d)
{
    memset(out, 0, sizeof *out);
    const char *url = NULL;
    bool ok = cfg_check_keys(s, section_keys, d);
    ok = cfg_get_string(s, "public_url", NULL, &url, d) && ok;
    ok = cfg_get_duration(s, "window", 300.0, 1.0, 86400.0, &out->window, d) && ok;
    static const char *const http[] = {"http", "https", NULL};
    if (url)
        ok = check_url(cfg_get(s, "public_url"), "public_url", url, http, d) && ok;
    if (url && (out->public_url = strdup(url)))
        for (size_t n = strlen(out->public_url); n > 0 && out->public_url[n - 1] == '/'; n--)
            out->public_url[n - 1] = '\0';
    ok = read_channels(cfg_get(s, "channels"), out, d) && ok;
    ok = ok && read_rules(cfg_get(s, "rules"), out, d);
    if (!ok)
        notify_cfg_free(out);
    return ok;
}

static void channel_cfg_free(notify_channel_cfg *c)
{
    free(c->name);
    free(c->url);
    if (c->secret)
        explicit_bzero(c->secret, strlen(c->secret));
    free(c->secret);
    free(c->priority);
    free(c->tags);
    free(c->from);
    free_strv(c->to);
    free(c->username);
    free(c->ca_file);
}

void notify_cfg_free(notify_cfg *c)
{
    for (size_t i = 0; i < c->n_rules; i++) {
        free_strv(c->rules[i].agents);
        free_strv(c->rules[i].tasks);
        free(c->rules[i].to);
    }
    free(c->rules);
    for (size_t i = 0; i < c->n_channels; i++)
        channel_cfg_free(&c->channels[i]);
    free(c->channels);
    free(c->public_url);
    memset(c, 0, sizeof *c);
}

static bool listed(char **names, const char *v)
{
    if (!names)
        return true;
    for (size_t i = 0; v && names[i]; i++)
        if (strcmp(names[i], v) == 0)
            return true;
    return false;
}

bool notify_rule_matches(const notify_rule *r, const notify_msg *m)
{
    return r->on[m->kind] && listed(r->agents, m->agent) && listed(r->tasks, m->task);
}
