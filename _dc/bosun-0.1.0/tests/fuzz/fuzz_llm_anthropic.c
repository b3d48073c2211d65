/* libFuzzer target for bosun-llm's Anthropic Messages stream reading
 * (plugins/llm/prog/provider/llm_anthropic.c: message_start, content
 * blocks and their deltas, message_delta usage, error events) through the
 * SSE reader; see fuzz_llm_stream.h for what every input must give. */
#include "config.h"

#include "fuzz_llm_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_llm_stream(&llm_dialect_anthropic, data, size);
}
