/* libFuzzer target for the hub's check of a machine.events batch
 * (plugins/fleet/fleet_batch.c), the first thing a machine's events meet.
 *
 * The input is parsed as JSON (any value); an object with "events" is
 * checked as it is, anything else is wrapped as {"events": [value]} so that
 * single events are fuzzed too.  A batch the check accepts must hold to
 * every promise of fleet_batch.h, verified here on its own: 1 to 256
 * objects, only the known keys, positive strictly increasing seqs, evt.
 * subjects that the bus accepts, finite non-negative times, object data,
 * run and task strings or null, within the size bounds, and info matching.
 * A refused one has a message naming the batch or an event.  The same
 * input checked twice gives the same answer and message. */
#include "config.h"

#include "fleet_batch.h"

#include <bosun/bus.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool known_key(const char *k)
{
    static const char *const keys[] = {"seq", "subject", "time", "data", "run", "task", NULL};
    for (int i = 0; keys[i]; i++)
        if (strcmp(keys[i], k) == 0)
            return true;
    return false;
}

static void verify_event(const json_t *ev, json_int_t *prev)
{
    FUZZ_CHECK(json_is_object(ev));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ev, k, v) FUZZ_CHECK(known_key(k));
    json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
    FUZZ_CHECK(json_is_integer(json_object_get(ev, "seq")) && seq > 0 && seq > *prev);
    *prev = seq;
    const char *s = json_string_value(json_object_get(ev, "subject"));
    FUZZ_CHECK(s && strncmp(s, "evt.", 4) == 0 && bus_subject_check(s) == 0);
    double t = json_number_value(json_object_get(ev, "time"));
    FUZZ_CHECK(json_is_number(json_object_get(ev, "time")) && isfinite(t) && t >= 0);
    FUZZ_CHECK(json_is_object(json_object_get(ev, "data")));
    const json_t *run = json_object_get(ev, "run"), *task = json_object_get(ev, "task");
    FUZZ_CHECK(!run || json_is_null(run) || json_is_string(run));
    FUZZ_CHECK(!task || json_is_null(task) || json_is_string(task));
}

static void verify_accepted(const json_t *batch, const fleet_batch_info *info)
{
    FUZZ_CHECK(json_is_object(batch) && json_object_size(batch) == 1);
    const json_t *events = json_object_get(batch, "events");
    size_t n = json_array_size(events);
    FUZZ_CHECK(n >= 1 && n <= FLEET_BATCH_EVENTS_MAX && n == info->count);
    size_t bytes = json_dumpb(batch, NULL, 0, JSON_COMPACT);
    FUZZ_CHECK(bytes == info->bytes);
    FUZZ_CHECK(bytes <= (n > 1 ? FLEET_BATCH_BYTES_MAX : FLEET_BATCH_ONE_MAX));
    json_int_t prev = 0;
    for (size_t i = 0; i < n; i++)
        verify_event(json_array_get(events, i), &prev);
    FUZZ_CHECK(prev == info->last);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!v)
        return 0;
    json_t *batch = json_is_object(v) && json_object_get(v, "events")
                        ? json_incref(v)
                        : json_pack("{s:[O]}", "events", v);
    char err[200], err2[200];
    fleet_batch_info info, info2;
    bool ok = fleet_batch_check(batch, &info, err, sizeof err);
    bool ok2 = fleet_batch_check(batch, &info2, err2, sizeof err2);
    FUZZ_CHECK(ok == ok2);
    if (ok) {
        verify_accepted(batch, &info);
        FUZZ_CHECK(memcmp(&info, &info2, sizeof info) == 0);
    } else {
        FUZZ_CHECK(strlen(err) > 0 && strcmp(err, err2) == 0);
        FUZZ_CHECK(strncmp(err, "machine.events", 14) == 0 || strncmp(err, "events[", 7) == 0);
    }
    json_decref(batch);
    json_decref(v);
    return 0;
}
