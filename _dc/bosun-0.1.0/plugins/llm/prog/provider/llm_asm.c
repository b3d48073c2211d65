/* llm_asm.c — see llm_asm.h. */
#include "config.h"

#include "llm_asm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct asm_call {
    bool used;
    char *id, *name;
    char *args;
    size_t args_len, args_cap;
    json_t *args_value; /* given whole; used when no text came */
} asm_call;

struct llm_asm {
    char *text;
    size_t text_len, text_cap;
    asm_call calls[LLM_ASM_MAX_CALLS];
    char *stop;
    json_t *usage;
    char *error;
    const char *category;
};

llm_asm *llm_asm_new(void)
{
    llm_asm *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->usage = json_pack("{s:I,s:I,s:I,s:I}", "input_tokens", (json_int_t)0, "output_tokens",
                         (json_int_t)0, "cache_read_tokens", (json_int_t)0, "cache_write_tokens",
                         (json_int_t)0);
    if (!a->usage) {
        free(a);
        return NULL;
    }
    return a;
}

void llm_asm_free(llm_asm *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < LLM_ASM_MAX_CALLS; i++) {
        free(a->calls[i].id);
        free(a->calls[i].name);
        free(a->calls[i].args);
        json_decref(a->calls[i].args_value);
    }
    free(a->text);
    free(a->stop);
    free(a->error);
    json_decref(a->usage);
    free(a);
}

void llm_asm_fail(llm_asm *a, const char *category, const char *fmt, ...)
{
    if (a->error)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    a->error = strdup(buf);
    a->category = category ? category : "invalid_response";
}

const char *llm_asm_error(const llm_asm *a)
{
    return a->error ? a->error : (a->category ? "out of memory" : NULL);
}

const char *llm_asm_category(const llm_asm *a)
{
    return a->category;
}

static int grow(char **p, size_t *len, size_t *cap, const char *add, size_t n, size_t max)
{
    if (n > max - *len)
        return -1;
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 64;
        while (c < *len + n + 1)
            c *= 2;
        char *q = realloc(*p, c);
        if (!q)
            return -1;
        *p = q;
        *cap = c;
    }
    memcpy(*p + *len, add, n);
    *len += n;
    (*p)[*len] = '\0';
    return 0;
}

int llm_asm_text(llm_asm *a, const char *text, size_t len)
{
    if (grow(&a->text, &a->text_len, &a->text_cap, text, len, LLM_ASM_MAX_TEXT) == 0)
        return 0;
    llm_asm_fail(a, NULL, "the turn's text is longer than %u bytes", LLM_ASM_MAX_TEXT);
    return -1;
}

static asm_call *slot(llm_asm *a, long index)
{
    if (index < 0 || index >= LLM_ASM_MAX_CALLS) {
        llm_asm_fail(a, NULL, "tool call index %ld out of range (0 to %d)", index,
                     LLM_ASM_MAX_CALLS - 1);
        return NULL;
    }
    return &a->calls[index];
}

static int set_field(llm_asm *a, char **dst, const char *v, const char *what)
{
    if (!v || *dst)
        return 0;
    if (strlen(v) > LLM_ASM_MAX_FIELD) {
        llm_asm_fail(a, NULL, "tool call %s longer than %d bytes", what, LLM_ASM_MAX_FIELD);
        return -1;
    }
    *dst = strdup(v);
    if (!*dst) {
        llm_asm_fail(a, NULL, "out of memory");
        return -1;
    }
    return 0;
}

int llm_asm_call(llm_asm *a, long index, const char *id, const char *name)
{
    asm_call *c = slot(a, index);
    if (!c)
        return -1;
    c->used = true;
    if (set_field(a, &c->id, id, "id") || set_field(a, &c->name, name, "name"))
        return -1;
    return 0;
}

bool llm_asm_has_call(const llm_asm *a, long index)
{
    return index >= 0 && index < LLM_ASM_MAX_CALLS && a->calls[index].used;
}

