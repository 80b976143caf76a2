// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/impl_locked.hpp
//
// `locked`: the design rcustate replaces. One std::shared_mutex and one
// absl::flat_hash_map per table per partition. The writer records a batch in
// a BatchDelta (merges resolved against the maps, which only it mutates, so it
// reads them without the lock) and applies it under the exclusive lock at
// commit: readers, under the shared lock, see whole batches. Commit wait is
// the time spent acquiring the exclusive lock. A "pin" copies the maps under
// the shared lock (the usual way to checkpoint a locked map).
#ifndef RCUSTATE_BENCH_IMPL_LOCKED_HPP_
#define RCUSTATE_BENCH_IMPL_LOCKED_HPP_

#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <vector>

#include "bench/batch_delta.hpp"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/delta_baseline.hpp"

namespace rcsbench {

struct LockedPart {
  explicit LockedPart(const Schema& s) : maps(s.tables.size()), delta(s) {}
  const std::vector<StrMap>& committed() const { return maps; }
  std::shared_mutex mu;
  std::vector<StrMap> maps;  // written under mu (exclusive), read under mu (shared)
  BatchDelta delta;          // writer only
  uint64_t wait_ns = 0, commits = 0;
};

class LockedImpl : public DeltaBaseline<LockedImpl, LockedPart> {
 public:
  static constexpr std::string_view kName = "locked";
  static constexpr bool kConcurrent = true;
  static constexpr bool kBatchAtomic = true;
  static constexpr bool kHasPins = true;  // by copying under the shared lock

  LockedImpl(const Schema& schema, const Config&) : DeltaBaseline(schema) {}

  void Commit(uint32_t p) {
    LockedPart& part = *parts_[p];
    const uint64_t t0 = NowNs();
    std::unique_lock<std::shared_mutex> lock(part.mu);
    part.wait_ns += NowNs() - t0;
    part.delta.ApplyTo<true>(part.maps);
    lock.unlock();
    part.delta.Reset();
    ++part.commits;
  }

  template <typename F>
  void Read(uint32_t p, F&& f) {
    LockedPart& part = *parts_[p];
    std::shared_lock<std::shared_mutex> lock(part.mu);
    View v(&part.maps);
    f(v);
  }
  template <typename F, typename Hold>
  bool PinScan(uint32_t p, F&& scan, Hold&& hold) {
    LockedPart& part = *parts_[p];
    std::vector<StrMap> copy;
    {
      std::shared_lock<std::shared_mutex> lock(part.mu);
      copy = part.maps;
    }
    View v(&copy);
    scan(v);
    hold();
    return true;
  }
  void Collect(RunResult& r) const {
    for (const auto& p : parts_) {
      r.commit_wait_ns += p->wait_ns;
      r.publications += p->commits;
    }
  }
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_IMPL_LOCKED_HPP_
