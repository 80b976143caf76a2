// SPDX-License-Identifier: LGPL-2.1-or-later
// File: rcustate/store.hpp
//
// The store: one object per process (or per independent state) holding the
// table schema, the partition directory and the partitions' snapshots.
//
// Use it when many threads read keyed state that one (or a few) writer threads
// update in batches: every commit publishes a complete new version of a
// partition with one pointer store, readers see either all of a batch or none
// of it, and reads take no lock. State is kept in memory; Checkpoint, Restore,
// a changelog listener and Apply make it durable (docs/durability.md). Do not
// use it when every single update must be visible to other threads on its own
// (commit per update costs a grace period each).
//
//   rcustate::StoreOptions o;
//   o.tables = {{"counts", rcustate::AddInt64()}, {"names", nullptr}};
//   auto store = rcustate::Store::Open(o).value();
//   store->CreatePartition(0).IgnoreError();
//   store->Merge(0, 0, "clicks", rcustate::EncodeInt64(1)).IgnoreError();
//   store->Commit(0).value();                       // version 1, visible to all
//   rcustate::ReadSection rs;
//   auto v = store->Get(0, 0, "clicks").value();    // optional<string_view>
//
// Thread rules: every member may be called from any thread concurrently,
// except Close() (once, when no other thread uses the store). Calls that may
// wait for a grace period (Commit, Flush, DropPartition, Close, ...) return
// kState inside a read section. After fork() the child may go on using every
// store it inherited, provided fork() was not called inside a read section
// nor while another thread was inside a call of the library.
//
// Failures: a call either does all of its work or changes nothing and returns
// an error; a failed allocation is kNoMemory (the delta, batch, partition or
// directory is then exactly as it was, and the call may be retried).
//
// Reclamation contract (see docs/design.md):
//  - A published snapshot is never modified while a reader can see it.
//  - Versions start at 0 and grow by exactly 1 per commit.
//  - Everything retired is freed after a grace period; Close() waits for all
//    of it, so nothing of ours leaks.
#ifndef RCUSTATE_STORE_HPP_
#define RCUSTATE_STORE_HPP_

#include "rcustate/abi.hpp"
#include "rcustate/export.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rcustate/merge.hpp"
#include "rcustate/options.hpp"
#include "rcustate/snapshot.hpp"
#include "rcustate/write_handle.hpp"

namespace RCUSTATE_NAMESPACE {

class WriteBatch;

class RCUSTATE_EXPORT Store {
 public:
  // kInvalidArgument for no tables, an empty or duplicate table name, an
  // expected_entries above kMaxExpectedEntries, a negative max_publish_delay;
  // kNoMemory.
  static absl::StatusOr<std::unique_ptr<Store>> Open(StoreOptions options);

  // Close()s the store if that was not done.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Drops every partition and waits until everything retired is freed. After
  // it every other member returns kState. kState inside a read section.
  // Pins and batches still alive stay valid until released (they keep the
  // memory they need). Idempotent. Costs one grace period if the store has
  // partitions, plus waiting for callbacks still queued (retired snapshots);
  // closing an empty store waits for nothing. kNoMemory: still open.
  absl::Status Close();

  // ---- schema
  size_t num_tables() const;
  // kNoTable if no table has this name.
  absl::StatusOr<TableId> FindTable(std::string_view name) const;
  // kNoTable for an unknown id.
  absl::StatusOr<TableSpec> GetTableSpec(TableId table) const;

  // ---- partitions
  // kExists if it exists; kNoMemory (e.g. an expected_entries hint memory
  // cannot satisfy): nothing created. Never waits. O(1).
  absl::Status CreatePartition(uint32_t partition);
  // Removes the partition; readers already inside it finish undisturbed, its
  // memory is freed after a grace period (never waits for one unless the
  // memory budget is exceeded). O(1). kNoPartition, kState (inside a read
  // section), kNoMemory (not dropped).
  absl::Status DropPartition(uint32_t partition);
  bool HasPartition(uint32_t partition) const;
  std::vector<uint32_t> ListPartitions() const;
  // The published version. kNoPartition.
  absl::StatusOr<uint64_t> Version(uint32_t partition) const;

  // ---- reads (lock-free; the calling thread must be inside a ReadSection,
  //      else kState). Views are valid until that section ends.
  // The published snapshot (without this thread's uncommitted writes).
  absl::StatusOr<SnapshotView> Snapshot(uint32_t partition) const;
  // The value of `key` as this thread sees it: its own uncommitted
  // thread-local writes first, then the published snapshot. nullopt: absent.
  absl::StatusOr<std::optional<std::string_view>> Get(uint32_t partition, TableId table,
                                                      std::string_view key) const;
  absl::StatusOr<bool> Contains(uint32_t partition, TableId table, std::string_view key) const;
  // Like Get but usable anywhere: opens its own section and copies the value
  // into *out. Returns false if the key is absent.
  absl::StatusOr<bool> GetCopy(uint32_t partition, TableId table, std::string_view key,
                               std::string* out) const;

  // A read handle on one table of a partition: resolved once, then each
  // lookup is inline (see TableReader). May be called inside or outside a
  // read section. kNoTable, kNoPartition, kState (store closed).
  absl::StatusOr<TableReader> Reader(uint32_t partition, TableId table) const;

  // A long-lived handle on the published snapshot. O(1). May be called inside
  // or outside a read section. kNoPartition.
  absl::StatusOr<PinnedSnapshot> Pin(uint32_t partition);

