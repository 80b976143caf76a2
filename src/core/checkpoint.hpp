// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/checkpoint.hpp
//
// Checkpoint and restore of one partition: the core's side (a pin and the
// record of changed keys, taken in one step against publications; a
// restored map set published as a new partition), driving the file formats
// of src/durable.
#ifndef RCUSTATE_SRC_CORE_CHECKPOINT_HPP_
#define RCUSTATE_SRC_CORE_CHECKPOINT_HPP_

#include "rcustate/abi.hpp"
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "rcustate/options.hpp"
#include "src/core/store_state.hpp"

namespace RCUSTATE_NAMESPACE::detail {

// See Store::Checkpoint and Store::Restore.
absl::StatusOr<CheckpointInfo> CheckpointPartition(const std::shared_ptr<StoreState>& store,
                                                   uint32_t partition, const std::string& dir,
                                                   CheckpointKind kind);
absl::StatusOr<CheckpointInfo> RestorePartition(const std::shared_ptr<StoreState>& store,
                                                uint32_t partition, const std::string& dir);

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_CHECKPOINT_HPP_
