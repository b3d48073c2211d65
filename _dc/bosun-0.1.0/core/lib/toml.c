/* TOML strings (see <bosun/toml.h>). */
#include "config.h"

#include <bosun/toml.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *bosun_toml_string(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n * 6 + 3); /* \uXXXX is the longest escape */
    if (!out)
        return NULL;
    char *o = out;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            o += sprintf(o, "\\u%04x", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}
