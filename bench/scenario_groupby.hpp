// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/scenario_groupby.hpp
//
// `groupby`: per record, count (int64 add), sum (double add), min and max of
// the record's value for its group (--groupby_aggs of them); commit every B
// records. With several partitions a writer round-robins its batches over its
// partitions (the `partitions` scenario runs this one). Readers look groups
// up and check the marker invariant (scenario_common.hpp) in every section.
#ifndef RCUSTATE_BENCH_SCENARIO_GROUPBY_HPP_
#define RCUSTATE_BENCH_SCENARIO_GROUPBY_HPP_

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/str_format.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/driver.hpp"
#include "bench/scenario_common.hpp"
#include "bench/workload.hpp"

namespace rcsbench {

class GroupBy {
 public:
  enum : uint32_t { kCount, kSum, kMin, kMax, kMarker, kInvA, kInvB, kNumTables };

  explicit GroupBy(const Config& cfg) : cfg_(cfg) {}

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
  bool has_aux() const { return false; }

  template <class Impl>
  void Prefill(Impl& impl, Shared& sh, uint32_t w) {
    PrefillPartitions(impl, sh, w, markers_, [&](Impl& im, uint32_t p, uint64_t id) {
      Record(im, p, sh.wl.Key(id), RecordValue(id));
    });
  }

  template <class Impl>
  void Write(Impl& impl, Shared& sh, uint32_t w, WriterOut& out) {
    const Workload& wl = sh.wl;
    const auto nw = static_cast<uint32_t>(sh.writers.size());
    const std::vector<uint32_t> owned = sh.Owned(w, nw);
    // With several writers per partition only the group's first one writes
    // the markers (their counter must not go back) and checks the final
    // state, once all of them are done.
    const bool lead = sh.Leads(w, nw);
    const bool shared = sh.PerPartition(nw) > 1;
    const uint64_t keys = wl.keys(), kpp = sh.keys_per_partition();
    const uint32_t B = cfg_.batch;
    std::vector<int64_t> counter(owned.size(), 0);
    std::vector<uint64_t> written(owned.size(), 0);
    size_t pos = w * (wl.stream().size() / nw);
    size_t pi = 0;
    ThreadCounters& tc = sh.writers[w];
    WriterTimer timer(out);
    timer.Begin();
    while (!sh.WriterDone(out.records)) {
      const uint32_t p = owned[pi];
      for (uint32_t i = 0; i < B; ++i) {
        const uint64_t id = wl.stream()[pos & wl.stream_mask()];
        ++pos;
        Record(impl, p, wl.Key(kpp == keys ? id : id % kpp), RecordValue(pos));
      }
      if (lead) markers_.Put(impl, p, ++counter[pi]);
      TimedCommit(impl, p, B, out, tc);
      written[pi] += B;
      pi = pi + 1 == owned.size() ? 0 : pi + 1;
    }
    timer.End(sh);
    if (shared) {
      for (size_t i = 0; i < owned.size(); ++i) {
        sh.partition_records[owned[i]].fetch_add(written[i], std::memory_order_relaxed);
      }
      if (!lead) return;
      sh.AwaitWriters();
    }
    // Final state: every record counted exactly once.
    for (size_t i = 0; i < owned.size(); ++i) {
      const uint32_t p = owned[i];
      impl.Finish(p);
      const uint64_t records =
          shared ? sh.partition_records[p].load(std::memory_order_relaxed) : written[i];
      impl.Scan(p, [&](const auto& v) {
        int64_t sum = 0;
        v.ForEach(kCount, [&](std::string_view, std::string_view val) { sum += DecodeI64(val); });
        int64_t marker = 0;
        const bool ok = markers_.Consistent(v, &marker);
        const int64_t expect =
            (cfg_.prefill ? static_cast<int64_t>(kpp) : 0) + static_cast<int64_t>(records);
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
    const bool held = cfg_.reader_section > absl::ZeroDuration();
    std::vector<int64_t> last(P, 0);
    ThreadCounters& tc = sh.readers[r];
    size_t idx = 0;
    uint64_t acc = 0, it = 0;
    while (!sh.stopped()) {
      out.Phase(1);
      const uint32_t p = P == 1 ? 0 : static_cast<uint32_t>(it % P);
      const bool sample = held || (it & 127) == 0;
      const uint64_t t0 = sample ? NowNs() : 0;
      const uint64_t end = SectionEnd(cfg_, t0);
      bool ok = false;
      int64_t marker = 0;
      uint64_t rounds = 0;
      impl.Read(p, [&](const auto& v) {
        ok = markers_.Consistent(v, &marker);
        // One round of G lookups, or (--reader_section) rounds until the
        // section has lasted that long: a scan.
        do {
          for (uint32_t g = 0; g < G; ++g) {
            const uint64_t id = rs[idx++ & mask];
            const auto x = v.Find(kCount, wl.Key(kpp == keys ? id : id % kpp));
            if (x.has_value()) acc += x->size();
          }
          ++rounds;
        } while (end != 0 && NowNs() < end);
      });
      if (sample) out.read.Add(NowNs() - t0);
      CheckMarker<Impl>(sh, ok, p, marker, &last[p]);
      out.reads[1] += markers_.reads() + rounds * G;
      ++out.sections[1];
      if ((++it & 63) == 0) PublishReads(tc, out, 1);
    }
    out.End();
    if (acc == 1) std::fprintf(stderr, " ");  // keep `acc` alive
  }

  template <class Impl>
  void Aux(Impl&, Shared&) {}

 protected:
  const Config& cfg_;
  const MarkerTables markers_{kMarker, kInvA, kInvB, cfg_.inv_keys};

 private:
  // Always inlined: see BatchDelta::Merge (batch_delta.hpp).
  template <class Impl>
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Record(Impl& impl, uint32_t p, std::string_view key,
                                           int64_t value) const {
    impl.Merge(p, kCount, key, OneI64());
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
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_SCENARIO_GROUPBY_HPP_
