// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/c/c_contract_test_cxx.cpp -- c_contract_test.c compiled as C++:
// the header and the C subset the test uses must work from C++ too.
#include "c_contract_test.c"  // NOLINT(bugprone-suspicious-include)
