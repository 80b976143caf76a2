// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/partition_publish.cpp
//
// Partition's publication: prepare the standby (wait for its grace period,
// replace it if pinned or invalid), apply what it lacks, the sealed batches
// (folded into one delta when they share keys) and the commit's batch, then
// the final step that cannot fail (take the sealed batches, give the
// version, store the pointer, queue the retirement ticket prepared
// beforehand). And the ticket's side: catching the standby up once its
// grace period ended.
//
// Failure model (see partition.hpp): every allocation happens before the
// final step. A std::bad_alloc before it returns kNoMemory: if the standby
// was already changed it is marked invalid (rebuilt by the next
// publication), the caller's batch gets its merges back (UndoResolved), and
// the sealed batches stay queued (those whose merges were turned into puts
// hold the same result for the same state, which is what the next attempt
// applies them to).
#include "rcustate/abi.hpp"
#include <new>
#include <utility>

#include "src/core/partition.hpp"

namespace RCUSTATE_NAMESPACE::detail {

MapSet* Partition::PrepareStandby(bool may_wait) {
  MapSet* set = standby_;
  if (!StandbyReclaimed() && may_wait) {
    // The call_rcu ticket of its last retirement has not run yet: wait for a
    // grace period here. The ticket still runs later; it records an older
    // generation than any later retirement, which is harmless.
    auto t0 = std::chrono::steady_clock::now();
    GraceWaitBegin(kLockedWait);
    rcu::Synchronize(tracker_->flavor());
    GraceWaitEnd(kLockedWait);
    counters_.commit_wait_ns.Add(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now() - t0)
                                     .count());
    counters_.grace_waits.Add();
  }
  // A grace period has passed since `set` was last published: no reader can
  // see it and nobody can pin it any more, so `pins` is final. Pinned (left
  // to the pins) or invalid (a failed publication): start a new standby from
  // the published set, which already contains everything missed_ holds.
  if (!standby_valid_ || set->pins.load(std::memory_order_acquire) != 0) {
    MapSet* fresh = MapSet::CopyOf(*current_);  // may throw: nothing changed
    set->Unref();
    standby_ = set = fresh;
    standby_valid_ = true;
    for (auto& d : missed_) pool_.Give(std::move(d));
    missed_.clear();
    counters_.standby_copies.Add();
  }
  return set;
}

namespace {

// True if the two batches share keys enough that folding them pays: at
// least a quarter of `later`'s changes touch what `earlier` touched (a table
// cleared in either counts as shared).
bool Overlapping(const Delta& earlier, const Delta& later) {
  size_t shared = 0;
  for (size_t t = 0; t < later.tables().size(); ++t) {
    const TableDelta& lt = later.tables()[t];
    const TableDelta& et = earlier.tables()[t];
    if (lt.cleared || et.cleared) return true;
    if (et.ops.empty()) continue;
    for (const auto& kv : lt.ops) shared += et.ops.contains(kv.first) ? 1 : 0;
  }
  return shared * 4 >= later.size() && shared > 0;
}

}  // namespace

size_t Partition::FoldSealed() {
  if (sealed_.size() < 2 || !Overlapping(*sealed_[0], *sealed_[1])) return 0;
  try {
    fold_ = pool_.Take();
    for (Delta* d : sealed_) fold_->Absorb(schema_, *d);
  } catch (const std::bad_alloc&) {
    // Folding only saves work: without memory, apply the batches one by one.
    pool_.Give(std::move(fold_));
    return 0;
  }
  return sealed_.size();
}

void Partition::ApplyAll(MapSet* next, std::unique_ptr<Delta>* batch) {
  // Bring the standby to the published state (each delta is applied twice
  // in all: once to each set, the second time moving its strings).
  for (auto& d : missed_) next->ApplyMove(*d);
  for (auto& d : missed_) pool_.Give(std::move(d));
  missed_.clear();
  // Then the sealed batches, oldest first: folded into one delta when they
  // share keys (a key many batches changed is then applied once to each
  // set), else one by one. Either way their merges are resolved in place,
  // in the fold or in the batch, which stays right if this publication
  // fails: a fold is thrown away, and a batch's put holds the merge's result
  // on the same state, which is what the next attempt applies it to.
  sealed_.clear();
  queue_.PeekFrom(0, sealed_);
  folded_ = FoldSealed();
  if (folded_ > 0) {
    next->ApplyResolving(schema_, *fold_);
    dirty_.Record(*fold_);
  }
  for (size_t i = folded_; i < sealed_.size(); ++i) {
    next->ApplyResolving(schema_, *sealed_[i]);
    dirty_.Record(*sealed_[i]);
  }
  if (!sealed_.empty()) {
    if (void (*hook)() = publish_taken_hook.load(std::memory_order_acquire)) hook();
  }
  undo_.clear();
  if (batch != nullptr) undo_.reserve((*batch)->size());
}

