/* UTF-8 decoding shared by the core and plugins (see bosun/codec.h): one
 * strict decoder, so that every place that tells text from bytes agrees. */
#include "config.h"

#include <bosun/codec.h>

size_t bosun_utf8_next(const char *text, size_t n, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)text;
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if ((c & 0xe0) == 0xc0)
        len = 2, v = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        len = 3, v = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        len = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

bool bosun_utf8_text(const char *text, size_t n)
{
    for (size_t i = 0; i < n;) {
        if ((unsigned char)text[i] >= 0x80) {
            uint32_t cp;
            size_t len = bosun_utf8_next(text + i, n - i, &cp);
            if (len == 0)
                return false;
            i += len;
        } else if (text[i] == '\0') {
            return false;
        } else {
            i++;
        }
    }
    return true;
}
