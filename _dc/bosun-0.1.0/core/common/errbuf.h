/* Error messages into a caller's buffer: the shape of the parsers and
 * loaders that answer -1 and say why in (err, size). */
#ifndef BOSUN_ERRBUF_H
#define BOSUN_ERRBUF_H

#include <stddef.h>

/* Formats into err (when err and size are given) and returns -1, so that
 * an error path is one line: return errbuf_fail(err, size, "...", ...). */
int errbuf_fail(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
