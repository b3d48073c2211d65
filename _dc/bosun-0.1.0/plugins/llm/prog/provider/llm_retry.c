/* llm_retry.c — see llm_retry.h. */
#include "config.h"

#include "llm_retry.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *llm_retry_status_category(long status)
{
    if (status == 401 || status == 403)
        return "auth";
    if (status == 429)
        return "rate_limit";
    if (status == 408)
        return "timeout";
    if (status >= 500)
        return "server";
    return "invalid_response";
}

bool llm_retry_category_retryable(const char *category)
{
    static const char *const again[] = {"rate_limit", "server", "timeout", "network"};
    for (size_t i = 0; i < sizeof again / sizeof *again; i++)
        if (strcmp(category, again[i]) == 0)
            return true;
    return false;
}

static double cap(double s)
{
    if (s < 0)
        return 0;
    return s > LLM_RETRY_AFTER_MAX ? LLM_RETRY_AFTER_MAX : s;
}

double llm_retry_after_parse(const char *value, time_t now)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (!*value || strlen(value) > 64)
        return -1;
    if (isdigit((unsigned char)*value)) {
        char *end;
        errno = 0;
        double s = strtod(value, &end);
        while (*end == ' ' || *end == '\t')
            end++;
        /* A date starts with a weekday, so digits first mean seconds. */
        if (errno == 0 && *end == '\0' && isfinite(s))
            return cap(s);
        return -1;
    }
    time_t t = curl_getdate(value, NULL);
    if (t == (time_t)-1)
        return -1;
    return cap(difftime(t, now));
}

double llm_retry_wait(int attempt, double retry_after)
{
    if (retry_after >= 0)
        return retry_after;
    double w = LLM_RETRY_BASE;
    for (int i = 2; i < attempt && w < LLM_RETRY_MAX; i++)
        w *= 2;
    return w > LLM_RETRY_MAX ? LLM_RETRY_MAX : w;
}
