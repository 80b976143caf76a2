// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/thread_deltas.hpp
//
// A thread's records for the partitions it writes to: for each (store,
// partition), the changes it has not committed yet (its delta) and, under
// group commit, the batches it committed that are sealed, not yet visible
// (kept for read-your-writes). Store::Put/Merge/... fill the delta,
// commit.hpp publishes it, read_own.hpp reads both layers first.
//
// ThreadEntry alone changes an entry's delta and sealed groups, so that it
// alone keeps `local_nonempty` right: every member that may change whether
// the entry "counts" (non-empty delta or a sealed group) recounts on exit,
// exceptions included.
//
// An entry holds a counted reference to its partition and a shared_ptr to its
// store, so it stays safe after a drop or a close. Entries die with their
// thread.
#ifndef RCUSTATE_SRC_CORE_THREAD_DELTAS_HPP_
#define RCUSTATE_SRC_CORE_THREAD_DELTAS_HPP_

#include "rcustate/abi.hpp"
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "src/core/delta.hpp"
#include "src/core/delta_pool.hpp"
#include "src/core/store_state.hpp"

namespace RCUSTATE_NAMESPACE::detail {

// Number of this thread's entries with uncommitted changes or a sealed
// record, over all stores. Plain data so that the read path (Store::Get) can
// skip the lookup with one TLS load. Written only by ThreadEntry.
extern thread_local constinit size_t local_nonempty __attribute__((tls_model("initial-exec")));

// Group commit: batches this thread committed that were sealed, not yet
// visible, when their commit returned. Batches sealed in one epoch of the
// partition (between two publications taking what is pending) become visible
// together, so a group is always wholly published or wholly not.
struct SealedGroup {
  uint64_t epoch = 0;
  uint64_t last_version = 0;  // the version that contains the group's last batch
  // The group's batches as layers, oldest first; `weights[i]` counts the
  // batches folded into layers[i]. A commit appends a layer (no copy); a read
  // folds equal-weight neighbours (binary-counter style, so a read looks
  // through O(log n) layers and folding costs O(log n) per op).
  std::vector<std::unique_ptr<Delta>> layers;
  std::vector<size_t> weights;
};

class ThreadEntry {
 public:
  ThreadEntry(std::shared_ptr<StoreState> store, PartitionRef partition);
  ~ThreadEntry();
  ThreadEntry(const ThreadEntry&) = delete;
  ThreadEntry& operator=(const ThreadEntry&) = delete;

  const std::shared_ptr<StoreState>& store() const { return store_; }
  Partition* partition() const { return partition_.get(); }
  const Delta& delta() const { return *delta_; }
  const std::vector<SealedGroup>& sealed() const { return sealed_; }
  // Counted in local_nonempty.
  bool counted() const { return !delta_->empty() || !sealed_.empty(); }

  // Applies `change` (a function of Delta&, returning absl::Status, which
  // leaves the delta unchanged when it fails or throws) to the delta.
  template <typename ChangeFn>
  absl::Status Change(ChangeFn&& change) {
    Recount recount(*this);
    return std::forward<ChangeFn>(change)(*delta_);
  }
  // Empties the delta.
  void ResetDelta() noexcept;

  // Commits through `commit` (a function of std::unique_ptr<Delta>& that
  // returns StatusOr<CommitResult> like Partition::Commit: on error the delta
  // is unchanged) the entry's delta, or `*batch` if not null; then records a
  // sealed batch for read-your-writes. Everything the record needs is
  // allocated before `commit` runs, so a commit that succeeded is never
  // reported as failed. Throws std::bad_alloc with nothing changed.
  // `may_seal`: the commit may seal instead of publishing (group commit).
  template <typename CommitFn>
  absl::StatusOr<CommitResult> Commit(std::unique_ptr<Delta>* batch, bool may_seal,
                                      CommitFn&& commit);
  // Forgets every sealed group (everything committed is published).
  void DropAllSealed() noexcept;

  // Folds the layers of sealed group `i` where that is cheap; never throws
  // (folding is an optimization: without memory the layers stay as they are).
  void FoldSealed(size_t i) noexcept;

 private:
  // Recounts the entry on scope exit (exceptions included). Public members
  // hold exactly one; private ones hold none (they run inside a public one).
  class Recount {
   public:
    explicit Recount(ThreadEntry& e) : e_(e), before_(e.counted()) {}
    ~Recount() {
      const bool after = e_.counted();
      if (before_ && !after) --local_nonempty;
      if (!before_ && after) ++local_nonempty;
    }
    Recount(const Recount&) = delete;
    Recount& operator=(const Recount&) = delete;

   private:
    ThreadEntry& e_;
    const bool before_;
  };
  // After a commit that was not visible: drops the groups published by now,
  // moves the sealed batch out of `slot` into the group of its epoch (a new
  // one: `next_group`) and puts `spare` in its place. Needs the room
  // Commit() made; never throws.
  void RecordSealed(const CommitResult& r, std::unique_ptr<Delta>& slot,
                    std::unique_ptr<Delta> spare, SealedGroup next_group) noexcept;
  void DropSealed(size_t n) noexcept;

