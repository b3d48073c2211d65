/* libFuzzer target for bosun-llm's OpenAI Chat Completions stream reading
 * (plugins/llm/prog/provider/llm_openai.c: chunks, tool calls assembled by
 * index, usage, [DONE]) through the SSE reader; see fuzz_llm_stream.h for
 * what every input must give. */
#include "config.h"

#include "fuzz_llm_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_llm_stream(&llm_dialect_openai, data, size);
}
