// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/scenario_common.hpp
//
// What the scenarios (scenario_*.hpp) share: the record values, the marker
// tables of the batch-atomicity invariant and its check, the prefill, the
// timed commit, and the bookkeeping of the writer and reader loops.
//
// Scenarios are written once against the implementation interface
// (impl_base.hpp) and instantiated for each implementation in its own
// translation unit (run_<impl>.cpp), so every implementation runs the very
// same code with its calls inlined. That is why they are headers of
// templates: there is nothing implementation-independent worth a .cpp.
//
// Batch-atomicity invariant (checked by every reader, inside one read
// section, whenever the implementation claims batch atomicity):
//  - groupby / pinscan / partitions / lookup: every commit writes its batch
//    counter into the marker key and into K keys of two more tables; a reader
//    must see all 2K+1 equal, and the marker of a partition never goes back.
//    A pin scan must see sum(count) == prefilled keys + marker * B.
//  - window: every commit writes the number of records of the open window
//    into a meta key; a reader must see sum over all groups of count equal to
//    it (so a window close, which clears the tables, is atomic too).
// The writer also verifies the final state (sum of counts == records written)
// and, in window, every closed window (its groups add up to its records).
#ifndef RCUSTATE_BENCH_SCENARIO_COMMON_HPP_
#define RCUSTATE_BENCH_SCENARIO_COMMON_HPP_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/attributes.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/driver.hpp"
#include "bench/workload.hpp"

namespace rcsbench {

// A record's value: deterministic in its stream position, 0..1023.
inline int64_t RecordValue(uint64_t pos) {
  return static_cast<int64_t>((pos * 0x9E3779B97F4A7C15ull) >> 54);
}

// The merge operand of a count: 1.
inline std::string_view OneI64() {
  static constexpr char kOne[8] = {1, 0, 0, 0, 0, 0, 0, 0};
  return std::string_view(kOne, 8);
}

// Sleeps `d` in short slices, returning early once the run stops.
inline void SleepUnlessStopped(const Shared& sh, absl::Duration d) {
  const uint64_t end = NowNs() + static_cast<uint64_t>(absl::ToInt64Nanoseconds(d));
  while (!sh.stopped()) {
    const uint64_t now = NowNs();
    if (now >= end) return;
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<uint64_t>(end - now, 5'000'000)));
  }
}

// The marker + K keys of two tables (see the file comment).
struct MarkerTables {
  uint32_t marker, a, b, k;

  template <class Impl>
  void Put(Impl& impl, uint32_t p, int64_t counter) const {
    char v[8];
    EncodeI64(counter, v);
    const std::string_view sv(v, 8);
    impl.Put(p, marker, MarkerKey(), sv);
    for (uint32_t i = 0; i < k; ++i) {
      impl.Put(p, a, InvKey(i), sv);
      impl.Put(p, b, InvKey(i), sv);
    }
  }
  // True if all agree; *counter gets the marker (0 when absent).
  template <class View>
  bool Consistent(const View& v, int64_t* counter) const {
    const std::optional<std::string_view> m = v.Find(marker, MarkerKey());
    bool ok = true;
    for (uint32_t i = 0; i < k; ++i) {
      if (v.Find(a, InvKey(i)) != m || v.Find(b, InvKey(i)) != m) ok = false;
    }
    *counter = m.has_value() ? DecodeI64(*m) : 0;
    return ok;
  }
  uint32_t reads() const { return 1 + 2 * k; }
};

// What a reader found in the marker tables of partition p: a violation when
// the implementation claims batch atomicity (torn, or the marker went back
// from *last), else a torn read counted.
template <class Impl>
inline void CheckMarker(Shared& sh, bool ok, uint32_t p, int64_t marker, int64_t* last) {
  if constexpr (Impl::kBatchAtomic) {
    if (!ok) sh.Violation(absl::StrFormat("torn batch in partition %u (marker %d)", p, marker));
    if (marker < *last) {
      sh.Violation(absl::StrFormat("partition %u went back from batch %d to %d", p, *last, marker));
    }
    *last = marker;
  } else {
    if (!ok) sh.torn.fetch_add(1, std::memory_order_relaxed);
  }
}

