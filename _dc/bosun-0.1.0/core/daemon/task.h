/* Tasks, input requests and agent-token checks: the requests of
 * <bosun/task.h>, served by the core because they drive runs. */
#ifndef BOSUN_TASK_SERVICE_H
#define BOSUN_TASK_SERVICE_H

#include <bosun/bus.h>

#include "proc.h"

typedef struct task_service task_service;

task_service *task_service_new(bus_t *bus, proc *p, const char *machine_id);
void task_service_free(task_service *t);

#endif
