// File: src/core/local_delta.hpp
//
// The thread-local deltas: for each (store, partition) a thread writes to,
// the changes it has not committed yet. Store::Put/Merge/... fill them,
// Store::Commit publishes one, Store::Get reads them first
// (read-your-writes).
//
// An entry holds a counted reference to its partition and a shared_ptr to its
// store, so it stays safe after a drop or a close; a dropped partition's
// entry is discarded (with its uncommitted changes) the next time the thread
// touches it. Entries die with their thread.
#ifndef RCUSTATE_SRC_CORE_LOCAL_DELTA_HPP_
#define RCUSTATE_SRC_CORE_LOCAL_DELTA_HPP_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "src/core/delta.hpp"
#include "src/core/store_state.hpp"

namespace rcustate::detail {

// Group commit: batches this thread committed that were sealed, not yet
// visible, when their commit returned. Batches sealed in one epoch of the
// partition (between two publications taking what is pending) become visible
// together, so a group is always wholly published or wholly not.
struct SealedGroup {
  uint64_t epoch = 0;
  uint64_t last_version = 0;  // the version that contains the group's last batch
  // Kept as the batches themselves (a commit costs no copy for them) and
  // folded into `folded` only when the thread reads (SealedView).
  std::vector<std::unique_ptr<Delta>> batches;
  std::unique_ptr<Delta> folded;
};

struct LocalEntry {
  std::shared_ptr<StoreState> store;
  PartitionRef partition;
  std::unique_ptr<Delta> delta;
  // Oldest first. Read after `delta` and before the published snapshot: the
  // groups whose last version the snapshot does not contain yet. A commit
  // drops the groups it finds published.
  std::vector<SealedGroup> sealed;
  std::vector<std::unique_ptr<Delta>> spares;  // emptied batches for reuse
  bool has_sealed() const { return !sealed.empty(); }
};

// Number of this thread's entries with uncommitted changes or a sealed
// record, over all stores. Plain data so that the read path can skip the
// lookup with one TLS load.
extern thread_local constinit size_t local_nonempty __attribute__((tls_model("initial-exec")));

// The calling thread's entry for the partition, created if needed.
// kNoPartition (also for a dropped partition, whose entry is discarded), kState.
absl::StatusOr<LocalEntry*> LocalEntryFor(const std::shared_ptr<StoreState>& store,
                                          uint32_t partition);
// The calling thread's entry, or nullptr; never creates one.
LocalEntry* FindLocalEntry(const StoreState& store, uint32_t partition);

// Applies `change` to the entry's delta, keeping local_nonempty right.
template <typename Change>
absl::Status ChangeLocal(LocalEntry& entry, Change&& change) {
  const bool was_counted = !entry.delta->empty() || entry.has_sealed();
  absl::Status s = std::forward<Change>(change)(*entry.delta);
  if (!was_counted && !entry.delta->empty()) ++local_nonempty;
  return s;
}
// Empties the entry's delta, keeping local_nonempty right.
void ResetLocal(LocalEntry& entry);
// Commits the calling thread's delta for the partition (batch == nullptr) or
// an explicit batch (emptied on success), keeping the thread's sealed record
// (group commit read-your-writes) and local_nonempty right.
// kNoPartition (the thread's entry is then discarded), kState.
absl::StatusOr<uint64_t> CommitForThread(const std::shared_ptr<StoreState>& store,
                                         uint32_t partition, std::unique_ptr<Delta>* batch);
// Flush()es the partition and forgets the thread's sealed record for it.
absl::StatusOr<uint64_t> FlushForThread(const std::shared_ptr<StoreState>& store,
                                        uint32_t partition);
// Forgets the entry (after its partition was found dropped).
void EraseLocal(const StoreState& store, uint32_t partition);

// What the thread's own layers (its unpublished sealed groups, then its
// uncommitted delta) make of `key` over `map`, the table of the snapshot of
// version `snapshot_version`: nullopt if no layer says anything about the key
// (read the map), else the value (nullopt inside: absent). A built value
// lives in the thread's scratch area (ScratchValue).
std::optional<std::optional<std::string_view>> ReadOwn(LocalEntry& entry, const Schema& schema,
                                                       uint64_t snapshot_version, TableId table,
                                                       std::string_view key, const TableMap& map);

// Storage for values this thread materialized for itself (its own pending
// merges): valid until the thread's current outermost read section ends.
std::string* ScratchValue();

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_LOCAL_DELTA_HPP_
