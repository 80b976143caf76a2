// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/store_state.cpp
#include "rcustate/abi.hpp"
#include "src/core/store_state.hpp"

#include <algorithm>
#include <memory>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"

namespace RCUSTATE_NAMESPACE::detail {
namespace {
std::atomic<uint64_t> next_store_id{1};
}  // namespace

absl::Status NoPartition(uint32_t partition) {
  return MakeError(ErrorCode::kNoPartition, absl::StrCat("partition ", partition, " does not exist"));
}

absl::Status InsideReadSection(const char* what) {
  return MakeError(ErrorCode::kState,
                   absl::StrCat(what, " is not allowed inside a read section (it may wait for a "
                                      "grace period, which the open section would block)"));
}

absl::Status NotProtected(const StoreState& store, const char* what) {
  if (store.flavor() == rcu::Flavor::kQsbr) {
    return MakeError(ErrorCode::kState,
                     absl::StrCat(what, " on a QSBR store requires the calling thread to be "
                                        "online (ThreadOnline)"));
  }
  return MakeError(ErrorCode::kState, absl::StrCat(what, " requires an open ReadSection"));
}

StoreState::StoreState(Schema s, size_t budget, std::chrono::nanoseconds delay, rcu::Flavor flavor,
                       std::chrono::nanoseconds stall_threshold)
    : id(next_store_id.fetch_add(1, std::memory_order_relaxed)),
      schema(std::move(s)),
      memory_budget(budget),
      max_publish_delay(delay),
      tracker_(flavor, stall_threshold) {}

void StoreState::GraceStalls(uint64_t* stalled, uint64_t* oldest_wait_ns) const {
  *stalled = 0;
  *oldest_wait_ns = 0;
  rcu::ScopedRead section(flavor());
  directory_.ForEach([&](const Partition& p) {
    *stalled += p.stalled_grace_periods();
    *oldest_wait_ns = std::max(*oldest_wait_ns, p.grace_wait_age_ns());
  });
}

// Close() emptied the directory and drained the tracker before the last
// reference could go; the directory frees its pages.
StoreState::~StoreState() = default;

absl::Status StoreState::CheckOpen() const {
  if (!closed()) return absl::OkStatus();
  return MakeError(ErrorCode::kState, "the store is closed");
}

absl::StatusOr<PartitionRef> StoreState::Acquire(uint32_t partition) const {
  if (absl::Status s = CheckOpen(); !s.ok()) return s;
  Partition* p;
  {
    rcu::ScopedRead section(flavor());
    p = Find(partition);
    if (p != nullptr) p->Ref();  // the directory's reference keeps it alive while we are inside
  }
  if (p == nullptr) return NoPartition(partition);
  return PartitionRef(p);
}

absl::Status StoreState::Create(uint32_t partition) {
  return Insert(partition, [&] {
    return std::make_unique<Partition>(partition, schema, &tracker_, max_publish_delay);
  });
}

absl::Status StoreState::CreateRestored(uint32_t partition, std::unique_ptr<MapSet> set,
                                        uint64_t chain_id) {
  return Insert(partition, [&] {
    return Partition::Restored(partition, schema, &tracker_, max_publish_delay, std::move(set),
                               chain_id);
  });
}

template <typename Make>
absl::Status StoreState::Insert(uint32_t partition, Make&& make) {
  if (absl::Status s = CheckOpen(); !s.ok()) return s;
  try {
    CheckedMutexLock lock(&dir_mu_);
    // Checked again under the lock: Close() empties the directory under it.
    if (absl::Status s = CheckOpen(); !s.ok()) return s;
    if (directory_.Find(partition) != nullptr) {
      return MakeError(ErrorCode::kExists, absl::StrCat("partition ", partition, " already exists"));
    }
    directory_.Reserve(partition);  // may throw: empty pages stay, harmless
    // Close() collects the partitions here without allocating (it is called
    // from ~Store, which cannot report an error): room grows with them.
    if (close_scratch_.capacity() < directory_.size() + 1) {
      close_scratch_.reserve(std::max<size_t>(16, 2 * close_scratch_.capacity()));
    }
    std::unique_ptr<Partition> p = make();
    p->set_changelog(&changelog);
    p->set_grace_recorder(&grace_wait);
    directory_.Set(partition, p.release());  // cannot fail
    return absl::OkStatus();
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory,
                     absl::StrCat("creating partition ", partition,
                                  ": out of memory (expected_entries too large?)"));
  }
}

rcu::CallbackTracker::Ticket StoreState::PrepareRetire(Partition* p, size_t bytes) {
  return tracker_.Prepare([this, p, bytes] {
    p->ReleaseSets();
    p->Unref();
    pending_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  });
}

void StoreState::Retire(Partition* p, size_t bytes, rcu::CallbackTracker::Ticket ticket) noexcept {
  p->MarkDropped();
  pending_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  tracker_.Defer(std::move(ticket));
}

