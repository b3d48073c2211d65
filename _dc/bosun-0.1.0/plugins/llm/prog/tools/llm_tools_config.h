/* Reading the tools' config (the cfg of llm_tools_new). */
#ifndef BOSUN_LLM_TOOLS_CONFIG_H
#define BOSUN_LLM_TOOLS_CONFIG_H

#include "llm_tools_int.h"

/* Fills t's settings from cfg.  Returns 0, or -1 with err naming the key
 * and what is wrong with it; ltc_free undoes a partial read too. */
int ltc_read(llm_tools *t, const json_t *cfg, char *err, size_t err_size);
void ltc_free(llm_tools *t);

#endif