// Fills writer w's partitions: with --prefill every key of the partition
// (write_key(impl, p, id) writes key id), committed in batches of at least
// 65536, then the markers at batch 0; and publishes it all.
template <class Impl, class WriteKey>
void PrefillPartitions(Impl& impl, Shared& sh, uint32_t w, const MarkerTables& markers,
                       WriteKey&& write_key) {
  const Config& cfg = sh.cfg;
  const uint64_t kpp = sh.keys_per_partition();
  const uint64_t pb = std::max<uint64_t>(cfg.batch, 65536);
  const auto nw = static_cast<uint32_t>(sh.writers.size());
  if (!sh.Leads(w, nw)) return;  // the group's first writer fills the partitions
  for (uint32_t p : sh.Owned(w, nw)) {
    if (cfg.prefill) {
      for (uint64_t id = 0; id < kpp; ++id) {
        write_key(impl, p, id);
        if ((id + 1) % pb == 0) impl.Commit(p);
      }
    }
    markers.Put(impl, p, 0);
    impl.Commit(p);
    // The steady state starts from a published prefill: group commit may
    // still hold prefill batches (65536 keys each) sealed, which would
    // otherwise be published, and counted, in the timed phase.
    impl.Finish(p);
  }
}

// Adds the final state's size to the shared totals.
template <class View>
void AccountLive(Shared& sh, const View& v, size_t num_tables, size_t value_bytes_table0,
                 size_t value_bytes_other) {
  for (uint32_t t = 0; t < num_tables; ++t) {
    const size_t n = v.Size(t);
    sh.entries.fetch_add(n, std::memory_order_relaxed);
    sh.live_bytes.fetch_add(MapBytes(n, 8, t == 0 ? value_bytes_table0 : value_bytes_other),
                            std::memory_order_relaxed);
  }
}

// A writer's timed phase: Begin() before its loop, End() after it (which also
// tells the control thread this writer is done).
class WriterTimer {
 public:
  explicit WriterTimer(WriterOut& out) : out_(out) {}
  void Begin() {
    out_.t_start = NowNs();
    cpu0_ = ThreadCpuNs();
  }
  void End(Shared& sh) {
    out_.t_end = NowNs();
    out_.cpu_ns = ThreadCpuNs() - cpu0_;
    sh.writers_done.fetch_add(1, std::memory_order_release);
  }

 private:
  WriterOut& out_;
  uint64_t cpu0_ = 0;
};

// Commits partition p's batch of `records` records, timing the commit, and
// publishes the writer's progress. Always inlined: the scenario loops must
// compile as they did when this was written out in each of them (GCC stopped
// inlining Impl::Commit into window's loop otherwise: +40% instructions per
// record for locked, copy and lr-sync).
template <class Impl>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void TimedCommit(Impl& impl, uint32_t p, uint64_t records,
                                                     WriterOut& out, ThreadCounters& tc) {
  const uint64_t t0 = NowNs();
  impl.Commit(p);
  out.commit.Add(NowNs() - t0);
  out.records += records;
  ++out.commits;
  tc.records.store(out.records, std::memory_order_relaxed);
}

// --reader_section: the end of a read section that started at `start` (0
// when sections are not held: one round of lookups each).
inline uint64_t SectionEnd(const Config& cfg, uint64_t start) {
  const int64_t ns = absl::ToInt64Nanoseconds(cfg.reader_section);
  return ns > 0 ? start + static_cast<uint64_t>(ns) : 0;
}

// Publishes a reader's phase-`ph` counts for the progress line.
inline void PublishReads(ThreadCounters& tc, const ReaderOut& out, int ph) {
  tc.reads[ph].store(out.reads[ph], std::memory_order_relaxed);
  tc.sections[ph].store(out.sections[ph], std::memory_order_relaxed);
}

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_SCENARIO_COMMON_HPP_
