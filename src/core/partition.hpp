// File: src/core/partition.hpp
//
// A partition: the unit of ownership and of atomic publication. It owns two
// map sets (design §3): `current_`, the published one (readers load it
// through `published_`, its only RCU-published pointer), and `standby_`, the
// version before it. A commit publishes its batch when
// the policy says so: the standby is brought up to date (replaying `missed_`,
// what the published set has and it lacks, then `pending_`), the batch is
// applied with its merges resolved in the standby's own slots, and the
// standby becomes `current_` with one pointer store (rcu::Assign of
// `published_`). Otherwise (group commit)
// the batch is sealed into `pending_`, compacted with the batches sealed
// before it.
//
// The replay of `missed_` usually happens before the commit: the standby's
// retirement ticket (a call_rcu callback on liburcu's worker thread) takes
// `mu_` when the grace period ends and catches the standby up, so a commit
// that finds its standby reclaimed applies only its own batch.
//
// Publication policy (StoreOptions::max_publish_delay):
//  - zero: every commit publishes, waiting for the standby's grace period
//    (synchronize_rcu) when its call_rcu ticket has not run yet;
//  - positive (group commit): a commit publishes only if it gets `mu_`
//    without waiting and the standby is already reclaimed or the oldest
//    sealed batch has waited the delay; else it seals its batch (under
//    `seal_mu_` alone) and returns at once, asking whoever holds `mu_` to
//    publish (lock-or-delegate). The standby's ticket, when it runs,
//    publishes what is pending, so an idle writer's batches appear within
//    about one callback latency; Flush() publishes at once. A publication
//    takes everything sealed so far in one step (an epoch); the writer's
//    read-your-writes records batches by epoch (local_delta.hpp).
//
// Publications (commits under the default policy, tickets, Flush) serialize
// on `mu_`; group commits seal under `seal_mu_` alone and never wait for a
// publication. Readers touch neither.
#ifndef RCUSTATE_SRC_CORE_PARTITION_HPP_
#define RCUSTATE_SRC_CORE_PARTITION_HPP_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "rcustate/options.hpp"
#include "src/core/delta.hpp"
#include "src/core/map_set.hpp"
#include "src/core/schema.hpp"
#include "src/rcu/rcu.hpp"

namespace rcustate::detail {

// Tests only: when set, PublishLocked calls it after taking a non-empty
// set of sealed batches and before publishing them (to hold a publication
// in that state deterministically).
extern std::atomic<void (*)()> publish_taken_hook;

struct CommitResult {
  uint64_t version;            // the version that contains this batch
  bool visible;                // published before Commit returned
  uint64_t published_version;  // a published version no older than any before the commit
  // Sealed batches (visible == false) with the same epoch are published
  // together, by one publication, which also publishes every batch of an
  // earlier epoch not published yet.
  uint64_t epoch;
};

class Partition {
 public:
  Partition(uint32_t id, const Schema& schema, rcu::CallbackTracker* tracker,
            std::chrono::nanoseconds max_publish_delay);
  ~Partition();
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  uint32_t id() const { return id_; }
  // Partitions alive in the process (tests check they are all freed).
  static int64_t Live() { return live_.load(std::memory_order_acquire); }

  // ---- readers (inside a read section)
  const MapSet* Published() const {
    return static_cast<const MapSet*>(rcu::Dereference(published_));
  }
  // Takes a pin on the published set (refs and pins incremented).
  MapSet* PinPublished();

  // ---- read handles (rcustate::TableReader)
  // The slot readers load the published set from, typed as the public
  // header knows it: TableReader loads it inline with an acquire load.
  SnapshotData* const* published_slot() const { return &published_; }
  // A handle's hold: a partition reference plus a hold on the last published
  // set, which ReleaseSets() then leaves to the handles (a dropped partition's
  // handles keep reading it; the last one frees it). AddReader: inside a read
  // section on a partition found in the directory, or holding a handle.
  void AddReader();
  void RemoveReader();

  // ---- writers (outside read sections)
  // Commits *delta: publishes it now (its merges resolved against the
  // standby, which then holds the latest committed state) or, under group
  // commit, seals it into what is pending (merges still unresolved where
  // nothing is known of the key). If it was published, or `keep_sealed` is
  // false, *delta is replaced by an empty delta (recycled storage); if it was
  // sealed and `keep_sealed`, *delta is left as it was (a copy went into what
  // is pending) for the caller's read-your-writes. On error nothing changes.
  // kNoPartition once dropped.
  absl::StatusOr<CommitResult> Commit(const Schema& schema, std::unique_ptr<Delta>& delta,
                                      bool keep_sealed) ABSL_LOCKS_EXCLUDED(mu_);
  // Publishes every sealed batch now (waiting for a grace period if needed)
  // and returns the published version. kNoPartition once dropped.
  absl::StatusOr<uint64_t> Flush() ABSL_LOCKS_EXCLUDED(mu_);

  // Marks the partition dropped: every later commit fails. Readers that
  // already found it keep reading its last snapshot; sealed, unpublished
  // batches are discarded with it.
  void MarkDropped() ABSL_LOCKS_EXCLUDED(mu_);
  bool dropped() const { return dropped_.load(std::memory_order_acquire); }
  // Gives up the map sets; call a grace period after the partition became
  // unreachable (from a call_rcu callback).
  void ReleaseSets() ABSL_LOCKS_EXCLUDED(mu_);

