/* bosun-llm — bosun's own coding agent, run by the llm agent type:
 *
 *   bosun-llm --config RUN_DIR/llm.json
 *
 * Its own libev loop drives the model API and the fetch tool (libcurl's
 * multi interface, curl_ev), the tools, and the connection to bosund on
 * the agent socket ($BOSUN_SOCKET, as the run's agent with
 * $BOSUN_AGENT_TOKEN).  stdout carries the run's events, one JSON object
 * a line; stderr its log.  Exit 0 when the work is done, 1 when it failed
 * (the result line says why), 2 for a bad invocation. */
#define _POSIX_C_SOURCE 200809L
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bosun/log.h>

#include "llm_loop.h"

static void usage(void)
{
    fprintf(stderr, "usage: bosun-llm --config FILE\n"
                    "  (started by bosund for agents of type llm; see bosun-llm(7))\n");
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    llm_loop_abort(w->data, "stop signal");
}

static void on_lost(void *arg, const char *why)
{
    llm_loop *l = arg;
    if (l->finished)
        return;
    char reason[400];
    snprintf(reason, sizeof reason, "the connection to bosund ended: %.300s", why);
    llm_finish(l, "error", "error_daemon", reason, 1);
}

static void on_agent(void *arg, const json_t *data, const char *code, const char *msg)
{
    llm_loop *l = arg;
    char err[512];
    if (code) {
        snprintf(err, sizeof err, "bosund refused the run's agent token: %.400s", msg);
        return llm_finish(l, "error", "error_daemon", err, 1);
    }
    if (!llm_loop_start(l, err, sizeof err))
        llm_finish(l, "error", "error_setup", err, 1);
}

static int run(llm_loop *l, const char *token, const char *socket_path)
{
    char err[512];
    l->ctl = llm_ctl_new(l->loop, socket_path, on_lost, l, err, sizeof err);
    if (!l->ctl) {
        llm_finish(l, "error", "error_daemon", err, 1);
        return 1;
    }
    ev_signal sigterm, sigint;
    ev_signal_init(&sigterm, on_signal, SIGTERM);
    ev_signal_init(&sigint, on_signal, SIGINT);
    sigterm.data = sigint.data = l;
    ev_signal_start(l->loop, &sigterm);
    ev_signal_start(l->loop, &sigint);
    llm_ctl_agent(l->ctl, token, on_agent, l);
    ev_run(l->loop, 0);
    ev_signal_stop(l->loop, &sigterm);
    ev_signal_stop(l->loop, &sigint);
    return l->finished && l->exit_code == 0 && !l->aborted ? 0 : l->aborted ? 143 : l->exit_code;
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "--config") != 0) {
        usage();
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const char *level = getenv("BOSUN_LOG_LEVEL");
    if (level && log_level_parse(level) >= 0)
        log_set_level((enum log_level)log_level_parse(level));
    llm_conf conf;
    char err[512];
    if (!llm_conf_load(&conf, argv[2], err, sizeof err)) {
        log_error("%s", err);
        return 2;
    }
    const char *token = getenv("BOSUN_AGENT_TOKEN");
    struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
    llm_out *out = llm_out_new(loop, STDOUT_FILENO);
    curl_ev *curl = curl_ev_new(loop);
    llm_loop l = {.loop = loop, .conf = &conf, .out = out, .curl = curl};
    int rc = 1;
    if (!out || !curl)
        log_error("out of memory");
    else if (!token || !*token)
        llm_finish(&l, "error", "error_daemon", "no agent token (BOSUN_AGENT_TOKEN)", 1);
    else
        rc = run(&l, token, getenv("BOSUN_SOCKET"));
    /* The token is not needed any more: out of the environment. */
    unsetenv("BOSUN_AGENT_TOKEN");
    llm_loop_free(&l);
    llm_ctl_free(l.ctl);
    curl_ev_free(curl);
    llm_out_free(out);
    llm_conf_free(&conf);
    ev_loop_destroy(loop);
    return rc;
}
