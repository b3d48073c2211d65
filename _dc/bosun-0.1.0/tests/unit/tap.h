/* Unit tests report in TAP so that automake's tap-driver counts each case. */
#ifndef BOSUN_TEST_TAP_H
#define BOSUN_TEST_TAP_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#define RUN_TESTS(tests)                                                                           \
    (cmocka_set_message_output(CM_OUTPUT_TAP), cmocka_run_group_tests(tests, NULL, NULL))

#endif
