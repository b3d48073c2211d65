/* The check of a machine.events batch (see fleet_batch.h).  Everything a
 * machine sends is outside input: the store takes the batch as it is, so
 * what is refused here never reaches it, and a refusal says exactly what
 * was wrong, for the machine's log and the hub's. */
#include "config.h"

#include "fleet_batch.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bosun/bus.h>

/* Later than this is not a time a machine's clock can give (year 5138):
 * such a value is a unit mistake (milliseconds), refused rather than kept. */
#define TIME_MAX 1e11

static bool bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

static bool only_keys(const json_t *o, const char *const *allowed, const char **extra)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i]) {
            *extra = key;
            return false;
        }
    }
    return true;
}

static bool id_ok(const json_t *v)
{
    return !v || json_is_null(v) ||
           (json_is_string(v) && json_string_length(v) > 0 &&
            json_string_length(v) <= FLEET_BATCH_ID_MAX &&
            strlen(json_string_value(v)) == json_string_length(v));
}

static bool event_ok(const json_t *ev, size_t i, json_int_t prev, char *err, size_t errlen)
{
    static const char *const keys[] = {"seq", "subject", "time", "data", "run", "task", NULL};
    const char *extra = NULL;
    if (!json_is_object(ev))
        return bad(err, errlen, "events[%zu]: not an object", i);
    if (!only_keys(ev, keys, &extra))
        return bad(err, errlen, "events[%zu]: unknown key '%.64s'", i, extra);
    const json_t *seq = json_object_get(ev, "seq");
    if (!json_is_integer(seq) || json_integer_value(seq) < 1)
        return bad(err, errlen, "events[%zu].seq: not a positive integer", i);
    if (json_integer_value(seq) <= prev)
        return bad(err, errlen, "events[%zu].seq: %lld after %lld (seqs must increase)", i,
                   (long long)json_integer_value(seq), (long long)prev);
    const json_t *subject = json_object_get(ev, "subject");
    const char *s = json_string_value(subject);
    if (!s || strlen(s) != json_string_length(subject) || strncmp(s, "evt.", 4) != 0 ||
        bus_subject_check(s) != 0)
        return bad(err, errlen, "events[%zu].subject: not a valid evt. subject", i);
    const json_t *time = json_object_get(ev, "time");
    if (!json_is_number(time) || !isfinite(json_number_value(time)) ||
        json_number_value(time) < 0 || json_number_value(time) > TIME_MAX)
        return bad(err, errlen, "events[%zu].time: not seconds since the epoch", i);
    if (!json_is_object(json_object_get(ev, "data")))
        return bad(err, errlen, "events[%zu].data: not an object", i);
    if (!id_ok(json_object_get(ev, "run")))
        return bad(err, errlen, "events[%zu].run: not an id of 1 to %d bytes", i,
                   FLEET_BATCH_ID_MAX);
    if (!id_ok(json_object_get(ev, "task")))
        return bad(err, errlen, "events[%zu].task: not an id of 1 to %d bytes", i,
                   FLEET_BATCH_ID_MAX);
    return true;
}

bool fleet_batch_check(const json_t *data, fleet_batch_info *info, char *err, size_t errlen)
{
    return fleet_batch_check_sized(data, 0, info, err, errlen);
}

bool fleet_batch_check_sized(const json_t *data, size_t bytes, fleet_batch_info *info, char *err,
                             size_t errlen)
{
    static const char *const keys[] = {"events", NULL};
    const char *extra = NULL;
    if (!json_is_object(data))
        return bad(err, errlen, "machine.events: data is not an object");
    if (!only_keys(data, keys, &extra))
        return bad(err, errlen, "machine.events: unknown key '%.64s'", extra);
    const json_t *events = json_object_get(data, "events");
    size_t n = json_array_size(events);
    if (!json_is_array(events) || n == 0 || n > FLEET_BATCH_EVENTS_MAX)
        return bad(err, errlen, "machine.events: 'events' must be a list of 1 to %d events",
                   FLEET_BATCH_EVENTS_MAX);
    /* Counted, not written: the size without building the text. */
    if (bytes == 0)
        bytes = json_dumpb(data, NULL, 0, JSON_COMPACT);
    if (bytes > (n > 1 ? FLEET_BATCH_BYTES_MAX : FLEET_BATCH_ONE_MAX))
        return bad(err, errlen, "machine.events: %zu bytes in %zu events, over %u", bytes, n,
                   n > 1 ? FLEET_BATCH_BYTES_MAX : FLEET_BATCH_ONE_MAX);
    json_int_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *ev = json_array_get(events, i);
        if (!event_ok(ev, i, prev, err, errlen))
            return false;
        prev = json_integer_value(json_object_get(ev, "seq"));
    }
    *info = (fleet_batch_info){.count = n, .bytes = bytes, .last = prev};
    return true;
}
