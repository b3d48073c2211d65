/* bosun — logging.
 *
 * Every line goes to stderr prefixed with its syslog priority ("<3>" …) so
 * that journald, which reads the daemon's stderr under systemd, records the
 * level.  Never pass secrets to these functions.
 */
#ifndef BOSUN_LOG_H
#define BOSUN_LOG_H

#include <bosun/api.h>

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* syslog(3) priorities; only these five are used. */
enum log_level {
    LOG_LEVEL_ERR = 3,
    LOG_LEVEL_WARNING = 4,
    LOG_LEVEL_NOTICE = 5,
    LOG_LEVEL_INFO = 6,
    LOG_LEVEL_DEBUG = 7,
};

/* Lines with a priority numerically above the threshold are discarded. */
BOSUN_API void log_set_level(enum log_level level);
BOSUN_API enum log_level log_get_level(void);

/* "err"/"error", "warning"/"warn", "notice", "info", "debug" → level.
 * Returns -1 for anything else. */
BOSUN_API int log_level_parse(const char *name);
BOSUN_API const char *log_level_name(enum log_level level);

BOSUN_API void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
BOSUN_API void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define log_error(...)   log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* A complaint about a condition that may last (descriptors exhausted, a
 * full disk): logged at once, then at most once per interval while it
 * lasts, the interval doubling from 1 s to 1 h, with how many times it was
 * kept quiet (after collectd's c_complain).  Start zeroed. */
typedef struct bosun_complaint {
    double next;         /* monotonic time before which it stays quiet */
    double interval;     /* 0 while the condition is not on */
    unsigned long quiet; /* complaints not logged since the last one */
} bosun_complaint;

BOSUN_API void bosun_complain(bosun_complaint *c, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The condition is over: logs fmt (when a complaint was logged) and starts
 * afresh. */
BOSUN_API void bosun_complain_release(bosun_complaint *c, enum log_level level, const char *fmt,
                                      ...) __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
