/* Principals and their grants (see <bosun/principal.h>). */
#include "config.h"

#include <bosun/principal.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRINCIPAL_NAME_MAX 128

struct grant {
    struct grant *next;
    char pattern[]; /* valid, at most BUS_SUBJECT_MAX bytes */
};

struct bus_principal {
    char kind[PRINCIPAL_NAME_MAX];
    char id[PRINCIPAL_NAME_MAX];
    struct grant *grants[3]; /* by enum bus_perm */
};

bus_principal *bus_principal_new(const char *kind, const char *id)
{
    bus_principal *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->kind, sizeof p->kind, "%s", kind ? kind : "anonymous");
    snprintf(p->id, sizeof p->id, "%s", id ? id : "");
    return p;
}

void bus_principal_revoke(bus_principal *p)
{
    if (!p)
        return;
    for (int i = 0; i < 3; i++)
        while (p->grants[i]) {
            struct grant *g = p->grants[i];
            p->grants[i] = g->next;
            free(g);
        }
}

void bus_principal_free(bus_principal *p)
{
    bus_principal_revoke(p);
    free(p);
}

const char *bus_principal_kind(const bus_principal *p)
{
    return p ? p->kind : "anonymous";
}

const char *bus_principal_id(const bus_principal *p)
{
    return p ? p->id : "";
}

static bool perm_valid(enum bus_perm perm)
{
    return perm == BUS_PERM_PUB || perm == BUS_PERM_SUB || perm == BUS_PERM_REQ;
}

int bus_principal_allow(bus_principal *p, enum bus_perm perm, const char *pattern)
{
    if (!p || !perm_valid(perm) || bus_pattern_check(pattern) != 0) {
        errno = EINVAL;
        return -1;
    }
    size_t len = strlen(pattern) + 1;
    struct grant *g = malloc(sizeof *g + len);
    if (!g) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(g->pattern, pattern, len);
    g->next = p->grants[perm];
    p->grants[perm] = g;
    return 0;
}

bool bus_pattern_covers(const char *cover, const char *pattern)
{
    if (bus_pattern_check(cover) != 0 || bus_pattern_check(pattern) != 0)
        return false;
    const char *c = cover, *s = pattern;
    /* Invariant: c and s each point at the start of a token. */
    for (;;) {
        size_t clen = strcspn(c, "."), slen = strcspn(s, ".");
        bool c_any = clen == 1 && *c == '*', c_rest = clen == 1 && *c == '>';
        bool s_rest = slen == 1 && *s == '>';
        if (c_rest)
            return true; /* one or more tokens, whatever they are */
        if (s_rest)
            return false; /* "a.>" reaches deeper than any fixed-depth cover */
        if (!c_any && (clen != slen || memcmp(c, s, clen) != 0))
            return false; /* a literal covers only itself ("*" in s is wider) */
        bool c_end = c[clen] == '\0', s_end = s[slen] == '\0';
        if (c_end || s_end)
            return c_end && s_end;
        c += clen + 1;
        s += slen + 1;
    }
}

bool bus_principal_may(const bus_principal *p, enum bus_perm perm, const char *subject)
{
    if (!p || !perm_valid(perm))
        return false;
    bool pattern = perm == BUS_PERM_SUB;
    if ((pattern ? bus_pattern_check(subject) : bus_subject_check(subject)) != 0)
        return false;
    for (const struct grant *g = p->grants[perm]; g; g = g->next)
        if (pattern ? bus_pattern_covers(g->pattern, subject)
                    : bus_pattern_matches(g->pattern, subject))
            return true;
    return false;
}

int bus_publish_as(bus_t *bus, const bus_principal *p, const char *subject, const char *reply,
                   json_t *data)
{
    /* A malformed subject is EINVAL, as from bus_publish. */
    if (bus_subject_check(subject) == 0 && (!reply || bus_subject_check(reply) == 0) &&
        (!bus_principal_may(p, BUS_PERM_PUB, subject) ||
         (reply && !bus_principal_may(p, BUS_PERM_SUB, reply)))) {
        errno = EACCES;
        return -1;
    }
    return bus_publish(bus, subject, reply, data);
}

bus_sub *bus_subscribe_as(bus_t *bus, const bus_principal *p, const char *pattern,
                          bus_handler handler, void *arg)
{
    if (bus_pattern_check(pattern) == 0 && !bus_principal_may(p, BUS_PERM_SUB, pattern)) {
        errno = EACCES;
        return NULL;
    }
    return bus_subscribe(bus, pattern, handler, arg);
}

uint64_t bus_request_as(bus_t *bus, const bus_principal *p, const char *subject, json_t *data,
                        double timeout, bus_reply_cb cb, void *arg)
{
    if (bus_subject_check(subject) == 0 && !bus_principal_may(p, BUS_PERM_REQ, subject)) {
        errno = EACCES;
        return 0;
    }
    return bus_request(bus, subject, data, timeout, cb, arg);
}