absl::Status Partition::PublishLocked(bool may_wait, std::unique_ptr<Delta>* batch,
                                      uint64_t expect_version) {
  bool touched = false;  // the standby was changed
  std::unique_ptr<Delta> spare;
  try {
    MapSet* next = PrepareStandby(may_wait);
    // What the final step needs, allocated first.
    if (batch != nullptr) spare = pool_.Take();
    MapSet* const previous = current_;
    const uint64_t gen = previous->retired_gen + 1;
    rcu::CallbackTracker::Ticket ticket = tracker_->Prepare([this, previous, gen] {
      uint64_t seen = previous->reclaimed_gen.load(std::memory_order_relaxed);
      while (seen < gen &&
             !previous->reclaimed_gen.compare_exchange_weak(
                 seen, gen, std::memory_order_release, std::memory_order_relaxed)) {
      }
      previous->Unref();
      OnReclaimed();
      Unref();
    });
    touched = true;
    ApplyAll(next, batch);
    absl::Status refused;  // the batch's: another version than expected, the listener's error
    {
      // The final step, against concurrent sealing: apply what was sealed
      // since, then the batch, and take them all with the version. The
      // listener is called here, under the queue's lock, where versions
      // are taken: records reach it in version order.
      CheckedMutexLock seal(&queue_.mu());
      for (size_t i = sealed_.size(); i < queue_.SizeLocked(); ++i) {
        next->ApplyResolving(schema_, *queue_.AtLocked(i));
        dirty_.Record(*queue_.AtLocked(i));
      }
      // Room for the bookkeeping below before the listener is called: once
      // it accepted the record, nothing may fail (it would hold a version
      // the partition does not).
      missed_.reserve(queue_.SizeLocked() - folded_ + 2);
      folded_out_.reserve(folded_);
      if (batch != nullptr) {
        const uint64_t v = queue_.CommittedLocked() + 1;
        if (expect_version != 0 && expect_version != v) {
          refused = UnexpectedVersion(expect_version, v - 1);
        } else {
          next->ApplyResolvingUndoable(schema_, **batch, undo_);
          dirty_.Record(**batch);
          if (const ChangelogFn* fn = changelog_ != nullptr ? changelog_->Load() : nullptr) {
            refused = Notify(*fn, id_, v,
                             EncodeRecord(schema_, id_, v, **batch, queue_.EncoderLocked()));
          }
        }
      }
      if (refused.ok()) {
        // Nothing below allocates or fails. The fold replaces the batches
        // it absorbed as the record to replay onto the other set. The set
        // is published under the queue's lock, so that a seal (which reads
        // the published set under it) never sees the batches taken and
        // the set without them.
        undo_.clear();
        if (fold_ != nullptr) missed_.push_back(std::move(fold_));
        const uint64_t version =
            queue_.TakeAllLocked(batch != nullptr, folded_, folded_out_, missed_);
        next->version = version;
        current_ = next;
        slot_.Store(next);
        published_version_.store(version, std::memory_order_release);
        published_entries_.store(next->Entries(), std::memory_order_relaxed);
      }
    }
    if (!refused.ok()) {
      PublishFailedLocked(touched, spare);
      return refused;
    }
    for (auto& d : folded_out_) pool_.Give(std::move(d));
    folded_out_.clear();
    folded_ = 0;
    if (batch != nullptr) {
      missed_.push_back(std::move(*batch));
      *batch = std::move(spare);
    }
    // Retire the old set: its ticket's references, then the ticket.
    ++previous->retired_gen;
    previous->Ref();
    Ref();
    tracker_->Defer(std::move(ticket));
    standby_ = previous;
    standby_valid_ = true;
    ++retirements_;
    counters_.publications.Add();
    NoteBytesLocked();
    return absl::OkStatus();
  } catch (const std::bad_alloc&) {
    PublishFailedLocked(touched, spare);
    return NoMemory();
  }
}

void Partition::PublishFailedLocked(bool touched, std::unique_ptr<Delta>& spare) {
  if (touched) standby_valid_ = false;
  MapSet::UndoResolved(undo_);  // the caller's batch as it was
  pool_.Give(std::move(fold_));
  folded_ = 0;
  pool_.Give(std::move(spare));
}

void Partition::OnReclaimed() {
  // Blocking: mu_ is held for one publication at most, and no holder of mu_
  // ever waits for a call_rcu callback (Synchronize waits for readers only;
  // Drain is never called under mu_).
  mu_.Lock();
  // Only the catch-up: what is sealed is published by the next commit
  // (which now finds the standby reclaimed), a request served below, Flush,
  // or the publisher. Publishing here, on liburcu's one worker thread, would
  // delay every other callback of the process behind a publication and
  // compete with the writers for the cores.
  if (!dropped_.load(std::memory_order_relaxed) && current_ != nullptr && StandbyReclaimed()) {
    CatchUpLocked();
  }
  UnlockPublisher();
}

void Partition::CatchUpLocked() {
  // A pinned or invalid standby is left to the commit path, which replaces
  // it by a copy.
  if (missed_.empty() || !standby_valid_ || standby_->pins.load(std::memory_order_acquire) != 0) {
    return;
  }
  try {
    for (auto& d : missed_) standby_->ApplyMove(*d);
  } catch (const std::bad_alloc&) {
    standby_valid_ = false;
    return;
  }
  for (auto& d : missed_) pool_.Give(std::move(d));
  missed_.clear();
  counters_.catch_ups.Add();
  NoteBytesLocked();
}

}  // namespace rcustate::detail
