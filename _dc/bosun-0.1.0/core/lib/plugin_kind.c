#include "config.h"

#include <bosun/plugin.h>

const char *bosun_plugin_kind_name(enum bosun_plugin_kind kind)
{
    switch (kind) {
    case BOSUN_PLUGIN_AGENT:
        return "agent";
    case BOSUN_PLUGIN_TRANSPORT:
        return "transport";
    case BOSUN_PLUGIN_STORE:
        return "store";
    case BOSUN_PLUGIN_INTEGRATION:
        return "integration";
    }
    return NULL;
}
