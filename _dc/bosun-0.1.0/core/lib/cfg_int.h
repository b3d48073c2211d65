/* What cfg.c shares with cfg_get.c inside libbosun (not part of the API). */
#ifndef BOSUN_CFG_INT_H
#define BOSUN_CFG_INT_H

#include <bosun/cfg.h>

/* "null", "a scalar", "a map", "a list": for error messages. */
const char *cfg_type_name(enum cfg_type type);

#endif
