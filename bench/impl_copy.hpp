// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/impl_copy.hpp
//
// `copy`: the card read literally. Each commit copies the partition's whole
// map set, applies the batch to the copy, publishes it with
// rcu_assign_pointer and hands the old set to call_rcu, which frees it after
// a grace period. Writes cost O(state) per batch; the writer never waits.
// Sets are reference counted so that a pin is O(1): the publication holds one
// reference (dropped by the call_rcu callback), each pin another.
#ifndef RCUSTATE_BENCH_IMPL_COPY_HPP_
#define RCUSTATE_BENCH_IMPL_COPY_HPP_

#include <atomic>
#include <cstddef>
#include <string_view>
#include <vector>

#include "bench/batch_delta.hpp"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/delta_baseline.hpp"
#include "bench/urcu.hpp"

namespace rcsbench {

struct CopyPart {
  struct Set {
    explicit Set(size_t tables) : maps(tables) {}
    Set(const Set& o) : maps(o.maps) {}
    std::vector<StrMap> maps;
    std::atomic<uint32_t> refs{1};
  };
  explicit CopyPart(const Schema& s) : current(new Set(s.tables.size())), delta(s) {}
  // The writer is the only one that replaces `current`: it reads it plainly.
  const std::vector<StrMap>& committed() const { return current->maps; }
  Set* current;  // RCU-published
  BatchDelta delta;
  uint64_t commits = 0;
};

class CopyImpl : public DeltaBaseline<CopyImpl, CopyPart, UrcuThreads> {
 public:
  static constexpr std::string_view kName = "copy";
  static constexpr bool kConcurrent = true;
  static constexpr bool kBatchAtomic = true;
  static constexpr bool kHasPins = true;

  CopyImpl(const Schema& schema, const Config&) : DeltaBaseline(schema) {}
  ~CopyImpl() {
    // No reader is left; wait for the callbacks we queued, then free the rest.
    urcu_memb_barrier();
    for (auto& p : parts_) Unref(p->current);
  }

  void Commit(uint32_t p) {
    CopyPart& part = *parts_[p];
    Set* old = part.current;
    Set* next = new Set(*old);  // the whole-state copy
    part.delta.ApplyTo<true>(next->maps);
    part.delta.Reset();
    RcuPublish(part.current, next);  // rcu_assign_pointer
    urcu_memb_call_rcu(&(new Retired{{}, old})->head, &CopyImpl::Reclaim);
    ++part.commits;
  }

  template <typename F>
  void Read(uint32_t p, F&& f) {
    UrcuReadGuard g;
    Set* s = rcu_dereference(parts_[p]->current);
    View v(&s->maps);
    f(v);
  }
  template <typename F, typename Hold>
  bool PinScan(uint32_t p, F&& scan, Hold&& hold) {
    Set* s;
    {
      UrcuReadGuard g;
      s = rcu_dereference(parts_[p]->current);
      // Safe: the publication's reference is dropped only by a callback that
      // runs after this section ends.
      s->refs.fetch_add(1, std::memory_order_relaxed);
    }
    View v(&s->maps);
    scan(v);
    hold();
    Unref(s);
    return true;
  }
  void Collect(RunResult& r) const {
    for (const auto& p : parts_) {
      r.publications += p->commits;
      r.async_reclaims += p->commits;
    }
  }

 private:
  using Set = CopyPart::Set;
  // call_rcu's handle on a retired set (first member: a pointer to it is a
  // pointer to the whole struct).
  struct Retired {
    struct rcu_head head;
    Set* set;
  };
  static void Unref(Set* s) {
    if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
  }
  static void Reclaim(struct rcu_head* h) {
    Retired* r = reinterpret_cast<Retired*>(h);
    Unref(r->set);
    delete r;
  }
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_IMPL_COPY_HPP_
