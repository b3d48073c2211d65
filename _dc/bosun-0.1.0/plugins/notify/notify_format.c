/* notify_format — what each channel type sends for a message.
 *
 * webhook  a JSON object (or Slack's {"text"}), Content-Type JSON, and
 *          X-Bosun-Signature-256: sha256=HEX, the HMAC-SHA256 of the body
 *          under the channel's secret; X-Bosun-Timestamp repeats the body's
 *          signed "sent_at" so a receiver can refuse stale deliveries, and
 *          X-Bosun-Delivery stays the same across retries.
 * ntfy     the text as body; Title, Priority, Tags and Click headers
 *          (https://docs.ntfy.sh/publish/), a bearer token when configured.
 * email    an RFC 5322 message: Date, From, To, Subject (RFC 2047 when not
 *          ASCII), Message-ID, MIME text/plain UTF-8, CRLF lines cut below
 *          the 998-byte limit.
 *
 * Everything an agent wrote reaches a header only through
 * notify_header_text, so a question cannot add a header line. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bosun/crypto.h>

#include "notify.h"

#define TITLE_MAX   200 /* bytes of a Title/Subject header */
#define EMAIL_LINE  900 /* below RFC 5322's 998 */
#define HEADERS_MAX 12

char *notify_header_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        /* Back off to a UTF-8 boundary: never half a character. */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    out[n] = '\0';
    return out;
}

void notify_request_free(notify_request *r)
{
    free(r->body);
    if (r->headers)
        for (size_t i = 0; r->headers[i]; i++)
            free(r->headers[i]);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

/* Appends a formatted header; -1 when out of memory or room. */
__attribute__((format(printf, 2, 3))) static int add_header(notify_request *r, const char *fmt, ...)
{
    size_t n = 0;
    while (r->headers[n])
        n++;
    if (n + 1 >= HEADERS_MAX)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&r->headers[n], fmt, ap);
    va_end(ap);
    if (rc < 0) {
        r->headers[n] = NULL;
        return -1;
    }
    return 0;
}

static json_t *opt(const char *s)
{
    return s ? json_string(s) : json_null();
}

static char *webhook_body(const notify_channel_cfg *c, const notify_msg *m, double now)
{
    char *text = notify_msg_text(m);
    if (!text)
        return NULL;
    json_t *o;
    if (c->slack)
        o = json_pack("{s:s}", "text", text);
    else
        o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:o,s:i,s:s,s:f,s:f}", "kind",
                      notify_kind_name(m->kind), "id", m->id, "title", m->title, "text", text,
                      "agent", opt(m->agent), "task", opt(m->task), "run", opt(m->run), "machine",
                      opt(m->machine), "detail", m->detail, "link", opt(m->link), "count", m->count,
                      "subject", m->subject, "event_time", m->time, "sent_at", now);
    free(text);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return body;
}

