// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/driver.hpp
//
// Runs one scenario against one implementation: starts the writer, reader and
// auxiliary threads, lets them prefill, times the run (optionally in two
// phases), prints the progress line, samples memory, stops everything and
// turns what the threads measured into a RunResult.
//
// A scenario class provides (all templates on the implementation Impl):
//   Schema schema() const;
//   double phase0_seconds() const;   // readers-only phase before the writers start (lookup)
//   bool has_aux() const;            // runs Aux() on one more thread (pinscan)
//   void Prefill(Impl&, Shared&, uint32_t writer);
//   void Write(Impl&, Shared&, uint32_t writer, WriterOut&);   // returns once shared.stop is set
//   void Read(Impl&, Shared&, uint32_t reader, ReaderOut&);    // same
//   void Aux(Impl&, Shared&);                                  // same
// Write() must, after its timed loop, call Impl::Finish on its partitions and
// verify the final state (Shared::Violation on a mismatch) and add the live
// state's size to Shared::live_bytes / entries.
//
// The implementation is built, used and destroyed on the one thread that
// calls Drive(), which registers itself with the implementation's RCU (the
// baselines' teardown needs a registered thread).
#ifndef RCUSTATE_BENCH_DRIVER_HPP_
#define RCUSTATE_BENCH_DRIVER_HPP_

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/histogram.hpp"
#include "bench/memory.hpp"
#include "bench/workload.hpp"

namespace rcsbench {

// Counters a thread publishes (relaxed) for the progress line and phases.
struct alignas(64) ThreadCounters {
  std::atomic<uint64_t> records{0}, commits{0};
  std::atomic<uint64_t> reads[2] = {0, 0};
  std::atomic<uint64_t> sections[2] = {0, 0};
};

struct WriterOut {
  Histogram commit;
  uint64_t records = 0, commits = 0;
  uint64_t t_start = 0, t_end = 0;  // the writer's own timed window
  uint64_t cpu_ns = 0;              // CPU time the writer thread got in that window
  uint64_t windows_closed = 0;
};

struct ReaderOut {
  Histogram read;  // phase-1 samples only
  uint64_t reads[2] = {0, 0}, sections[2] = {0, 0};
  uint64_t cpu_ns[2] = {0, 0};  // CPU time the thread got in each phase
  // Call on every section with its phase: attributes CPU time to phases.
  void Phase(int ph) {
    if (ph == cur_phase) return;
    const uint64_t now = ThreadCpuNs();
    if (cur_phase >= 0) cpu_ns[cur_phase] += now - cpu_mark;
    cur_phase = ph;
    cpu_mark = now;
  }
  void End() { Phase(-1); }
  int cur_phase = -1;
  uint64_t cpu_mark = 0;
};

struct Shared {
  Shared(const Config& c, const Workload& w, uint32_t nw, uint32_t nr)
      : cfg(c), wl(w), writers(nw), readers(nr), partition_records(c.partitions) {}
  const Config& cfg;
  const Workload& wl;
  std::atomic<bool> stop{false};
  std::atomic<uint32_t> writers_done{0};  // writers that reached --records
  std::atomic<int> phase{0};  // 0: readers alone (lookup), 1: everybody
  std::atomic<uint64_t> t_phase1{0};
  std::vector<ThreadCounters> writers, readers;
  // Correctness.
  std::atomic<uint64_t> violations{0}, torn{0};
  std::mutex mu;
  std::vector<std::string> examples;  // guarded by mu
  // Final state.
  std::atomic<uint64_t> live_bytes{0}, entries{0};
  // pinscan.
  std::atomic<uint64_t> pins{0}, scan_ns{0}, rss_pinned{0};
  // lookup on a single-threaded implementation: its one thread reads.
  ReaderOut solo_reader;
  // --writers_per_partition > 1: the timed records each partition received
  // from all its writers (its first writer checks the final state with it).
  std::vector<std::atomic<uint64_t>> partition_records;

