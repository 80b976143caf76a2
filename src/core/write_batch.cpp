// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/write_batch.cpp
#include "rcustate/abi.hpp"
#include "rcustate/write_batch.hpp"

#include <new>
#include <string>

#include "absl/base/optimization.h"
#include "rcustate/status.hpp"
#include "rcustate/store.hpp"
#include "src/core/delta.hpp"
#include "src/core/commit.hpp"
#include "src/core/store_state.hpp"

namespace RCUSTATE_NAMESPACE {
namespace {
// Delta leaves the batch exactly as it was when an allocation fails.
absl::Status OutOfMemory(const char* what) {
  return MakeError(ErrorCode::kNoMemory,
                   std::string(what) + ": out of memory (the batch is unchanged)");
}
}  // namespace

WriteBatch::WriteBatch(const Store& store)
    : store_(store.state_), delta_(std::make_unique<detail::Delta>(store_->schema.tables.size())) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

// The writes test closed() inline and call CheckOpen() only for its error (a
// closed store never opens again): no call and no Status for an open store.
absl::Status WriteBatch::Put(TableId table, std::string_view key, std::string_view value) {
  if (ABSL_PREDICT_FALSE(store_->closed())) return store_->CheckOpen();
  try {
    return delta_->Put(store_->schema, table, key, value);
  } catch (const std::bad_alloc&) {
    return OutOfMemory("WriteBatch::Put");
  }
}
absl::Status WriteBatch::Erase(TableId table, std::string_view key) {
  if (ABSL_PREDICT_FALSE(store_->closed())) return store_->CheckOpen();
  try {
    return delta_->Erase(store_->schema, table, key);
  } catch (const std::bad_alloc&) {
    return OutOfMemory("WriteBatch::Erase");
  }
}
absl::Status WriteBatch::Merge(TableId table, std::string_view key, std::string_view operand) {
  if (ABSL_PREDICT_FALSE(store_->closed())) return store_->CheckOpen();
  try {
    return delta_->Merge(store_->schema, table, key, operand);
  } catch (const std::bad_alloc&) {
    return OutOfMemory("WriteBatch::Merge");
  }
}
absl::Status WriteBatch::Clear(TableId table) {
  if (ABSL_PREDICT_FALSE(store_->closed())) return store_->CheckOpen();
  try {
    return delta_->Clear(store_->schema, table);
  } catch (const std::bad_alloc&) {
    return OutOfMemory("WriteBatch::Clear");
  }
}

absl::StatusOr<uint64_t> WriteBatch::Commit(uint32_t partition) {
  return detail::CommitForThread(store_, partition, &delta_);
}

void WriteBatch::Reset() { delta_->Reset(); }
size_t WriteBatch::size() const { return delta_->size(); }

}  // namespace rcustate
