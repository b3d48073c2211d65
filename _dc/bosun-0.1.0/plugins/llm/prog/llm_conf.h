/* bosun-llm's settings: the run's llm.json that the llm agent type wrote
 * (plugins/llm/llm_launch.c), with the API key resolved from the file or
 * environment variable it names.  The key lives only in the provider's
 * settings, never in an event or a log line. */
#ifndef BOSUN_LLM_CONF_H
#define BOSUN_LLM_CONF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The largest llm.json read, and the largest API key file. */
#define LLM_CONF_MAX (4u << 20)
#define LLM_KEY_MAX  8192

typedef struct llm_conf {
    json_t *root;     /* the whole file */
    const char *path; /* of the file */
    const char *run, *agent, *task, *session, *workspace;
    const char *prompt;       /* the task prompt, or NULL */
    const char *resume_why;   /* "answer" | "crash" | NULL */
    const char *resume_input; /* the answer or the interrupted-turn text */
    const char *system_prompt;
    long long max_rounds, max_context_messages;
    bool interactive;
    bool request_input; /* the request_input tool is enabled */
    char *run_dir;      /* the directory of llm.json (the run's own) */
} llm_conf;

/* Reads and checks path; false with the reason in err. */
bool llm_conf_load(llm_conf *c, const char *path, char *err, size_t err_size);
void llm_conf_free(llm_conf *c);

/* The provider's settings (llm_provider_new): the llm section with
 * "api_key" resolved (a new reference; wipe it with llm_conf_wipe).  NULL
 * with the reason in err when the key cannot be read. */
json_t *llm_conf_provider(const llm_conf *c, char *err, size_t err_size);
/* Overwrites the key's bytes in a settings object, then frees it. */
void llm_conf_wipe(json_t *provider_cfg);
/* The tools' settings (llm_tools_new): workspace, tools (request_input,
 * the loop's own, left out), sandbox, bash, files, fetch.  New reference. */
json_t *llm_conf_tools(const llm_conf *c);

#endif
