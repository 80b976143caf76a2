// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/sealed_queue.hpp
//
// Group commit's sealed batches: the batches a commit accepted (gave a
// version) without publishing them, oldest first. A publication applies a prefix of them to the standby and then,
// under the queue's lock, the rest and takes them all in one step
// (TakeAllLocked), which also starts a new epoch.
//
// Guarded by its own mutex, so that sealing never waits for a publication in
// progress (only, briefly, for a publication's final step, which applies at
// most the batches sealed during the publication plus one commit's batch).
//
// Failure model: Seal either accepts the batch (version given), or refuses
// it (a SealHook's error, an unexpected version), or throws std::bad_alloc,
// having changed nothing in the last two cases: every allocation (the copy
// of the batch, the queue's slot) happens before the version is taken.
// TakeAllLocked never allocates (the caller reserved room for what it takes).
//
// Batches sealed with a hook (the changelog's: it resolves their merges into
// puts before they are queued) are never modified again while queued, so a
// later hook may read them under the queue's lock alone. Batches sealed
// without one may hold merges, which a publication resolves in place outside
// this lock: a hook may read those only while the publication mutex is held
// (Seal reports kNeedsPublicationLock otherwise).
#ifndef RCUSTATE_SRC_CORE_SEALED_QUEUE_HPP_
#define RCUSTATE_SRC_CORE_SEALED_QUEUE_HPP_

#include "rcustate/abi.hpp"
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "src/core/checked_mutex.hpp"
#include "src/core/delta.hpp"
#include "src/core/delta_pool.hpp"
#include "src/core/schema.hpp"
#include "src/durable/changelog_record.hpp"

namespace RCUSTATE_NAMESPACE::detail {

// Runs under the queue's lock once a batch's version is known, before the
// batch is queued (the changelog: resolve its merges, write its record).
class SealHook {
 public:
  // `queued` is the delta that will be queued (the caller's or its copy),
  // `earlier` the batches queued before it, oldest first. It may turn
  // `queued`'s merges into puts; if it then fails it must give them back.
  // Non-OK: the seal is refused. Must not throw.
  // `encoder` is the queue's (EncoderLocked).
  virtual absl::Status BeforeQueue(uint64_t version, Delta& queued,
                                   const std::vector<std::unique_ptr<Delta>>& earlier,
                                   durable::ChangelogEncoder& encoder) = 0;

 protected:
  ~SealHook() = default;
};

class SealedQueue {
 public:
  struct Sealed {
    uint64_t version;  // the batch's version
    uint64_t epoch;    // publications that took batches before this one
    bool first;        // the queue was empty: the batch is the oldest
    // `published` read under the queue's lock: older than this batch, no
    // older than any publication before the seal.
    uint64_t published_version;
  };

  explicit SealedQueue(size_t num_tables);

  struct SealRequest {
    bool keep;  // queue a copy, leaving *delta as it was (else *delta itself)
    uint64_t expect_version = 0;  // non-zero: refuse unless it is the next version
    SealHook* hook = nullptr;
    bool holds_publication_lock = false;  // the caller holds the partition mutex
  };
  enum class Outcome {
    kSealed,
    kUnexpectedVersion,     // `committed` below says what the next version would be
    kRefused,               // the hook's error
    kNeedsPublicationLock,  // a hook must read batches sealed without one: retry holding it
  };
  struct Result {
    Outcome outcome;
    Sealed sealed;        // kSealed
    uint64_t committed;   // the versions accepted so far
    absl::Status error;   // kRefused
  };
  // Accepts *delta as the next version. With `keep`, a copy is queued and
  // *delta is left as it was; else *delta itself is queued and replaced by
  // an empty delta. Throws std::bad_alloc having changed nothing; any outcome
  // but kSealed changed nothing either.
  Result Seal(const Schema& schema, std::unique_ptr<Delta>& delta, const SealRequest& request,
              const std::atomic<uint64_t>& published) ABSL_LOCKS_EXCLUDED(mu_);

  // ---- publication (the caller serializes publications)
  // The batches sealed so far, from the `from`th on (pointers stay valid until
  // TakeAllLocked takes them; only publications modify them).
  void PeekFrom(size_t from, std::vector<Delta*>& out) ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() ABSL_LOCKS_EXCLUDED(mu_);
  // The final step of a publication, under the queue's lock (mu()): the
  // caller applied every batch queued, the first `folded` of them through
  // one delta that absorbed them (which replaces them as the record to
  // replay). Moves those `folded` to the back of `done` and the rest to the
  // back of `out` (both have room: no allocation), consumes a version for a
  // published commit if `commit`, starts a new epoch, and returns the version
  // the publication carries (every version up to it is now published).
  uint64_t TakeAllLocked(bool commit, size_t folded, std::vector<std::unique_ptr<Delta>>& done,
                         std::vector<std::unique_ptr<Delta>>& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t SizeLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return batches_.size(); }
  uint64_t CommittedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return committed_; }
  // The changelog encoder of the partition's commits: versions are taken
  // under this lock, so records are encoded (and their listener called)
  // under it too, in version order.
  durable::ChangelogEncoder& EncoderLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return encoder_; }
  // A restored partition starts at `version` (before anything is sealed).
  void StartAt(uint64_t version) ABSL_LOCKS_EXCLUDED(mu_);
  Delta* AtLocked(size_t i) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return batches_[i].get();
  }
  CheckedMutex& mu() ABSL_LOCK_RETURNED(mu_) { return mu_; }

  // Empty deltas for the callers of Seal(keep == false) and for the copies.
  void GiveSpare(std::unique_ptr<Delta> d) ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t committed() ABSL_LOCKS_EXCLUDED(mu_);
  bool empty() ABSL_LOCKS_EXCLUDED(mu_);
  // Changes (ops and clears) queued now; read without the lock (a commit's
  // backlog check: an estimate is enough).
  size_t entries() const { return entries_.load(std::memory_order_relaxed); }
  // Drops every batch (the partition was dropped).
  void Clear() ABSL_LOCKS_EXCLUDED(mu_);
  // Heap bytes of the queued and spare deltas.
  size_t ApproxBytes() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  CheckedMutex mu_;
  std::vector<std::unique_ptr<Delta>> batches_ ABSL_GUARDED_BY(mu_);
  DeltaPool spares_ ABSL_GUARDED_BY(mu_);
  // Commits accepted (the version of the latest) and publications that took
  // batches (each starts a new epoch of sealing).
  uint64_t committed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t take_epoch_ ABSL_GUARDED_BY(mu_) = 0;
  // Batches queued now that were sealed without a hook.
  size_t unhooked_ ABSL_GUARDED_BY(mu_) = 0;
  // Sum of the queued batches' sizes (written under mu_).
  std::atomic<size_t> entries_{0};
  durable::ChangelogEncoder encoder_ ABSL_GUARDED_BY(mu_);
};

// Heap bytes a delta holds (its object, slot arrays and strings).
size_t DeltaBytes(const Delta& d);

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_SEALED_QUEUE_HPP_
