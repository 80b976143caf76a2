// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/scenario_window.hpp
//
// `window`: tumbling one-minute windows over a timestamped stream (event time
// advances 60 s every --window_records records), GROUP BY (k1, k2), count and
// sum, commit every B records. When a record falls into the next window the
// writer commits, reads the closed window's groups (checks they add up to its
// records) and clears both tables in the next batch. Readers check that the
// groups add up to the meta key of the batch (scenario_common.hpp).
#ifndef RCUSTATE_BENCH_SCENARIO_WINDOW_HPP_
#define RCUSTATE_BENCH_SCENARIO_WINDOW_HPP_

#include <cstdint>
#include <string_view>

#include "absl/strings/str_format.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/driver.hpp"
#include "bench/scenario_common.hpp"
#include "bench/workload.hpp"

namespace rcsbench {

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
    size_t pos = w * (wl.stream().size() / sh.writers.size());
    uint64_t seq = 0, window = 0, in_window = 0, in_batch = 0;
    ThreadCounters& tc = sh.writers[w];
    auto commit = [&] {
      char n[8];
      EncodeI64(static_cast<int64_t>(in_window), n);
      impl.Put(p, kMeta, "n", std::string_view(n, 8));
      TimedCommit(impl, p, in_batch, out, tc);
      in_batch = 0;
    };
    WriterTimer timer(out);
    timer.Begin();
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
      impl.Merge(p, kCount, wl.Key(id), OneI64());
      impl.Merge(p, kSum, wl.Key(id), std::string_view(d, 8));
      ++seq;
      ++in_window;
      if (++in_batch == B) {
        commit();
        if (sh.WriterDone(out.records)) break;
      }
    }
    timer.End(sh);
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
      if ((++it & 15) == 0) PublishReads(tc, out, 1);
    }
    out.End();
  }

  template <class Impl>
  void Aux(Impl&, Shared&) {}

 private:
  const Config& cfg_;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_SCENARIO_WINDOW_HPP_
