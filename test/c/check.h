/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File: test/c/check.h -- the assertion macros of the C tests (no framework).
 *
 * CHECK(cond) and CHECK_RC(call, code) print file:line, what failed and
 * rcs_last_error(), then exit non-zero. Valid C11 and C++. */
#ifndef RCUSTATE_TEST_C_CHECK_H_
#define RCUSTATE_TEST_C_CHECK_H_

#include <stdio.h>
#include <stdlib.h>

#include "rcustate/rcustate.h"

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n  rcs_last_error: %s\n", __FILE__,    \
              __LINE__, #cond, rcs_last_error());                                     \
      exit(1);                                                                        \
    }                                                                                 \
  } while (0)

#define CHECK_RC(call, expected)                                                      \
  do {                                                                                \
    int check_rc_ = (call);                                                           \
    int check_expected_ = (expected);                                                 \
    if (check_rc_ != check_expected_) {                                               \
      fprintf(stderr, "%s:%d: %s\n  returned %d (%s), expected %d (%s)\n"             \
                      "  rcs_last_error: %s\n",                                       \
              __FILE__, __LINE__, #call, check_rc_, rcs_strerror(check_rc_),          \
              check_expected_, rcs_strerror(check_expected_), rcs_last_error());      \
      exit(1);                                                                        \
    }                                                                                 \
  } while (0)

#define CHECK_OK(call) CHECK_RC(call, RCS_OK)

#endif /* RCUSTATE_TEST_C_CHECK_H_ */
