/* The answer to bosunctl's /ws upgrade (see ctl_ws_answer.h). */
#include "config.h"

#include "ctl_ws_answer.h"
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bosun/ws.h>

/* Bytes of a header value we look at: Upgrade, Connection and
 * Sec-WebSocket-Accept are all short. */
#define ANSWER_VALUE_MAX 256

size_t ctl_ws_answer_end(const char *buf, size_t len)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    return end ? (size_t)(end + 4 - buf) : 0;
}

int ctl_ws_header_value(const char *head, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line && line[2];
         line = strstr(line + 2, "\r\n")) {
        const char *p = line + 2;
        if (strncasecmp(p, name, nlen) != 0 || p[nlen] != ':')
            continue;
        p += nlen + 1;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strcspn(p, "\r\n");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len >= size)
            return -1; /* cut short it could look like something it is not */
        memcpy(out, p, len);
        out[len] = '\0';
        return 0;
    }
    return -1;
}

/* "HTTP/1.0 " or "HTTP/1.1 ", exactly three digits, then a space or the
 * line's end: the code, or 0.  (sscanf's %3d would take "1011" as 101 and
 * let a sign or blanks in.) */
static int status_of(const char *head)
{
    if (strncmp(head, "HTTP/1.", 7) != 0 || (head[7] != '0' && head[7] != '1') || head[8] != ' ')
        return 0;
    const char *d = head + 9;
    for (int i = 0; i < 3; i++)
        if (d[i] < '0' || d[i] > '9')
            return 0;
    if (d[3] != ' ' && d[3] != '\r')
        return 0;
    return (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
}

/* Whether a comma-separated header value lists token (case-insensitive). */
static bool lists_token(const char *value, const char *token)
{
    size_t tlen = strlen(token);
    for (const char *p = value; *p;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",");
        size_t end = len;
        while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            end--;
        if (end == tlen && strncasecmp(p, token, tlen) == 0)
            return true;
        p += len;
    }
    return false;
}

static bool header_is(const char *head, const char *name, const char *token)
{
    char v[ANSWER_VALUE_MAX];
    return ctl_ws_header_value(head, name, v, sizeof v) == 0 && lists_token(v, token);
}

enum ctl_ws_verdict ctl_ws_answer_judge(const char *head, size_t head_len, const char *key,
                                        int *status)
{
    *status = 0;
    if (memchr(head, '\0', head_len))
        return CTL_WS_NOT_HTTP;
    /* NUL-terminated for the string functions below. */
    char *h = xstrndup(head, head_len);
    enum ctl_ws_verdict v;
    char accept[ANSWER_VALUE_MAX];
    *status = status_of(h);
    if (*status == 0)
        v = CTL_WS_NOT_HTTP;
    else if (*status == 401 || *status == 403)
        v = CTL_WS_DENIED;
    else if (*status != 101)
        v = CTL_WS_REFUSED;
    else if (!header_is(h, "upgrade", "websocket") || !header_is(h, "connection", "upgrade") ||
             ctl_ws_header_value(h, "sec-websocket-accept", accept, sizeof accept) != 0 ||
             !bosun_ws_check_accept(key, accept))
        v = CTL_WS_BAD_HANDSHAKE;
    else
        v = CTL_WS_UPGRADED;
    free(h);
    return v;
}