  PartitionStats Stats() ABSL_LOCKS_EXCLUDED(mu_);
  size_t ApproxBytes() ABSL_LOCKS_EXCLUDED(mu_);

  // Lifetime: 1 for the directory plus 1 per writer or ticket holding it.
  // The last Unref deletes it; the directory's reference is dropped from a
  // call_rcu callback, so no reader can still see it then.
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  // True if the standby's last retirement is known to be past its grace period.
  bool StandbyReclaimed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return standby_->reclaimed_gen.load(std::memory_order_acquire) >= standby_->retired_gen;
  }
  // Returns the standby, ready to be written: waits for its grace period if
  // its call_rcu ticket has not run (only if `may_wait`; else the caller
  // checked StandbyReclaimed()), replaces it by a copy of the published set
  // if pins hold it.
  MapSet* PrepareStandby(bool may_wait) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes everything sealed, then `*batch` if not null (its merges are
  // resolved against the standby itself, which by then holds the latest
  // committed state), as the next version. *batch is replaced by an empty
  // delta. A non-null batch is counted as a commit here.
  void PublishLocked(bool may_wait, std::unique_ptr<Delta>* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Group commit: counts the commit and compacts *delta into what is pending
  // (a copy if `keep_sealed`, else *delta is emptied). Takes seal_mu_ only.
  CommitResult Seal(const Schema& schema, std::unique_ptr<Delta>& delta, bool keep_sealed,
                    std::chrono::steady_clock::time_point now) ABSL_LOCKS_EXCLUDED(seal_mu_);
  bool HasPending() ABSL_LOCKS_EXCLUDED(seal_mu_);
  absl::Status DroppedError() const;
  // Empty deltas, recycled so that batches reuse their maps' capacity.
  std::unique_ptr<Delta> TakeSpare() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Recycle(std::unique_ptr<Delta> delta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands the no longer published set to call_rcu; its callback (the
  // retirement ticket) records the end of the grace period and calls
  // OnReclaimed().
  void Retire(MapSet* set) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // On the call_rcu worker, once a retired set's grace period ended: if the
  // standby is reclaimed, publishes what is sealed (group commit) or else
  // catches the standby up. Either way the work leaves the commit path.
  void OnReclaimed() ABSL_LOCKS_EXCLUDED(mu_);
  // Group commit, lock-or-delegate: a commit that sealed its batch because
  // mu_ was taken asks for a publication; whoever holds mu_ serves the
  // request in UnlockPublisher() (publishing if the standby is reclaimed).
  void RequestPublish() ABSL_LOCKS_EXCLUDED(mu_);
  void UnlockPublisher() ABSL_UNLOCK_FUNCTION(mu_);
  // Replays missed_ onto the reclaimed, unpinned standby, so that the next
  // commit only applies its own batch.
  void CatchUpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  static std::atomic<int64_t> live_;
  const uint32_t id_;
  // The store's schema; the StoreState outlives every publication (Close
  // drops every partition and drains their callbacks first).
  const Schema& schema_;
  rcu::CallbackTracker* const tracker_;
  const std::chrono::nanoseconds max_publish_delay_;  // 0: publish every commit
  std::atomic<uint32_t> refs_{1};
  std::atomic<bool> dropped_{false};
  std::atomic<bool> publish_requested_{false};
  // The version of the last publication (written under mu_ after it).
  std::atomic<uint64_t> published_version_{0};

  std::mutex mu_;
  // The published set as the writer sees it (null once the sets were
  // released). Readers never load it.
  MapSet* current_ ABSL_GUARDED_BY(mu_);
  // The same set as readers see it: every reader (Published(), PinPublished(),
  // TableReader) loads this slot with rcu::Dereference or an acquire load; the
  // writer stores it with rcu::Assign under mu_. Frozen once the partition is
  // dropped; freed with the last hold (last_set_holds_).
  SnapshotData* published_;
  // Holds on the published set after a drop: 1 for the partition until
  // ReleaseSets(), plus 1 per TableReader. The last one frees the set.
  std::atomic<uint32_t> last_set_holds_{1};
  void DropLastSetHold();
  MapSet* standby_ ABSL_GUARDED_BY(mu_);
  // Applied to current_ but not yet to standby_, oldest first.
  std::vector<std::unique_ptr<Delta>> missed_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Delta>> spare_ ABSL_GUARDED_BY(mu_);
  // Lock order: mu_, then seal_mu_. Group commits seal under seal_mu_
  // alone, so they never wait for a publication in progress.
  std::mutex seal_mu_ ABSL_ACQUIRED_AFTER(mu_);
  // Sealed batches not yet published, compacted into one delta (merges of
  // keys it knows nothing of stay unresolved until publication).
  std::unique_ptr<Delta> pending_ ABSL_GUARDED_BY(seal_mu_);
  uint64_t pending_commits_ ABSL_GUARDED_BY(seal_mu_) = 0;
  std::chrono::steady_clock::time_point pending_since_ ABSL_GUARDED_BY(seal_mu_);
  // Commits accepted (the version of the latest) and publications that took
  // what was pending (each starts a new epoch of sealing).
  uint64_t committed_ ABSL_GUARDED_BY(seal_mu_) = 0;
  uint64_t take_epoch_ ABSL_GUARDED_BY(seal_mu_) = 0;
  uint64_t publications_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t commit_wait_ns_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t grace_waits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t standby_copies_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t catch_ups_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_PARTITION_HPP_
