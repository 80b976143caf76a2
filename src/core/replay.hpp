// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/replay.hpp
//
// Store::Apply: a changelog record applied as one commit of its partition,
// at exactly the record's version.
#ifndef RCUSTATE_SRC_CORE_REPLAY_HPP_
#define RCUSTATE_SRC_CORE_REPLAY_HPP_

#include "rcustate/abi.hpp"
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "src/core/store_state.hpp"

namespace RCUSTATE_NAMESPACE::detail {

// See Store::Apply.
absl::StatusOr<uint64_t> ApplyRecord(const std::shared_ptr<StoreState>& store, uint32_t partition,
                                     std::string_view record);

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_REPLAY_HPP_