int llm_asm_args(llm_asm *a, long index, const char *text, size_t len)
{
    asm_call *c = slot(a, index);
    if (!c)
        return -1;
    c->used = true;
    if (grow(&c->args, &c->args_len, &c->args_cap, text, len, LLM_ASM_MAX_ARGS) == 0)
        return 0;
    llm_asm_fail(a, NULL, "tool call %ld's arguments are longer than %u bytes", index,
                 LLM_ASM_MAX_ARGS);
    return -1;
}

int llm_asm_args_value(llm_asm *a, long index, const json_t *value)
{
    asm_call *c = slot(a, index);
    if (!c)
        return -1;
    c->used = true;
    json_decref(c->args_value);
    c->args_value = value ? json_deep_copy(value) : NULL;
    return 0;
}

void llm_asm_stop(llm_asm *a, const char *reason)
{
    if (!reason || strlen(reason) > LLM_ASM_MAX_FIELD)
        return;
    char *s = strdup(reason);
    if (!s)
        return;
    free(a->stop);
    a->stop = s;
}

const char *llm_asm_stop_reason(const llm_asm *a)
{
    return a->stop;
}

void llm_asm_usage(llm_asm *a, const char *key, json_int_t value)
{
    if (value >= 0)
        json_object_set_new(a->usage, key, json_integer(value));
}

json_t *llm_asm_usage_json(llm_asm *a)
{
    return a->usage;
}

size_t llm_asm_text_len(const llm_asm *a)
{
    return a->text_len;
}

/* Arguments are parsed once they are whole: an empty text is no arguments
 * ({}), anything else must be one JSON object. */
static json_t *call_json(const asm_call *c, long index)
{
    char id[32];
    snprintf(id, sizeof id, "call_%ld", index);
    json_t *o =
        json_pack("{s:s,s:s}", "id", c->id && *c->id ? c->id : id, "name", c->name ? c->name : "");
    if (!o)
        return NULL;
    if (c->args_len == 0 && c->args_value && json_is_object(c->args_value)) {
        json_object_set(o, "arguments", c->args_value);
        return o;
    }
    if (c->args_len == 0) {
        json_object_set_new(o, "arguments", json_object());
        return o;
    }
    json_error_t jerr;
    json_t *v = json_loadb(c->args, c->args_len, JSON_DECODE_ANY, &jerr);
    if (v && json_is_object(v)) {
        json_object_set_new(o, "arguments", v);
        return o;
    }
    char why[256];
    if (v)
        snprintf(why, sizeof why, "the arguments are JSON but not an object");
    else
        snprintf(why, sizeof why, "the arguments are not valid JSON: %s at position %d", jerr.text,
                 jerr.position);
    json_decref(v);
    json_object_set_new(o, "arguments", json_null());
    json_object_set_new(o, "arguments_error", json_string(why));
    /* Invalid UTF-8 cannot go into a JSON string: keep what can be shown. */
    json_t *raw = json_stringn(c->args, c->args_len);
    json_object_set_new(o, "arguments_raw", raw ? raw : json_string("(not valid UTF-8)"));
    return o;
}

json_t *llm_asm_message(llm_asm *a)
{
    json_t *text = json_stringn(a->text ? a->text : "", a->text_len);
    if (!text) {
        llm_asm_fail(a, NULL, "the model's text is not valid UTF-8");
        return NULL;
    }
    json_t *m = json_pack("{s:s,s:o}", "role", "assistant", "content", text);
    json_t *calls = json_array();
    for (long i = 0; m && calls && i < LLM_ASM_MAX_CALLS; i++) {
        if (!a->calls[i].used)
            continue;
        if (!a->calls[i].name || !*a->calls[i].name) {
            llm_asm_fail(a, NULL, "tool call %ld has no name", i);
            json_decref(m);
            json_decref(calls);
            return NULL;
        }
        json_t *c = call_json(&a->calls[i], i);
        if (!c) {
            llm_asm_fail(a, NULL, "tool call %ld's id or name is not valid UTF-8", i);
            json_decref(m);
            json_decref(calls);
            return NULL;
        }
        json_array_append_new(calls, c);
    }
    if (m && calls && json_array_size(calls))
        json_object_set(m, "tool_calls", calls);
    json_decref(calls);
    return m;
}
