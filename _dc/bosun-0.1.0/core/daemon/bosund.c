/* bosund — the bosun daemon.  A thin main: options, then daemon_run(). */
#include "config.h"

#include "daemon.h"
#include "daemon_config.h"

#include <getopt.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>

#include <bosun/bosun.h>

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: bosund [-c FILE] [--check-config]\n"
            "\n"
            "Runs the bosun daemon in the foreground (systemd supervises it).\n"
            "\n"
            "  -c, --config FILE   configuration file (default: $BOSUN_CONFIG or %s)\n"
            "  -t, --check-config  validate the configuration and exit (0 valid, 1 not)\n"
            "  -V, --version       print the version and exit\n"
            "  -h, --help          print this help and exit\n"
            "\n"
            "See bosund(8) and bosun.yaml(5).\n",
            DAEMON_DEFAULT_CONFIG);
}

/* Every connection and every run's pipes take descriptors: the soft limit
 * (often 1024) goes up to the hard one, which is what it is there for.
 * When they run out all the same, the control socket pauses accepting. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 't'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    int check = 0, c;
    while ((c = getopt_long(argc, argv, "c:tVh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 't':
            check = 1;
            break;
        case 'V':
            printf("bosund %s\n", bosun_version());
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bosund: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    const char *path = daemon_config_path(config);
    if (check)
        return daemon_check_config(path);
    raise_nofile();
    return daemon_run(path);
}
