// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/partition.cpp
//
// The commit path: Commit -> (DecideCommit) -> PublishCommitLocked ->
// PublishLocked -> PrepareStandby + ApplyAll -> the final step (take the
// sealed batches, give the version, store the pointer, retire the old set).
// Under group commit a commit may instead Seal (sealed_queue.hpp).
#include "rcustate/abi.hpp"
#include "src/core/partition.hpp"

#include <algorithm>
#include <chrono>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"
#include "src/core/commit_policy.hpp"

namespace RCUSTATE_NAMESPACE::detail {

std::atomic<int64_t> Partition::live_{0};
std::atomic<void (*)()> publish_taken_hook{nullptr};

// Made once, at load: returning a copy of it never allocates, so the error
// paths between TryLock and UnlockPublisher cannot throw.
const absl::Status& NoMemory() {
  static const absl::Status* const status = new absl::Status(
      MakeError(ErrorCode::kNoMemory, "out of memory: the call changed nothing"));
  return *status;
}
namespace {
[[maybe_unused]] const absl::Status& kNoMemoryAtLoad = NoMemory();
}  // namespace

absl::Status UnexpectedVersion(uint64_t expected, uint64_t committed) {
  return MakeError(ErrorCode::kState,
                   absl::StrCat("the commit was to be version ", expected,
                                " but the partition's next version is ", committed + 1));
}

Partition::Partition(uint32_t id, const Schema& schema, rcu::CallbackTracker* tracker,
                     std::chrono::nanoseconds max_publish_delay, Publisher* publisher)
    // Each set is owned by a unique_ptr until nothing can throw any more, so
    // that a failed construction frees whatever it had made.
    : Partition(id, schema, tracker, max_publish_delay, publisher,
                std::make_unique<MapSet>(schema), std::make_unique<MapSet>(schema)) {}

Partition::Partition(uint32_t id, const Schema& schema, rcu::CallbackTracker* tracker,
                     std::chrono::nanoseconds max_publish_delay, Publisher* publisher,
                     std::unique_ptr<MapSet> current, std::unique_ptr<MapSet> standby)
    : id_(id),
      schema_(schema),
      tracker_(tracker),
      max_publish_delay_(max_publish_delay),
      publisher_(publisher),
      current_(current.get()),
      standby_(standby.get()),
      slot_(current_),
      pool_(schema.tables.size(), 2),
      queue_(schema.tables.size()),
      dirty_(schema.tables.size()) {
  pins_ = current_->partition_pins = standby_->partition_pins =
      std::make_shared<std::atomic<uint32_t>>(0);
  approx_bytes_.store(current_->ApproxBytes() + standby_->ApproxBytes(), std::memory_order_relaxed);
  current.release();  // nothing below throws: the partition owns them now
  standby.release();
  live_.fetch_add(1, std::memory_order_relaxed);
}

std::unique_ptr<Partition> Partition::Restored(uint32_t id, const Schema& schema,
                                               rcu::CallbackTracker* tracker,
                                               std::chrono::nanoseconds max_publish_delay,
                                               std::unique_ptr<MapSet> current,
                                               uint64_t chain_id) {
  const uint64_t version = current->version;
  auto standby = std::make_unique<MapSet>(schema);
  std::unique_ptr<Partition> p(new Partition(id, schema, tracker, max_publish_delay,
                                             &Publisher::Default(tracker->flavor()),
                                             std::move(current),
                                             std::move(standby)));
  // Nothing below throws. The empty standby is marked invalid: the first
  // publication replaces it by a copy of the restored set.
  p->queue_.StartAt(version);
  p->published_version_.store(version, std::memory_order_relaxed);
  CheckedMutexLock lock(&p->mu_);
  p->published_entries_.store(p->current_->Entries(), std::memory_order_relaxed);
  p->NoteBytesLocked();
  p->standby_valid_ = false;
  p->dirty_.Start(version, chain_id);
  return p;
}

Partition::~Partition() {
  if (group_commit()) publisher_->Cancel(this);  // normally MarkDropped() did
  live_.fetch_sub(1, std::memory_order_release);
  // Normally ReleaseSets() ran already (drop); this covers the rest.
  CheckedMutexLock lock(&mu_);
  if (current_ != nullptr) current_->Unref();
  if (standby_ != nullptr) standby_->Unref();
}

absl::Status Partition::DroppedError() const {
  return MakeError(ErrorCode::kNoPartition, absl::StrCat("partition ", id_, " was dropped"));
}

// ---- commit

absl::StatusOr<CommitResult> Partition::Commit(const Schema& schema, std::unique_ptr<Delta>& delta,
                                               bool keep_sealed, uint64_t expect_version) {
  if (!group_commit()) {
    CheckedMutexLock lock(&mu_);
    if (dropped_.load(std::memory_order_relaxed)) return DroppedError();
    return PublishCommitLocked(/*may_wait=*/true, delta, expect_version);
  }
  // Group commit: never wait for mu_ nor for a grace period. Whoever holds
  // mu_ (a publication, another writer) publishes this batch later or serves
  // the request made below; else the publisher does. Unless the sealed
  // backlog is past its bound: then this commit publishes it, waiting.
  if (dropped_.load(std::memory_order_acquire)) return DroppedError();
  auto backlog_full = [this] {
    return queue_.entries() > SealedBacklogBound(published_entries_.load(std::memory_order_relaxed));
  };
  if (backlog_full()) {
    mu_.Lock();  // after a publication in progress, which may take the backlog
  } else if (!mu_.TryLock()) {
    SealOutcome s;
    try {
      s = Seal(schema, delta, keep_sealed, expect_version, /*locked=*/false);
    } catch (const std::bad_alloc&) {
      return NoMemory();
    }
    if (!s.retry_locked) {
      if (s.result.ok()) RequestPublish();
      return s.result;
    }
    // The changelog must resolve this batch's merges against batches sealed
    // before a listener was set, which a publication may be resolving in
    // place: wait for it (only until those batches are published).
    mu_.Lock();
  }
  // Nothing from here to UnlockPublisher() may throw (statuses made in
  // between are made inside PublishLocked's and Seal's try blocks).
  absl::StatusOr<CommitResult> r = NoMemory();
  const bool dropped = dropped_.load(std::memory_order_relaxed);
  const CommitAction action =
      DecideCommit({/*group_commit=*/true, /*got_mutex=*/true, StandbyReclaimed(), backlog_full()});
  if (dropped) {
  } else if (action != CommitAction::kSeal) {
    if (action == CommitAction::kPublishWaiting) counters_.backlog_publications.Add();
    r = PublishCommitLocked(/*may_wait=*/action == CommitAction::kPublishWaiting, delta,
                            expect_version);
  } else {
    try {
      r = Seal(schema, delta, keep_sealed, expect_version, /*locked=*/true).result;
    } catch (const std::bad_alloc&) {
    }
  }
  UnlockPublisher();
  if (dropped) return DroppedError();
  return r;
}

absl::StatusOr<CommitResult> Partition::PublishCommitLocked(bool may_wait,
                                                            std::unique_ptr<Delta>& delta,
                                                            uint64_t expect_version) {
  if (absl::Status s = PublishLocked(may_wait, &delta, expect_version); !s.ok()) return s;
  const uint64_t version = current_->version;
  return CommitResult{version, true, version, 0};
}

class Partition::ChangelogSeal final : public SealHook {
 public:
  ChangelogSeal(Partition& p, const ChangelogFn& fn) : p_(p), fn_(fn) {}

