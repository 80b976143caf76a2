// File: src/core/partition.cpp
#include "src/core/partition.hpp"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"

namespace rcustate::detail {

Partition::Partition(uint32_t id, const Schema& schema, rcu::CallbackTracker* tracker)
    : id_(id), tracker_(tracker), current_(new MapSet(schema)), standby_(new MapSet(schema)) {}

Partition::~Partition() {
  // Normally ReleaseSets() ran already (drop); this covers a partition that
  // never became visible.
  if (current_ != nullptr) current_->Unref();
  if (standby_ != nullptr) standby_->Unref();
}

MapSet* Partition::PinPublished() {
  MapSet* set = rcu::Dereference(current_);
  // Inside the read section the set cannot be reused: the writer checks
  // `pins` only after the grace period that follows the set's retirement,
  // which this section delays, so it will see this increment.
  set->Ref();
  set->pins.fetch_add(1, std::memory_order_acq_rel);
  return set;
}

void Partition::ResolveMerges(const Schema& schema, Delta& delta) const {
  const MapSet* published = current_;
  auto& dtables = delta.tables();
  for (size_t t = 0; t < dtables.size(); ++t) {
    const MergeOperator* op = schema.tables[t].merge.get();
    if (op == nullptr || dtables[t].cleared) continue;  // no merges, or all resolved
    const TableMap& map = published->tables[t];
    std::string merged;
    for (auto& [key, entry] : dtables[t].ops) {
      if (entry.kind != Op::kMerge) continue;
      auto it = map.find(key);
      std::optional<std::string_view> base;
      if (it != map.end()) base = std::string_view(it->second);
      op->Merge(base, entry.value, &merged);
      entry.kind = Op::kPut;
      entry.value.swap(merged);
    }
  }
}

MapSet* Partition::PrepareStandby() {
  MapSet* set = standby_;
  if (set->reclaimed_gen.load(std::memory_order_acquire) < set->retired_gen) {
    // The call_rcu ticket of its last retirement has not run yet: wait for a
    // grace period here. The ticket still runs later; it records an older
    // generation, which is harmless.
    auto t0 = std::chrono::steady_clock::now();
    rcu::Synchronize();
    commit_wait_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - t0)
                           .count();
    ++grace_waits_;
  }
  // A grace period has passed since `set` was last published: no reader can
  // see it and nobody can pin it any more, so `pins` is final.
  if (set->pins.load(std::memory_order_acquire) != 0) {
    // Pinned: leave it to the pins and start a new standby from the
    // published set, which already contains everything missed_ holds.
    MapSet* fresh = MapSet::CopyOf(*current_);
    set->Unref();
    standby_ = set = fresh;
    missed_.reset();
    ++standby_copies_;
  }
  return set;
}

void Partition::Retire(MapSet* set) {
  const uint64_t gen = ++set->retired_gen;
  set->Ref();  // the ticket's reference
  tracker_->Defer([set, gen] {
    uint64_t seen = set->reclaimed_gen.load(std::memory_order_relaxed);
    while (seen < gen &&
           !set->reclaimed_gen.compare_exchange_weak(seen, gen, std::memory_order_release,
                                                     std::memory_order_relaxed)) {
    }
    set->Unref();
  });
}

absl::StatusOr<uint64_t> Partition::Commit(const Schema& schema, std::unique_ptr<Delta>& delta) {
  std::lock_guard<std::mutex> lock(mu_);
  if (dropped_.load(std::memory_order_relaxed)) {
    return MakeError(ErrorCode::kNoPartition, absl::StrCat("partition ", id_, " was dropped"));
  }
  ResolveMerges(schema, *delta);
  MapSet* next = PrepareStandby();
  if (missed_ != nullptr) next->ApplyMove(*missed_);
  next->Apply(*delta);
  MapSet* previous = current_;
  next->version = previous->version + 1;
  rcu::Assign(current_, next);
  Retire(previous);
  standby_ = previous;
  ++commits_;
  // The batch becomes the delta the new standby missed; the old record's
  // storage goes back to the caller as its next empty delta.
  std::swap(missed_, delta);
  if (delta == nullptr) {
    delta = std::make_unique<Delta>(schema.tables.size());
  } else {
    delta->Reset();
  }
  return next->version;
}

void Partition::MarkDropped() {
  std::lock_guard<std::mutex> lock(mu_);
  dropped_.store(true, std::memory_order_release);
}

void Partition::ReleaseSets() {
  std::lock_guard<std::mutex> lock(mu_);
  if (current_ != nullptr) current_->Unref();
  if (standby_ != nullptr) standby_->Unref();
  current_ = standby_ = nullptr;
  missed_.reset();
}

PartitionStats Partition::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  PartitionStats s;
  if (current_ == nullptr) return s;
  s.version = current_->version;
  for (const TableMap& m : current_->tables) s.entries.push_back(m.size());
  s.approx_bytes = current_->ApproxBytes() + standby_->ApproxBytes();
  s.commits = commits_;
  s.commit_wait_ns = commit_wait_ns_;
  s.grace_waits = grace_waits_;
  s.standby_copies = standby_copies_;
  s.pins_alive = current_->pins.load(std::memory_order_relaxed) +
                 standby_->pins.load(std::memory_order_relaxed);
  return s;
}

size_t Partition::ApproxBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (current_ == nullptr) return 0;
  return current_->ApproxBytes() + standby_->ApproxBytes();
}

}  // namespace rcustate::detail
