/* stream-json parsing benchmark (not a test; bench_agent_parse.sh and
 * bench_cg_parse.sh run it): every line of FILE through an agent type's
 * parse_line (claude-code, codex or gemini; default claude-code), as the
 * core calls it, RUNS times; the median lines/s and MB/s are printed, with
 * the events made per pass (so that a parser that skips work shows).
 *
 *   bench_agent_parse FILE [RUNS] [TYPE] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "claude_code.h"
#include "codex.h"
#include "gemini.h"

typedef int (*parse_fn)(void *, const bosun_run_info *, enum bosun_stream, const char *, size_t,
                        json_t *);

static const struct {
    const char *name;
    parse_fn parse;
    size_t state_size;
} types[] = {
    {"claude-code", claude_parse_line, sizeof(claude_state)},
    {"codex", codex_parse_line, sizeof(codex_state)},
    {"gemini", gemini_parse_line, sizeof(gemini_state)},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = buf ? (size_t)n : 0;
    return buf;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_agent_parse FILE [RUNS] [claude-code|codex|gemini]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (runs < 1 || runs > 100)
        runs = 5;
    size_t t = 0, n_types = sizeof types / sizeof types[0];
    while (argc > 3 && t < n_types && strcmp(types[t].name, argv[3]) != 0)
        t++;
    if (t == n_types) {
        fprintf(stderr, "bench_agent_parse: no agent type %s\n", argv[3]);
        return 2;
    }
    size_t len;
    char *text = slurp(argv[1], &len);
    if (!text) {
        perror(argv[1]);
        return 1;
    }
    static const char yaml[] = "thinking: false\n";
    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node *config = cfg_load_string(yaml, sizeof yaml - 1, "bench.yaml", &d);
    void *st = calloc(1, types[t].state_size);
    bosun_run_info run = {
        .run_id = "01BENCHRUN0000000000000000", .agent = "bench", .config = config};
    double secs[100];
    size_t lines = 0, events_made = 0;
    for (int r = 0; r < runs; r++) {
        lines = events_made = 0;
        double t0 = now();
        for (size_t at = 0; at < len;) {
            char *nl = memchr(text + at, '\n', len - at);
            size_t n = (nl ? (size_t)(nl - text) : len) - at;
            json_t *events = json_array();
            types[t].parse(st, &run, BOSUN_STREAM_STDOUT, text + at, n, events);
            events_made += json_array_size(events);
            json_decref(events);
            lines++;
            at += n + 1;
        }
        secs[r] = now() - t0;
    }
    qsort(secs, (size_t)runs, sizeof secs[0], cmp);
    double med = secs[runs / 2];
    printf("parse_line (%s): %zu lines, %.1f MB, %zu events a pass; median of %d: "
           "%.3f s, %.0f lines/s, %.1f MB/s\n",
           types[t].name, lines, (double)len / 1e6, events_made, runs, med, (double)lines / med,
           (double)len / 1e6 / med);
    free(st);
    cfg_free(config);
    cfg_diag_free(&d);
    free(text);
    return 0;
}
