// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/table_reader.cpp
//
// The out-of-line part of TableReader (its lookups are inline in
// snapshot.hpp) and Store::Reader. A reader holds its partition with
// Partition::AddReader(): a reference on the partition plus a hold on its
// last published set, so that after a drop the set is freed by whoever lets
// go last, the partition's drop callback or the last reader.
#include "rcustate/abi.hpp"
#include <utility>

#include "rcustate/snapshot.hpp"
#include "rcustate/store.hpp"
#include "src/core/partition.hpp"
#include "src/core/store_state.hpp"

namespace RCUSTATE_NAMESPACE {

TableReader::TableReader(const TableReader& other)
    : partition_(other.partition_), slot_(other.slot_), table_(other.table_), qsbr_(other.qsbr_) {
  if (partition_ != nullptr) partition_->AddReader();
}

TableReader& TableReader::operator=(const TableReader& other) {
  if (this != &other) {
    if (other.partition_ != nullptr) other.partition_->AddReader();
    if (partition_ != nullptr) Release();
    partition_ = other.partition_;
    slot_ = other.slot_;
    table_ = other.table_;
    qsbr_ = other.qsbr_;
  }
  return *this;
}

TableReader& TableReader::operator=(TableReader&& other) noexcept {
  if (this != &other) {
    if (partition_ != nullptr) Release();
    partition_ = std::exchange(other.partition_, nullptr);
    slot_ = std::exchange(other.slot_, nullptr);
    table_ = other.table_;
    qsbr_ = other.qsbr_;
  }
  return *this;
}

void TableReader::Release() noexcept {
  partition_->RemoveReader();  // may free the last set and the partition
  partition_ = nullptr;
  slot_ = nullptr;
}

bool TableReader::dropped() const { return partition_ != nullptr && partition_->dropped(); }

absl::StatusOr<TableReader> Store::Reader(uint32_t partition, TableId table) const {
  if (absl::Status s = state_->CheckOpen(); !s.ok()) return s;
  if (absl::Status s = state_->schema.CheckTable(table); !s.ok()) return s;
  // Nests in the caller's section if there is one. Inside it the directory's
  // reference and the partition's hold on its set are both still there (they
  // are dropped a grace period after the partition left the directory).
  rcu::ScopedRead section(state_->flavor());
  detail::Partition* p = state_->Find(partition);
  if (p == nullptr) return detail::NoPartition(partition);
  p->AddReader();
  return TableReader(p, p->published_slot(), table,
                     state_->flavor() == rcu::Flavor::kQsbr);
}

}  // namespace rcustate
