// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/partition.hpp
//
// A partition: the unit of ownership and of atomic publication. It owns two
// map sets (docs/design.md, "Writes: deltas and commits"): `current_`, the
// published one (readers load it through its PublishedSlot), and `standby_`,
// the version before it. A
// publication brings the standby up to date (replaying `missed_`, what the
// published set has and it lacks), applies the sealed batches and the
// commit's batch with their merges resolved in the standby's own slots, and
// makes the standby `current_` with one pointer store. The old set is retired:
// its ticket (a call_rcu callback) records the end of its grace period and
// catches it up, so that the next commit usually applies only its own batch.
//
// Publication policy: commit_policy.hpp (publish or seal), sealed_queue.hpp
// (group commit's sealed batches), publisher.hpp (publishes what waited
// max_publish_delay).
//
// Locks: publications (commits under the default policy, tickets, Flush, the
// publisher) serialize on `mu_`; group commits that do not get `mu_` at once
// seal under the queue's own mutex (lock order: mu_, then the queue's, then
// the publisher's). Readers touch neither.
//
// Failure model. Every allocation of a commit, a publication, a seal or a
// flush happens before the step that makes it visible; a std::bad_alloc
// before it is reported as kNoMemory with nothing changed: the caller's delta
// as it was, no version consumed, the published set untouched, no batch
// sealed or lost, the mutexes released. The standby is private, so a failure
// while applying to it only marks it invalid; the next publication rebuilds it
// from the published set (as it does for a pinned standby). Sealed batches
// leave the queue only in the publication's final step, which cannot fail.
// The paths that cannot report a failure (the retirement ticket, the
// publisher) catch up or publish the same way, and on failure leave the work
// to the next commit or round; none of them aborts. abseil's maps are not
// exception-safe (safe_map.hpp): the map sets and deltas are grown and filled
// so that a failure leaves them whole.
#ifndef RCUSTATE_SRC_CORE_PARTITION_HPP_
#define RCUSTATE_SRC_CORE_PARTITION_HPP_

#include "rcustate/abi.hpp"
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "src/core/checked_mutex.hpp"
#include "rcustate/options.hpp"
#include "src/core/changelog.hpp"
#include "src/core/delta.hpp"
#include "src/core/dirty_keys.hpp"
#include "src/core/store_metrics.hpp"
#include "src/core/delta_pool.hpp"
#include "src/core/map_set.hpp"
#include "src/core/published_slot.hpp"
#include "src/core/publisher.hpp"
#include "src/core/schema.hpp"
#include "src/core/sealed_queue.hpp"
#include "src/rcu/rcu.hpp"

namespace RCUSTATE_NAMESPACE::detail {

// Tests only: when set, a publication calls it after it applied the sealed
// batches and before it takes them (to hold a publication in that state).
extern std::atomic<void (*)()> publish_taken_hook;

// The commit path's errors: kNoMemory (made once: copying it never
// allocates), and kState for a commit that was to get another version.
const absl::Status& NoMemory();
absl::Status UnexpectedVersion(uint64_t expected, uint64_t committed);

struct CommitResult {
  uint64_t version;            // the version that contains this batch
  bool visible;                // published before Commit returned
  uint64_t published_version;  // a published version no older than any before the commit
  // Sealed batches (visible == false) with the same epoch are published
  // together, by one publication, which also publishes every batch of an
  // earlier epoch not published yet.
  uint64_t epoch;
};

class Partition final : private PublishTarget {
 public:
  Partition(uint32_t id, const Schema& schema, rcu::CallbackTracker* tracker,
            std::chrono::nanoseconds max_publish_delay)
      : Partition(id, schema, tracker, max_publish_delay, &Publisher::Default(tracker->flavor())) {}
  // `publisher`: tests pass their own (fake clock).
  Partition(uint32_t id, const Schema& schema, rcu::CallbackTracker* tracker,
            std::chrono::nanoseconds max_publish_delay, Publisher* publisher);
  ~Partition() override;
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  // A partition restored from a checkpoint: `current` (holding `version`)
  // is published from the start; the standby is built by the first
  // publication (a copy). Throws std::bad_alloc.
  static std::unique_ptr<Partition> Restored(uint32_t id, const Schema& schema,
                                             rcu::CallbackTracker* tracker,
                                             std::chrono::nanoseconds max_publish_delay,
                                             std::unique_ptr<MapSet> current, uint64_t chain_id);

