// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/config.hpp
//
// What one run is asked to do (Config, filled from the flags by flags.cpp) and
// what it measured (RunResult, printed by report_*.cpp).
#ifndef RCUSTATE_BENCH_CONFIG_HPP_
#define RCUSTATE_BENCH_CONFIG_HPP_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace rcsbench {

struct Distribution {
  bool zipf = false;
  double theta = 0.0;  // zipf skew, 0 < theta < 1
  std::string ToString() const;
};

struct Config {
  std::string scenario;             // groupby | window | lookup | pinscan | partitions
  std::string impl;                 // implementation name (rcustate-gc selects group commit)
  uint64_t keys = 100000;           // distinct keys (all partitions together)
  uint32_t batch = 1000;            // records per commit
  Distribution dist;
  uint32_t readers = 1;
  uint32_t writers = 1;
  uint32_t partitions = 1;          // resolved (never 0)
  uint32_t value_size = 8;          // lookup values
  absl::Duration duration = absl::Seconds(2);
  bool prefill = true;              // insert every key before timing
  uint32_t inv_keys = 4;            // K of the batch-atomicity invariant
  uint32_t reads_per_section = 1;   // point lookups per read section (resolved)
  // groupby / lookup / pinscan: a reader keeps each read section open at
  // least this long, doing lookups until it has passed (a scan); 0 = one
  // round of reads_per_section lookups per section.
  absl::Duration reader_section = absl::ZeroDuration();
  // Writer threads committing to each partition (writers must be a multiple):
  // writer w writes the partitions of group w / writers_per_partition.
  uint32_t writers_per_partition = 1;
  double write_rate = 0;            // lookup: records/s of the writer, 0 = full speed
  double lookup_alone = 0.5;        // lookup: readers-only phase, fraction of duration
  uint32_t groupby_aggs = 4;        // 1..4: count, +sum, +min, +max
  uint32_t groups1 = 20, groups2 = 10;
  uint64_t window_records = 1000000;  // records per one-minute window
  absl::Duration pin_interval = absl::Seconds(1);
  absl::Duration pin_hold = absl::Milliseconds(500);
  uint32_t ref_partitions = 1;      // partitions: the reference run's partition count
  bool ref_same_total = true;       // partitions: reference keeps --keys (else keys per partition)
  absl::Duration gc_delay = absl::Milliseconds(10);  // rcustate-gc max_publish_delay
  // How rcustate readers look keys up: "reader" (TableReader handles made once),
  // "snapshot" (Store::Snapshot(p)->Table(t)->Find), "get" (Store::Get).
  std::string rcustate_read = "reader";
  // rcustate-ckpt: a checkpointer thread writes a checkpoint of every
  // partition into checkpoint_dir/p-N every checkpoint_incr_every, a full one
  // when checkpoint_full_every has passed since the last full one (else an
  // incremental one). rcustate-log: a changelog listener appends every record
  // to checkpoint_dir/changelog through a 1 MiB buffer. Empty dir: a fresh
  // directory under $TMPDIR, removed after the run.
  std::string checkpoint_dir;
  absl::Duration checkpoint_full_every = absl::Seconds(2);
  absl::Duration checkpoint_incr_every = absl::Milliseconds(500);
  uint64_t max_records = 0;         // per writer; 0 = until --duration ends
  bool progress = true;
  uint64_t seed = 42;
};

// One implementation in one scenario.
struct RunResult {
  std::string scenario, impl;
  bool skipped = false;
  std::string note;                 // why skipped, or what is special about this run
  // Parameters the point was measured at (sweeps plot against them).
  uint64_t keys = 0;
  uint32_t batch = 0, readers = 0, writers = 0, partitions = 0;
  uint32_t writers_per_partition = 1;
  double reader_section_us = 0;     // --reader_section (0: none)
  std::string dist;