absl::Status StoreState::Drop(uint32_t partition) {
  if (WaitWouldSelfDeadlock()) return InsideReadSection("dropping a partition");
  rcu::OfflineScope offline(flavor());  // QSBR: blocking calls are quiescent
  if (absl::Status s = CheckOpen(); !s.ok()) return s;
  // Over budget: let the pending reclamation finish before adding to it (this
  // waits for the readers that hold the dropped partitions).
  if (pending_bytes() > memory_budget) tracker_.Drain();
  try {
    // What may block -- the partition's mutex (held by a commit that may wait
    // for a grace period) in ApproxBytes and MarkDropped, the publisher in
    // MarkDropped -- runs without dir_mu_: a thread that creates a partition
    // (never waits, allowed inside a read section) must not queue behind it.
    absl::StatusOr<PartitionRef> ref = Acquire(partition);
    if (!ref.ok()) return ref.status();
    Partition* p = ref->get();
    const size_t bytes = p->ApproxBytes() + rcu::CallbackTracker::kNodeBytes;
    rcu::CallbackTracker::Ticket ticket = PrepareRetire(p, bytes);  // the one allocation
    Partition::Sampled at_removal;
    {
      CheckedMutexLock lock(&dir_mu_);
      if (absl::Status s = CheckOpen(); !s.ok()) return s;
      // Dropped (and perhaps re-created) by another thread meanwhile.
      if (directory_.Find(partition) != p) return NoPartition(partition);
      CheckedMutexLock totals(&totals_mu_);
      at_removal = p->Sample();
      AddDroppedLocked(at_removal, Partition::Sampled{});
      directory_.Set(partition, nullptr);
    }
    Retire(p, bytes, std::move(ticket));  // the directory's reference goes to the ticket
    // Marked dropped: its counters are final (`ref` keeps it alive).
    CheckedMutexLock totals(&totals_mu_);
    AddDroppedLocked(p->Sample(), at_removal);
    return absl::OkStatus();
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory,
                     absl::StrCat("dropping partition ", partition, ": out of memory (not dropped)"));
  }
}

absl::Status StoreState::Close() {
  if (WaitWouldSelfDeadlock()) return InsideReadSection("closing the store");
  rcu::OfflineScope offline(flavor());
  std::vector<Partition*> dropped;
  {
    CheckedMutexLock lock(&dir_mu_);
    if (closed()) return absl::OkStatus();
    // Never allocates: Create() kept room for every partition.
    closed_.store(true, std::memory_order_release);
    dropped.swap(close_scratch_);
    directory_.TakeAll(&dropped);
  }
  // One grace period for all of them: after it no reader can see any, so
  // they are released here rather than through one callback each (and the
  // call_rcu batching latency a barrier would add).
  if (!dropped.empty()) {
    for (Partition* p : dropped) p->MarkDropped();
    rcu::Synchronize(flavor());
    for (Partition* p : dropped) {
      p->ReleaseSets();
      p->Unref();
    }
  }
  // Callbacks still queued (retired map sets, earlier drops) hold references
  // into this state: wait for them, only if there are any.
  tracker_.Drain();
  return absl::OkStatus();
}

void StoreState::AddDroppedLocked(const Partition::Sampled& now,
                                  const Partition::Sampled& since) {
  auto add = [](uint64_t& total, uint64_t n, uint64_t before) { total += n > before ? n - before : 0; };
  add(dropped_.publications, now.publications, since.publications);
  add(dropped_.commit_wait_ns, now.commit_wait_ns, since.commit_wait_ns);
  add(dropped_.grace_waits, now.grace_waits, since.grace_waits);
  add(dropped_.standby_copies, now.standby_copies, since.standby_copies);
  add(dropped_.catch_ups, now.catch_ups, since.catch_ups);
  add(dropped_.backlog_publications, now.backlog_publications, since.backlog_publications);
  add(dropped_.stalled_grace_periods, now.stalled_grace_periods, since.stalled_grace_periods);
}

absl::Status StoreState::Collect(StoreStats* out, std::vector<PartitionMetrics>* partitions) const {
  if (absl::Status s = CheckOpen(); !s.ok()) return s;
  StoreStats st;
  commit_latency.Read(&st.commit_latency);
  grace_wait.Read(&st.grace_wait);
  st.reclamation_callbacks = static_cast<uint64_t>(std::max<int64_t>(0, tracker_.pending()));
  st.reclamation_bytes = pending_bytes();
  std::vector<size_t> entries;
  {
    CheckedMutexLock lock(&totals_mu_);
    st.publications = dropped_.publications;
    st.commit_wait_ns = dropped_.commit_wait_ns;
    st.grace_waits = dropped_.grace_waits;
    st.standby_copies = dropped_.standby_copies;
    st.catch_ups = dropped_.catch_ups;
    st.backlog_publications = dropped_.backlog_publications;
    st.stalled_grace_periods = dropped_.stalled_grace_periods;
    rcu::ScopedRead section(flavor());  // closed even if an allocation throws
    directory_.ForEachSlot([&](uint32_t id, const Partition& p) {
      const Partition::Sampled s = p.Sample();
      entries.clear();
      p.PublishedEntries(&entries);
      ++st.partitions;
      for (size_t n : entries) st.entries += n;
      st.approx_bytes += s.approx_bytes;
      st.pins_alive += s.pins_alive;
      st.oldest_grace_wait_ns = std::max(st.oldest_grace_wait_ns, s.grace_wait_age_ns);
      st.publications += s.publications;
      st.commit_wait_ns += s.commit_wait_ns;
      st.grace_waits += s.grace_waits;
      st.standby_copies += s.standby_copies;
      st.catch_ups += s.catch_ups;
      st.backlog_publications += s.backlog_publications;
      st.stalled_grace_periods += s.stalled_grace_periods;
      if (partitions != nullptr) partitions->push_back(PartitionMetrics{id, s, entries});
    });
  }
  // Commits are counted by the commit path itself, which times every one:
  // exact even for a commit that returns while its partition is dropped
  // (its partition's count may miss it then).
  st.commits = st.commit_latency.count;
  *out = std::move(st);
  return absl::OkStatus();
}

std::vector<uint32_t> StoreState::List() const {
  std::vector<uint32_t> ids;
  {
    rcu::ScopedRead section(flavor());  // closed even if push_back throws
    directory_.AppendIds(&ids);
  }
  return ids;  // AppendIds lists in increasing order
}

}  // namespace rcustate::detail