  // ---- writes through the calling thread's delta for `partition`
  // Errors as WriteBatch, plus kNoPartition: also once, with a message saying
  // so, when the partition was dropped (and perhaps re-created) after this
  // thread wrote to it: its uncommitted changes were discarded with it. The
  // next call works on the partition as it is now.
  absl::Status Put(uint32_t partition, TableId table, std::string_view key, std::string_view value);
  absl::Status Erase(uint32_t partition, TableId table, std::string_view key);
  absl::Status Merge(uint32_t partition, TableId table, std::string_view key,
                     std::string_view operand);
  absl::Status Clear(uint32_t partition, TableId table);
  // Publishes this thread's delta for the partition (even an empty one: every
  // commit creates a version) and returns the new version. Several threads may
  // commit to one partition; commits serialize, a put is last-committer-wins.
  // kNoPartition (see the writes above), kState (inside a read section, store
  // closed), kNoMemory (nothing committed; the delta is kept for a retry).
  absl::StatusOr<uint64_t> Commit(uint32_t partition);
  // Makes every committed batch of the partition visible now (under group
  // commit some may be sealed and unpublished; under the default policy this
  // is a no-op) and returns the published version. May wait for a grace
  // period. kNoPartition, kState (inside a read section, store closed).
  absl::StatusOr<uint64_t> Flush(uint32_t partition);
  // Drops this thread's uncommitted delta for the partition. kNoPartition.
  absl::Status Abort(uint32_t partition);

  // Statistics of one partition. kNoPartition. It may wait while a commit
  // of the partition waits for a grace period (so, on a thread online for
  // QSBR, it is a quiescent state); GraceStalls() never waits.
  absl::StatusOr<PartitionStats> Stats(uint32_t partition) const;

  // Statistics of the whole store (StoreStats): counters since it opened,
  // dropped partitions' counts included; gauges over the partitions now;
  // the commit-latency and grace-wait histograms. Never waits for a commit
  // or a grace period, so a monitor sees a stall while it lasts. Any thread,
  // inside a read section too. O(partitions). kState (closed), kNoMemory.
  absl::StatusOr<StoreStats> Stats() const;
  // The store's statistics and each partition's in the Prometheus text
  // exposition format (version 0.0.4; docs/design.md lists the metrics),
  // ready to be served on a /metrics endpoint. Same rules as Stats().
  absl::StatusOr<std::string> MetricsText() const;

  // ---- read flavor (StoreOptions::read_flavor)
  ReadFlavor read_flavor() const;
  // True if the calling thread may read this store now: inside a
  // ReadSection (memb), or online (QSBR).
  bool CanRead() const;
  // Grace-period stalls over every partition. Never blocks and works on
  // any thread: a monitor sees a stall while commits wait in it.
  GraceStallStats GraceStalls() const;

  // ---- durability (docs/durability.md)
  // Writes a checkpoint of the partition's newest published version into
  // `dir` (one partition's checkpoints; created if missing) while writers
  // and readers go on: never a thread's uncommitted writes. A crash at any
  // instant leaves the newest complete chain of `dir` restorable; a full
  // checkpoint deletes the older chains once it is durable. Checkpoints of
  // one partition serialize. kNoPartition; kIo (nothing written, the
  // previous chain intact, the store unchanged), kCorrupt (the newest file
  // of `dir` is damaged: an incremental checkpoint cannot extend it),
  // kNoMemory, kState (store closed).
  absl::StatusOr<CheckpointInfo> Checkpoint(uint32_t partition, std::string_view dir,
                                            CheckpointKind kind);
  // Creates the partition from the newest complete chain in `dir`, built
  // off-line and published at the chain's version (Version() returns it,
  // the next commit makes version + 1). On any error the partition does not
  // exist afterwards. kExists; kInvalidArgument (the tables' names or merge
  // operators differ from the store's: the message names the difference);
  // kCorrupt (a damaged file, or one of another partition: the message names
  // the file and the problem); kIo (no checkpoint in `dir`, a read error);
  // kNoMemory; kState.
  absl::StatusOr<CheckpointInfo> Restore(uint32_t partition, std::string_view dir);

  // Sets (or, with nullptr, removes) the changelog listener (ChangelogFn).
  // Commits that start after it returns call the new one. Under group commit,
  // the first commits after a listener is set may wait for a publication in
  // progress (once, for the batches sealed before). kState (store closed).
  absl::Status SetChangelog(ChangelogFn fn);
  // Applies a changelog record (from this store or another with the same
  // tables) as one atomic commit of `partition`, returning the partition's
  // committed version afterwards. A record whose version is not above the
  // committed version is skipped (idempotent); version + 1 is applied; a
  // later one is kState naming the expected and the given version. kInvalidArgument:
  // a record of another partition, or one whose tables are not this store's;
  // kCorrupt: a malformed record; kNoPartition, kNoMemory, kIo (the
  // listener refused the commit). Not inside a read section (kState).
  absl::StatusOr<uint64_t> Apply(uint32_t partition, std::string_view record);

  // ---- write handles
  // A write handle on one table of the calling thread's delta for the
  // partition (write_handle.hpp): resolved once, then each Put/Merge/Erase
  // is one call with no lookup. The handle belongs to the calling thread.
  // kNoTable, kNoPartition (also once, like Put, after a drop that discarded
  // this thread's changes), kState (store closed), kNoMemory.
  absl::StatusOr<WriteHandle> Writer(uint32_t partition, TableId table);

 private:
  static absl::StatusOr<std::unique_ptr<Store>> OpenImpl(StoreOptions options);
  friend class WriteBatch;
  friend class ReadSection;
  explicit Store(std::shared_ptr<detail::StoreState> state);
  std::shared_ptr<detail::StoreState> state_;
};

}  // namespace rcustate

#endif  // RCUSTATE_STORE_HPP_
