// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/impl_lrsync.hpp
//
// `lr-sync`: the bare mechanism of design §3 without rcustate's API or
// publication policies. Two map sets per partition; the writer records a batch
// in a BatchDelta (merges resolved as they arrive); at commit it calls
// synchronize_rcu inline (every commit), replays the previous batch and this
// one onto the standby set, publishes it with rcu_assign_pointer and keeps
// the old published set as the next standby. Commit wait is the time inside
// synchronize_rcu. There is no pin: a scan runs inside a read section, so the
// writer's next grace period waits for it.
#ifndef RCUSTATE_BENCH_IMPL_LRSYNC_HPP_
#define RCUSTATE_BENCH_IMPL_LRSYNC_HPP_

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/batch_delta.hpp"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/delta_baseline.hpp"
#include "bench/urcu.hpp"

namespace rcsbench {

struct LrSyncPart {
  struct Set {
    explicit Set(size_t tables) : maps(tables) {}
    std::vector<StrMap> maps;
  };
  explicit LrSyncPart(const Schema& s)
      : a(s.tables.size()), b(s.tables.size()), current(&a), standby(&b), delta(s), missed(s) {}
  // The writer is the only one that replaces `current`: it reads it plainly.
  const std::vector<StrMap>& committed() const { return current->maps; }
  Set a, b;
  Set* current;  // RCU-published
  Set* standby;
  BatchDelta delta;   // this batch
  BatchDelta missed;  // the previous batch: applied to current, not yet to standby
  uint64_t wait_ns = 0, commits = 0;
};

class LrSyncImpl : public DeltaBaseline<LrSyncImpl, LrSyncPart, UrcuThreads> {
 public:
  static constexpr std::string_view kName = "lr-sync";
  static constexpr bool kConcurrent = true;
  static constexpr bool kBatchAtomic = true;
  static constexpr bool kHasPins = false;

  LrSyncImpl(const Schema& schema, const Config&) : DeltaBaseline(schema) {}

  void Commit(uint32_t p) {
    LrSyncPart& part = *parts_[p];
    const uint64_t t0 = NowNs();
    urcu_memb_synchronize_rcu();  // no reader can still see the standby
    part.wait_ns += NowNs() - t0;
    LrSyncPart::Set* next = part.standby;
    part.missed.ApplyTo<true>(next->maps);
    part.delta.ApplyTo<false>(next->maps);
    LrSyncPart::Set* old = part.current;
    RcuPublish(part.current, next);  // rcu_assign_pointer
    part.standby = old;
    std::swap(part.missed, part.delta);
    part.delta.Reset();
    ++part.commits;
  }

  template <typename F>
  void Read(uint32_t p, F&& f) {
    UrcuReadGuard g;
    LrSyncPart::Set* s = rcu_dereference(parts_[p]->current);
    View v(&s->maps);
    f(v);
  }
  void Collect(RunResult& r) const {
    for (const auto& p : parts_) {
      r.commit_wait_ns += p->wait_ns;
      r.grace_periods += p->commits;
      r.publications += p->commits;
    }
  }
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_IMPL_LRSYNC_HPP_
