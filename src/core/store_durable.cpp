// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/store_durable.cpp
//
// Store's durability members: checkpoint, restore, the changelog listener
// and replay (docs/durability.md).
#include "rcustate/abi.hpp"
#include <new>
#include <string>
#include <utility>

#include "rcustate/status.hpp"
#include "rcustate/store.hpp"
#include "src/core/checkpoint.hpp"
#include "src/core/replay.hpp"
#include "src/core/store_state.hpp"

namespace RCUSTATE_NAMESPACE {

absl::StatusOr<CheckpointInfo> Store::Checkpoint(uint32_t partition, std::string_view dir,
                                                 CheckpointKind kind) {
  std::string path;
  try {
    path.assign(dir.data(), dir.size());
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory, "Checkpoint: out of memory (nothing was written)");
  }
  return detail::CheckpointPartition(state_, partition, std::move(path), kind);
}

absl::StatusOr<CheckpointInfo> Store::Restore(uint32_t partition, std::string_view dir) {
  std::string path;
  try {
    path.assign(dir.data(), dir.size());
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory, "Restore: out of memory (the partition was not created)");
  }
  return detail::RestorePartition(state_, partition, std::move(path));
}

absl::Status Store::SetChangelog(ChangelogFn fn) {
  if (absl::Status s = state_->CheckOpen(); !s.ok()) return s;
  try {
    state_->changelog.Set(std::move(fn));
    return absl::OkStatus();
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory, "SetChangelog: out of memory (nothing changed)");
  }
}

absl::StatusOr<uint64_t> Store::Apply(uint32_t partition, std::string_view record) {
  return detail::ApplyRecord(state_, partition, record);
}

}  // namespace rcustate
