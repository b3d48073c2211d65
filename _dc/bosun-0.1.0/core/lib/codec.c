/* <bosun/codec.h>'s base64, over the core's own (util.c). */
#include "config.h"

#include "util.h"

#include <bosun/codec.h>

char *bosun_base64_encode(const void *data, size_t len)
{
    return util_base64_encode(data, len);
}

unsigned char *bosun_base64_decode(const char *text, size_t *out_len)
{
    return util_base64_decode(text, out_len);
}