static int sign(const notify_channel_cfg *c, notify_request *r)
{
    if (!c->secret)
        return 0;
    unsigned char mac[BOSUN_SHA256_SIZE];
    if (bosun_hmac_sha256(c->secret, strlen(c->secret), r->body, r->body_len, mac) != 0)
        return -1;
    char hex[2 * BOSUN_SHA256_SIZE + 1];
    for (size_t i = 0; i < sizeof mac; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    return add_header(r, "X-Bosun-Signature-256: sha256=%s", hex);
}

static int build_webhook(const notify_channel_cfg *c, const notify_msg *m, double now,
                         notify_request *r)
{
    if (!(r->body = webhook_body(c, m, now)))
        return -1;
    r->body_len = strlen(r->body);
    if (add_header(r, "Content-Type: application/json") != 0 ||
        add_header(r, "X-Bosun-Event: %s", notify_kind_name(m->kind)) != 0 ||
        add_header(r, "X-Bosun-Delivery: %s", m->key) != 0 ||
        add_header(r, "X-Bosun-Timestamp: %.0f", now) != 0)
        return -1;
    return sign(c, r);
}

static const char *ntfy_priority(enum notify_kind k)
{
    switch (k) {
    case NK_INPUT:
    case NK_APPROVAL:
    case NK_RUN_FATAL:
        return "high";
    case NK_TASK_DONE:
        return "default";
    default:
        return "high";
    }
}

static const char *const ntfy_tags[NK_COUNT] = {
    [NK_INPUT] = "question",    [NK_APPROVAL] = "lock",
    [NK_RUN_FAILED] = "x",      [NK_RUN_FATAL] = "rotating_light",
    [NK_ATTENTION] = "warning", [NK_TASK_DONE] = "white_check_mark",
    [NK_BUDGET] = "moneybag",   [NK_MACHINE_OFFLINE] = "electric_plug",
};

static int build_ntfy(const notify_channel_cfg *c, const notify_msg *m, notify_request *r)
{
    if (!(r->body = notify_msg_text(m)))
        return -1;
    r->body_len = strlen(r->body);
    char *title = notify_header_text(m->title, TITLE_MAX);
    int rc = title ? add_header(r, "Title: %s", title) : -1;
    free(title);
    if (rc != 0 || add_header(r, "Content-Type: text/plain; charset=utf-8") != 0 ||
        add_header(r, "Priority: %s", c->priority ? c->priority : ntfy_priority(m->kind)) != 0 ||
        add_header(r, "Tags: %s", c->tags ? c->tags : ntfy_tags[m->kind]) != 0)
        return -1;
    if (m->link && add_header(r, "Click: %s", m->link) != 0)
        return -1;
    if (c->secret && add_header(r, "Authorization: Bearer %s", c->secret) != 0)
        return -1;
    return 0;
}

static bool ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* Subject: as is when ASCII, else RFC 2047 encoded words of at most 45
 * bytes of text each (75 characters, the RFC's bound), cut between UTF-8
 * characters, on folded lines. */
static char *email_subject(const char *title)
{
    char *t = notify_header_text(title, TITLE_MAX);
    if (!t || ascii(t))
        return t;
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    for (size_t off = 0, n = strlen(t); f && off < n;) {
        size_t len = n - off < 45 ? n - off : 45;
        while (off + len < n && len > 1 && ((unsigned char)t[off + len] & 0xC0) == 0x80)
            len--;
        char b64[80];
        size_t k = bosun_base64url_encode(t + off, len, b64, sizeof b64);
        /* Standard base64 from base64url: the alphabets differ in 2 chars. */
        for (size_t i = 0; i < k; i++)
            b64[i] = b64[i] == '-' ? '+' : b64[i] == '_' ? '/' : b64[i];
        while (k % 4)
            b64[k++] = '=';
        b64[k] = '\0';
        fprintf(f, "%s=?UTF-8?B?%s?=", off ? "\r\n " : "", b64);
        off += len;
    }
    if (!f || fclose(f) != 0) {
        free(out);
        out = NULL;
    }
    free(t);
    return out;
}

/* The text with CRLF line ends, lines cut at EMAIL_LINE bytes. */
static int email_body(FILE *f, const char *text)
{
    size_t col = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\r')
            continue;
        if (*p == '\n' || col >= EMAIL_LINE) {
            fputs("\r\n", f);
            col = 0;
            if (*p == '\n')
                continue;
        }
        fputc(*p, f);
        col++;
    }
    return fputs("\r\n", f) < 0 ? -1 : 0;
}

static int build_email(const notify_channel_cfg *c, const notify_msg *m, double now,
                       notify_request *r)
{
    char date[64];
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    char *subject = email_subject(m->title), *text = notify_msg_text(m);
    char hash[2 * BOSUN_SHA256_SIZE + 1];
    bosun_sha256_hex(m->key, strlen(m->key), hash);
    FILE *f = subject && text ? open_memstream(&r->body, &r->body_len) : NULL;
    int rc = -1;
    if (f) {
        fprintf(f, "Date: %s\r\nFrom: %s\r\nTo: ", date, c->from);
        /* Folded after each address: many recipients stay below 998. */
        for (size_t i = 0; c->to[i]; i++)
            fprintf(f, "%s%s", i ? ",\r\n " : "", c->to[i]);
        fprintf(f,
                "\r\nSubject: %s\r\nMessage-ID: <%.32s.%.0f@bosun>\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: %s\r\n"
                "X-Bosun-Event: %s\r\n\r\n",
                subject, hash, now * 1000, ascii(text) ? "7bit" : "8bit",
                notify_kind_name(m->kind));
        rc = email_body(f, text);
        if (fclose(f) != 0)
            rc = -1;
    }
    free(subject);
    free(text);
    return rc;
}

int notify_request_build(const notify_channel_cfg *c, const notify_msg *m, double now,
                         notify_request *out)
{
    memset(out, 0, sizeof *out);
    out->headers = calloc(HEADERS_MAX, sizeof *out->headers);
    if (!out->headers)
        return -1;
    int rc = c->type == NT_WEBHOOK ? build_webhook(c, m, now, out)
             : c->type == NT_NTFY  ? build_ntfy(c, m, out)
                                   : build_email(c, m, now, out);
    if (rc != 0)
        notify_request_free(out);
    return rc;
}
