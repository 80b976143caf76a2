// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/snapshot.cpp
#include "rcustate/abi.hpp"
#include "rcustate/snapshot.hpp"

#include <utility>

#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"
#include "src/core/map_set.hpp"
#include "src/core/published_slot.hpp"
#include "src/core/store_state.hpp"
#include "src/rcu/rcu.hpp"

namespace RCUSTATE_NAMESPACE {
namespace {
absl::Status NoTable(TableId table, size_t n) {
  return MakeError(ErrorCode::kNoTable,
                   absl::StrCat("unknown table id ", table, " (the store has ", n, ")"));
}
}  // namespace

absl::StatusOr<TableView> SnapshotView::Table(TableId table) const {
  if (table >= data_->tables.size()) return NoTable(table, data_->tables.size());
  return TableView(&data_->tables[table]);
}

PinnedSnapshot::PinnedSnapshot(PinnedSnapshot&& other) noexcept
    : store_(std::move(other.store_)), set_(std::exchange(other.set_, nullptr)) {}

PinnedSnapshot& PinnedSnapshot::operator=(PinnedSnapshot&& other) noexcept {
  if (this != &other) {
    Drop();
    store_ = std::move(other.store_);
    set_ = std::exchange(other.set_, nullptr);
  }
  return *this;
}

PinnedSnapshot::~PinnedSnapshot() { Drop(); }

void PinnedSnapshot::Drop() noexcept {
  if (set_ == nullptr) return;
  detail::PublishedSlot::Unpin(set_);
  set_ = nullptr;
  store_.reset();
}

uint64_t PinnedSnapshot::version() const { return set_->version; }
size_t PinnedSnapshot::num_tables() const { return set_->tables.size(); }

absl::StatusOr<TableView> PinnedSnapshot::Table(TableId table) const {
  if (set_ == nullptr) return MakeError(ErrorCode::kState, "the pin is empty");
  if (table >= set_->tables.size()) return NoTable(table, set_->tables.size());
  return TableView(&set_->tables[table]);
}

absl::Status PinnedSnapshot::Release() {
  if (set_ == nullptr) return MakeError(ErrorCode::kState, "the pin is empty");
  if (store_->WaitWouldSelfDeadlock()) {
    return MakeError(ErrorCode::kState, "releasing a pin is not allowed inside a read section");
  }
  Drop();
  return absl::OkStatus();
}

}  // namespace rcustate
