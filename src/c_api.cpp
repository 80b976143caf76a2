// File: src/c_api.cpp -- the C ABI over the C++ core (issue 3 fills it in).
#include "rcustate/rcustate.h"
