// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/c/c_api_test_cxx.cpp -- the C test compiled as C++: the header's
// extern "C" / noexcept declarations and the C subset the test uses must work
// from C++ too.
#include "c_api_test.c"  // NOLINT(bugprone-suspicious-include)