  absl::Status BeforeQueue(uint64_t version, Delta& queued,
                           const std::vector<std::unique_ptr<Delta>>& earlier,
                           durable::ChangelogEncoder& encoder) override {
    std::vector<MapSet::Undo> undo;
    try {
      undo.reserve(queued.size());
      // Under the queue's lock the published set cannot change: a
      // publication replaces it in its final step, under this lock too.
      const MapSet* published = p_.slot_.Load();
      for (size_t t = 0; t < queued.tables().size(); ++t) {
        for (auto& [key, op] : queued.tables()[t].ops) {
          if (op.kind != Op::kMerge) continue;
          std::string value = Resolve(static_cast<TableId>(t), key, op.value, earlier, *published);
          undo.push_back(MapSet::Undo{&op, std::move(op.value)});  // reserved: cannot throw
          op.value = std::move(value);
          op.kind = Op::kPut;
        }
      }
      absl::Status s = Notify(fn_, p_.id_, version,
                              EncodeRecord(p_.schema_, p_.id_, version, queued, encoder));
      if (!s.ok()) MapSet::UndoResolved(undo);
      return s;
    } catch (const std::bad_alloc&) {
      MapSet::UndoResolved(undo);
      return NoMemory();
    }
  }

 private:
  // The merge of `operand` into the key's value after every batch in
  // `earlier` (their own merges, if sealed without the changelog, included).
  std::string Resolve(TableId t, const std::string& key, const std::string& operand,
                      const std::vector<std::unique_ptr<Delta>>& earlier,
                      const MapSet& published) {
    const MergeKind kind = p_.schema_.kinds[t];
    const MergeOperator* mop = p_.schema_.tables[t].merge.get();
    std::vector<const std::string*> operands;  // newest first
    const std::string* base = nullptr;
    bool known = false;  // the value before `operands` is known from the batches
    for (auto it = earlier.rbegin(); it != earlier.rend() && !known; ++it) {
      const Delta& d = **it;
      if (const Op* o = d.Find(t, key)) {
        if (o->kind == Op::kPut) {
          base = &o->value;
          known = true;
        } else if (o->kind == Op::kErase) {
          known = true;
        } else {
          operands.push_back(&o->value);
        }
      }
      if (d.cleared(t)) known = true;  // cleared before its ops: nothing older counts
    }
    if (!known) {
      auto it = published.tables[t].find(key);
      if (it != published.tables[t].end()) base = &it->second;
    }
    bool exists = base != nullptr;
    std::string value = exists ? *base : std::string();
    for (auto it = operands.rbegin(); it != operands.rend(); ++it) {
      MergeInto(kind, mop, value, exists, **it);
      exists = true;
    }
    MergeInto(kind, mop, value, exists, operand);
    return value;
  }

