/* Test helper: a raw control-socket client.  Sends stdin to the Unix
 * socket PATH, shuts down its sending side, and copies everything the
 * server answers to stdout until the server closes (or SECONDS pass).
 *
 *   unix_send PATH [SECONDS]
 */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: unix_send PATH [SECONDS]\n");
        return 2;
    }
    int timeout_ms = argc > 2 ? (int)(atof(argv[2]) * 1000) : 10000;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof addr.sun_path)
        return 2;
    strcpy(addr.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("unix_send: connect");
        return 1;
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)n) != n) {
            perror("unix_send: write");
            return 1;
        }
    shutdown(fd, SHUT_WR);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0) {
            fprintf(stderr, "unix_send: timed out\n");
            return 1;
        }
        n = read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        fwrite(buf, 1, (size_t)n, stdout);
    }
    return 0;
}
