/* bosun-mcp — `bosunctl mcp` as a program of its own, the MCP server that
 * bosund writes into every run's mcp.json (daemon.mcp_command).
 *
 * The agent's CLI starts one per session and keeps it for the whole run,
 * so its memory counts against every run: this program links only what
 * the relay needs (the control-socket client, JSON, line framing), not
 * libbosun with libcrypto, libyaml, libjwt and libev -- 3.5 MB of pages
 * mapped at start for `bosunctl mcp`, most of them libcrypto's.  It reads
 * no configuration: the socket is $BOSUN_SOCKET (bosund sets it in
 * mcp.json) or --socket.  bosun-mcp(8). */
#include "config.h"

#include "bosunctl.h"
#include "ctl_client.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int usage(FILE *out, int code)
{
    fputs("Usage: bosun-mcp [mcp] [-s SOCKET] [--token-file FILE] [--relay]\n"
          "An MCP server on stdin/stdout for an agent bosund started; see bosun-mcp(8).\n",
          out);
    return code;
}

/* The options `bosunctl mcp` takes, before or after a word "mcp":
 * mcp.json runs `MCP_COMMAND mcp` whichever of the two programs it names.
 * Returns 0, -1 after --help, or an exit code. */
static int parse(int argc, char **argv, opts *o)
{
    enum { OPT_TOKEN_FILE = 256, OPT_RELAY };
    static const struct option longs[] = {{"socket", required_argument, NULL, 's'},
                                          {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
                                          {"relay", no_argument, NULL, OPT_RELAY},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "s:h", longs, NULL)) != -1) {
        if (c == 's')
            o->socket = optarg;
        else if (c == OPT_TOKEN_FILE)
            o->token_file = optarg;
        else if (c == OPT_RELAY)
            o->relay = 1;
        else if (c == 'h')
            return usage(stdout, -1);
        else
            return usage(stderr, EX_USAGE_);
    }
    if (optind < argc && strcmp(argv[optind], "mcp") == 0)
        optind++;
    return optind < argc ? usage(stderr, EX_USAGE_) : 0;
}

int main(int argc, char **argv)
{
    ctl_program = "bosun-mcp";
    opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    const char *path = o.socket ? o.socket : getenv("BOSUN_SOCKET");
    if (!path || !*path)
        return mcp_refuse_all("no control socket: bosund sets BOSUN_SOCKET in the run's "
                              "mcp.json (or pass --socket)"),
               EX_USAGE_;
    enum ctl_connect_error why;
    char err[512];
    ctl_conn *conn = ctl_connect(path, &why, err, sizeof err);
    if (!conn) {
        mcp_refuse_all(why == CTL_CONNECT_NOT_RUNNING ? "bosund is not running"
                                                      : "bosund cannot be reached");
        return EX_UNAVAILABLE_;
    }
    rc = cmd_mcp(conn, &o, 0, NULL);
    ctl_close(conn);
    return rc;
}
