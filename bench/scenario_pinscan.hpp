// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/scenario_pinscan.hpp
//
// `pinscan`: groupby plus one more thread that pins a snapshot of a partition
// every --pin_interval, scans it (its counts must add up to what its marker
// says was committed) and holds it for --pin_hold, sampling RSS while it
// holds (what a long-lived pin, e.g. a checkpoint, costs in memory).
#ifndef RCUSTATE_BENCH_SCENARIO_PINSCAN_HPP_
#define RCUSTATE_BENCH_SCENARIO_PINSCAN_HPP_

#include <atomic>
#include <cstdint>
#include <string_view>

#include "absl/strings/str_format.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/driver.hpp"
#include "bench/memory.hpp"
#include "bench/scenario_common.hpp"
#include "bench/scenario_groupby.hpp"

namespace rcsbench {

class PinScan : public GroupBy {
 public:
  explicit PinScan(const Config& cfg) : GroupBy(cfg) {}

  bool has_aux() const { return true; }

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
            ok = markers_.Consistent(v, &marker);
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
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_SCENARIO_PINSCAN_HPP_
