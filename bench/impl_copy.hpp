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
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/impl_raw.hpp"
#include "bench/urcu.hpp"

namespace rcsbench {

class CopyImpl {
 public:
  static constexpr std::string_view kName = "copy";
  static constexpr bool kConcurrent = true;
  static constexpr bool kBatchAtomic = true;
  static constexpr bool kHasPins = true;

  using View = RawImpl::View;

  CopyImpl(const Schema& schema, const Config&) {
    for (uint32_t i = 0; i < schema.partitions; ++i) {
      parts_.push_back(std::make_unique<Part>(schema));
    }
  }
  ~CopyImpl() {
    // No reader is left; wait for the callbacks we queued, then free the rest.
    urcu_memb_barrier();
    for (auto& p : parts_) Unref(p->current);
  }
  absl::Status Init() { return absl::OkStatus(); }
  static void ThreadStart() { urcu_memb_register_thread(); }
  static void ThreadStop() { urcu_memb_unregister_thread(); }

  void Put(uint32_t p, uint32_t t, std::string_view key, std::string_view value) {
    parts_[p]->delta.Put(t, key, value);
  }
  void Merge(uint32_t p, uint32_t t, std::string_view key, std::string_view operand) {
    Part& part = *parts_[p];
    // The writer is the only one that replaces `current`: it reads it plainly.
    part.delta.Merge(t, key, operand, [&](uint32_t tt, std::string_view k) -> const std::string* {
      const StrMap& m = part.current->maps[tt];
      auto it = m.find(k);
      return it == m.end() ? nullptr : &it->second;
    });
  }
  void Clear(uint32_t p, uint32_t t) { parts_[p]->delta.Clear(t); }
  void Commit(uint32_t p) {
    Part& part = *parts_[p];
    Set* old = part.current;
    Set* next = new Set(*old);  // the whole-state copy
    part.delta.ApplyTo<true>(next->maps);
    part.delta.Reset();
    RcuPublish(part.current, next);  // rcu_assign_pointer
    urcu_memb_call_rcu(&(new Retired{{}, old})->head, &CopyImpl::Reclaim);
    ++part.commits;
  }
  void Finish(uint32_t) {}

  template <typename F>
  void Read(uint32_t p, F&& f) {
    UrcuReadGuard g;
    Set* s = rcu_dereference(parts_[p]->current);
    View v(&s->maps);
    f(v);
  }
  template <typename F>
  void WriterRead(uint32_t p, F&& f) {
    Read(p, f);
  }
  // A read that may walk whole tables (verification).
  template <typename F>
  void Scan(uint32_t p, F&& f) {
    Read(p, f);
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
  struct Set {
    explicit Set(size_t tables) : maps(tables) {}
    Set(const Set& o) : maps(o.maps) {}
    std::vector<StrMap> maps;
    std::atomic<uint32_t> refs{1};
  };
  // call_rcu's handle on a retired set (first member: a pointer to it is a
  // pointer to the whole struct).
  struct Retired {
    struct rcu_head head;
    Set* set;
  };
  struct Part {
    explicit Part(const Schema& s) : current(new Set(s.tables.size())), delta(s) {}
    Set* current;  // RCU-published
    BatchDelta delta;
    uint64_t commits = 0;
  };
  static void Unref(Set* s) {
    if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
  }
  static void Reclaim(struct rcu_head* h) {
    Retired* r = reinterpret_cast<Retired*>(h);
    Unref(r->set);
    delete r;
  }
  std::vector<std::unique_ptr<Part>> parts_;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_IMPL_COPY_HPP_
