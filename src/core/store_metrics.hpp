// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/store_metrics.hpp
//
// What a store counts for StoreStats, written by its partitions and its
// commit path without a lock: the counters (relaxed atomic additions) and
// two latency histograms with fixed buckets (LatencyRecorder: a bucket
// search and two relaxed atomic additions), safe from any thread.
#ifndef RCUSTATE_SRC_CORE_STORE_METRICS_HPP_
#define RCUSTATE_SRC_CORE_STORE_METRICS_HPP_

#include "rcustate/abi.hpp"
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "rcustate/options.hpp"

namespace RCUSTATE_NAMESPACE::detail {

class LatencyRecorder {
 public:
  // 1-2.5-5 steps from 1 us to 10 s.
  static constexpr std::array<uint64_t, 22> kUpperBoundsNs = {
      1'000,         2'500,         5'000,         10'000,         25'000,
      50'000,        100'000,       250'000,       500'000,        1'000'000,
      2'500'000,     5'000'000,     10'000'000,    25'000'000,     50'000'000,
      100'000'000,   250'000'000,   500'000'000,   1'000'000'000,  2'500'000'000,
      5'000'000'000, 10'000'000'000};

  void Record(uint64_t ns) noexcept {
    const size_t bucket = static_cast<size_t>(
        std::lower_bound(kUpperBoundsNs.begin(), kUpperBoundsNs.end(), ns) -
        kUpperBoundsNs.begin());
    counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  }
  void RecordSince(std::chrono::steady_clock::time_point start) noexcept {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    Record(ns > 0 ? static_cast<uint64_t>(ns) : 0);
  }

  // Copies the histogram; count is the sum of the buckets read, so the
  // cumulative buckets always end at count. Throws std::bad_alloc.
  void Read(LatencyHistogram* out) const {
    out->upper_bounds_ns.assign(kUpperBoundsNs.begin(), kUpperBoundsNs.end());
    out->counts.resize(counts_.size());
    out->count = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      out->counts[i] = counts_[i].load(std::memory_order_relaxed);
      out->count += out->counts[i];
    }
    out->sum_ns = sum_ns_.load(std::memory_order_relaxed);
  }
  uint64_t count() const noexcept {
    uint64_t n = 0;
    for (const auto& c : counts_) n += c.load(std::memory_order_relaxed);
    return n;
  }
  uint64_t sum_ns() const noexcept { return sum_ns_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kUpperBoundsNs.size() + 1> counts_{};
  std::atomic<uint64_t> sum_ns_{0};
};

// The store-wide counters and histograms. Each partition adds to the
// counters as it adds to its own, so they run from the store's opening and
// never decrease, whatever partitions come and go.
struct StoreMetrics {
  LatencyRecorder commit_latency;  // every accepted commit (the commit path)
  LatencyRecorder grace_wait;      // every wait for a grace period (the partitions)
  std::atomic<uint64_t> publications{0};
  std::atomic<uint64_t> commit_wait_ns{0};
  std::atomic<uint64_t> grace_waits{0};
  std::atomic<uint64_t> standby_copies{0};
  std::atomic<uint64_t> catch_ups{0};
  std::atomic<uint64_t> backlog_publications{0};
  std::atomic<uint64_t> stalled_grace_periods{0};  // ended ones
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_STORE_METRICS_HPP_
