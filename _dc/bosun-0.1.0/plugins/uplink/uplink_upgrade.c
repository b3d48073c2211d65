/* The WebSocket upgrade (RFC 6455 4.1) as an HTTP/1.1 client: the request,
 * and the hub's answer read by http-parser (Debian libhttp-parser) under
 * our own bounds.  No I/O here, so that it can be fuzzed on its own
 * (tests/fuzz/fuzz_uplink.c). */
#include "config.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bosun/ws.h>

#include "uplink.h"

#define HEAD_MAX    16384 /* bytes of the answer's header block */
#define HEADERS_MAX 100
#define FIELD_MAX   32 /* a header name we look at is shorter */
#define VALUE_MAX   256

enum watched { W_NONE = -1, W_UPGRADE, W_CONNECTION, W_ACCEPT, W_COUNT };
static const char *const watched_names[W_COUNT] = {"upgrade", "connection", "sec-websocket-accept"};

struct uplink_upgrade {
    http_parser p;
    char key[BOSUN_WS_KEY_LEN + 1];
    size_t fed;
    unsigned headers;
    char field[FIELD_MAX + 1];
    size_t field_len;
    bool field_long; /* longer than any we watch */
    bool in_value;   /* the last callback was a value's */
    int current;     /* which watched header the value belongs to */
    char value[W_COUNT][VALUE_MAX + 1];
    size_t value_len[W_COUNT];
    bool value_long[W_COUNT];
    bool complete; /* the first answer's headers are all there */
    int status;    /* its status: a second answer behind it is no answer */
    bool upgrade;  /* http-parser took it as an upgrade (and stopped there) */
};

uplink_upgrade *uplink_upgrade_new(const char *host_header, const char *path, char **request,
                                   size_t *request_len)
{
    char key[BOSUN_WS_KEY_LEN + 1];
    if (bosun_ws_client_key(key) != 0)
        return NULL;
    return uplink_upgrade_with_key(host_header, path, key, request, request_len);
}

uplink_upgrade *uplink_upgrade_with_key(const char *host_header, const char *path, const char *key,
                                        char **request, size_t *request_len)
{
    uplink_upgrade *u = calloc(1, sizeof *u);
    if (!u || strlen(key) != BOSUN_WS_KEY_LEN) {
        free(u);
        return NULL;
    }
    memcpy(u->key, key, BOSUN_WS_KEY_LEN + 1);
    http_parser_init(&u->p, HTTP_RESPONSE);
    u->p.data = u;
    u->current = W_NONE;
    int n = asprintf(request,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                     "User-Agent: bosund/%s\r\n\r\n",
                     path, host_header, u->key, bosun_version());
    if (n < 0) {
        free(u);
        return NULL;
    }
    *request_len = (size_t)n;
    return u;
}

void uplink_upgrade_free(uplink_upgrade *u)
{
    free(u);
}

/* The field is complete once its value starts: which one is it? */
static int watched_of(const uplink_upgrade *u)
{
    if (u->field_long)
        return W_NONE;
    for (int i = 0; i < W_COUNT; i++)
        if (strcasecmp(u->field, watched_names[i]) == 0)
            return i;
    return W_NONE;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
    uplink_upgrade *u = p->data;
    if (u->complete)
        return 0;
    if (u->in_value || u->headers == 0) {
        if (++u->headers > HEADERS_MAX)
            return -1;
        u->in_value = false;
        u->field_len = 0;
        u->field_long = false;
    }
    if (u->field_len + len > FIELD_MAX)
        u->field_long = true;
    else {
        memcpy(u->field + u->field_len, at, len);
        u->field_len += len;
        u->field[u->field_len] = '\0';
    }
    return 0;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
    uplink_upgrade *u = p->data;
    if (u->complete)
        return 0;
    if (!u->in_value) {
        u->in_value = true;
        u->current = watched_of(u);
        /* A header given twice counts as one list (RFC 9110 5.3). */
        if (u->current != W_NONE && u->value_len[u->current] > 0) {
            if (u->value_len[u->current] + 1 > VALUE_MAX)
                u->value_long[u->current] = true;
            else
                u->value[u->current][u->value_len[u->current]++] = ',';
        }
    }
    int c = u->current;
    if (c == W_NONE || u->value_long[c])
        return 0;
    if (u->value_len[c] + len > VALUE_MAX) {
        u->value_long[c] = true;
        return 0;
    }
    memcpy(u->value[c] + u->value_len[c], at, len);
    u->value_len[c] += len;
    u->value[c][u->value_len[c]] = '\0';
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    uplink_upgrade *u = p->data;
    /* http-parser goes on with what follows a non-101 answer as if it
     * were another answer in the same call: only the first one counts. */
    if (!u->complete) {
        u->complete = true;
        u->status = p->status_code;
        u->upgrade = p->upgrade; /* set for this answer before the callback */
    }
    return 1; /* no body: we read none, whatever the status */
}

