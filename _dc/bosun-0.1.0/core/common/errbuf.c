/* Kept apart from util.c, which logs (and so needs libbosun): the CLI's
 * unit tests and the fuzz targets link this alone. */
#include "config.h"
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

int errbuf_fail(char *err, size_t size, const char *fmt, ...)
{
    if (err && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, size, fmt, ap);
        va_end(ap);
    }
    return -1;
}
