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
    p->set_store_metrics(&metrics);
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
    {
      CheckedMutexLock lock(&dir_mu_);
      if (absl::Status s = CheckOpen(); !s.ok()) return s;
      // Dropped (and perhaps re-created) by another thread meanwhile.
      if (directory_.Find(partition) != p) return NoPartition(partition);
      directory_.Set(partition, nullptr);
    }
    Retire(p, bytes, std::move(ticket));  // the directory's reference goes to the ticket
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

absl::Status StoreState::Collect(StoreStats* out, std::vector<PartitionMetrics>* partitions) const {
  if (absl::Status s = CheckOpen(); !s.ok()) return s;
  StoreStats st;
  metrics.commit_latency.Read(&st.commit_latency);
  metrics.grace_wait.Read(&st.grace_wait);
  // Every accepted commit is timed: the histogram's count is the commits'.
  st.commits = st.commit_latency.count;
  auto load = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  st.publications = load(metrics.publications);
  st.commit_wait_ns = load(metrics.commit_wait_ns);
  st.grace_waits = load(metrics.grace_waits);
  st.standby_copies = load(metrics.standby_copies);
  st.catch_ups = load(metrics.catch_ups);
  st.backlog_publications = load(metrics.backlog_publications);
  st.stalled_grace_periods = load(metrics.stalled_grace_periods);
  st.reclamation_callbacks = static_cast<uint64_t>(std::max<int64_t>(0, tracker_.pending()));
  st.reclamation_bytes = pending_bytes();
  // The gauges and the partitions' own figures: a bounded number of
  // partitions per read section, so that a scrape of many partitions never
  // holds up a grace period (and the commits waiting for it) for long.
  constexpr size_t kPerSection = 64;
  std::vector<size_t> entries;
  entries.reserve(schema.tables.size());
  uint32_t next = 0;
  for (bool more = true; more;) {
    if (partitions != nullptr) partitions->reserve(partitions->size() + kPerSection);
    rcu::ScopedRead section(flavor());  // closed even if an allocation throws
    more = directory_.ForEachFrom(next, kPerSection, &next, [&](uint32_t id, const Partition& p) {
      const Partition::Sampled s = p.Sample();
      entries.clear();
      p.PublishedEntries(&entries);
      ++st.partitions;
      for (size_t n : entries) st.entries += n;
      st.approx_bytes += s.approx_bytes;
      st.pins_alive += s.pins_alive;
      st.oldest_grace_wait_ns = std::max(st.oldest_grace_wait_ns, s.grace_wait_age_ns);
      if (partitions != nullptr) partitions->push_back(PartitionMetrics{id, s, entries});
    });
  }
  // A Close() during the walk took the partitions out: not a store's figures.
  if (absl::Status s = CheckOpen(); !s.ok()) return s;
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
