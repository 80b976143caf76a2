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

#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/impl_raw.hpp"
#include "bench/urcu.hpp"

namespace rcsbench {

class LrSyncImpl {
 public:
  static constexpr std::string_view kName = "lr-sync";
  static constexpr bool kConcurrent = true;
  static constexpr bool kBatchAtomic = true;
  static constexpr bool kHasPins = false;

  using View = RawImpl::View;

  LrSyncImpl(const Schema& schema, const Config&) {
    for (uint32_t i = 0; i < schema.partitions; ++i) {
      parts_.push_back(std::make_unique<Part>(schema));
    }
  }
  absl::Status Init() { return absl::OkStatus(); }
  static void ThreadStart() { urcu_memb_register_thread(); }
  static void ThreadStop() { urcu_memb_unregister_thread(); }

  void Put(uint32_t p, uint32_t t, std::string_view key, std::string_view value) {
    parts_[p]->delta.Put(t, key, value);
  }
  void Merge(uint32_t p, uint32_t t, std::string_view key, std::string_view operand) {
    Part& part = *parts_[p];
    part.delta.Merge(t, key, operand, [&](uint32_t tt, std::string_view k) -> const std::string* {
      const StrMap& m = part.current->maps[tt];
      auto it = m.find(k);
      return it == m.end() ? nullptr : &it->second;
    });
  }
  void Clear(uint32_t p, uint32_t t) { parts_[p]->delta.Clear(t); }
  void Commit(uint32_t p) {
    Part& part = *parts_[p];
    const uint64_t t0 = NowNs();
    urcu_memb_synchronize_rcu();  // no reader can still see the standby
    part.wait_ns += NowNs() - t0;
    Set* next = part.standby;
    part.missed.ApplyTo<true>(next->maps);
    part.delta.ApplyTo<false>(next->maps);
    Set* old = part.current;
    RcuPublish(part.current, next);  // rcu_assign_pointer
    part.standby = old;
    std::swap(part.missed, part.delta);
    part.delta.Reset();
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
  bool PinScan(uint32_t p, F&& scan, Hold&&) {
    Read(p, scan);
    return false;
  }
  void Collect(RunResult& r) const {
    for (const auto& p : parts_) {
      r.commit_wait_ns += p->wait_ns;
      r.grace_periods += p->commits;
      r.publications += p->commits;
    }
  }

 private:
  struct Set {
    explicit Set(size_t tables) : maps(tables) {}
    std::vector<StrMap> maps;
  };
  struct Part {
    explicit Part(const Schema& s)
        : a(s.tables.size()), b(s.tables.size()), current(&a), standby(&b), delta(s), missed(s) {}
    Set a, b;
    Set* current;  // RCU-published
    Set* standby;
    BatchDelta delta;   // this batch
    BatchDelta missed;  // the previous batch: applied to current, not yet to standby
    uint64_t wait_ns = 0, commits = 0;
  };
  std::vector<std::unique_ptr<Part>> parts_;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_IMPL_LRSYNC_HPP_
