// File: src/core/store_state.cpp
#include "src/core/store_state.hpp"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"

namespace rcustate::detail {
namespace {
std::atomic<uint64_t> next_store_id{1};
}  // namespace

absl::Status NoPartition(uint32_t partition) {
  return MakeError(ErrorCode::kNoPartition, absl::StrCat("partition ", partition, " does not exist"));
}

absl::Status InsideReadSection(const char* what) {
  return MakeError(ErrorCode::kState,
                   absl::StrCat(what, " is not allowed inside a read section (it may wait for a "
                                      "grace period, which the open section would block)"));
}

StoreState::StoreState(Schema s, size_t budget, std::chrono::nanoseconds delay)
    : id(next_store_id.fetch_add(1, std::memory_order_relaxed)),
      schema(std::move(s)),
      memory_budget(budget),
      max_publish_delay(delay),
      directory_(new Directory) {}

StoreState::~StoreState() {
  // Close() emptied the directory and drained the tracker before the last
  // reference could go.
  delete directory_;
}

absl::Status StoreState::CheckOpen() const {
  if (!closed()) return absl::OkStatus();
  return MakeError(ErrorCode::kState, "the store is closed");
}

absl::StatusOr<PartitionRef> StoreState::Acquire(uint32_t partition) const {
  if (absl::Status s = CheckOpen(); !s.ok()) return s;
  rcu::ReadLock();
  Partition* p = Find(partition);
  if (p != nullptr) p->Ref();  // the directory's reference keeps it alive while we are inside
  rcu::ReadUnlock();
  if (p == nullptr) return NoPartition(partition);
  return PartitionRef(p);
}

void StoreState::Publish(Directory* next) {
  Directory* old = directory_;
  rcu::Assign(directory_, next);
  tracker_.Defer([old] { delete old; });
}

absl::Status StoreState::Create(uint32_t partition) {
  if (absl::Status s = CheckOpen(); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(dir_mu_);
  if (directory_->partitions.contains(partition)) {
    return MakeError(ErrorCode::kExists, absl::StrCat("partition ", partition, " already exists"));
  }
  auto next = std::make_unique<Directory>(*directory_);
  next->partitions.emplace(partition, new Partition(partition, schema, &tracker_, max_publish_delay));
  Publish(next.release());
  return absl::OkStatus();
}

void StoreState::Retire(Partition* p) {
  p->MarkDropped();
  const size_t bytes = p->ApproxBytes();
  pending_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  tracker_.Defer([this, p, bytes] {
    p->ReleaseSets();
    p->Unref();
    pending_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  });
}

absl::Status StoreState::Drop(uint32_t partition) {
  if (rcu::InReadSection()) return InsideReadSection("dropping a partition");
  if (absl::Status s = CheckOpen(); !s.ok()) return s;
  // Over budget: let the pending reclamation finish before adding to it.
  if (pending_bytes() > memory_budget) tracker_.Drain();
  std::lock_guard<std::mutex> lock(dir_mu_);
  auto it = directory_->partitions.find(partition);
  if (it == directory_->partitions.end()) return NoPartition(partition);
  Partition* p = it->second;
  auto next = std::make_unique<Directory>(*directory_);
  next->partitions.erase(partition);
  Publish(next.release());
  Retire(p);
  return absl::OkStatus();
}

absl::Status StoreState::Close() {
  if (rcu::InReadSection()) return InsideReadSection("closing the store");
  if (closed_.exchange(true, std::memory_order_acq_rel)) return absl::OkStatus();
  {
    std::lock_guard<std::mutex> lock(dir_mu_);
    // Collect first: once published, the old directory may be freed as soon
    // as a grace period ends.
    std::vector<Partition*> dropped;
    for (const auto& [id, p] : directory_->partitions) dropped.push_back(p);
    Publish(new Directory);
    for (Partition* p : dropped) Retire(p);
  }
  tracker_.Drain();
  return absl::OkStatus();
}

std::vector<uint32_t> StoreState::List() const {
  rcu::ReadLock();
  const Directory* dir = rcu::Dereference(directory_);
  std::vector<uint32_t> ids;
  ids.reserve(dir->partitions.size());
  for (const auto& [id, p] : dir->partitions) ids.push_back(id);
  rcu::ReadUnlock();
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace rcustate::detail
