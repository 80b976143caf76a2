// File: bench/scenarios.hpp
//
// The stream-shaped scenarios, written once against the implementation
// interface (see impl_raw.hpp for the smallest implementation) and
// instantiated for each implementation, so every implementation runs the very
// same code with its calls inlined.
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
#ifndef RCUSTATE_BENCH_SCENARIOS_HPP_
#define RCUSTATE_BENCH_SCENARIOS_HPP_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/driver.hpp"
#include "bench/workload.hpp"

namespace rcsbench {

// A record's value: deterministic in its stream position, 0..1023.
inline int64_t RecordValue(uint64_t pos) {
  return static_cast<int64_t>((pos * 0x9E3779B97F4A7C15ull) >> 54);
}

inline void SleepFor(absl::Duration d) {
  std::this_thread::sleep_for(std::chrono::nanoseconds(absl::ToInt64Nanoseconds(d)));
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

// ---------------------------------------------------------------- groupby
// Per record: count (int64 add), sum (double add), min, max of the record's
// value for its group; commit every B records. With several partitions a
// writer round-robins its batches over its partitions (`partitions`
// scenario). `pinscan` adds a thread that pins a snapshot every
// --pin_interval, scans it and holds it for --pin_hold.
class GroupBy {
 public:
  enum : uint32_t { kCount, kSum, kMin, kMax, kMarker, kInvA, kInvB, kNumTables };

  GroupBy(const Config& cfg, bool pin_thread) : cfg_(cfg), pin_(pin_thread) {}

  Schema schema() const {
    Schema s;
    const uint64_t kpp = std::max<uint64_t>(1, cfg_.keys / cfg_.partitions);
    s.tables = {{"count", MergeKind::kAddInt64, kpp}, {"sum", MergeKind::kAddDouble, kpp},
                {"min", MergeKind::kMinInt64, kpp},   {"max", MergeKind::kMaxInt64, kpp},
                {"marker", MergeKind::kNone},         {"inv_a", MergeKind::kNone},
                {"inv_b", MergeKind::kNone}};
    s.partitions = cfg_.partitions;
    return s;
  }
  double phase0_seconds() const { return 0; }
  bool has_aux() const { return pin_; }

  template <class Impl>
  void Prefill(Impl& impl, Shared& sh, uint32_t w) {
    const uint64_t kpp = sh.keys_per_partition();
    const uint64_t pb = std::max<uint64_t>(cfg_.batch, 65536);
    for (uint32_t p : sh.Owned(w, static_cast<uint32_t>(sh.writers.size()))) {
      if (cfg_.prefill) {
        for (uint64_t id = 0; id < kpp; ++id) {
          Record(impl, p, sh.wl.Key(id), RecordValue(id));
          if ((id + 1) % pb == 0) impl.Commit(p);
        }
      }
      kMarkers.Put(impl, p, 0);
      impl.Commit(p);
      // The steady state starts from a published prefill: group commit may
      // still hold prefill batches (65536 keys each) sealed, which would
      // otherwise be published, and counted, in the timed phase.
      impl.Finish(p);
    }
  }

  template <class Impl>
  void Write(Impl& impl, Shared& sh, uint32_t w, WriterOut& out) {
    const Workload& wl = sh.wl;
    const std::vector<uint32_t> owned = sh.Owned(w, static_cast<uint32_t>(sh.writers.size()));
    const uint64_t keys = wl.keys(), kpp = sh.keys_per_partition();
    const uint32_t B = cfg_.batch;
    std::vector<int64_t> counter(owned.size(), 0);
    size_t pos = w * (wl.stream().size() / sh.writers.size());
    size_t pi = 0;
    ThreadCounters& tc = sh.writers[w];
    out.t_start = NowNs();
    const uint64_t cpu0 = ThreadCpuNs();
    while (!sh.WriterDone(out.records)) {
      const uint32_t p = owned[pi];
      for (uint32_t i = 0; i < B; ++i) {
        const uint64_t id = wl.stream()[pos & wl.stream_mask()];
        ++pos;
        Record(impl, p, wl.Key(kpp == keys ? id : id % kpp), RecordValue(pos));
      }
      kMarkers.Put(impl, p, ++counter[pi]);
      const uint64_t t0 = NowNs();
      impl.Commit(p);
      out.commit.Add(NowNs() - t0);
      out.records += B;
      ++out.commits;
      tc.records.store(out.records, std::memory_order_relaxed);
      pi = pi + 1 == owned.size() ? 0 : pi + 1;
    }
    out.t_end = NowNs();
    out.cpu_ns = ThreadCpuNs() - cpu0;
    sh.writers_done.fetch_add(1, std::memory_order_release);
    // Final state: every record counted exactly once.
    for (size_t i = 0; i < owned.size(); ++i) {
      const uint32_t p = owned[i];
      impl.Finish(p);
      impl.Scan(p, [&](const auto& v) {
        int64_t sum = 0;
        v.ForEach(kCount, [&](std::string_view, std::string_view val) { sum += DecodeI64(val); });
        int64_t marker = 0;
        const bool ok = kMarkers.Consistent(v, &marker);
        const int64_t expect = (cfg_.prefill ? static_cast<int64_t>(kpp) : 0) + counter[i] * B;
        if (!ok || marker != counter[i] || sum != expect) {
          sh.Violation(absl::StrFormat(
              "final state of partition %u: sum(count)=%d marker=%d (consistent=%d), expected %d "
              "and %d",
              p, sum, marker, ok, expect, counter[i]));
        }
        AccountLive(sh, v, kNumTables, 8, 8);
      });
    }
  }

  template <class Impl>
  void Read(Impl& impl, Shared& sh, uint32_t r, ReaderOut& out) {
    const Workload& wl = sh.wl;
    const std::vector<uint32_t>& rs = wl.reader_stream(r);
    const size_t mask = wl.reader_mask();
    const uint64_t keys = wl.keys(), kpp = sh.keys_per_partition();
    const uint32_t P = cfg_.partitions, G = cfg_.reads_per_section;
    const uint64_t per_section = kMarkers.reads() + G;
    std::vector<int64_t> last(P, 0);
    ThreadCounters& tc = sh.readers[r];
    size_t idx = 0;
    uint64_t acc = 0, it = 0;
    while (!sh.stopped()) {
      out.Phase(1);
      const uint32_t p = P == 1 ? 0 : static_cast<uint32_t>(it % P);
      const bool sample = (it & 127) == 0;
      const uint64_t t0 = sample ? NowNs() : 0;
      bool ok = false;
      int64_t marker = 0;
      impl.Read(p, [&](const auto& v) {
        ok = kMarkers.Consistent(v, &marker);
        for (uint32_t g = 0; g < G; ++g) {
          const uint64_t id = rs[idx++ & mask];
          const auto x = v.Find(kCount, wl.Key(kpp == keys ? id : id % kpp));
          if (x.has_value()) acc += x->size();
        }
      });
      if (sample) out.read.Add(NowNs() - t0);
      CheckMarker<Impl>(sh, ok, p, marker, &last[p]);
      out.reads[1] += per_section;
      ++out.sections[1];
      if ((++it & 63) == 0) {
        tc.reads[1].store(out.reads[1], std::memory_order_relaxed);
        tc.sections[1].store(out.sections[1], std::memory_order_relaxed);
      }
    }
    out.End();
    if (acc == 1) std::fprintf(stderr, " ");  // keep `acc` alive
  }

  template <class Impl>
  void Aux(Impl& impl, Shared& sh) {
    const uint64_t kpp = sh.keys_per_partition();
    uint64_t n = 0;
    while (!sh.stopped()) {
      SleepUnlessStopped(sh, cfg_.pin_interval);
      if (sh.stopped()) break;
      const uint32_t p = static_cast<uint32_t>(n++ % cfg_.partitions);
      int64_t sum = 0, marker = 0;
      bool ok = false;
      uint64_t scan_ns = 0;
      impl.PinScan(
          p,
          [&](const auto& v) {
            const uint64_t t0 = NowNs();
            v.ForEach(kCount, [&](std::string_view, std::string_view val) { sum += DecodeI64(val); });
            ok = kMarkers.Consistent(v, &marker);
            scan_ns = NowNs() - t0;
          },
          [&] {
            SleepUnlessStopped(sh, cfg_.pin_hold);
            const uint64_t rss = CurrentRss();
            uint64_t seen = sh.rss_pinned.load(std::memory_order_relaxed);
            while (rss > seen && !sh.rss_pinned.compare_exchange_weak(seen, rss)) {
            }
          });
      sh.pins.fetch_add(1, std::memory_order_relaxed);
      sh.scan_ns.fetch_add(scan_ns, std::memory_order_relaxed);
      const int64_t expect = (cfg_.prefill ? static_cast<int64_t>(kpp) : 0) + marker * cfg_.batch;
      if (Impl::kBatchAtomic) {
        if (!ok || sum != expect) {
          sh.Violation(absl::StrFormat(
              "pin scan of partition %u: sum(count)=%d, marker %d says %d (consistent=%d)", p, sum,
              marker, expect, ok));
        }
      } else if (!ok || sum != expect) {
        sh.torn.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }

  template <class Impl>
  static void CheckMarker(Shared& sh, bool ok, uint32_t p, int64_t marker, int64_t* last) {
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

 private:
  template <class Impl>
  void Record(Impl& impl, uint32_t p, std::string_view key, int64_t value) const {
    static constexpr char kOne[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    impl.Merge(p, kCount, key, std::string_view(kOne, 8));
    if (cfg_.groupby_aggs < 2) return;
    char d[8], v[8];
    EncodeF64(static_cast<double>(value), d);
    impl.Merge(p, kSum, key, std::string_view(d, 8));
    if (cfg_.groupby_aggs < 3) return;
    EncodeI64(value, v);
    impl.Merge(p, kMin, key, std::string_view(v, 8));
    if (cfg_.groupby_aggs < 4) return;
    impl.Merge(p, kMax, key, std::string_view(v, 8));
  }

  const Config& cfg_;
  bool pin_;
  const MarkerTables kMarkers{kMarker, kInvA, kInvB, cfg_.inv_keys};
};

// ----------------------------------------------------------------- window
// Tumbling one-minute windows over a timestamped stream (event time advances
// 60 s every --window_records records), GROUP BY (k1, k2), count and sum,
// commit every B records. When a record falls into the next window the
// writer commits, reads the closed window's groups (checks they add up to its
// records) and clears both tables in the next batch.
class Window {
 public:
  enum : uint32_t { kCount, kSum, kMeta, kNumTables };

  explicit Window(const Config& cfg) : cfg_(cfg) {}
  Schema schema() const {
    Schema s;
    s.tables = {{"count", MergeKind::kAddInt64},
                {"sum", MergeKind::kAddDouble},
                {"meta", MergeKind::kNone}};
    s.partitions = cfg_.partitions;
    return s;
  }
  double phase0_seconds() const { return 0; }
  bool has_aux() const { return false; }

  template <class Impl>
  void Prefill(Impl&, Shared&, uint32_t) {}

  template <class Impl>
  void Write(Impl& impl, Shared& sh, uint32_t w, WriterOut& out) {
    const Workload& wl = sh.wl;
    const uint32_t p = w;  // one partition per writer
    const uint32_t B = cfg_.batch;
    const uint64_t per_window = cfg_.window_records;
    constexpr uint64_t kMinuteUs = 60'000'000;
    static constexpr char kOne[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    size_t pos = w * (wl.stream().size() / sh.writers.size());
    uint64_t seq = 0, window = 0, in_window = 0, in_batch = 0;
    ThreadCounters& tc = sh.writers[w];
    auto commit = [&] {
      char n[8];
      EncodeI64(static_cast<int64_t>(in_window), n);
      impl.Put(p, kMeta, "n", std::string_view(n, 8));
      const uint64_t t0 = NowNs();
      impl.Commit(p);
      out.commit.Add(NowNs() - t0);
      out.records += in_batch;
      ++out.commits;
      in_batch = 0;
      tc.records.store(out.records, std::memory_order_relaxed);
    };
    out.t_start = NowNs();
    const uint64_t cpu0 = ThreadCpuNs();
    for (;;) {
      const uint64_t ts_us = seq * kMinuteUs / per_window;  // the record's event time
      if (ts_us / kMinuteUs != window) {
        // The window closes: publish its last records, read its groups, clear.
        commit();
        int64_t total = 0;
        impl.WriterRead(p, [&](const auto& v) {
          for (uint64_t g = 0; g < wl.keys(); ++g) {
            const auto c = v.Find(kCount, wl.Key(g));
            if (c.has_value()) total += DecodeI64(*c);
          }
        });
        if (total != static_cast<int64_t>(in_window)) {
          sh.Violation(absl::StrFormat("window %d closed with %d records in its groups, expected %d",
                                       window, total, in_window));
        }
        impl.Clear(p, kCount);
        impl.Clear(p, kSum);
        in_window = 0;
        window = ts_us / kMinuteUs;
        ++out.windows_closed;
      }
      const uint64_t id = wl.stream()[pos & wl.stream_mask()];
      ++pos;
      char d[8];
      EncodeF64(static_cast<double>(RecordValue(pos)), d);
      impl.Merge(p, kCount, wl.Key(id), std::string_view(kOne, 8));
      impl.Merge(p, kSum, wl.Key(id), std::string_view(d, 8));
      ++seq;
      ++in_window;
      if (++in_batch == B) {
        commit();
        if (sh.WriterDone(out.records)) break;
      }
    }
    out.t_end = NowNs();
    out.cpu_ns = ThreadCpuNs() - cpu0;
    sh.writers_done.fetch_add(1, std::memory_order_release);
    impl.Finish(p);
    impl.Scan(p, [&](const auto& v) {
      int64_t total = 0;
      v.ForEach(kCount, [&](std::string_view, std::string_view c) { total += DecodeI64(c); });
      const auto n = v.Find(kMeta, "n");
      const int64_t meta = n.has_value() ? DecodeI64(*n) : 0;
      if (total != static_cast<int64_t>(in_window) || meta != static_cast<int64_t>(in_window)) {
        sh.Violation(absl::StrFormat("final window: sum(count)=%d meta=%d, expected %d", total,
                                     meta, in_window));
      }
      AccountLive(sh, v, kNumTables, 8, 8);
    });
  }

  template <class Impl>
  void Read(Impl& impl, Shared& sh, uint32_t r, ReaderOut& out) {
    const Workload& wl = sh.wl;
    const uint32_t P = cfg_.partitions;
    ThreadCounters& tc = sh.readers[r];
    uint64_t it = 0;
    while (!sh.stopped()) {
      out.Phase(1);
      const uint32_t p = P == 1 ? 0 : static_cast<uint32_t>(it % P);
      const bool sample = (it & 15) == 0;
      const uint64_t t0 = sample ? NowNs() : 0;
      int64_t total = 0, meta = 0;
      impl.Read(p, [&](const auto& v) {
        const auto n = v.Find(kMeta, "n");
        meta = n.has_value() ? DecodeI64(*n) : 0;
        for (uint64_t g = 0; g < wl.keys(); ++g) {
          const auto c = v.Find(kCount, wl.Key(g));
          if (c.has_value()) total += DecodeI64(*c);
        }
      });
      if (sample) out.read.Add(NowNs() - t0);
      if (total != meta) {
        if constexpr (Impl::kBatchAtomic) {
          sh.Violation(absl::StrFormat("window reader: groups sum to %d, meta says %d", total, meta));
        } else {
          sh.torn.fetch_add(1, std::memory_order_relaxed);
        }
      }
      out.reads[1] += wl.keys() + 1;
      ++out.sections[1];
      if ((++it & 15) == 0) {
        tc.reads[1].store(out.reads[1], std::memory_order_relaxed);
        tc.sections[1].store(out.sections[1], std::memory_order_relaxed);
      }
    }
    out.End();
  }

  template <class Impl>
  void Aux(Impl&, Shared&) {}

 private:
  const Config& cfg_;
};

// ----------------------------------------------------------------- lookup
// A stream-table join: readers look keys up as fast as they can (first alone
// for --lookup_alone of the duration, then with the writer running) while the
// writer puts batches of B values at full speed or at --write_rate.
class Lookup {
 public:
  enum : uint32_t { kDim, kMarker, kInvA, kInvB, kNumTables };

  explicit Lookup(const Config& cfg) : cfg_(cfg) {}
  Schema schema() const {
    Schema s;
    s.tables = {{"dim", MergeKind::kNone, std::max<uint64_t>(1, cfg_.keys / cfg_.partitions)},
                {"marker", MergeKind::kNone},
                {"inv_a", MergeKind::kNone},
                {"inv_b", MergeKind::kNone}};
    s.partitions = cfg_.partitions;
    return s;
  }
  double phase0_seconds() const {
    return cfg_.lookup_alone * absl::ToDoubleSeconds(cfg_.duration);
  }
  bool has_aux() const { return false; }

  template <class Impl>
  void Prefill(Impl& impl, Shared& sh, uint32_t w) {
    const uint64_t kpp = sh.keys_per_partition();
    const uint64_t pb = std::max<uint64_t>(cfg_.batch, 65536);
    std::string value(cfg_.value_size, 'v');
    for (uint32_t p : sh.Owned(w, static_cast<uint32_t>(sh.writers.size()))) {
      if (cfg_.prefill) {
        for (uint64_t id = 0; id < kpp; ++id) {
          FillValue(&value, static_cast<int64_t>(id));
          impl.Put(p, kDim, sh.wl.Key(id), value);
          if ((id + 1) % pb == 0) impl.Commit(p);
        }
      }
      kMarkers.Put(impl, p, 0);
      impl.Commit(p);
      // The steady state starts from a published prefill: group commit may
      // still hold prefill batches (65536 keys each) sealed, which would
      // otherwise be published, and counted, in the timed phase.
      impl.Finish(p);
    }
  }

  template <class Impl>
  void Write(Impl& impl, Shared& sh, uint32_t w, WriterOut& out) {
    if constexpr (!Impl::kConcurrent) {
      // One thread: it only reads (the physical limit of a lookup).
      sh.writers_done.fetch_add(1, std::memory_order_release);
      Read(impl, sh, 0, sh.solo_reader);
      for (uint32_t p : sh.Owned(w, 1)) {
        impl.Scan(p, [&](const auto& v) { AccountLive(sh, v, kNumTables, cfg_.value_size, 8); });
      }
      (void)out;
      return;
    } else {
      const Workload& wl = sh.wl;
      while (sh.phase.load(std::memory_order_acquire) == 0 && !sh.stopped()) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      const std::vector<uint32_t> owned = sh.Owned(w, static_cast<uint32_t>(sh.writers.size()));
      const uint64_t keys = wl.keys(), kpp = sh.keys_per_partition();
      const uint32_t B = cfg_.batch;
      std::vector<int64_t> counter(owned.size(), 0);
      std::string value(cfg_.value_size, 'v');
      size_t pos = w * (wl.stream().size() / sh.writers.size());
      size_t pi = 0;
      uint64_t batches = 0;
      ThreadCounters& tc = sh.writers[w];
      out.t_start = NowNs();
      const uint64_t cpu0 = ThreadCpuNs();
      while (!sh.WriterDone(out.records)) {
        if (cfg_.write_rate > 0) {
          const uint64_t due = out.t_start + static_cast<uint64_t>(static_cast<double>(batches) * B /
                                                                   cfg_.write_rate * 1e9);
          const uint64_t now = NowNs();
          if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
        }
        const uint32_t p = owned[pi];
        ++counter[pi];
        for (uint32_t i = 0; i < B; ++i) {
          const uint64_t id = wl.stream()[pos & wl.stream_mask()];
          ++pos;
          FillValue(&value, counter[pi]);
          impl.Put(p, kDim, wl.Key(kpp == keys ? id : id % kpp), value);
        }
        kMarkers.Put(impl, p, counter[pi]);
        const uint64_t t0 = NowNs();
        impl.Commit(p);
        out.commit.Add(NowNs() - t0);
        out.records += B;
        ++out.commits;
        ++batches;
        tc.records.store(out.records, std::memory_order_relaxed);
        pi = pi + 1 == owned.size() ? 0 : pi + 1;
      }
      out.t_end = NowNs();
      out.cpu_ns = ThreadCpuNs() - cpu0;
      sh.writers_done.fetch_add(1, std::memory_order_release);
      for (size_t i = 0; i < owned.size(); ++i) {
        impl.Finish(owned[i]);
        impl.Scan(owned[i], [&](const auto& v) {
          int64_t marker = 0;
          if (!kMarkers.Consistent(v, &marker) || marker != counter[i]) {
            sh.Violation(absl::StrFormat("final state of partition %u: marker %d, expected %d",
                                         owned[i], marker, counter[i]));
          }
          AccountLive(sh, v, kNumTables, cfg_.value_size, 8);
        });
      }
    }
  }

  template <class Impl>
  void Read(Impl& impl, Shared& sh, uint32_t r, ReaderOut& out) {
    const Workload& wl = sh.wl;
    const std::vector<uint32_t>& rs = wl.reader_stream(r);
    const size_t mask = wl.reader_mask();
    const uint64_t keys = wl.keys(), kpp = sh.keys_per_partition();
    const uint32_t P = cfg_.partitions, R = cfg_.reads_per_section;
    std::vector<int64_t> last(P, 0);
    ThreadCounters* tc = Impl::kConcurrent ? &sh.readers[r] : nullptr;
    size_t idx = 0;
    uint64_t acc = 0, it = 0;
    while (!sh.stopped()) {
      const int ph = sh.phase.load(std::memory_order_relaxed);
      out.Phase(ph);
      const uint32_t p = P == 1 ? 0 : static_cast<uint32_t>(it % P);
      const bool sample = ph == 1 && (it & 127) == 0;
      const uint64_t t0 = sample ? NowNs() : 0;
      impl.Read(p, [&](const auto& v) {
        for (uint32_t j = 0; j < R; ++j) {
          const uint64_t id = rs[idx++ & mask];
          const auto x = v.Find(kDim, wl.Key(kpp == keys ? id : id % kpp));
          if (x.has_value()) acc += x->size() + static_cast<uint8_t>(x->front());
        }
      });
      if (sample) out.read.Add(NowNs() - t0);
      out.reads[ph] += R;
      ++out.sections[ph];
      if ((++it & 255) == 0) {
        // The invariant, in a section of its own so the lookups stay pure.
        bool ok = false;
        int64_t marker = 0;
        impl.Read(p, [&](const auto& v) { ok = kMarkers.Consistent(v, &marker); });
        GroupBy::CheckMarker<Impl>(sh, ok, p, marker, &last[p]);
        if (tc != nullptr) {
          tc->reads[ph].store(out.reads[ph], std::memory_order_relaxed);
          tc->sections[ph].store(out.sections[ph], std::memory_order_relaxed);
        }
      }
    }
    out.End();
    if (acc == 1) std::fprintf(stderr, " ");  // keep `acc` alive
  }

  template <class Impl>
  void Aux(Impl&, Shared&) {}

 private:
  void FillValue(std::string* v, int64_t counter) const {
    if (v->size() >= 8) {
      char c[8];
      EncodeI64(counter, c);
      std::memcpy(v->data(), c, 8);
    }
  }
  const Config& cfg_;
  const MarkerTables kMarkers{kMarker, kInvA, kInvB, cfg_.inv_keys};
};

// Runs `cfg.scenario` against Impl.
template <class Impl>
RunResult RunScenario(const Config& cfg, const Workload& wl) {
  if (cfg.scenario == "groupby" || cfg.scenario == "pinscan") {
    GroupBy sc(cfg, cfg.scenario == "pinscan");
    return Drive<Impl>(cfg, wl, sc);
  }
  if (cfg.scenario == "window") {
    Window sc(cfg);
    return Drive<Impl>(cfg, wl, sc);
  }
  if (cfg.scenario == "lookup") {
    Lookup sc(cfg);
    return Drive<Impl>(cfg, wl, sc);
  }
  if (cfg.scenario == "partitions") {
    // The reference: the same stream on --ref_partitions partitions.
    Config ref = cfg;
    ref.partitions = cfg.ref_partitions;
    // Same total state (maps P times larger than in the partitioned run) or
    // the same state per partition (keys / P per partition, as in the
    // partitioned run): the first is what a user re-partitioning sees, the
    // second isolates the cost of many partitions.
    std::optional<Workload> small;
    if (!cfg.ref_same_total) {
      ref.keys = std::max<uint64_t>(1, wl.keys() / cfg.partitions) * cfg.ref_partitions;
      small.emplace(ref.keys, cfg.dist, std::max<uint32_t>(cfg.readers, 1), cfg.seed);
    }
    GroupBy ref_sc(ref, false);
    RunResult one = Drive<Impl>(ref, small ? *small : wl, ref_sc);
    GroupBy sc(cfg, false);
    RunResult r = Drive<Impl>(cfg, wl, sc);
    r.ref_records_per_s = one.records_per_s;
    if (one.records_per_s > 0) r.partition_scaling = r.records_per_s / one.records_per_s;
    r.violations += one.violations;
    for (auto& e : one.violation_examples) r.violation_examples.push_back(e);
    return r;
  }
  Die("unknown scenario " + cfg.scenario);
}

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_SCENARIOS_HPP_