  void Violation(std::string what) {
    violations.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu);
    if (examples.size() < 8) examples.push_back(std::move(what));
  }
  bool stopped() const { return stop.load(std::memory_order_relaxed); }
  // True once the writer with `records` written should end its timed loop.
  bool WriterDone(uint64_t records) const {
    return stopped() || (cfg.max_records != 0 && records >= cfg.max_records);
  }
  // Writers that share each partition (--writers_per_partition; 1 for a
  // one-thread implementation).
  uint32_t PerPartition(uint32_t num_writers) const {
    return std::min(cfg.writers_per_partition, num_writers);
  }
  // Partitions written by writer w: the writers of one group (w / N, N
  // writers per partition) all write the same partitions.
  std::vector<uint32_t> Owned(uint32_t w, uint32_t num_writers) const {
    const uint32_t n = PerPartition(num_writers);
    std::vector<uint32_t> ps;
    for (uint32_t p = w / n; p < cfg.partitions; p += num_writers / n) ps.push_back(p);
    return ps;
  }
  // The first writer of its group: it prefills, writes the markers and
  // checks the final state; the others only write records.
  bool Leads(uint32_t w, uint32_t num_writers) const { return w % PerPartition(num_writers) == 0; }
  // A group's leader, after its timed loop: waits until every writer left
  // its own (their records are all committed then).
  void AwaitWriters() const {
    while (writers_done.load(std::memory_order_acquire) < writers.size()) std::this_thread::yield();
  }
  uint64_t keys_per_partition() const {
    return std::max<uint64_t>(1, wl.keys() / cfg.partitions);
  }
};

// Waits until `deadline_ns` while printing the progress line once a second
// and sampling RSS into *samples.
void ControlWait(Shared& sh, const std::string& label, uint64_t t_begin, uint64_t deadline_ns,
                 uint64_t rss_base, std::vector<std::pair<uint64_t, uint64_t>>* samples);
// Ends the progress line.
void ControlDone(const Config& cfg);

// When the timed phases ran: phase 1 (everybody) from t1 to t_stop, after a
// readers-only phase 0 of d0_ns (0: none).
struct PhaseTimes {
  uint64_t t1, t_stop, d0_ns;
};
// The process's RSS before the implementation existed, its peak in the timed
// phase, and the (ns since phase 1, RSS above the base) samples.
struct MemorySamples {
  uint64_t rss_base, peak;
  const std::vector<std::pair<uint64_t, uint64_t>>* samples;
};
// Fills r's throughput, CPU shares and latencies from what the writers and
// `readers` (the solo reader of a one-thread implementation included)
// measured; CPU shares divide by `reader_threads`. Returns the writers' wall
// time (ns).
uint64_t SummarizeThreads(const std::vector<WriterOut>& writers,
                          const std::vector<const ReaderOut*>& readers, uint32_t reader_threads,
                          const PhaseTimes& times, RunResult& r);
// After the implementation's counters are in r (Impl::Collect): the commit
// wait fraction, memory, the final state and the correctness counters.
void SummarizeRun(const Shared& sh, uint64_t wall, uint32_t writer_threads,
                  const MemorySamples& mem, RunResult& r);

