/* The systemd notification protocol, spoken by hand: one datagram per
 * message to $NOTIFY_SOCKET (a path, or an abstract name starting with
 * '@').  Without NOTIFY_SOCKET every call does nothing. */
#ifndef BOSUN_SDNOTIFY_H
#define BOSUN_SDNOTIFY_H

#include <stdint.h>

/* Opens the socket if NOTIFY_SOCKET is set; returns 0 (also when unset) or -1. */
int sdnotify_init(void);
void sdnotify_close(void);

/* Sends text such as "READY=1\nSTATUS=running". Returns 0, or -1 with errno. */
int sdnotify_send(const char *text);
int sdnotify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* WATCHDOG_USEC when it is set and meant for this process (WATCHDOG_PID
 * unset or ours), else 0. */
uint64_t sdnotify_watchdog_usec(void);

#endif
