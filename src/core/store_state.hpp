// File: src/core/store_state.hpp
//
// The state behind a Store handle: schema, the RCU-protected partition
// directory, the call_rcu tracker. Pins, batches and thread-local deltas hold
// it by shared_ptr so that they stay valid after Store::Close().
#ifndef RCUSTATE_SRC_CORE_STORE_STATE_HPP_
#define RCUSTATE_SRC_CORE_STORE_STATE_HPP_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "src/core/partition.hpp"
#include "src/core/schema.hpp"
#include "src/rcu/rcu.hpp"

namespace rcustate::detail {

// One immutable version of the partition directory. A create or drop
// publishes a new one and retires the old one through call_rcu.
struct Directory {
  absl::flat_hash_map<uint32_t, Partition*> partitions;
};

// A writer's counted reference to a partition, usable outside read sections.
class PartitionRef {
 public:
  explicit PartitionRef(Partition* p = nullptr) : p_(p) {}
  PartitionRef(PartitionRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  PartitionRef& operator=(PartitionRef&& o) noexcept {
    if (this != &o) {
      if (p_ != nullptr) p_->Unref();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  ~PartitionRef() {
    if (p_ != nullptr) p_->Unref();
  }
  Partition* get() const { return p_; }
  Partition* operator->() const { return p_; }

 private:
  Partition* p_;
};

class StoreState {
 public:
  StoreState(Schema schema, size_t memory_budget, std::chrono::nanoseconds max_publish_delay);
  ~StoreState();

  const uint64_t id;  // unique in the process, never reused
  const Schema schema;
  const size_t memory_budget;
  const std::chrono::nanoseconds max_publish_delay;

  bool closed() const { return closed_.load(std::memory_order_acquire); }
  // kState if closed.
  absl::Status CheckOpen() const;

  // Inside a read section: the partition, or nullptr.
  Partition* Find(uint32_t partition) const {
    const Directory* dir = rcu::Dereference(directory_);
    auto it = dir->partitions.find(partition);
    return it == dir->partitions.end() ? nullptr : it->second;
  }
  // Anywhere: a counted reference, or kNoPartition / kState.
  absl::StatusOr<PartitionRef> Acquire(uint32_t partition) const;

  absl::Status Create(uint32_t partition) ABSL_LOCKS_EXCLUDED(dir_mu_);
  absl::Status Drop(uint32_t partition) ABSL_LOCKS_EXCLUDED(dir_mu_);
  // Drops every partition and waits for every callback. Idempotent.
  absl::Status Close() ABSL_LOCKS_EXCLUDED(dir_mu_);
  std::vector<uint32_t> List() const;

  rcu::CallbackTracker& tracker() { return tracker_; }
  // Bytes of dropped partitions waiting for their grace period.
  size_t pending_bytes() const { return pending_bytes_.load(std::memory_order_relaxed); }

 private:
  // Publishes `next` as the directory and retires the old one.
  void Publish(Directory* next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(dir_mu_);
  // Retires a partition removed from the directory.
  void Retire(Partition* p);

  rcu::CallbackTracker tracker_;
  std::atomic<bool> closed_{false};
  std::atomic<size_t> pending_bytes_{0};
  mutable std::mutex dir_mu_;  // serializes directory writers; readers never take it
  Directory* directory_;       // RCU-published
};

// The error for an unknown partition.
absl::Status NoPartition(uint32_t partition);
// The error for a call that may wait for a grace period, made inside a read section.
absl::Status InsideReadSection(const char* what);

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_STORE_STATE_HPP_
