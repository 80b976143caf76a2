// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/write_handle.cpp
//
// WriteHandle: the thread's entry (thread_deltas.hpp) for one partition,
// resolved once by Store::Writer. A write checks that the partition the
// handle holds is not dropped (a flag; Close drops every partition), then
// runs Delta's checked operation (delta_ops.hpp, inlined here) on the entry's
// delta. Anything else goes through Rebind(), which finds the entry the way
// Store::Put does.
//
// Why the entry pointer is safe to use: the thread forgets an entry only
// after seeing its partition dropped or its store closed (sweeps, Commit's
// kNoPartition, Abort, ThreadEntryFor), and the handle is used on that thread
// only. So while the store is open and the partition the handle holds is not
// dropped, the entry the handle found is still the thread's. Both flags only
// ever go from false to true.
#include "rcustate/abi.hpp"
#include "rcustate/write_handle.hpp"

#include <cassert>
#include <new>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"
#include "src/core/commit.hpp"
#include "src/core/delta_ops.hpp"
#include "src/core/store_state.hpp"
#include "src/core/thread_deltas.hpp"

namespace RCUSTATE_NAMESPACE {

namespace {
absl::Status EmptyHandle() {
  return MakeError(ErrorCode::kState, "the WriteHandle is empty (default-made or moved from)");
}
absl::Status HandleOutOfMemory() {
  return MakeError(ErrorCode::kNoMemory, "WriteHandle: out of memory (nothing changed)");
}
}  // namespace

WriteHandle::WriteHandle(WriteHandle&& other) noexcept
    : state_(std::move(other.state_)),
      partition_(std::exchange(other.partition_, nullptr)),
      entry_(std::exchange(other.entry_, nullptr)),
      partition_id_(other.partition_id_),
      table_(other.table_),
      owner_(other.owner_) {}

WriteHandle& WriteHandle::operator=(WriteHandle&& other) noexcept {
  if (this != &other) {
    Release();
    state_ = std::move(other.state_);
    partition_ = std::exchange(other.partition_, nullptr);
    entry_ = std::exchange(other.entry_, nullptr);
    partition_id_ = other.partition_id_;
    table_ = other.table_;
    owner_ = other.owner_;
  }
  return *this;
}

WriteHandle::~WriteHandle() { Release(); }

void WriteHandle::Release() noexcept {
  // Touches neither the entry nor the thread's records: a handle may be
  // destroyed after the thread's records were (thread_local destruction).
  if (partition_ != nullptr) partition_->Unref();
  partition_ = nullptr;
  entry_ = nullptr;
  state_.reset();
}

absl::Status WriteHandle::Rebind() {
  if (state_ == nullptr) return EmptyHandle();
  if (absl::Status s = state_->CheckOpen(); !s.ok()) return s;
  entry_ = nullptr;  // from here on, only what ThreadEntryFor returns
  try {
    // Store::Put's way: reports, once, a drop that discarded changes, and
    // makes an entry on the partition as it is now.
    absl::StatusOr<detail::ThreadEntry*> e = detail::ThreadEntryFor(state_, partition_id_);
    if (!e.ok()) return e.status();
    detail::Partition* p = (*e)->partition();
    if (p != partition_) {
      p->Ref();
      if (partition_ != nullptr) partition_->Unref();
      partition_ = p;
    }
    entry_ = *e;
    return absl::OkStatus();
  } catch (const std::bad_alloc&) {
    return HandleOutOfMemory();
  }
}

template <typename Change>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::Status WriteHandle::Write(Change&& change) {
  // A handle is its thread's (write_handle.hpp).
  assert(state_ == nullptr || owner_ == std::this_thread::get_id());
  // Store::Close() marks every partition dropped before it returns, so this
  // one check also sends a write after a close to Rebind (kState there).
  if (ABSL_PREDICT_FALSE(entry_ == nullptr || partition_->dropped())) {
    if (absl::Status s = Rebind(); !s.ok()) return s;
  }
  try {
    return entry_->Change(std::forward<Change>(change));
  } catch (const std::bad_alloc&) {
    return HandleOutOfMemory();
  }
}

absl::Status WriteHandle::Put(std::string_view key, std::string_view value) {
  return Write([&](detail::Delta& d) { return d.PutChecked(state_->schema, table_, key, value); });
}

absl::Status WriteHandle::Merge(std::string_view key, std::string_view operand) {
  return Write(
      [&](detail::Delta& d) { return d.MergeChecked(state_->schema, table_, key, operand); });
}

absl::Status WriteHandle::Erase(std::string_view key) {
  return Write([&](detail::Delta& d) { return d.EraseChecked(table_, key); });
}

absl::StatusOr<uint64_t> WriteHandle::Commit() {
  if (state_ == nullptr) return EmptyHandle();
  assert(owner_ == std::this_thread::get_id());
  return detail::CommitForThread(state_, partition_id_, nullptr);
}

}  // namespace rcustate
