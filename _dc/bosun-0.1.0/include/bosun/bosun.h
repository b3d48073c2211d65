/* bosun — everything a plugin needs. */
#ifndef BOSUN_H
#define BOSUN_H

#include <bosun/version.h>
#include <bosun/log.h>
#include <bosun/cfg.h>
#include <bosun/bus.h>
#include <bosun/plugin.h>
#include <bosun/agent.h>
#include <bosun/store.h>
#include <bosun/task.h>
#include <bosun/codec.h>
#include <bosun/json.h>
#include <bosun/sys.h>
#include <bosun/lines.h>
#include <bosun/budget.h>
#include <bosun/ratelimit.h>
#include <bosun/principal.h>
#include <bosun/secret.h>

#endif
