// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/impl_raw.hpp
//
// `raw`: the physical limit. One thread, one plain absl::flat_hash_map per
// table and partition, updated in place (no delta, no copy, no
// synchronization). It has no concurrent readers: in `lookup` its one thread
// only reads, elsewhere it only writes.
#ifndef RCUSTATE_BENCH_IMPL_RAW_HPP_
#define RCUSTATE_BENCH_IMPL_RAW_HPP_

#include <string_view>
#include <vector>

#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/impl_base.hpp"
#include "bench/map_view.hpp"

namespace rcsbench {

class RawImpl : public ImplBase<RawImpl> {
 public:
  static constexpr std::string_view kName = "raw";
  static constexpr bool kConcurrent = false;  // one thread only
  static constexpr bool kBatchAtomic = true;  // trivially: nobody else looks
  static constexpr bool kHasPins = false;

  using View = MapSetView;

  RawImpl(const Schema& schema, const Config&) : parts_(schema.partitions) {
    for (auto& p : parts_) p.resize(schema.tables.size());
    for (const TableDef& t : schema.tables) kinds_.push_back(t.merge);
  }

  void Put(uint32_t p, uint32_t t, std::string_view key, std::string_view value) {
    parts_[p][t].try_emplace(key).first->second.assign(value.data(), value.size());
  }
  void Merge(uint32_t p, uint32_t t, std::string_view key, std::string_view operand) {
    auto [it, inserted] = parts_[p][t].try_emplace(key);
    MergeInPlace(kinds_[t], it->second, !inserted, operand);
  }
  void Clear(uint32_t p, uint32_t t) { parts_[p][t].clear(); }
  void Commit(uint32_t) { ++commits_; }

  template <typename F>
  void Read(uint32_t p, F&& f) {
    View v(&parts_[p]);
    f(v);
  }
  void Collect(RunResult& r) const { r.publications = commits_; }

 private:
  std::vector<std::vector<StrMap>> parts_;
  std::vector<MergeKind> kinds_;
  uint64_t commits_ = 0;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_IMPL_RAW_HPP_