  uint32_t id() const { return id_; }
  // The store's changelog listener; set before the partition is reachable.
  void set_changelog(const ChangelogHook* hook) { changelog_ = hook; }
  // Partitions alive in the process (tests check they are all freed).
  static int64_t Live() { return live_.load(std::memory_order_acquire); }

  // ---- readers (inside a read section)
  const MapSet* Published() const { return slot_.Load(); }
  // Takes a pin on the published set (refs and pins incremented).
  MapSet* PinPublished() { return slot_.Pin(); }

  // ---- read handles (rcustate::TableReader)
  // The slot readers load the published set from (TableReader loads it
  // inline with an acquire load).
  SnapshotData* const* published_slot() const { return slot_.slot(); }
  // A handle's hold: a partition reference plus a hold on the last published
  // set (PublishedSlot). AddReader: inside a read section on a partition found
  // in the directory, or holding a handle.
  void AddReader() {
    Ref();
    slot_.AddHold();
  }
  void RemoveReader() {
    slot_.DropHold();
    Unref();
  }

  // ---- writers (outside read sections)
  // Commits *delta: publishes it now (its merges resolved against the
  // standby) or, under group commit, seals it (commit_policy.hpp). If it was
  // published, or `keep_sealed` is false, *delta is replaced by an empty
  // delta; if it was sealed and `keep_sealed`, *delta is left as it was (a
  // copy was sealed) for the caller's read-your-writes. With a changelog
  // listener, it is called with the commit's record before the batch is
  // visible to other threads (published or sealed), in version order.
  // `expect_version` non-zero: the commit must get exactly that version.
  // On error nothing changes: kNoPartition once dropped, kNoMemory on
  // allocation failure, kIo (the listener refused), kState (another
  // version than expected: the message names both).
  absl::StatusOr<CommitResult> Commit(const Schema& schema, std::unique_ptr<Delta>& delta,
                                      bool keep_sealed, uint64_t expect_version = 0)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Versions accepted so far (published or sealed).
  uint64_t committed_version() { return queue_.committed(); }
  // Publishes every sealed batch now (waiting for a grace period if needed)
  // and returns the published version. kNoPartition once dropped, kNoMemory.
  absl::StatusOr<uint64_t> Flush() ABSL_LOCKS_EXCLUDED(mu_);

  // Marks the partition dropped: every later commit fails. Readers that
  // already found it keep reading its last snapshot; sealed, unpublished
  // batches are discarded with it. Not inside a read section.
  void MarkDropped() ABSL_LOCKS_EXCLUDED(mu_);
  bool dropped() const { return dropped_.load(std::memory_order_acquire); }
  // Gives up the map sets; call a grace period after the partition became
  // unreachable (from a call_rcu callback).
  void ReleaseSets() ABSL_LOCKS_EXCLUDED(mu_);

