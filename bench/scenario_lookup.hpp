// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/scenario_lookup.hpp
//
// `lookup`: a stream-table join. Readers look keys up as fast as they can
// (first alone for --lookup_alone of the duration, then with the writer
// running: the ratio is the isolation) while the writer puts batches of B
// values at full speed or at --write_rate. Every 256 sections a reader checks
// the marker invariant (scenario_common.hpp) in a section of its own.
#ifndef RCUSTATE_BENCH_SCENARIO_LOOKUP_HPP_
#define RCUSTATE_BENCH_SCENARIO_LOOKUP_HPP_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/driver.hpp"
#include "bench/scenario_common.hpp"
#include "bench/workload.hpp"

namespace rcsbench {

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
    std::string value(cfg_.value_size, 'v');
    PrefillPartitions(impl, sh, w, markers_, [&](Impl& im, uint32_t p, uint64_t id) {
      FillValue(&value, static_cast<int64_t>(id));
      im.Put(p, kDim, sh.wl.Key(id), value);
    });
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
      WriteConcurrent(impl, sh, w, out);
    }
  }

  template <class Impl>
  void Read(Impl& impl, Shared& sh, uint32_t r, ReaderOut& out) {
    const Workload& wl = sh.wl;
    const std::vector<uint32_t>& rs = wl.reader_stream(r);
    const size_t mask = wl.reader_mask();
    const uint64_t keys = wl.keys(), kpp = sh.keys_per_partition();
    const uint32_t P = cfg_.partitions, R = cfg_.reads_per_section;
    const bool held = cfg_.reader_section > absl::ZeroDuration();
    std::vector<int64_t> last(P, 0);
    ThreadCounters* tc = Impl::kConcurrent ? &sh.readers[r] : nullptr;
    size_t idx = 0;
    uint64_t acc = 0, it = 0;
    while (!sh.stopped()) {
      const int ph = sh.phase.load(std::memory_order_relaxed);
      out.Phase(ph);
      const uint32_t p = P == 1 ? 0 : static_cast<uint32_t>(it % P);
      const bool sample = ph == 1 && (held || (it & 127) == 0);
      const uint64_t t0 = sample || held ? NowNs() : 0;
      const uint64_t end = SectionEnd(cfg_, t0);
      uint64_t rounds = 0;
      impl.Read(p, [&](const auto& v) {
        // One round of R lookups, or (--reader_section) rounds until the
        // section has lasted that long: a scan.
        do {
          for (uint32_t j = 0; j < R; ++j) {
            const uint64_t id = rs[idx++ & mask];
            const auto x = v.Find(kDim, wl.Key(kpp == keys ? id : id % kpp));
            if (x.has_value()) acc += x->size() + static_cast<uint8_t>(x->front());
          }
          ++rounds;
        } while (end != 0 && NowNs() < end);
      });
      if (sample) out.read.Add(NowNs() - t0);
      out.reads[ph] += rounds * R;
      ++out.sections[ph];
      if ((++it & 255) == 0) {
        // The invariant, in a section of its own so the lookups stay pure.
        bool ok = false;
        int64_t marker = 0;
        impl.Read(p, [&](const auto& v) { ok = markers_.Consistent(v, &marker); });
        CheckMarker<Impl>(sh, ok, p, marker, &last[p]);
        if (tc != nullptr) PublishReads(*tc, out, ph);
      }
    }
    out.End();
    if (acc == 1) std::fprintf(stderr, " ");  // keep `acc` alive
  }

  template <class Impl>
  void Aux(Impl&, Shared&) {}

 private:
  // The writer of a concurrent implementation: waits for the readers-alone
  // phase to end, then writes.
  template <class Impl>
  void WriteConcurrent(Impl& impl, Shared& sh, uint32_t w, WriterOut& out) {
    const Workload& wl = sh.wl;
    while (sh.phase.load(std::memory_order_acquire) == 0 && !sh.stopped()) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const auto nw = static_cast<uint32_t>(sh.writers.size());
    const std::vector<uint32_t> owned = sh.Owned(w, nw);
    // With several writers per partition only the group's first one writes
    // the markers and checks the final state, once all of them are done.
    const bool lead = sh.Leads(w, nw);
    const uint64_t keys = wl.keys(), kpp = sh.keys_per_partition();
    const uint32_t B = cfg_.batch;
    std::vector<int64_t> counter(owned.size(), 0);
    std::string value(cfg_.value_size, 'v');
    size_t pos = w * (wl.stream().size() / nw);
    size_t pi = 0;
    uint64_t batches = 0;
    ThreadCounters& tc = sh.writers[w];
    WriterTimer timer(out);
    timer.Begin();
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
      if (lead) markers_.Put(impl, p, counter[pi]);
      TimedCommit(impl, p, B, out, tc);
      ++batches;
      pi = pi + 1 == owned.size() ? 0 : pi + 1;
    }
    timer.End(sh);
    if (sh.PerPartition(nw) > 1) {
      if (!lead) return;
      sh.AwaitWriters();
    }
    for (size_t i = 0; i < owned.size(); ++i) {
      impl.Finish(owned[i]);
      impl.Scan(owned[i], [&](const auto& v) {
        int64_t marker = 0;
        if (!markers_.Consistent(v, &marker) || marker != counter[i]) {
          sh.Violation(absl::StrFormat("final state of partition %u: marker %d, expected %d",
                                       owned[i], marker, counter[i]));
        }
        AccountLive(sh, v, kNumTables, cfg_.value_size, 8);
      });
    }
  }

  void FillValue(std::string* v, int64_t counter) const {
    if (v->size() >= 8) {
      char c[8];
      EncodeI64(counter, c);
      std::memcpy(v->data(), c, 8);
    }
  }
  const Config& cfg_;
  const MarkerTables markers_{kMarker, kInvA, kInvB, cfg_.inv_keys};
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_SCENARIO_LOOKUP_HPP_
