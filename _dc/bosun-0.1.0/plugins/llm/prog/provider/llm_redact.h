/* llm_redact.h — the API key taken out of a text before it is shown: a
 * server may quote the key in its refusal ("Incorrect API key provided:
 * sk-..."), and such a text becomes the run's error. */
#ifndef BOSUN_LLM_REDACT_H
#define BOSUN_LLM_REDACT_H

/* Replaces, in place, every occurrence of key in text by "[redacted]"
 * (the text may be cut to keep its size).  No effect for an empty key. */
void llm_redact(char *text, const char *key);

#endif
