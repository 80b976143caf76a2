// SPDX-License-Identifier: LGPL-2.1-or-later
// File: rcustate/rcustate.hpp
//
// The whole rcustate C++ API. Start with store.hpp.
#ifndef RCUSTATE_RCUSTATE_HPP_
#define RCUSTATE_RCUSTATE_HPP_

#include "rcustate/merge.hpp"
#include "rcustate/options.hpp"
#include "rcustate/read_section.hpp"
#include "rcustate/snapshot.hpp"
#include "rcustate/status.hpp"
#include "rcustate/store.hpp"
#include "rcustate/write_batch.hpp"
#include "rcustate/write_handle.hpp"

#endif  // RCUSTATE_RCUSTATE_HPP_
