#include "config.h"

#include <stdlib.h>

#include <bosun/agent.h>

#include "util.h"

void bosun_launch_clear(bosun_launch *l)
{
    util_strv_free(l->argv);
    util_strv_free(l->env);
    free(l->workdir);
    l->argv = l->env = NULL;
    l->workdir = NULL;
}
