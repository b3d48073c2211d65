/* die(): the one-line error both bosunctl and bosun-mcp print, named after
 * the program that prints it. */
#include "config.h"

#include "bosunctl.h"

#include <stdarg.h>
#include <stdio.h>

const char *ctl_program = "bosunctl";

int die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", ctl_program);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}