  double seconds = 0;               // timed phase
  uint64_t records = 0;             // applied by writers in the timed phase
  uint64_t commits = 0;
  uint64_t reads = 0;               // point lookups by readers in the timed phase
  uint64_t sections = 0;            // reader read sections in the timed phase
  double records_per_s = 0, reads_per_s = 0, commits_per_s = 0;
  // Read latency: one read section (its lookups and checks), sampled.
  double read_p50_ns = 0, read_p99_ns = 0, read_p999_ns = 0;
  uint64_t read_samples = 0;
  // Commit latency: every commit, as the writer sees it.
  double commit_p50_ns = 0, commit_p99_ns = 0, commit_p999_ns = 0, commit_max_ns = 0;
  double commit_mean_ns = 0;
  uint64_t commit_wait_ns = 0;      // writers blocked on readers: grace periods / lock acquisition
  double commit_wait_frac = 0;      // of the writers' timed wall time
  uint64_t grace_periods = 0;       // synchronous grace periods the writers waited for
  uint64_t async_reclaims = 0;      // call_rcu callbacks queued (copy, lfht, rcustate publications)
  uint64_t publications = 0;        // snapshots published (rcustate: < commits under group commit)
  uint64_t standby_copies = 0;      // rcustate: standbys rebuilt because pinned
  uint64_t catch_ups = 0;           // rcustate: missed batches replayed by tickets, off the commit path
  uint64_t backlog_publications = 0;  // rcustate-gc: commits past the sealed backlog's bound
  // rcustate-ckpt: checkpoints written while the implementation existed
  // (prefill included), their bytes and durations (wall time of
  // Store::Checkpoint); rcustate-log: changelog records and bytes appended.
  uint64_t ckpt_full = 0, ckpt_incr = 0, ckpt_full_bytes = 0, ckpt_incr_bytes = 0;
  uint64_t ckpt_incr_entries = 0;
  double ckpt_full_ms_mean = 0, ckpt_full_ms_max = 0, ckpt_incr_ms_mean = 0, ckpt_incr_ms_max = 0;
  uint64_t changelog_records = 0, changelog_bytes = 0;
  // Memory (bytes). Process RSS minus the RSS before the implementation existed.
  uint64_t rss_peak = 0;            // peak during the timed phase
  uint64_t rss_mid = 0, rss_end = 0;  // sampled at half time and at the end
  uint64_t rss_pinned = 0;          // pinscan: highest RSS sampled while a pin was held
  uint64_t live_bytes = 0;          // one plain copy of the final state (common.hpp MapBytes)
  uint64_t impl_bytes = 0;          // what the implementation reports (rcustate: both map sets)
  uint64_t entries = 0;
  // Correctness.
  uint64_t violations = 0;          // batch-atomicity / monotonicity / final-state failures
  uint64_t torn_reads = 0;          // non-atomic implementations: torn batches seen (expected)
  bool invariant_checked = false;
  std::vector<std::string> violation_examples;
  // Scenario specifics.
  double reads_alone_per_s = 0;     // lookup: readers with no writer
  double isolation = 0;             // lookup: reads_per_s / reads_alone_per_s
  double ref_records_per_s = 0;     // partitions: the same with ref_partitions
  double partition_scaling = 0;     // partitions: records_per_s / ref_records_per_s
  uint64_t windows_closed = 0;
  uint64_t pins = 0;
  double scan_ms = 0;               // pinscan: mean scan time
  // CPU time the threads actually got (other processes compete for the
  // cores): rates per CPU-second and each role's share of a core.
  double records_per_cpu_s = 0, reads_per_cpu_s = 0;
  double writer_cpu_share = 0, reader_cpu_share = 0, reader_cpu_share_alone = 0;
  double isolation_per_cpu = 0;     // lookup: reads per reader CPU-second, with writer / alone
  // --repeat: every repetition's throughput (this result is the median one).
  std::vector<double> rep_records_per_s, rep_reads_per_s;
};

// A result with the parameters of `cfg` filled in (what groups it with its
// like in the reports); `keys` is the workload's.
inline RunResult ResultFor(const Config& cfg, uint64_t keys) {
  RunResult r;
  r.scenario = cfg.scenario;
  r.impl = cfg.impl;
  r.keys = keys;
  r.batch = cfg.batch;
  r.partitions = cfg.partitions;
  r.dist = cfg.dist.ToString();
  r.writers_per_partition = cfg.writers_per_partition;
  r.reader_section_us = absl::ToDoubleMicroseconds(cfg.reader_section);
  return r;
}

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_CONFIG_HPP_
