/* /ws "sub"'s "machine" filter: one machine id or a list of them, checked
 * as the store checks a machine id (a subject token: evt.machine.<id>),
 * and matched against a stored event's "machine", which every stored
 * event has (the local machine's id for its own). */
#include <string.h>

#include "http_ws_machine.h"

static bool machine_id_ok(const json_t *v)
{
    const char *m = json_string_value(v);
    size_t n = m ? strlen(m) : 0;
    return n > 0 && n <= WS_MACHINE_MAX && n == json_string_length(v) &&
           strspn(m, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

bool ws_machine_filter(const json_t *v, json_t **out)
{
    *out = NULL;
    if (!v)
        return true;
    if (json_is_string(v)) {
        if (!machine_id_ok(v))
            return false;
        *out = json_array();
        if (*out && json_array_append_new(*out, json_string(json_string_value(v))) != 0) {
            json_decref(*out);
            *out = NULL;
        }
        return *out != NULL;
    }
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > WS_MACHINES_MAX)
        return false;
    size_t i;
    json_t *id;
    json_array_foreach(v, i, id)
    {
        if (!machine_id_ok(id))
            return false;
    }
    *out = json_copy((json_t *)v); /* its strings are immutable: shared */
    return *out != NULL;
}

bool ws_machine_wants(const json_t *machines, const json_t *ev)
{
    if (!machines)
        return true;
    const char *m = json_string_value(json_object_get(ev, "machine"));
    size_t i;
    json_t *id;
    json_array_foreach(machines, i, id)
    {
        if (m && strcmp(m, json_string_value(id)) == 0)
            return true;
    }
    return false;
}
