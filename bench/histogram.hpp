// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/histogram.hpp
//
// A log-linear latency histogram (nanoseconds): exact below 64 ns, then 32
// buckets per power of two, so a percentile is within ~3% of the truth.
// One per thread, merged after the run; Add() is a few instructions.
#ifndef RCUSTATE_BENCH_HISTOGRAM_HPP_
#define RCUSTATE_BENCH_HISTOGRAM_HPP_

#include <array>
#include <bit>
#include <cstdint>

namespace rcsbench {

class Histogram {
 public:
  void Add(uint64_t ns) {
    ++counts_[Index(ns)];
    ++count_;
    sum_ += ns;
    if (ns > max_) max_ = ns;
  }
  void Merge(const Histogram& o) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    if (o.max_ > max_) max_ = o.max_;
  }
  uint64_t count() const { return count_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  uint64_t max() const { return max_; }
  uint64_t sum() const { return sum_; }
  // The q-quantile (0 < q < 1), as the midpoint of its bucket; 0 when empty.
  double Quantile(double q) const {
    if (count_ == 0) return 0;
    const uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return Mid(i);
    }
    return static_cast<double>(max_);
  }

 private:
  static constexpr size_t kSub = 32;
  static constexpr size_t kBuckets = 64 + (64 - 6) * kSub;
  static size_t Index(uint64_t v) {
    if (v < 64) return v;
    const int msb = 63 - std::countl_zero(v);  // >= 6
    const uint64_t sub = (v >> (msb - 5)) & (kSub - 1);
    return 64 + static_cast<size_t>(msb - 6) * kSub + sub;
  }
  static double Mid(size_t i) {
    if (i < 64) return static_cast<double>(i);
    const size_t msb = (i - 64) / kSub + 6;
    const uint64_t sub = (i - 64) % kSub;
    const double lo = static_cast<double>((uint64_t{1} << msb) + (sub << (msb - 5)));
    return lo + static_cast<double>(uint64_t{1} << (msb - 5)) / 2;
  }
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_HISTOGRAM_HPP_