  std::shared_ptr<StoreState> store_;
  PartitionRef partition_;
  DeltaPool pool_;  // spare deltas for the sealed batches and folds
  std::unique_ptr<Delta> delta_;
  // Oldest first. Read after `delta_` and before the published snapshot: the
  // groups whose last version the snapshot does not contain yet. A commit
  // drops the groups it finds published.
  std::vector<SealedGroup> sealed_;
};

// Makes room for one more element without reallocating on the next
// push_back (geometric growth). Throws std::bad_alloc with `v` unchanged.
template <typename T>
void RoomForOne(std::vector<T>& v) {
  if (v.size() == v.capacity()) v.reserve(v.empty() ? 4 : 2 * v.size());
}

template <typename CommitFn>
absl::StatusOr<CommitResult> ThreadEntry::Commit(std::unique_ptr<Delta>* batch, bool may_seal,
                                                 CommitFn&& commit) {
  Recount recount(*this);
  std::unique_ptr<Delta>& slot = batch != nullptr ? *batch : delta_;
  if (!may_seal) {
    absl::StatusOr<CommitResult> r = std::forward<CommitFn>(commit)(slot);
    if (r.ok()) DropSealed(sealed_.size());
    return r;
  }
  // Room for a sealed record, made before committing (all may throw, nothing
  // changed yet): one more group, one more layer in the last group, and the
  // empty delta that replaces the sealed one.
  RoomForOne(sealed_);
  if (!sealed_.empty()) {
    RoomForOne(sealed_.back().layers);
    RoomForOne(sealed_.back().weights);
  }
  SealedGroup next_group;
  RoomForOne(next_group.layers);
  RoomForOne(next_group.weights);
  std::unique_ptr<Delta> spare = pool_.Take();
  absl::StatusOr<CommitResult> r = std::forward<CommitFn>(commit)(slot);
  if (!r.ok()) {
    pool_.Give(std::move(spare));
    return r;
  }
  if (r->visible) {
    DropSealed(sealed_.size());  // a publication publishes everything sealed before it
    pool_.Give(std::move(spare));
  } else {
    RecordSealed(*r, slot, std::move(spare), std::move(next_group));
  }
  return r;
}

// One-entry cache in front of the calling thread's entries: writers usually
// hit the same partition again and again. Plain data with initial-exec TLS,
// so that the inline lookups below cost two %fs-relative loads and no call;
// the map of all entries (thread_deltas.cpp) has a destructor, which makes
// every access to it go through a TLS init wrapper and __tls_get_addr.
// Written only by thread_deltas.cpp; `entry` is null or an entry this thread
// holds for (store_id, partition).
struct LastThreadEntry {
  uint64_t store_id = 0;  // store ids start at 1
  uint32_t partition = 0;
  ThreadEntry* entry = nullptr;
};
extern thread_local constinit LastThreadEntry last_thread_entry
    __attribute__((tls_model("initial-exec")));

// The cached entry if it is the calling thread's for (store, partition) and
// its partition was not dropped; nullptr otherwise. Never allocates.
inline ThreadEntry* CachedLiveThreadEntry(const StoreState& store, uint32_t partition) {
  const LastThreadEntry& last = last_thread_entry;
  if (last.entry != nullptr && last.store_id == store.id && last.partition == partition &&
      !last.entry->partition()->dropped()) {
    return last.entry;
  }
  return nullptr;
}

// ThreadEntryFor() past a cache miss (or a dropped partition): out of line.
absl::StatusOr<ThreadEntry*> ThreadEntryForSlow(const std::shared_ptr<StoreState>& store,
                                                uint32_t partition);

// The calling thread's entry for the partition, created if needed.
// kNoPartition (also for a dropped partition, whose entry is discarded: with
// a message saying its uncommitted changes were lost if it had any), kState.
// Throws std::bad_alloc with nothing changed.
inline absl::StatusOr<ThreadEntry*> ThreadEntryFor(const std::shared_ptr<StoreState>& store,
                                                   uint32_t partition) {
  if (ThreadEntry* e = CachedLiveThreadEntry(*store, partition)) return e;
  return ThreadEntryForSlow(store, partition);
}
// The calling thread's entry, or nullptr; never creates one.
ThreadEntry* FindThreadEntrySlow(const StoreState& store, uint32_t partition);
inline ThreadEntry* FindThreadEntry(const StoreState& store, uint32_t partition) {
  const LastThreadEntry& last = last_thread_entry;
  if (last.entry != nullptr && last.store_id == store.id && last.partition == partition) {
    return last.entry;
  }
  return FindThreadEntrySlow(store, partition);
}
// Forgets the entry (after its partition was found dropped).
void EraseThreadEntry(const StoreState& store, uint32_t partition);
// Entries the calling thread holds (tests).
size_t ThreadEntryCount();

// Storage for values this thread materialized for itself (its own pending
// merges) while reading a store of flavor `qsbr`: valid until the thread's
// current outermost read section ends (memb) or its next quiescent state or
// offline transition (QSBR). Throws std::bad_alloc.
std::string* ScratchValue(bool qsbr);

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_THREAD_DELTAS_HPP_
