// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/commit.cpp
#include "rcustate/abi.hpp"
#include "src/core/commit.hpp"

#include <chrono>
#include <new>

#include "rcustate/status.hpp"
#include "src/core/thread_deltas.hpp"
#include "src/rcu/rcu.hpp"

namespace RCUSTATE_NAMESPACE::detail {

absl::StatusOr<uint64_t> CommitForThread(const std::shared_ptr<StoreState>& store,
                                         uint32_t partition, std::unique_ptr<Delta>* batch,
                                         uint64_t expect_version) {
  const auto start = std::chrono::steady_clock::now();
  if (store->WaitWouldSelfDeadlock()) return InsideReadSection("Commit");
  rcu::OfflineScope offline(store->flavor());  // QSBR: blocking calls are quiescent
  if (absl::Status s = store->CheckOpen(); !s.ok()) return s;
  try {
    absl::StatusOr<ThreadEntry*> e = ThreadEntryFor(store, partition);
    if (!e.ok()) return e.status();
    ThreadEntry& entry = **e;
    const bool group_commit = store->max_publish_delay.count() > 0;
    absl::StatusOr<CommitResult> r =
        entry.Commit(batch, group_commit, [&](std::unique_ptr<Delta>& delta) {
          return entry.partition()->Commit(store->schema, delta, /*keep_sealed=*/group_commit,
                                           expect_version);
        });
    if (!r.ok()) {
      // Dropped meanwhile: the entry and its changes went with the partition.
      // Any other error (kNoMemory) changed nothing; the delta stays.
      if (ErrorCodeOf(r.status()) == ErrorCode::kNoPartition) EraseThreadEntry(*store, partition);
      return r.status();
    }
    entry.partition()->CountCommit();
    store->metrics.commit_latency.RecordSince(start);
    return r->version;
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory, "Commit: out of memory (nothing was committed)");
  }
}

absl::StatusOr<uint64_t> FlushForThread(const std::shared_ptr<StoreState>& store,
                                        uint32_t partition) {
  if (store->WaitWouldSelfDeadlock()) return InsideReadSection("Flush");
  rcu::OfflineScope offline(store->flavor());  // QSBR: blocking calls are quiescent
  if (absl::Status s = store->CheckOpen(); !s.ok()) return s;
  try {
    absl::StatusOr<PartitionRef> p = store->Acquire(partition);
    if (!p.ok()) return p.status();
    absl::StatusOr<uint64_t> v = (*p)->Flush();
    if (!v.ok()) return v;
    if (ThreadEntry* e = FindThreadEntry(*store, partition); e != nullptr && e->partition() == p->get()) {
      e->DropAllSealed();
    }
    return v;
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory, "Flush: out of memory");
  }
}

}  // namespace rcustate::detail
