// File: bench/impl_raw.hpp
//
// `raw`: the physical limit. One thread, one plain absl::flat_hash_map per
// table and partition, updated in place (no delta, no copy, no
// synchronization). It has no concurrent readers: in `lookup` its one thread
// only reads, elsewhere it only writes.
#ifndef RCUSTATE_BENCH_IMPL_RAW_HPP_
#define RCUSTATE_BENCH_IMPL_RAW_HPP_

#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "bench/common.hpp"
#include "bench/config.hpp"

namespace rcsbench {

class RawImpl {
 public:
  static constexpr std::string_view kName = "raw";
  static constexpr bool kConcurrent = false;  // one thread only
  static constexpr bool kBatchAtomic = true;  // trivially: nobody else looks
  static constexpr bool kHasPins = false;

  class View {
   public:
    explicit View(const std::vector<StrMap>* maps) : maps_(maps) {}
    std::optional<std::string_view> Find(uint32_t t, std::string_view key) const {
      const StrMap& m = (*maps_)[t];
      auto it = m.find(key);
      if (it == m.end()) return std::nullopt;
      return std::string_view(it->second);
    }
    template <typename F>
    void ForEach(uint32_t t, F&& f) const {
      for (const auto& [k, v] : (*maps_)[t]) f(std::string_view(k), std::string_view(v));
    }
    size_t Size(uint32_t t) const { return (*maps_)[t].size(); }

   private:
    const std::vector<StrMap>* maps_;
  };

  RawImpl(const Schema& schema, const Config&) : parts_(schema.partitions) {
    for (auto& p : parts_) p.resize(schema.tables.size());
    for (const TableDef& t : schema.tables) kinds_.push_back(t.merge);
  }
  absl::Status Init() { return absl::OkStatus(); }
  static void ThreadStart() {}
  static void ThreadStop() {}

  void Put(uint32_t p, uint32_t t, std::string_view key, std::string_view value) {
    parts_[p][t].try_emplace(key).first->second.assign(value.data(), value.size());
  }
  void Merge(uint32_t p, uint32_t t, std::string_view key, std::string_view operand) {
    auto [it, inserted] = parts_[p][t].try_emplace(key);
    MergeInPlace(kinds_[t], it->second, !inserted, operand);
  }
  void Clear(uint32_t p, uint32_t t) { parts_[p][t].clear(); }
  void Commit(uint32_t) { ++commits_; }
  void Finish(uint32_t) {}

  template <typename F>
  void Read(uint32_t p, F&& f) {
    View v(&parts_[p]);
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
  void Collect(RunResult& r) const { r.publications = commits_; }

 private:
  std::vector<std::vector<StrMap>> parts_;
  std::vector<MergeKind> kinds_;
  uint64_t commits_ = 0;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_IMPL_RAW_HPP_