template <class Impl, class Sc>
RunResult Drive(const Config& cfg, const Workload& wl, Sc& sc) {
  RunResult r = ResultFor(cfg, wl.keys());

  const uint32_t nw = Impl::kConcurrent ? cfg.writers : 1;
  const uint32_t nr = Impl::kConcurrent ? cfg.readers : 0;
  const uint32_t na = (Impl::kConcurrent && sc.has_aux()) ? 1 : 0;
  r.writers = nw;
  r.readers = nr;

  TrimHeap();
  const uint64_t rss_base = CurrentRss();
  Impl::ThreadStart();
  std::optional<Impl> impl;
  impl.emplace(sc.schema(), cfg);
  if (absl::Status s = impl->Init(); !s.ok()) {
    r.skipped = true;
    r.note = absl::StrFormat("skipped: %s", s.ToString());
    impl.reset();
    Impl::ThreadStop();
    return r;
  }

  Shared sh(cfg, wl, nw, nr);
  std::vector<WriterOut> wout(nw);
  std::vector<ReaderOut> rout(nr);
  std::barrier sync(static_cast<ptrdiff_t>(nw + nr + na + 1));
  // A thread about to block tells the implementation (QSBR threads go
  // offline: blocked online, they would stall every grace period).
  auto wait = [&sync] {
    if constexpr (requires { Impl::ThreadIdle(); }) Impl::ThreadIdle();
    sync.arrive_and_wait();
  };
  std::vector<std::thread> threads;
  for (uint32_t w = 0; w < nw; ++w) {
    threads.emplace_back([&, w] {
      Impl::ThreadStart();
      sc.Prefill(*impl, sh, w);
      wait();  // prefilled
      wait();  // go
      sc.Write(*impl, sh, w, wout[w]);
      Impl::ThreadStop();
    });
  }
  for (uint32_t i = 0; i < nr; ++i) {
    threads.emplace_back([&, i] {
      Impl::ThreadStart();
      wait();
      wait();
      sc.Read(*impl, sh, i, rout[i]);
      Impl::ThreadStop();
    });
  }
  if (na != 0) {
    threads.emplace_back([&] {
      Impl::ThreadStart();
      wait();
      wait();
      sc.Aux(*impl, sh);
      Impl::ThreadStop();
    });
  }

  sync.arrive_and_wait();  // everybody prefilled: the steady state starts here
  TrimHeap();
  ResetPeakRss();
  const std::string label = absl::StrFormat("%-10s %-12s", cfg.scenario, cfg.impl);
  std::vector<std::pair<uint64_t, uint64_t>> samples;  // (ns since phase 1, rss)
  const uint64_t t_go = NowNs();
  const double d0 = sc.phase0_seconds();
  const uint64_t d1_ns = static_cast<uint64_t>(absl::ToInt64Nanoseconds(cfg.duration));
  sh.t_phase1.store(t_go, std::memory_order_relaxed);
  if (d0 <= 0) sh.phase.store(1, std::memory_order_release);
  sync.arrive_and_wait();  // go
  uint64_t d0_ns = 0;
  if (d0 > 0) {
    d0_ns = static_cast<uint64_t>(d0 * 1e9);
    ControlWait(sh, label + " alone", t_go, t_go + d0_ns, rss_base, nullptr);
    const uint64_t t1 = NowNs();
    d0_ns = t1 - t_go;
    sh.t_phase1.store(t1, std::memory_order_relaxed);
    sh.phase.store(1, std::memory_order_release);
  }
  const uint64_t t1 = sh.t_phase1.load(std::memory_order_relaxed);
  ControlWait(sh, label, t1, t1 + d1_ns, rss_base, &samples);
  const uint64_t peak = PeakRss();
  const uint64_t t_stop = NowNs();
  sh.stop.store(true, std::memory_order_relaxed);
  for (auto& t : threads) t.join();
  ControlDone(cfg);

  std::vector<const ReaderOut*> readers;
  for (const ReaderOut& o : rout) readers.push_back(&o);
  if (!Impl::kConcurrent) readers.push_back(&sh.solo_reader);
  const uint64_t wall = SummarizeThreads(wout, readers, Impl::kConcurrent ? nr : 1,
                                         PhaseTimes{t1, t_stop, d0_ns}, r);
  impl->Collect(r);
  SummarizeRun(sh, wall, nw, MemorySamples{rss_base, peak, &samples}, r);
  r.invariant_checked = Impl::kBatchAtomic;
  if (!Impl::kBatchAtomic) r.note = "no batch atomicity: torn batches counted, not failed";
  if (!Impl::kConcurrent) r.note = "one thread, no synchronization";

  impl.reset();
  Impl::ThreadStop();
  TrimHeap();
  return r;
}

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_DRIVER_HPP_
