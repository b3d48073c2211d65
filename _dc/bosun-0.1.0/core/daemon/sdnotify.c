#include "config.h"

#include "sdnotify.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bosun/log.h>

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_addr_len;

int sdnotify_init(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return 0;
    size_t len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof notify_addr.sun_path) {
        log_warning("NOTIFY_SOCKET '%s' is not a usable socket address; not notifying systemd",
                    path);
        return -1;
    }
    memset(&notify_addr, 0, sizeof notify_addr);
    notify_addr.sun_family = AF_UNIX;
    memcpy(notify_addr.sun_path, path, len);
    if (path[0] == '@')
        notify_addr.sun_path[0] = '\0'; /* abstract namespace */
    notify_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (notify_fd < 0) {
        log_warning("cannot create the systemd notification socket: %s", strerror(errno));
        return -1;
    }
    /* Children (agents) must not inherit the variable and talk to systemd
     * on our behalf. */
    unsetenv("NOTIFY_SOCKET");
    return 0;
}

void sdnotify_close(void)
{
    if (notify_fd >= 0)
        close(notify_fd);
    notify_fd = -1;
}

int sdnotify_send(const char *text)
{
    if (notify_fd < 0)
        return 0;
    ssize_t n = sendto(notify_fd, text, strlen(text), MSG_NOSIGNAL,
                       (const struct sockaddr *)&notify_addr, notify_addr_len);
    if (n < 0) {
        log_debug("sd_notify '%s' failed: %s", text, strerror(errno));
        return -1;
    }
    return 0;
}

int sdnotify_sendf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return sdnotify_send(buf);
}

uint64_t sdnotify_watchdog_usec(void)
{
    const char *usec = getenv("WATCHDOG_USEC");
    if (!usec || !*usec)
        return 0;
    const char *pid = getenv("WATCHDOG_PID");
    if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    char *end = NULL;
    unsigned long long v = strtoull(usec, &end, 10);
    return *end ? 0 : (uint64_t)v;
}
