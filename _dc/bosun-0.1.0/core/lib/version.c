#include "config.h"

#include <bosun/version.h>

const char *bosun_version(void)
{
    return BOSUN_VERSION;
}
