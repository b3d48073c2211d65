/* The registry of live secrets (see <bosun/secret.h>): an open-addressing
 * hash set of the values, and the few distinct (prefix, length) classes
 * they come in, which the scan looks for. */
#include "config.h"

#include <bosun/secret.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_CLASSES_MAX 16

struct secret_class {
    char prefix[BOSUN_SECRET_PREFIX_MAX + 1];
    size_t prefix_len, value_len;
    size_t count; /* live values of this class */
};

static pthread_mutex_t secret_lock = PTHREAD_MUTEX_INITIALIZER;
static struct secret_class secret_classes[SECRET_CLASSES_MAX];
static size_t secret_n_classes;
static char **secret_slots; /* NULL: empty; SECRET_GONE: removed */
static size_t secret_cap, secret_used, secret_live;
static char secret_gone_mark;
#define SECRET_GONE (&secret_gone_mark)

static uint64_t secret_hash(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The slot holding s, or (when absent) the first free one on its path. */
static size_t secret_probe(const char *s, size_t len, bool *found)
{
    size_t mask = secret_cap - 1, i = secret_hash(s, len) & mask, free_at = SIZE_MAX;
    for (;; i = (i + 1) & mask) {
        char *e = secret_slots[i];
        if (!e) {
            *found = false;
            return free_at != SIZE_MAX ? free_at : i;
        }
        if (e == SECRET_GONE) {
            if (free_at == SIZE_MAX)
                free_at = i;
        } else if (strlen(e) == len && memcmp(e, s, len) == 0) {
            *found = true;
            return i;
        }
    }
}

static int secret_grow(void)
{
    size_t cap = secret_cap ? secret_cap * 2 : 64;
    while (secret_live * 2 >= cap)
        cap *= 2;
    char **old = secret_slots;
    size_t old_cap = secret_cap;
    secret_slots = calloc(cap, sizeof *secret_slots);
    if (!secret_slots) {
        secret_slots = old;
        return -1;
    }
    secret_cap = cap;
    secret_used = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i] || old[i] == SECRET_GONE)
            continue;
        bool found;
        secret_slots[secret_probe(old[i], strlen(old[i]), &found)] = old[i];
        secret_used++;
    }
    free(old);
    return 0;
}

static struct secret_class *secret_class_of(const char *value, size_t prefix_len, size_t len,
                                            bool add)
{
    for (size_t i = 0; i < secret_n_classes; i++) {
        struct secret_class *c = &secret_classes[i];
        if (c->prefix_len == prefix_len && c->value_len == len &&
            memcmp(c->prefix, value, prefix_len) == 0)
            return c;
    }
    if (!add || secret_n_classes == SECRET_CLASSES_MAX)
        return NULL;
    struct secret_class *c = &secret_classes[secret_n_classes++];
    memcpy(c->prefix, value, prefix_len);
    c->prefix[prefix_len] = '\0';
    c->prefix_len = prefix_len;
    c->value_len = len;
    c->count = 0;
    return c;
}

int bosun_secret_add(const char *value, size_t prefix_len)
{
    size_t len = value ? strlen(value) : 0;
    if (len < BOSUN_SECRET_MIN || len > BOSUN_SECRET_MAX || prefix_len == 0 ||
        prefix_len > BOSUN_SECRET_PREFIX_MAX) {
        errno = EINVAL;
        return -1;
    }
    int rc = 0;
    pthread_mutex_lock(&secret_lock);
    bool found = false;
    size_t at = 0;
    if ((secret_used + 1) * 2 > secret_cap && secret_grow() != 0)
        goto nomem;
    at = secret_probe(value, len, &found);
    if (found)
        goto out;
    struct secret_class *c = secret_class_of(value, prefix_len, len, true);
    char *copy = c ? strdup(value) : NULL;
    if (!copy)
        goto nomem;
    if (!secret_slots[at])
        secret_used++;
    secret_slots[at] = copy;
    secret_live++;
    c->count++;
    goto out;
nomem:
    errno = ENOMEM;
    rc = -1;
out:
    pthread_mutex_unlock(&secret_lock);
    return rc;
}

void bosun_secret_remove(const char *value)
{
    if (!value)
        return;
    size_t len = strlen(value);
    pthread_mutex_lock(&secret_lock);
    bool found = false;
    size_t at = secret_cap ? secret_probe(value, len, &found) : 0;
    if (found) {
        char *e = secret_slots[at];
        secret_slots[at] = SECRET_GONE;
        secret_live--;
        /* The class is found by the value's own prefix: any prefix length
         * that matches it and its length is the one it came with. */
        for (size_t i = 0; i < secret_n_classes; i++) {
            struct secret_class *c = &secret_classes[i];
            if (c->value_len == len && memcmp(c->prefix, e, c->prefix_len) == 0 && c->count > 0) {
                c->count--;
                break;
            }
        }
        explicit_bzero(e, len);
        free(e);
    }
    pthread_mutex_unlock(&secret_lock);
}

size_t bosun_secret_count(void)
{
    pthread_mutex_lock(&secret_lock);
    size_t n = secret_live;
    pthread_mutex_unlock(&secret_lock);
    return n;
}

/* With the lock held: the length of a registered value starting at
 * text[i], or 0. */
