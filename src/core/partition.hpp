// File: src/core/partition.hpp
//
// A partition: the unit of ownership and of atomic publication. It owns two
// map sets (design §3): `current_`, published to readers with
// rcu::Assign, and `standby_`, the version before it, which the next commit
// brings up to date (replaying `missed_`, the previous commit's resolved
// delta, then the new batch) and publishes. Writers serialize on `mu_`;
// readers never touch it.
#ifndef RCUSTATE_SRC_CORE_PARTITION_HPP_
#define RCUSTATE_SRC_CORE_PARTITION_HPP_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "rcustate/store.hpp"
#include "src/core/delta.hpp"
#include "src/core/map_set.hpp"
#include "src/core/schema.hpp"
#include "src/rcu/rcu.hpp"

namespace rcustate::detail {

class Partition {
 public:
  Partition(uint32_t id, const Schema& schema, rcu::CallbackTracker* tracker);
  ~Partition();
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  uint32_t id() const { return id_; }

  // ---- readers (inside a read section)
  const MapSet* Published() const { return rcu::Dereference(current_); }
  // Takes a pin on the published set (refs and pins incremented).
  MapSet* PinPublished();

  // ---- writers (outside read sections)
  // Resolves the merges of *delta against the published state, publishes
  // the result as the next version and returns that version. On success
  // *delta is replaced by an empty delta (recycled storage); on error it is
  // unchanged. kNoPartition once dropped.
  absl::StatusOr<uint64_t> Commit(const Schema& schema, std::unique_ptr<Delta>& delta)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Marks the partition dropped: every later commit fails. Readers that
  // already found it keep reading its last snapshot.
  void MarkDropped() ABSL_LOCKS_EXCLUDED(mu_);
  bool dropped() const { return dropped_.load(std::memory_order_acquire); }
  // Gives up the map sets; call a grace period after the partition became
  // unreachable (from a call_rcu callback).
  void ReleaseSets() ABSL_LOCKS_EXCLUDED(mu_);

  PartitionStats Stats() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t ApproxBytes() const ABSL_LOCKS_EXCLUDED(mu_);

  // Lifetime: 1 for the directory plus 1 per writer holding it. The last
  // Unref deletes it; the directory's reference is dropped from a call_rcu
  // callback, so no reader can still see it then.
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  // Returns the standby, ready to be written: waits for its grace period if
  // its call_rcu ticket has not run, replaces it by a copy of the published
  // set if pins hold it.
  MapSet* PrepareStandby() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResolveMerges(const Schema& schema, Delta& delta) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands the no longer published set to call_rcu; its callback records the
  // end of the grace period in reclaimed_gen.
  void Retire(MapSet* set) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint32_t id_;
  rcu::CallbackTracker* const tracker_;
  std::atomic<uint32_t> refs_{1};
  std::atomic<bool> dropped_{false};

  mutable std::mutex mu_;
  // Published; written with rcu::Assign under mu_, read by readers with
  // rcu::Dereference and by the writer (under mu_) plainly.
  MapSet* current_;
  MapSet* standby_ ABSL_GUARDED_BY(mu_);
  // Applied to current_ but not yet to standby_; null when none.
  std::unique_ptr<Delta> missed_ ABSL_GUARDED_BY(mu_);
  uint64_t commits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t commit_wait_ns_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t grace_waits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t standby_copies_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_PARTITION_HPP_
