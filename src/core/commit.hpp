// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/commit.hpp
//
// Commit orchestration: from Store::Commit / WriteBatch::Commit / Store::Flush
// to Partition::Commit / Flush, keeping the thread's records (thread_deltas)
// in step.
#ifndef RCUSTATE_SRC_CORE_COMMIT_HPP_
#define RCUSTATE_SRC_CORE_COMMIT_HPP_

#include "rcustate/abi.hpp"
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "src/core/delta.hpp"
#include "src/core/store_state.hpp"

namespace RCUSTATE_NAMESPACE::detail {

// Commits the calling thread's delta for the partition (batch == nullptr) or
// an explicit batch (emptied on success), and records a sealed batch for
// the thread's read-your-writes under group commit. Returns the version that
// contains the batch. `expect_version` non-zero: the commit must get
// exactly that version.
// Errors: kState (inside a read section, store closed, another version than
// expected); kNoPartition (the thread's entry is then discarded; the message
// says so if it held uncommitted changes); kNoMemory, kIo (the changelog
// listener refused) with nothing changed (the delta or batch is kept: the
// caller may retry).
absl::StatusOr<uint64_t> CommitForThread(const std::shared_ptr<StoreState>& store,
                                         uint32_t partition, std::unique_ptr<Delta>* batch,
                                         uint64_t expect_version = 0);
// Flush()es the partition and forgets the thread's sealed record for it.
absl::StatusOr<uint64_t> FlushForThread(const std::shared_ptr<StoreState>& store,
                                        uint32_t partition);

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_COMMIT_HPP_
