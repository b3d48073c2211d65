#ifndef BOSUN_VERSION_H
#define BOSUN_VERSION_H

#include <bosun/api.h>

#define BOSUN_VERSION "0.1.0"

/* The version of the libbosun the program runs against. */
BOSUN_API const char *bosun_version(void);

#endif