static size_t secret_at(const char *text, size_t len, size_t i)
{
    for (size_t k = 0; k < secret_n_classes; k++) {
        const struct secret_class *c = &secret_classes[k];
        if (c->count == 0 || len - i < c->value_len ||
            memcmp(text + i, c->prefix, c->prefix_len) != 0)
            continue;
        bool found;
        secret_probe(text + i, c->value_len, &found);
        if (found)
            return c->value_len;
    }
    return 0;
}

/* With the lock held: the first offset >= from where a registered value
 * starts (its length in *vlen), or len. */
static size_t secret_next(const char *text, size_t len, size_t from, size_t *vlen)
{
    size_t best = len;
    for (size_t k = 0; k < secret_n_classes; k++) {
        const struct secret_class *c = &secret_classes[k];
        size_t at = from;
        while (c->count > 0 && at < best) {
            const char *hit = memmem(text + at, best - at, c->prefix, c->prefix_len);
            if (!hit)
                break;
            size_t i = (size_t)(hit - text), n = secret_at(text, len, i);
            if (n) {
                best = i;
                *vlen = n;
                break;
            }
            at = i + 1;
        }
    }
    return best;
}

/* With the lock held: the shortest live value, so that a shorter string
 * (most keys, and short text) is passed over without a scan; SIZE_MAX
 * when nothing is live. */
static size_t secret_shortest(void)
{
    size_t min = SIZE_MAX;
    for (size_t k = 0; k < secret_n_classes; k++)
        if (secret_classes[k].count > 0 && secret_classes[k].value_len < min)
            min = secret_classes[k].value_len;
    return min;
}

/* With the lock held. */
static bool secret_in_text(const char *text, size_t len, size_t shortest)
{
    size_t vlen = 0;
    return len >= shortest && secret_next(text, len, 0, &vlen) < len;
}

bool bosun_secret_find(const char *text, size_t len)
{
    if (!text)
        return false;
    pthread_mutex_lock(&secret_lock);
    bool found = secret_live > 0 && secret_in_text(text, len, secret_shortest());
    pthread_mutex_unlock(&secret_lock);
    return found;
}

char *bosun_secret_redact(const char *text, size_t len, size_t *out_len)
{
    if (!text)
        return NULL;
    pthread_mutex_lock(&secret_lock);
    char *out = NULL;
    size_t n = 0, from = 0, vlen = 0;
    size_t at = secret_live > 0 ? secret_next(text, len, 0, &vlen) : len;
    if (at == len)
        goto done;
    /* The mask is shorter than any value: len bytes are enough. */
    out = malloc(len + 1);
    if (!out)
        goto done;
    while (at < len) {
        memcpy(out + n, text + from, at - from);
        n += at - from;
        memcpy(out + n, BOSUN_SECRET_MASK, sizeof BOSUN_SECRET_MASK - 1);
        n += sizeof BOSUN_SECRET_MASK - 1;
        from = at + vlen;
        at = secret_next(text, len, from, &vlen);
    }
    memcpy(out + n, text + from, len - from);
    n += len - from;
    out[n] = '\0';
    if (out_len)
        *out_len = n;
done:
    pthread_mutex_unlock(&secret_lock);
    return out;
}

/* ------------------------------------------------------------ JSON */

/* With the lock held, taken once for the whole value: a lock per string
 * cost more than the scan of a short event's few strings. */
static bool secret_in_json_locked(const json_t *v, unsigned depth, size_t shortest)
{
    if (depth > 64)
        return false; /* jansson's parser stops far sooner */
    if (json_is_string(v))
        return secret_in_text(json_string_value(v), json_string_length(v), shortest);
    const char *key;
    json_t *item;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, item)
        {
            if (secret_in_text(key, strlen(key), shortest) ||
                secret_in_json_locked(item, depth + 1, shortest))
                return true;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            if (secret_in_json_locked(item, depth + 1, shortest))
                return true;
        }
    }
    return false;
}

static bool secret_in_json(const json_t *v, unsigned depth)
{
    pthread_mutex_lock(&secret_lock);
    bool found = secret_live > 0 && secret_in_json_locked(v, depth, secret_shortest());
    pthread_mutex_unlock(&secret_lock);
    return found;
}

static json_t *redact_string(const char *s, size_t len)
{
    size_t n;
    char *r = bosun_secret_redact(s, len, &n);
    if (!r)
        return json_stringn(s, len);
    json_t *j = json_stringn(r, n);
    free(r);
    return j;
}

static json_t *redact_copy(json_t *v, unsigned depth)
{
    if (json_is_string(v))
        return redact_string(json_string_value(v), json_string_length(v));
    if (!secret_in_json(v, depth))
        return json_deep_copy(v);
    const char *key;
    json_t *item;
    size_t i;
    json_t *out = json_is_object(v) ? json_object() : json_array();
    if (json_is_object(v)) {
        json_object_foreach(v, key, item)
        {
            char *k = bosun_secret_redact(key, strlen(key), NULL);
            json_object_set_new(out, k ? k : key, redact_copy(item, depth + 1));
            free(k);
        }
    } else {
        json_array_foreach(v, i, item) json_array_append_new(out, redact_copy(item, depth + 1));
    }
    return out;
}

json_t *bosun_secret_redact_json(json_t *v)
{
    if (!v || !secret_in_json(v, 0))
        return json_incref(v);
    return redact_copy(v, 0);
}