  // ---- checkpoints (checkpoint.cpp drives them)
  // Checkpoints of the partition serialize on this (held during the I/O).
  CheckedMutex& checkpoint_mu() ABSL_LOCK_RETURNED(checkpoint_mu_) { return checkpoint_mu_; }
  // Runs `encode` under the publication mutex, with the published set and
  // the record of changes since the last checkpoint (tracking starts here if
  // it was off: the record is then empty, of no chain). No publication runs
  // meanwhile, and no pin is taken: a pin held for a checkpoint's I/O would
  // make the writer rebuild its standby by copying the whole state. If
  // `encode` succeeds, takes the record (returned, for CheckpointDone) and
  // starts a new one from the published version. kNoPartition once dropped;
  // `encode`'s error (nothing taken). `encode` may throw std::bad_alloc
  // (nothing taken).
  using EncodeFn = absl::FunctionRef<absl::Status(const MapSet& published,
                                                  const DirtyKeys& changes)>;
  absl::StatusOr<DirtyKeys> CheckpointCut(EncodeFn encode) ABSL_LOCKS_EXCLUDED(mu_);
  // After the checkpoint of a cut: on success the new record extends chain
  // `chain_id`; on failure the changes taken are given back.
  void CheckpointDone(DirtyKeys& taken, bool ok, uint64_t chain_id) ABSL_LOCKS_EXCLUDED(mu_);

  PartitionStats Stats() ABSL_LOCKS_EXCLUDED(mu_);
  // What Sample() reads: PartitionStats without the entries and the
  // committed version, taken without waiting for anything (a metrics scrape
  // must not wait behind a commit that waits for a grace period).
  struct Sampled {
    uint64_t version = 0;
    uint64_t commits = 0;  // accepted through this process (CountCommit)
    uint64_t publications = 0;
    uint64_t commit_wait_ns = 0;
    uint64_t grace_waits = 0;
    uint64_t standby_copies = 0;
    uint64_t catch_ups = 0;
    uint64_t backlog_publications = 0;
    uint64_t stalled_grace_periods = 0;
    uint64_t grace_wait_age_ns = 0;
    uint64_t approx_bytes = 0;  // as of the last publication or catch-up
    uint64_t pins_alive = 0;
  };
  Sampled Sample() const noexcept ABSL_LOCKS_EXCLUDED(stall_mu_);
  // Counts a commit accepted by the store (the commit path calls it).
  void CountCommit() noexcept { commits_.fetch_add(1, std::memory_order_relaxed); }
  // The entries of each table of the published snapshot, appended to *out.
  // Inside a read section. Throws std::bad_alloc.
  void PublishedEntries(std::vector<size_t>* out) const;
  // The store's counters and grace-wait histogram, which this partition
  // adds to; set before the partition is reachable.
  void set_store_metrics(StoreMetrics* m);
  // Grace-period stalls: waits on behalf of this partition longer than the
  // store's stall threshold (the one in progress counted once past it), and
  // the age of the wait in progress (0: none). Never block: a monitor must
  // see a stall while a commit waits in it, holding mu_.
  uint64_t stalled_grace_periods() const ABSL_LOCKS_EXCLUDED(stall_mu_);
  uint64_t grace_wait_age_ns() const ABSL_LOCKS_EXCLUDED(stall_mu_);
  // Heap bytes the partition holds: itself, both map sets, the deltas it
  // keeps (to replay, sealed, spare).
  size_t ApproxBytes() ABSL_LOCKS_EXCLUDED(mu_);

  // Lifetime: 1 for the directory plus 1 per writer, handle or ticket
  // holding it. The last Unref deletes it; the directory's reference is
  // dropped from a call_rcu callback, so no reader can still see it then.
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  Partition(uint32_t id, const Schema& schema, rcu::CallbackTracker* tracker,
            std::chrono::nanoseconds max_publish_delay, Publisher* publisher,
            std::unique_ptr<MapSet> current, std::unique_ptr<MapSet> standby);
  // A counter changed under mu_ (so without an atomic read-modify-write)
  // and read anywhere (Sample); each addition also goes to the store's
  // counter it mirrors, if any.
  class Counter {
   public:
    void Add(uint64_t n = 1) {
      v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
      if (store_ != nullptr) store_->fetch_add(n, std::memory_order_relaxed);
    }
    uint64_t Get() const { return v_.load(std::memory_order_relaxed); }
    void Mirror(std::atomic<uint64_t>* store) { store_ = store; }

