/* llm_settings.h — the llm: section checked (llm_settings.c). */
#ifndef BOSUN_LLM_SETTINGS_H
#define BOSUN_LLM_SETTINGS_H

#include "llm_dialect.h"

/* 0, or -1 with err naming the key (never its value). Defaults:
 * base_url the provider's, max_tokens 4096, request_timeout 600 s,
 * stall_timeout 120 s, retries 3, no temperature, no key. */
int llm_settings_load(llm_settings *s, const llm_dialect **dialect, const json_t *cfg, char *err,
                      size_t err_size);
void llm_settings_clear(llm_settings *s);

#endif
