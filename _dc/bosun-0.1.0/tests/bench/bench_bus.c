/* Bus delivery benchmark (not a test; `make bench` runs it).
 *
 * One publisher, one exact subscriber on "bench.target.subject", messages
 * delivered by the event loop as the daemon does it.  Measured once with
 * that subscriber alone, then with 10000 unrelated subscriptions (exact,
 * "*" and ">" patterns, none matching the target): with a trie the two rates
 * should be close, with a linear scan the second would collapse.
 *
 * Each measurement publishes up to MSGS messages or runs for MAX_SECONDS,
 * whichever ends first, and is repeated RUNS times; the median is reported. */
#include "config.h"

#include <bosun/bus.h>

#include <ev.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MSGS        1000000
#define MAX_SECONDS 3.0
#define RUNS        5
#define BATCH       1000 /* messages published per publisher turn */
#define UNRELATED   10000
#define TARGET      "bench.target.subject"

struct bench {
    bus_t *bus;
    json_t *data;
    uint64_t published;
    uint64_t delivered;
    double deadline;
    ev_idle publisher;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_message(bus_t *bus, const bus_msg *msg, void *arg)
{
    struct bench *b = arg;
    b->delivered++;
}

static void never(bus_t *bus, const bus_msg *msg, void *arg)
{
    fprintf(stderr, "bench_bus: unrelated subscription matched %s\n", msg->subject);
    abort();
}

/* At the lowest priority the publisher runs only once the bus (at the
 * highest) has drained its queue: publish a batch, the loop delivers it. */
static void publish_batch(struct ev_loop *loop, ev_idle *w, int revents)
{
    struct bench *b = w->data;
    for (int i = 0; i < BATCH && b->published < MSGS; i++, b->published++)
        if (bus_publish(b->bus, TARGET, NULL, b->data) < 0) {
            perror("bench_bus: bus_publish");
            exit(1);
        }
    if (b->published >= MSGS || now() > b->deadline)
        ev_idle_stop(loop, w);
}

static void add_unrelated(bus_t *bus)
{
    char pattern[64];
    for (int i = 0; i < UNRELATED; i++) {
        switch (i % 3) {
        case 0:
            snprintf(pattern, sizeof pattern, "other.%d.x", i);
            break;
        case 1:
            snprintf(pattern, sizeof pattern, "other.*.y%d", i);
            break;
        default:
            snprintf(pattern, sizeof pattern, "x%d.>", i);
        }
        if (!bus_subscribe(bus, pattern, never, NULL)) {
            perror("bench_bus: bus_subscribe");
            exit(1);
        }
    }
}

/* One measurement on a fresh loop and bus; returns messages per second. */
static double measure(int unrelated)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct bench b = {.data = json_pack("{s:s,s:i}", "kind", "bench", "n", 1)};
    b.bus = bus_new(loop);
    if (!loop || !b.bus || !b.data) {
        fprintf(stderr, "bench_bus: setup failed\n");
        exit(1);
    }
    if (unrelated)
        add_unrelated(b.bus);
    if (!bus_subscribe(b.bus, TARGET, on_message, &b)) {
        perror("bench_bus: bus_subscribe");
        exit(1);
    }
    ev_idle_init(&b.publisher, publish_batch);
    ev_set_priority(&b.publisher, EV_MINPRI);
    b.publisher.data = &b;

    double start = now();
    b.deadline = start + MAX_SECONDS;
    ev_idle_start(loop, &b.publisher);
    ev_run(loop, 0); /* returns when the publisher stopped and the bus drained */
    double elapsed = now() - start;

    if (b.delivered != b.published || bus_queue_length(b.bus) != 0) {
        fprintf(stderr, "bench_bus: published %llu, delivered %llu\n",
                (unsigned long long)b.published, (unsigned long long)b.delivered);
        exit(1);
    }
    bus_free(b.bus);
    json_decref(b.data);
    ev_loop_destroy(loop);
    return (double)b.delivered / elapsed;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_rate(const char *label, int unrelated)
{
    double rates[RUNS];
    printf("%s:", label);
    for (int i = 0; i < RUNS; i++) {
        rates[i] = measure(unrelated);
        printf(" %.0f", rates[i]);
        fflush(stdout);
    }
    qsort(rates, RUNS, sizeof rates[0], cmp_double);
    printf(" msg/s (median %.0f)\n", rates[RUNS / 2]);
    return rates[RUNS / 2];
}

int main(void)
{
    printf("bench_bus: up to %d messages or %.0f s per run, %d runs, median\n", MSGS, MAX_SECONDS,
           RUNS);
    double alone = median_rate("1 subscriber", 0);
    double crowded = median_rate("1 subscriber + 10000 unrelated", UNRELATED);
    printf("\n== result ==\n");
    printf("bus delivery: 1 sub: %.0f msg/s; with %d unrelated subs: %.0f msg/s; ratio: %.2f\n",
           alone, UNRELATED, crowded, crowded / alone);
    return 0;
}
