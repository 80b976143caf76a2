// File: src/core/partition.cpp
#include "src/core/partition.hpp"

#include <utility>

#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"

namespace rcustate::detail {

std::atomic<int64_t> Partition::live_{0};
std::atomic<void (*)()> publish_taken_hook{nullptr};

Partition::Partition(uint32_t id, const Schema& schema, rcu::CallbackTracker* tracker,
                     std::chrono::nanoseconds max_publish_delay)
    : id_(id),
      schema_(schema),
      tracker_(tracker),
      max_publish_delay_(max_publish_delay),
      current_(new MapSet(schema)),
      standby_(new MapSet(schema)),
      pending_(std::make_unique<Delta>(schema.tables.size())) {
  current_->partition_pins = standby_->partition_pins = std::make_shared<std::atomic<uint32_t>>(0);
  published_ = current_;
  live_.fetch_add(1, std::memory_order_relaxed);
}

Partition::~Partition() {
  live_.fetch_sub(1, std::memory_order_release);
  // Normally ReleaseSets() ran already (drop); this covers the rest.
  if (current_ != nullptr) current_->Unref();
  if (standby_ != nullptr) standby_->Unref();
}

MapSet* Partition::PinPublished() {
  MapSet* set = static_cast<MapSet*>(rcu::Dereference(published_));
  // Inside the read section the set cannot be reused: the writer checks
  // `pins` only after the grace period that follows the set's retirement,
  // which this section delays, so it will see this increment.
  set->Ref();
  set->pins.fetch_add(1, std::memory_order_acq_rel);
  set->partition_pins->fetch_add(1, std::memory_order_relaxed);
  return set;
}

MapSet* Partition::PrepareStandby(bool may_wait) {
  MapSet* set = standby_;
  if (!StandbyReclaimed() && may_wait) {
    // The call_rcu ticket of its last retirement has not run yet: wait for a
    // grace period here. The ticket still runs later; it records an older
    // generation than any later retirement, which is harmless.
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
    for (auto& d : missed_) Recycle(std::move(d));
    missed_.clear();
    ++standby_copies_;
  }
  return set;
}

std::unique_ptr<Delta> Partition::TakeSpare() {
  if (spare_.empty()) return std::make_unique<Delta>(schema_.tables.size());
  std::unique_ptr<Delta> d = std::move(spare_.back());
  spare_.pop_back();
  return d;
}

void Partition::Recycle(std::unique_ptr<Delta> delta) {
  constexpr size_t kMaxSpares = 2;
  if (spare_.size() >= kMaxSpares) return;
  delta->Reset();
  spare_.push_back(std::move(delta));
}

void Partition::PublishLocked(bool may_wait, std::unique_ptr<Delta>* batch) {
  MapSet* next = PrepareStandby(may_wait);
  // Bring the standby to the published state, then add what is new. Each
  // delta is applied twice in all: once to each set, the second time moving
  // its strings.
  for (auto& d : missed_) {
    next->ApplyMove(*d);
    Recycle(std::move(d));
  }
  missed_.clear();
  // Take what is sealed, and give `batch` the next version, in one step
  // against concurrent sealing: the versions taken are exactly those up to
  // `version`.
  std::unique_ptr<Delta> taken = TakeSpare();
  uint64_t version;
  {
    std::lock_guard<std::mutex> seal(seal_mu_);
    std::swap(taken, pending_);
    if (batch != nullptr) ++committed_;
    version = committed_;
    pending_commits_ = 0;
    ++take_epoch_;
  }
  if (!taken->empty()) {
    if (void (*hook)() = publish_taken_hook.load(std::memory_order_acquire)) hook();
    next->ApplyResolving(schema_, *taken);
    missed_.push_back(std::move(taken));
  } else {
    Recycle(std::move(taken));
  }
  if (batch != nullptr) {
    next->ApplyResolving(schema_, **batch);
    missed_.push_back(std::move(*batch));
    *batch = TakeSpare();
  }
  MapSet* previous = current_;
  next->version = version;
  current_ = next;
  rcu::Assign(published_, static_cast<SnapshotData*>(next));
  published_version_.store(version, std::memory_order_release);
  Retire(previous);
  standby_ = previous;
  ++publications_;
}

bool Partition::HasPending() {
  std::lock_guard<std::mutex> seal(seal_mu_);
  return pending_commits_ > 0;
}

void Partition::Retire(MapSet* set) {
  const uint64_t gen = ++set->retired_gen;
  set->Ref();  // the ticket's references
  Ref();
  tracker_->Defer([this, set, gen] {
    uint64_t seen = set->reclaimed_gen.load(std::memory_order_relaxed);
    while (seen < gen &&
           !set->reclaimed_gen.compare_exchange_weak(seen, gen, std::memory_order_release,
                                                     std::memory_order_relaxed)) {
    }
    set->Unref();
    OnReclaimed();
    Unref();
  });
}

void Partition::OnReclaimed() {
  // Blocking: mu_ is held for one publication at most, and no holder of mu_
  // ever waits for a call_rcu callback (Synchronize waits for readers only;
  // Drain is never called under mu_).
  mu_.lock();
  if (!dropped_.load(std::memory_order_relaxed) && current_ != nullptr && StandbyReclaimed()) {
    if (HasPending()) {
      // Group commit: publish what is sealed (an idle writer's batches
      // become visible about one callback latency after their commit).
      PublishLocked(/*may_wait=*/false, nullptr);
    } else {
      CatchUpLocked();
    }
  }
  UnlockPublisher();
}

void Partition::RequestPublish() {
  publish_requested_.store(true, std::memory_order_release);
  if (mu_.try_lock()) UnlockPublisher();
  // Else the holder sees the request in its UnlockPublisher().
}

void Partition::UnlockPublisher() {
  for (;;) {
    if (publish_requested_.exchange(false, std::memory_order_acq_rel) &&
        !dropped_.load(std::memory_order_relaxed) && current_ != nullptr && StandbyReclaimed() &&
        HasPending()) {
      PublishLocked(/*may_wait=*/false, nullptr);
    }
    mu_.unlock();
    // A request made while we held mu_ found it taken: serve it.
    if (!publish_requested_.load(std::memory_order_acquire) || !mu_.try_lock()) return;
  }
}

void Partition::CatchUpLocked() {
  // A pinned standby is left to the commit path, which replaces it by a copy.
  if (missed_.empty() || standby_->pins.load(std::memory_order_acquire) != 0) return;
  for (auto& d : missed_) {
    standby_->ApplyMove(*d);
    Recycle(std::move(d));
  }
  missed_.clear();
  ++catch_ups_;
}

absl::Status Partition::DroppedError() const {
  return MakeError(ErrorCode::kNoPartition, absl::StrCat("partition ", id_, " was dropped"));
}

CommitResult Partition::Seal(const Schema& schema, std::unique_ptr<Delta>& delta,
                             bool keep_sealed, std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> seal(seal_mu_);
  const uint64_t version = ++committed_;
  if (pending_commits_++ == 0) pending_since_ = now;
  // Compact the batch into what is pending. Its merges are resolved at
  // publication, in the standby's slots.
  if (keep_sealed) {
    pending_->Absorb(schema, *delta);
  } else if (pending_->empty()) {
    std::swap(pending_, delta);
    delta->Reset();
  } else {
    pending_->AbsorbMove(schema, *delta);
    delta->Reset();
  }
  // Read under seal_mu_: every batch of an epoch up to this one that is not
  // published yet will be published together with this one.
  return CommitResult{version, false, published_version_.load(std::memory_order_acquire),
                      take_epoch_};
}

absl::StatusOr<CommitResult> Partition::Commit(const Schema& schema, std::unique_ptr<Delta>& delta,
                                               bool keep_sealed) {
  if (max_publish_delay_.count() == 0) {
    mu_.lock();
    if (dropped_.load(std::memory_order_relaxed)) {
      mu_.unlock();
      return DroppedError();
    }
    PublishLocked(/*may_wait=*/true, &delta);
    const uint64_t version = current_->version;
    mu_.unlock();
    return CommitResult{version, true, version, 0};
  }
  // Group commit: never wait for mu_. Whoever holds it (a ticket
  // publishing, another writer) publishes this batch later or serves the
  // request made below.
  if (dropped_.load(std::memory_order_acquire)) return DroppedError();
  const auto now = std::chrono::steady_clock::now();
  if (!mu_.try_lock()) {
    CommitResult r = Seal(schema, delta, keep_sealed, now);
    RequestPublish();
    return r;
  }
  if (dropped_.load(std::memory_order_relaxed)) {
    UnlockPublisher();
    return DroppedError();
  }
  bool expired;
  {
    std::lock_guard<std::mutex> seal(seal_mu_);
    expired = pending_commits_ > 0 && now - pending_since_ >= max_publish_delay_;
  }
  if (StandbyReclaimed() || expired) {
    PublishLocked(/*may_wait=*/true, &delta);
    const uint64_t version = current_->version;
    UnlockPublisher();
    return CommitResult{version, true, version, 0};
  }
  CommitResult r = Seal(schema, delta, keep_sealed, now);
  UnlockPublisher();
  return r;
}

absl::StatusOr<uint64_t> Partition::Flush() {
  mu_.lock();
  if (dropped_.load(std::memory_order_relaxed)) {
    UnlockPublisher();
    return DroppedError();
  }
  if (HasPending()) PublishLocked(/*may_wait=*/true, nullptr);
  const uint64_t version = current_->version;
  UnlockPublisher();
  return version;
}

void Partition::MarkDropped() {
  mu_.lock();
  dropped_.store(true, std::memory_order_release);
  mu_.unlock();
}

void Partition::ReleaseSets() {
  mu_.lock();
  if (current_ != nullptr) DropLastSetHold();  // handles may keep it (TableReader)
  if (standby_ != nullptr) standby_->Unref();
  current_ = standby_ = nullptr;
  missed_.clear();
  {
    std::lock_guard<std::mutex> seal(seal_mu_);
    pending_->Reset();
    pending_commits_ = 0;
  }
  mu_.unlock();
}

PartitionStats Partition::Stats() {
  mu_.lock();
  PartitionStats s;
  if (current_ == nullptr) {
    mu_.unlock();
    return s;
  }
  s.version = current_->version;
  {
    std::lock_guard<std::mutex> seal(seal_mu_);
    s.committed_version = s.commits = committed_;
  }
  for (const TableMap& m : current_->tables) s.entries.push_back(m.size());
  s.approx_bytes = current_->ApproxBytes() + standby_->ApproxBytes();
  s.publications = publications_;
  s.commit_wait_ns = commit_wait_ns_;
  s.grace_waits = grace_waits_;
  s.standby_copies = standby_copies_;
  s.catch_ups = catch_ups_;
  s.pins_alive = current_->partition_pins->load(std::memory_order_relaxed);
  mu_.unlock();
  return s;
}

size_t Partition::ApproxBytes() {
  mu_.lock();
  const size_t bytes =
      current_ == nullptr ? 0 : current_->ApproxBytes() + standby_->ApproxBytes();
  mu_.unlock();
  return bytes;
}

void Partition::AddReader() {
  Ref();
  // Relaxed: the caller's read section (the directory's reference and the
  // partition's hold are dropped only after a grace period) or handle keeps
  // both counts above zero.
  last_set_holds_.fetch_add(1, std::memory_order_relaxed);
}

void Partition::RemoveReader() {
  DropLastSetHold();
  Unref();
}

void Partition::DropLastSetHold() {
  if (last_set_holds_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // The partition was dropped (ReleaseSets gave up its hold) and this was the
  // last handle: published_ is frozen and nobody can load it any more.
  MapSet* last = static_cast<MapSet*>(published_);
  published_ = nullptr;
  last->Unref();
}

}  // namespace rcustate::detail
