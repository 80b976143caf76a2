// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/store_state.hpp
//
// The state behind a Store handle: schema, the RCU-protected partition
// directory (partition_directory.hpp), the call_rcu tracker, the budget of
// what dropped partitions may hold until their grace period. Pins, batches and thread-local deltas hold
// it by shared_ptr so that they stay valid after Store::Close().
#ifndef RCUSTATE_SRC_CORE_STORE_STATE_HPP_
#define RCUSTATE_SRC_CORE_STORE_STATE_HPP_

#include "rcustate/abi.hpp"
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "src/core/checked_mutex.hpp"
#include "src/core/store_metrics.hpp"
#include "src/core/partition.hpp"
#include "src/core/partition_directory.hpp"
#include "src/core/schema.hpp"
#include "src/rcu/rcu.hpp"

namespace RCUSTATE_NAMESPACE::detail {

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
  StoreState(Schema schema, size_t memory_budget, std::chrono::nanoseconds max_publish_delay,
             rcu::Flavor flavor = rcu::Flavor::kMemb,
             std::chrono::nanoseconds stall_threshold = std::chrono::seconds(1));
  ~StoreState();

  const uint64_t id;  // unique in the process, never reused
  const Schema schema;
  const size_t memory_budget;
  const std::chrono::nanoseconds max_publish_delay;

  rcu::Flavor flavor() const { return tracker_.flavor(); }
  // The calling thread may read this store now (inside a memb section, or
  // online for QSBR).
  bool ReaderProtected() const { return rcu::ReaderProtected(tracker_.flavor()); }
  // A wait for this store's grace period would wait for the calling thread.
  bool WaitWouldSelfDeadlock() const { return rcu::WaitWouldSelfDeadlock(tracker_.flavor()); }
  // Sum of the partitions' stalled_grace_periods and the oldest wait's age.
  // Never blocks.
  void GraceStalls(uint64_t* stalled, uint64_t* oldest_wait_ns) const;

  bool closed() const { return closed_.load(std::memory_order_acquire); }
  // kState if closed.
  absl::Status CheckOpen() const;

  // Inside a read section: the partition, or nullptr. Lock-free, O(1).
  Partition* Find(uint32_t partition) const { return directory_.Find(partition); }
  // Anywhere: a counted reference, or kNoPartition / kState.
  absl::StatusOr<PartitionRef> Acquire(uint32_t partition) const;

  // All of these are failure-atomic: on error (kNoMemory for a failed
  // allocation) nothing changed. O(1) amortized (Drop may first wait for
  // the budget, see pending_bytes()).
  absl::Status Create(uint32_t partition) ABSL_LOCKS_EXCLUDED(dir_mu_);
  // Creates the partition from a restored map set (Partition::Restored).
  absl::Status CreateRestored(uint32_t partition, std::unique_ptr<MapSet> set, uint64_t chain_id)
      ABSL_LOCKS_EXCLUDED(dir_mu_);
  absl::Status Drop(uint32_t partition) ABSL_LOCKS_EXCLUDED(dir_mu_);
  // Drops every partition and waits for every callback. Idempotent.
  absl::Status Close() ABSL_LOCKS_EXCLUDED(dir_mu_);
  // Sorted ids. Throws std::bad_alloc (its read section is closed then).
  std::vector<uint32_t> List() const;

  rcu::CallbackTracker& tracker() { return tracker_; }
  // The changelog listener every partition of the store calls.
  ChangelogHook changelog;
  // Heap bytes that dropped partitions still hold while they wait for their
  // grace period (the partition's own ApproxBytes() plus its callback).
  // Drop waits for the reclamation to catch up when this exceeds
  // memory_budget before it adds to it, so it stays below memory_budget
  // plus one partition per concurrent dropper.
  size_t pending_bytes() const { return pending_bytes_.load(std::memory_order_relaxed); }

  // ---- statistics (Store::Stats, Store::MetricsText)
  // The store's counters and histograms: the partitions add to them, the
  // commit path times every accepted commit.
  StoreMetrics metrics;
  // One partition's part of the statistics, read without waiting.
  struct PartitionMetrics {
    uint32_t id = 0;
    Partition::Sampled sample;
    std::vector<size_t> entries;  // per table, in the published snapshot
  };
  // The store-wide statistics and, if `partitions` is not null, each
  // partition's (in increasing id order). Never waits for a commit or a
  // grace period, and holds no lock and no read section for long: it walks
  // the directory a few partitions per read section. kState (closed, also
  // by a Close() during the walk); throws std::bad_alloc.
  absl::Status Collect(StoreStats* out, std::vector<PartitionMetrics>* partitions) const;

 private:
  // Retires a partition removed from the directory (a call_rcu callback
  // releases it); `ticket` was prepared for it by PrepareRetire, so this
  // cannot fail.
  rcu::CallbackTracker::Ticket PrepareRetire(Partition* p, size_t bytes);
  // Create's body: `make` builds the partition once the id is known free.
  template <typename Make>
  absl::Status Insert(uint32_t partition, Make&& make) ABSL_LOCKS_EXCLUDED(dir_mu_);
  void Retire(Partition* p, size_t bytes, rcu::CallbackTracker::Ticket ticket) noexcept;

  rcu::CallbackTracker tracker_;
  std::atomic<bool> closed_{false};
  std::atomic<size_t> pending_bytes_{0};
  // Serializes directory writers; readers never take it.
  CheckedMutex dir_mu_;
  // Read lock-free by readers (Find, List); changed only under dir_mu_.
  PartitionDirectory directory_;
  // Capacity for every partition in the directory, so that Close() collects
  // them without allocating. Empty; changed only under dir_mu_.
  std::vector<Partition*> close_scratch_ ABSL_GUARDED_BY(dir_mu_);
};

// The error for an unknown partition.
absl::Status NoPartition(uint32_t partition);
// The error for a call that may wait for a grace period, made inside a read section.
absl::Status InsideReadSection(const char* what);
// The error for a read of a store the calling thread is not protected for.
absl::Status NotProtected(const StoreState& store, const char* what);

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_STORE_STATE_HPP_