   private:
    std::atomic<uint64_t> v_{0};
    std::atomic<uint64_t>* store_ = nullptr;
  };
  // Counters of Stats() and Sample(), changed under mu_.
  struct Counters {
    Counter publications;
    Counter commit_wait_ns;
    Counter grace_waits;
    Counter standby_copies;
    Counter catch_ups;
    Counter backlog_publications;
  };
  // After a publication or a catch-up: approx_bytes_ for Sample().
  void NoteBytesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool group_commit() const { return max_publish_delay_.count() > 0; }
  // True if the standby's last retirement is known to be past its grace period.
  bool StandbyReclaimed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return standby_->reclaimed_gen.load(std::memory_order_acquire) >= standby_->retired_gen;
  }
  // Publishes everything sealed, then `*batch` if not null, as the next
  // version; *batch is then replaced by an empty delta. False if out of
  // memory: nothing published or consumed (the standby may be left invalid).
  // Never throws. Waits for the standby's grace period if `may_wait`, else
  // needs StandbyReclaimed().
  // Returns kNoMemory (nothing published or consumed; the standby may be
  // left invalid), or, for a batch: kState if `expect_version` is non-zero
  // and not its version, the listener's kIo. Never throws.
  absl::Status PublishLocked(bool may_wait, std::unique_ptr<Delta>* batch,
                             uint64_t expect_version = 0) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What a failed publication undoes (the batch's resolved merges, the fold).
  void PublishFailedLocked(bool touched, std::unique_ptr<Delta>& spare)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The parts of PublishLocked that may throw std::bad_alloc.
  MapSet* PrepareStandby(bool may_wait) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyAll(MapSet* next, std::unique_ptr<Delta>* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Folds the sealed batches in sealed_ into fold_ if they share keys;
  // returns how many it folded (0: none, fold_ null). Never throws.
  size_t FoldSealed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Seals *delta (commit_policy.hpp kSeal); throws std::bad_alloc having
  // changed nothing. `locked`: the caller holds mu_. Without it, a seal
  // that must read batches sealed without the changelog returns kRetry.
  struct SealOutcome {
    bool retry_locked = false;
    absl::StatusOr<CommitResult> result;
  };
  SealOutcome Seal(const Schema& schema, std::unique_ptr<Delta>& delta, bool keep_sealed,
                   uint64_t expect_version, bool locked);
  absl::StatusOr<CommitResult> PublishCommitLocked(bool may_wait, std::unique_ptr<Delta>& delta,
                                                   uint64_t expect_version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The changelog's SealHook: resolves a sealed batch's merges against the
  // published set and the batches sealed before it, then calls the listener.
  class ChangelogSeal;
  absl::Status DroppedError() const;
  // On the call_rcu worker, once a retired set's grace period ended: if the
  // standby is reclaimed, catches it up, which takes that work off the
  // commit path.
  void OnReclaimed() ABSL_LOCKS_EXCLUDED(mu_);
  // Group commit, lock-or-delegate: a commit that sealed its batch because
  // mu_ was taken asks for a publication; whoever holds mu_ serves the
  // request in UnlockPublisher() (publishing if the standby is reclaimed).
  void RequestPublish() ABSL_LOCKS_EXCLUDED(mu_);
  void UnlockPublisher() ABSL_UNLOCK_FUNCTION(mu_);
  void ServeRequestLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Replays missed_ onto the reclaimed, unpinned standby, so that the next
  // commit only applies its own batch. Never fails (a failure invalidates
  // the standby).
  void CatchUpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // PublishTarget (the publisher's thread).
  bool BeforeGrace() override ABSL_LOCKS_EXCLUDED(mu_);
  void PublishDue(bool waited) noexcept override ABSL_LOCKS_EXCLUDED(mu_);

  // Brackets every wait for a grace period on behalf of this partition. Two
  // can overlap: the publisher's (kPublisherWait, without mu_) and one under
  // mu_ (kLockedWait: a commit, a flush, a publication); each has its slot.
  static constexpr int kPublisherWait = 0, kLockedWait = 1;
  void GraceWaitBegin(int slot) ABSL_LOCKS_EXCLUDED(stall_mu_);
  void GraceWaitEnd(int slot) ABSL_LOCKS_EXCLUDED(stall_mu_);
  static int64_t NowNs();

  static std::atomic<int64_t> live_;
  const uint32_t id_;
  // The store's schema; the StoreState outlives every publication (Close
  // drops every partition and drains their callbacks first).
  const Schema& schema_;
  rcu::CallbackTracker* const tracker_;
  const std::chrono::nanoseconds max_publish_delay_;  // 0: publish every commit
  Publisher* const publisher_;
  std::atomic<uint32_t> refs_{1};
  std::atomic<bool> dropped_{false};
  std::atomic<bool> publish_requested_{false};
  // The version of the last publication (written under mu_ after it).
  std::atomic<uint64_t> published_version_{0};
  // Entries in all tables of the published set (written with it): group
  // commit's backlog bound scales with it.
  std::atomic<size_t> published_entries_{0};

  CheckedMutex mu_;
  // The published set as the writer sees it (null once the sets were
  // released). Readers never load it.
  MapSet* current_ ABSL_GUARDED_BY(mu_);
  MapSet* standby_ ABSL_GUARDED_BY(mu_);
  // False after a failure while applying to the standby: the next
  // publication replaces it by a copy of current_.
  bool standby_valid_ ABSL_GUARDED_BY(mu_) = true;
  // Publications so far; BeforeGrace() remembers it in grace_mark_.
  uint64_t retirements_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t grace_mark_ ABSL_GUARDED_BY(mu_) = 0;
  PublishedSlot slot_;
  // Applied to current_ but not yet to standby_, oldest first.
  std::vector<std::unique_ptr<Delta>> missed_ ABSL_GUARDED_BY(mu_);
  DeltaPool pool_ ABSL_GUARDED_BY(mu_);
  // Scratch of ApplyAll, kept for its capacity.
  std::vector<Delta*> sealed_ ABSL_GUARDED_BY(mu_);
  std::vector<MapSet::Undo> undo_ ABSL_GUARDED_BY(mu_);
  // During a publication: the sealed batches folded into one delta, how many
  // it absorbed, and (in the final step) those batches, taken from the queue.
  std::unique_ptr<Delta> fold_ ABSL_GUARDED_BY(mu_);
  size_t folded_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::unique_ptr<Delta>> folded_out_ ABSL_GUARDED_BY(mu_);
  SealedQueue queue_;  // its mutex: after mu_
  Counters counters_;  // changed under mu_
  std::atomic<uint64_t> commits_{0};       // CountCommit()
  std::atomic<uint64_t> approx_bytes_{0};  // NoteBytesLocked()
  // The pin count every map set of the partition shares (MapSet::partition_pins).
  std::shared_ptr<std::atomic<uint32_t>> pins_;
  // The store's counters (null: none, e.g. partitions made by tests).
  StoreMetrics* store_metrics_ = nullptr;
  // The store's listener hook (null: none, e.g. partitions made by tests).
  const ChangelogHook* changelog_ = nullptr;
  // Changes since the last checkpoint (off until the first one).
  DirtyKeys dirty_ ABSL_GUARDED_BY(mu_);
  CheckedMutex checkpoint_mu_;
  // Only ever held for a few instructions, never across a wait.
  mutable CheckedMutex stall_mu_;
  int64_t grace_wait_started_ns_[2] ABSL_GUARDED_BY(stall_mu_) = {0, 0};  // 0: no wait
  uint64_t stalled_grace_periods_ ABSL_GUARDED_BY(stall_mu_) = 0;
  // The publisher's wait began for this partition (BeforeGrace) and has not
  // ended (PublishDue). Only the publisher's thread touches it.
  bool publisher_wait_ = false;
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_PARTITION_HPP_
