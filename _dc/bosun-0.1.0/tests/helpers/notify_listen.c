/* Test helper that plays systemd's part of the notification protocol:
 * binds a datagram socket at PATH and prints each datagram on one line
 * (newlines inside shown as '|'), flushing after each, until a datagram
 * contains STOPPING=1 or SECONDS pass.
 *
 *   notify_listen PATH SECONDS
 */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: notify_listen PATH SECONDS\n");
        return 2;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof addr.sun_path)
        return 2;
    strcpy(addr.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    unlink(argv[1]);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("notify_listen: bind");
        return 1;
    }
    double deadline = now() + atof(argv[2]);
    char buf[4096];
    for (;;) {
        double left = deadline - now();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] == '\n')
                buf[i] = '|';
        printf("%.3f %s\n", now(), buf);
        fflush(stdout);
        if (strstr(buf, "STOPPING=1"))
            break;
    }
    unlink(argv[1]);
    return 0;
}
