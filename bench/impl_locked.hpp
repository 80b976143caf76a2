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

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/impl_raw.hpp"

namespace rcsbench {

class LockedImpl {
 public:
  static constexpr std::string_view kName = "locked";
  static constexpr bool kConcurrent = true;
  static constexpr bool kBatchAtomic = true;
  static constexpr bool kHasPins = true;  // by copying under the shared lock

  using View = RawImpl::View;

  LockedImpl(const Schema& schema, const Config&) {
    for (uint32_t i = 0; i < schema.partitions; ++i) {
      parts_.push_back(std::make_unique<Part>(schema));
    }
  }
  absl::Status Init() { return absl::OkStatus(); }
  static void ThreadStart() {}
  static void ThreadStop() {}

  void Put(uint32_t p, uint32_t t, std::string_view key, std::string_view value) {
    parts_[p]->delta.Put(t, key, value);
  }
  void Merge(uint32_t p, uint32_t t, std::string_view key, std::string_view operand) {
    Part& part = *parts_[p];
    part.delta.Merge(t, key, operand, [&](uint32_t tt, std::string_view k) -> const std::string* {
      const StrMap& m = part.maps[tt];
      auto it = m.find(k);
      return it == m.end() ? nullptr : &it->second;
    });
  }
  void Clear(uint32_t p, uint32_t t) { parts_[p]->delta.Clear(t); }
  void Commit(uint32_t p) {
    Part& part = *parts_[p];
    const uint64_t t0 = NowNs();
    std::unique_lock<std::shared_mutex> lock(part.mu);
    part.wait_ns += NowNs() - t0;
    part.delta.ApplyTo<true>(part.maps);
    lock.unlock();
    part.delta.Reset();
    ++part.commits;
  }
  void Finish(uint32_t) {}

  template <typename F>
  void Read(uint32_t p, F&& f) {
    Part& part = *parts_[p];
    std::shared_lock<std::shared_mutex> lock(part.mu);
    View v(&part.maps);
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
    Part& part = *parts_[p];
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

 private:
  struct Part {
    explicit Part(const Schema& s) : maps(s.tables.size()), delta(s) {}
    std::shared_mutex mu;
    std::vector<StrMap> maps;  // written under mu (exclusive), read under mu (shared)
    BatchDelta delta;          // writer only
    uint64_t wait_ns = 0, commits = 0;
  };
  std::vector<std::unique_ptr<Part>> parts_;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_IMPL_LOCKED_HPP_
