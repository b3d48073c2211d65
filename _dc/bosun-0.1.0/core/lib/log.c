#include "config.h"

#include <bosun/log.h>
#include <bosun/secret.h>
#include <bosun/sys.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static enum log_level threshold = LOG_LEVEL_INFO;

void log_set_level(enum log_level level)
{
    threshold = level;
}

enum log_level log_get_level(void)
{
    return threshold;
}

static const struct {
    const char *name;
    enum log_level level;
} level_names[] = {
    {"error", LOG_LEVEL_ERR},    {"err", LOG_LEVEL_ERR},       {"warning", LOG_LEVEL_WARNING},
    {"warn", LOG_LEVEL_WARNING}, {"notice", LOG_LEVEL_NOTICE}, {"info", LOG_LEVEL_INFO},
    {"debug", LOG_LEVEL_DEBUG},
};

int log_level_parse(const char *name)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (strcasecmp(name, level_names[i].name) == 0)
            return (int)level_names[i].level;
    return -1;
}

const char *log_level_name(enum log_level level)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (level_names[i].level == level)
            return level_names[i].name;
    return "unknown";
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    if (level > threshold)
        return;
    int saved = errno;
    /* One buffer and one write so that lines from concurrent writers (the
     * daemon and its children share stderr) do not interleave mid-line. */
    char line[4096];
    int n = snprintf(line, sizeof line, "<%d>", (int)level);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    /* Embedded newlines would start lines without a priority prefix. */
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    /* A secret the daemon issued (an agent token in a message it quotes)
     * is masked; the check is a prefix scan, nothing without secrets. */
    char *clean = bosun_secret_redact(line, len, &len);
    if (clean) {
        memcpy(line, clean, len); /* the mask is shorter than any secret */
        free(clean);
    }
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
    fflush(stderr);
    errno = saved;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

#define COMPLAIN_FIRST 1.0
#define COMPLAIN_MAX   3600.0

void bosun_complain(bosun_complaint *c, enum log_level level, const char *fmt, ...)
{
    double now = bosun_monotonic();
    if (c->interval > 0 && now < c->next) {
        c->quiet++;
        return;
    }
    char text[3072];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (c->quiet > 0)
        log_msg(level, "%s (%lu more times since the last report)", text, c->quiet);
    else
        log_msg(level, "%s", text);
    c->interval = c->interval > 0 ? c->interval * 2 : COMPLAIN_FIRST;
    if (c->interval > COMPLAIN_MAX)
        c->interval = COMPLAIN_MAX;
    c->next = now + c->interval;
    c->quiet = 0;
}

void bosun_complain_release(bosun_complaint *c, enum log_level level, const char *fmt, ...)
{
    if (c->interval == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
    *c = (bosun_complaint){0};
}
