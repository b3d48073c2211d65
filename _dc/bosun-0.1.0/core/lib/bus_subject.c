/* Subject and pattern syntax, and a reference matcher that does not use the
 * trie: the trie is tested (and fuzzed) against it. */
#include "config.h"

#include <bosun/bus.h>

#include <stdbool.h>
#include <string.h>

/* Spelled out rather than isalnum(): the locale must not widen the syntax. */
static bool token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Walks s token by token, never reading past BUS_SUBJECT_MAX + 1 bytes, so a
 * huge or unterminated-looking input costs no more than a valid one. */
static int check(const char *s, bool wildcards)
{
    if (!s)
        return -1;
    const char *p = s;
    unsigned tokens = 0;
    for (;;) {
        const char *start = p;
        if (wildcards && (*p == '*' || *p == '>'))
            p++;
        else
            while (p - s <= BUS_SUBJECT_MAX && token_char((unsigned char)*p))
                p++;
        if (p == start || p - s > BUS_SUBJECT_MAX || ++tokens > BUS_TOKENS_MAX)
            return -1;
        if (*p == '\0')
            return 0;
        /* Anything but a dot here is a bad character or a wildcard glued to
         * other characters ("a*", "*a", ">x"); ">" must end the pattern. */
        if (*p != '.' || *start == '>')
            return -1;
        p++;
    }
}

int bus_subject_check(const char *subject)
{
    return check(subject, false);
}

int bus_pattern_check(const char *pattern)
{
    return check(pattern, true);
}

bool bus_pattern_matches(const char *pattern, const char *subject)
{
    if (bus_pattern_check(pattern) < 0 || bus_subject_check(subject) < 0)
        return false;
    const char *p = pattern;
    const char *s = subject;
    /* Invariant: p and s each point at the start of a token. */
    for (;;) {
        size_t plen = strcspn(p, ".");
        size_t slen = strcspn(s, ".");
        if (plen == 1 && *p == '>')
            return true;
        if (!(plen == 1 && *p == '*') && (plen != slen || memcmp(p, s, plen) != 0))
            return false;
        bool p_end = p[plen] == '\0';
        bool s_end = s[slen] == '\0';
        if (p_end || s_end)
            return p_end && s_end;
        p += plen + 1;
        s += slen + 1;
    }
}