  Partition& p_;
  const ChangelogFn& fn_;
};

Partition::SealOutcome Partition::Seal(const Schema& schema, std::unique_ptr<Delta>& delta,
                                       bool keep_sealed, uint64_t expect_version, bool locked) {
  try {
    publisher_->EnsureStarted();
  } catch (const std::system_error&) {
    throw std::bad_alloc();  // no thread: as short of memory as it gets
  }
  const Clock::TimePoint now = publisher_->clock().Now();
  const ChangelogFn* fn = changelog_ != nullptr ? changelog_->Load() : nullptr;
  std::optional<ChangelogSeal> hook;
  if (fn != nullptr) hook.emplace(*this, *fn);
  SealedQueue::Result r = queue_.Seal(
      schema, delta,
      SealedQueue::SealRequest{keep_sealed, expect_version, hook ? &*hook : nullptr, locked},
      published_version_);
  switch (r.outcome) {
    case SealedQueue::Outcome::kSealed:
      break;
    case SealedQueue::Outcome::kNeedsPublicationLock:
      return SealOutcome{true, NoMemory()};
    case SealedQueue::Outcome::kUnexpectedVersion:
      return SealOutcome{false, UnexpectedVersion(expect_version, r.committed)};
    case SealedQueue::Outcome::kRefused:
      return SealOutcome{false, std::move(r.error)};
  }
  // The oldest sealed batch sets the deadline (Schedule never fails).
  if (r.sealed.first) publisher_->Schedule(this, now + max_publish_delay_);
  return SealOutcome{false, CommitResult{r.sealed.version, false, r.sealed.published_version,
                                         r.sealed.epoch}};
}

// ---- lock-or-delegate
//
// mu_ is taken with TryLock (a group commit that must not wait) or Lock and
// released by UnlockPublisher(), which first serves the publication requests
// made while it was held: a scoped lock cannot express "unlock, then try
// again to serve a request that raced with the unlock". Nothing between the
// lock and UnlockPublisher() throws (PublishLocked and Seal's callers catch).

void Partition::RequestPublish() {
  publish_requested_.store(true, std::memory_order_release);
  if (mu_.TryLock()) UnlockPublisher();
  // Else the holder sees the request in its UnlockPublisher().
}

void Partition::ServeRequestLocked() {
  if (publish_requested_.exchange(false, std::memory_order_acq_rel) &&
      !dropped_.load(std::memory_order_relaxed) && current_ != nullptr && StandbyReclaimed() &&
      !queue_.empty()) {
    (void)PublishLocked(/*may_wait=*/false, nullptr);  // on failure: the publisher's
  }
}

void Partition::UnlockPublisher() {
  ServeRequestLocked();
  mu_.Unlock();
  // A request made while we held mu_ found it taken: serve it.
  while (publish_requested_.load(std::memory_order_acquire) && mu_.TryLock()) {
    ServeRequestLocked();
    mu_.Unlock();
  }
}

// ---- the publisher's thread

bool Partition::BeforeGrace() {
  bool wait;
  {
    CheckedMutexLock lock(&mu_);
    grace_mark_ = retirements_;
    wait = current_ != nullptr && !StandbyReclaimed() && !queue_.empty();
  }
  if (wait) {
    GraceWaitBegin(kPublisherWait);
    publisher_wait_ = true;
  }
  return wait;
}

void Partition::PublishDue(bool waited) noexcept {
  if (publisher_wait_) {
    publisher_wait_ = false;
    GraceWaitEnd(kPublisherWait);
  }
  CheckedMutexLock lock(&mu_);
  if (dropped_.load(std::memory_order_relaxed) || current_ == nullptr || queue_.empty()) return;
  if (waited && retirements_ == grace_mark_) {
    // The standby was retired before the grace period the publisher just
    // waited for: it is reclaimed even if its ticket has not run yet.
    uint64_t seen = standby_->reclaimed_gen.load(std::memory_order_relaxed);
    const uint64_t gen = standby_->retired_gen;
    while (seen < gen && !standby_->reclaimed_gen.compare_exchange_weak(
                             seen, gen, std::memory_order_release, std::memory_order_relaxed)) {
    }
  }
  if (!PublishLocked(/*may_wait=*/true, nullptr).ok()) {
    // Out of memory: try again one delay later.
    publisher_->Schedule(this, publisher_->clock().Now() + max_publish_delay_);
  }
}

// ---- flush, drop, stats

absl::StatusOr<uint64_t> Partition::Flush() {
  mu_.Lock();
  const bool dropped = dropped_.load(std::memory_order_relaxed);
  const bool ok = dropped || queue_.empty() || PublishLocked(/*may_wait=*/true, nullptr).ok();
  const uint64_t version = dropped ? 0 : current_->version;
  UnlockPublisher();
  if (dropped) return DroppedError();
  if (!ok) return NoMemory();
  return version;
}

void Partition::MarkDropped() {
  {
    CheckedMutexLock lock(&mu_);
    dropped_.store(true, std::memory_order_release);
  }
  // After dropped_ is set: the publisher skips it from now on, and a seal
  // that raced with the drop scheduled it before this unschedules it.
  if (group_commit()) publisher_->Cancel(this);
}

void Partition::ReleaseSets() {
  CheckedMutexLock lock(&mu_);
  if (current_ != nullptr) slot_.DropHold();  // handles may keep it (TableReader)
  if (standby_ != nullptr) standby_->Unref();
  current_ = standby_ = nullptr;
  missed_.clear();
  queue_.Clear();
}

// ---- checkpoints

absl::StatusOr<DirtyKeys> Partition::CheckpointCut(EncodeFn encode) {
  CheckedMutexLock lock(&mu_);
  if (dropped_.load(std::memory_order_relaxed) || current_ == nullptr) return DroppedError();
  // Tracking starts with the first checkpoint: until it completes there is
  // no base an increment could extend.
  if (!dirty_.tracking()) dirty_.Start(current_->version, 0);
  if (absl::Status s = encode(*current_, dirty_); !s.ok()) return s;
  return dirty_.Take(current_->version);
}

void Partition::CheckpointDone(DirtyKeys& taken, bool ok, uint64_t chain_id) {
  CheckedMutexLock lock(&mu_);
  if (ok) {
    dirty_.SetChain(chain_id);
  } else {
    dirty_.Restore(std::move(taken));
  }
}

PartitionStats Partition::Stats() {
  CheckedMutexLock lock(&mu_);
  PartitionStats s;
  if (current_ == nullptr) return s;
  s.version = current_->version;
  s.committed_version = s.commits = queue_.committed();
  for (const TableMap& m : current_->tables) s.entries.push_back(m.size());
  s.approx_bytes = current_->ApproxBytes() + standby_->ApproxBytes();
  const Sampled x = Sample();  // the counters, under mu_: none moves meanwhile
  s.publications = x.publications;
  s.commit_wait_ns = x.commit_wait_ns;
  s.grace_waits = x.grace_waits;
  s.standby_copies = x.standby_copies;
  s.catch_ups = x.catch_ups;
  s.backlog_publications = x.backlog_publications;
  s.stalled_grace_periods = x.stalled_grace_periods;
  s.grace_wait_age_ns = x.grace_wait_age_ns;
  s.pins_alive = static_cast<uint32_t>(x.pins_alive);
  return s;
}

Partition::Sampled Partition::Sample() const noexcept {
  Sampled s;
  s.version = published_version_.load(std::memory_order_acquire);
  s.commits = commits_.load(std::memory_order_relaxed);
  s.publications = counters_.publications.Get();
  s.commit_wait_ns = counters_.commit_wait_ns.Get();
  s.grace_waits = counters_.grace_waits.Get();
  s.standby_copies = counters_.standby_copies.Get();
  s.catch_ups = counters_.catch_ups.Get();
  s.backlog_publications = counters_.backlog_publications.Get();
  s.stalled_grace_periods = stalled_grace_periods();
  s.grace_wait_age_ns = grace_wait_age_ns();
  s.approx_bytes = approx_bytes_.load(std::memory_order_relaxed);
  s.pins_alive = pins_->load(std::memory_order_relaxed);
  return s;
}

void Partition::PublishedEntries(std::vector<size_t>* out) const {
  const MapSet* set = slot_.Load();
  if (set == nullptr) return;
  for (const TableMap& m : set->tables) out->push_back(m.size());
}

void Partition::set_store_metrics(StoreMetrics* m) {
  store_metrics_ = m;
  counters_.publications.Mirror(&m->publications);
  counters_.commit_wait_ns.Mirror(&m->commit_wait_ns);
  counters_.grace_waits.Mirror(&m->grace_waits);
  counters_.standby_copies.Mirror(&m->standby_copies);
  counters_.catch_ups.Mirror(&m->catch_ups);
  counters_.backlog_publications.Mirror(&m->backlog_publications);
}

void Partition::NoteBytesLocked() {
  if (current_ == nullptr) return;
  approx_bytes_.store(current_->ApproxBytes() + standby_->ApproxBytes(),
                      std::memory_order_relaxed);
}

int64_t Partition::NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Partition::GraceWaitBegin(int slot) {
  const int64_t now = NowNs();
  CheckedMutexLock lock(&stall_mu_);
  grace_wait_started_ns_[slot] = now;
}

// The clock is read under stall_mu_ here and in stalled_grace_periods(): a
// wait a reader saw past the threshold in progress is past it when it ends,
// so the partition's count never goes down.
void Partition::GraceWaitEnd(int slot) {
  CheckedMutexLock lock(&stall_mu_);
  const int64_t now = NowNs();
  const int64_t started = grace_wait_started_ns_[slot];
  if (started == 0) return;
  if (now - started > tracker_->stall_threshold().count()) ++stalled_grace_periods_;
  grace_wait_started_ns_[slot] = 0;
  if (store_metrics_ != nullptr) {
    store_metrics_->grace_wait.Record(static_cast<uint64_t>(now - started));
    if (now - started > tracker_->stall_threshold().count()) {
      store_metrics_->stalled_grace_periods.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

uint64_t Partition::stalled_grace_periods() const {
  CheckedMutexLock lock(&stall_mu_);
  const int64_t now = NowNs();
  uint64_t n = stalled_grace_periods_;  // ended; plus those in progress past the threshold
  for (int64_t started : grace_wait_started_ns_) {
    if (started != 0 && now - started > tracker_->stall_threshold().count()) ++n;
  }
  return n;
}

uint64_t Partition::grace_wait_age_ns() const {
  const int64_t now = NowNs();
  CheckedMutexLock lock(&stall_mu_);
  uint64_t age = 0;
  for (int64_t started : grace_wait_started_ns_) {
    if (started != 0 && now > started) age = std::max(age, static_cast<uint64_t>(now - started));
  }
  return age;
}

size_t Partition::ApproxBytes() {
  CheckedMutexLock lock(&mu_);
  size_t bytes = sizeof(Partition) + queue_.ApproxBytes() + pool_.ApproxBytes(DeltaBytes) +
                 missed_.capacity() * sizeof(missed_[0]) + sealed_.capacity() * sizeof(Delta*) +
                 undo_.capacity() * sizeof(MapSet::Undo);
  for (const auto& d : missed_) bytes += DeltaBytes(*d);
  bytes += dirty_.ApproxBytes();
  if (current_ != nullptr) bytes += current_->ApproxBytes() + current_->FixedBytes();
  if (standby_ != nullptr) bytes += standby_->ApproxBytes() + standby_->FixedBytes();
  // The pin counter shared by the sets (with its control block).
  bytes += 2 * sizeof(std::atomic<uint32_t>) + 2 * sizeof(void*);
  return bytes;
}

}  // namespace rcustate::detail
