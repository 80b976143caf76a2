// SPDX-License-Identifier: LGPL-2.1-or-later
// File: rcustate/options.hpp
//
// The plain structs of the C++ API: a table's spec, a store's options and a
// partition's statistics, plus the key size limit. store.hpp includes this
// header; the library's internals include it alone, without the Store class.
#ifndef RCUSTATE_OPTIONS_HPP_
#define RCUSTATE_OPTIONS_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rcustate/merge.hpp"

namespace RCUSTATE_NAMESPACE {

// Longest key accepted (bytes).
inline constexpr size_t kMaxKeySize = 64 * 1024;
// Largest TableSpec::expected_entries accepted (2^32): beyond it Store::Open
// returns kInvalidArgument. A hint below it that memory cannot satisfy makes
// CreatePartition return kNoMemory (nothing created).
inline constexpr size_t kMaxExpectedEntries = size_t{1} << 32;

struct TableSpec {
  std::string name;                               // non-empty, unique in the store
  std::shared_ptr<const MergeOperator> merge;     // nullptr: Merge() is refused
  size_t expected_entries = 0;                    // reserve this many slots per partition
                                                  // (at most kMaxExpectedEntries)
};

// How readers of a store are protected (docs/design.md, "Read flavors").
enum class ReadFlavor : uint8_t {
  // Read sections (ReadSection): any thread, any time; an outermost section
  // costs a few thread-local updates (and a call into the library unless the
  // caller uses rcustate/inline_read.hpp).
  kMemb = 0,
  // Quiescent-state-based: threads that are online (ThreadOnline) read with
  // no section at all and announce quiescent states (QuiescentState) or go
  // offline; a thread online that does neither stalls reclamation.
  kQsbr = 1,
};

struct StoreOptions {
  std::vector<TableSpec> tables;  // at least one
  // Bound on bytes of dropped partitions waiting for their grace period (all
  // they hold: maps, keys, values and bookkeeping). Past it, the next
  // DropPartition first waits for pending reclamation (for the readers that
  // still hold dropped partitions), so what waits stays below the budget plus
  // one partition per thread dropping at the same time. (Map sets
  // left to pins are held by the pins, not waiting: see PinnedSnapshot.)
  // 0 = 256 MiB.
  size_t memory_budget_bytes = 0;
  // Publication policy (docs/design.md, "Publication policies"). Zero (the
  // default): every commit publishes before it returns, waiting for a grace
  // period when the standby is not reclaimed yet. Positive: group commit --
  // a commit never waits for a grace period, nor for another thread's
  // publication to wait for one; a batch whose standby is not reclaimed yet
  // stays sealed (still atomic, still visible to the thread that wrote it)
  // and is published by whichever comes first: a later commit that finds
  // the standby reclaimed, Flush(), or the library's publisher thread. Bound: a sealed batch is visible to all
  // threads at most max_publish_delay after the oldest unpublished batch of
  // its partition was sealed, plus the end of the read sections open then
  // (one grace period), plus the publication itself, whether or not anybody
  // commits again. One exception bounds memory: a commit that finds more
  // sealed changes (keys changed, summed over the sealed batches) in its
  // partition than max(65536, published entries / 64) publishes them itself,
  // waiting for the grace period like the default policy: a writer faster
  // than publication is held back instead of piling up sealed batches.
  // Negative: kInvalidArgument.
  absl::Duration max_publish_delay = absl::ZeroDuration();
  // How readers are protected; see ReadFlavor.
  ReadFlavor read_flavor = ReadFlavor::kMemb;
  // A wait for a grace period longer than this counts as stalled
  // (PartitionStats::stalled_grace_periods): a reader that holds a section,
  // or a QSBR thread that stays online without announcing a quiescent state,
  // for that long. Zero: 1 s. Negative: kInvalidArgument.
  absl::Duration stall_threshold = absl::ZeroDuration();
};

struct PartitionStats {
  uint64_t version = 0;               // published version (commits readers can see)
  uint64_t committed_version = 0;     // commits accepted: version + sealed, unpublished ones
  std::vector<size_t> entries;        // per table, in the published snapshot
  size_t approx_bytes = 0;            // both map sets, keys and values included
  uint64_t commits = 0;               // commits accepted
  uint64_t publications = 0;          // snapshots published (< commits under group commit)
  uint64_t commit_wait_ns = 0;        // time commits spent waiting for grace periods
  uint64_t grace_waits = 0;           // commits that had to wait (synchronize_rcu)
  uint64_t standby_copies = 0;        // standbys rebuilt by copying because pinned
  uint64_t catch_ups = 0;             // replays onto the standby done off the commit path
  // Group commit: commits that found the sealed backlog past its bound and
  // published it themselves (waiting for a publication in progress or a
  // grace period, like the default policy).
  uint64_t backlog_publications = 0;
  // Waits for a grace period on behalf of this partition (by its commits or
  // by the group-commit publisher) that lasted longer than the store's
  // stall_threshold, the one in progress included once it passed it.
  uint64_t stalled_grace_periods = 0;
  // How long the wait for a grace period in progress on behalf of this
  // partition has lasted so far (0: none). A monitor alerts on it.
  uint64_t grace_wait_age_ns = 0;
  uint32_t pins_alive = 0;            // pins held on this partition's snapshots, detached ones included
};

// Grace-period stalls of a whole store (Store::GraceStalls).
struct GraceStallStats {
  // Sum of the partitions' stalled_grace_periods.
  uint64_t stalled_grace_periods = 0;
  // Age of the oldest wait for a grace period in progress (0: none).
  uint64_t oldest_grace_wait_ns = 0;
};

// A latency histogram (StoreStats): fixed buckets, observations since the
// store opened.
struct LatencyHistogram {
  // Upper bounds of the buckets in nanoseconds, ascending (1 us to 10 s); a
  // last bucket without a bound follows them.
  std::vector<uint64_t> upper_bounds_ns;
  // Observations per bucket, not cumulative: upper_bounds_ns.size() + 1
  // entries, an observation counted in the first bucket whose bound is at
  // least its value.
  std::vector<uint64_t> counts;
  uint64_t count = 0;   // the sum of counts
  uint64_t sum_ns = 0;  // the sum of the observations
};

// Statistics of a whole store (Store::Stats()). Counters run from the
// store's opening and never decrease: a dropped partition's counts stay in
// them. Gauges describe the partitions that exist now.
struct StoreStats {
  // ---- gauges
  uint64_t partitions = 0;
  uint64_t entries = 0;        // over the published snapshots' tables
  uint64_t approx_bytes = 0;   // the partitions' map sets (as PartitionStats)
  uint64_t pins_alive = 0;     // pins held on the partitions' snapshots
  // Age of the oldest wait for a grace period in progress (0: none).
  uint64_t oldest_grace_wait_ns = 0;
  // Reclamation backlog: call_rcu callbacks queued and not yet run (retired
  // snapshots, dropped partitions), and the bytes dropped partitions hold
  // until theirs has run.
  uint64_t reclamation_callbacks = 0;
  uint64_t reclamation_bytes = 0;
  // ---- counters (PartitionStats' meanings, over every partition the store
  //      has had)
  uint64_t commits = 0;  // commits accepted (Commit, WriteBatch, WriteHandle, Apply)
  uint64_t publications = 0;
  uint64_t grace_waits = 0;
  uint64_t commit_wait_ns = 0;
  uint64_t standby_copies = 0;
  uint64_t catch_ups = 0;
  uint64_t backlog_publications = 0;
  uint64_t stalled_grace_periods = 0;  // ended ones (one in progress: oldest_grace_wait_ns)
  // ---- histograms
  // Commit latency: from the call to its return, for every accepted commit.
  LatencyHistogram commit_latency;
  // Each wait for a grace period on behalf of a partition (a commit's or
  // the group-commit publisher's), from its start to its end.
  LatencyHistogram grace_wait;
};

// ---- durability (docs/durability.md)

enum class CheckpointKind {
  kFull = 0,
  // The changes since the newest checkpoint in the directory, if this store
  // wrote it (or restored from it) and has tracked the partition's changes
  // since; otherwise a full checkpoint is written.
  kIncremental = 1,
};

struct CheckpointInfo {
  uint32_t partition = 0;
  uint64_t version = 0;       // the partition version the checkpoint (or chain) holds
  uint64_t base_version = 0;  // 0 for a full checkpoint, else the version it extends
  uint64_t bytes = 0;         // bytes written (checkpoint) or read (restore)
  uint64_t entries = 0;       // entries written (incremental: changed or deleted keys) or restored
  bool incremental = false;   // what was written (or the chain had increments)
};

// Called once per commit of every partition, in version order per partition,
// before the batch becomes visible to other threads, with the commit's
// changelog record (docs/durability.md, "Changelog records"). A non-OK status
// fails the commit with kIo: nothing is published, the caller's delta or
// batch is kept. Runs on the committing thread (inside the publication, or
// under group commit when the batch is sealed) with the partition's commit
// locks held: it must not call any member of the Store that writes, commits,
// flushes, checkpoints or drops; it should be quick (appending to a log is
// the intended use).
using ChangelogFn =
    std::function<absl::Status(uint32_t partition, uint64_t version, std::string_view record)>;

}  // namespace rcustate

#endif  // RCUSTATE_OPTIONS_HPP_
