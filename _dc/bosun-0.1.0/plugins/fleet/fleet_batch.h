/* The check of a machine.events batch (bosun-fleet(7)), apart from the
 * plugin so that it can be fuzzed on its own (tests/fuzz/fuzz_fleet_batch.c). */
#ifndef BOSUN_FLEET_BATCH_H
#define BOSUN_FLEET_BATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define FLEET_BATCH_EVENTS_MAX 256
#define FLEET_BATCH_BYTES_MAX  (256u << 10)
/* A batch of one event may be larger: the machine sends an event alone
 * when it does not fit with others, up to under the link's message size
 * (it sends a larger one without its data, see uplink_forward.c). */
#define FLEET_BATCH_ONE_MAX (1u << 20)
/* run and task ids, at most */
#define FLEET_BATCH_ID_MAX 256

typedef struct fleet_batch_info {
    size_t count, bytes; /* events, and bytes of compact JSON */
    json_int_t last;     /* the last seq */
} fleet_batch_info;

/* Whether data is {"events":[{"seq","subject","time","data","run"?,
 * "task"?}, ...]}: 1 to FLEET_BATCH_EVENTS_MAX events, at most
 * FLEET_BATCH_BYTES_MAX bytes of compact JSON (FLEET_BATCH_ONE_MAX for one), seqs positive and
 * strictly increasing, subjects valid evt. subjects, times seconds since the epoch, data objects,
 * run and task strings (or null) of at most FLEET_BATCH_ID_MAX bytes, no other key.  On false err
 * says what was wrong, naming the event and its field; info describes a good batch. */
bool fleet_batch_check(const json_t *data, fleet_batch_info *info, char *err, size_t errlen);
/* The same, with bytes the size of the frame that carried data as it was
 * received (its text, a little more than data's): the bound is checked on
 * it instead of encoding data again to measure it, which cost the hub a
 * fifth of its loop under a flood.  0: not known, measured. */
bool fleet_batch_check_sized(const json_t *data, size_t bytes, fleet_batch_info *info, char *err,
                             size_t errlen);

#endif