/* Whether a comma-separated list holds token (case-insensitive). */
static bool lists(const char *list, const char *token)
{
    size_t tl = strlen(token);
    for (const char *s = list; *s;) {
        s += strspn(s, " \t,");
        size_t n = strcspn(s, ",");
        size_t e = n;
        while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
        if (e == tl && strncasecmp(s, token, tl) == 0)
            return true;
        s += n;
    }
    return false;
}

static const char *trimmed(char *v)
{
    v += strspn(v, " \t");
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        v[--n] = '\0';
    return v;
}

static enum uplink_upgrade_result judge(uplink_upgrade *u, int *status, char *why, size_t ws)
{
    *status = u->status;
    if (*status != 101) {
        snprintf(why, ws, "the hub answered the upgrade with HTTP %d%s", *status,
                 *status == 404   ? " (no /fleet there: is the fleet plugin loaded on the hub?)"
                 : *status == 503 ? " (the hub is starting or stopping)"
                                  : "");
        return UPLINK_UPGRADE_FAIL;
    }
    for (int i = 0; i < W_COUNT; i++)
        if (u->value_long[i]) {
            snprintf(why, ws, "the hub's 101 has a %s header longer than %d bytes",
                     watched_names[i], VALUE_MAX);
            return UPLINK_UPGRADE_FAIL;
        }
    /* http-parser's own flag too: only then did it stop right after the
     * answer, so that what follows is the WebSocket's. */
    if (!u->upgrade || !lists(u->value[W_UPGRADE], "websocket") ||
        !lists(u->value[W_CONNECTION], "upgrade") ||
        !bosun_ws_check_accept(u->key, trimmed(u->value[W_ACCEPT]))) {
        snprintf(why, ws,
                 "the hub's 101 lacks Upgrade: websocket, Connection: Upgrade or the right "
                 "Sec-WebSocket-Accept");
        return UPLINK_UPGRADE_FAIL;
    }
    return UPLINK_UPGRADE_DONE;
}

enum uplink_upgrade_result uplink_upgrade_feed(uplink_upgrade *u, const char *buf, size_t len,
                                               size_t *used, int *status, char *why,
                                               size_t why_size)
{
    static const http_parser_settings settings = {
        .on_header_field = on_field,
        .on_header_value = on_value,
        .on_headers_complete = on_headers_complete,
    };
    *used = 0;
    *status = 0;
    if (u->complete) {
        snprintf(why, why_size, "the answer was already read");
        return UPLINK_UPGRADE_FAIL;
    }
    /* Never more than the bound: what lies beyond is not looked at. */
    size_t room = HEAD_MAX - u->fed;
    size_t n = len < room ? len : room;
    size_t done = http_parser_execute(&u->p, &settings, buf, n);
    u->fed += done;
    if (u->complete) {
        *used = done;
        return judge(u, status, why, why_size);
    }
    if (HTTP_PARSER_ERRNO(&u->p) != HPE_OK) {
        *status = u->p.status_code;
        snprintf(why, why_size, "the hub's answer to the upgrade is not HTTP/1.1: %s",
                 u->headers > HEADERS_MAX ? "too many headers"
                                          : http_errno_description(HTTP_PARSER_ERRNO(&u->p)));
        return UPLINK_UPGRADE_FAIL;
    }
    if (u->fed >= HEAD_MAX) {
        snprintf(why, why_size, "the hub's answer to the upgrade has over %d bytes of headers",
                 HEAD_MAX);
        return UPLINK_UPGRADE_FAIL;
    }
    *used = done;
    return UPLINK_UPGRADE_MORE;
}
