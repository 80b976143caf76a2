// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/delta_baseline.hpp
//
// DeltaBaseline: the shape of the baselines that record a batch in a
// BatchDelta per partition and apply it at commit (locked, copy, lr-sync).
// Put, Merge and Clear go to the partition's delta; a merge resolves against
// the partition's committed maps, which only the partition's writer replaces,
// so the writer reads them without synchronization. The adapter defines its
// Part, Commit, Read, pins and counters.
//
// Part: constructible from the Schema, with a member `BatchDelta delta` and
// `const std::vector<StrMap>& committed() const`.
#ifndef RCUSTATE_BENCH_DELTA_BASELINE_HPP_
#define RCUSTATE_BENCH_DELTA_BASELINE_HPP_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/attributes.h"
#include "bench/batch_delta.hpp"
#include "bench/common.hpp"
#include "bench/impl_base.hpp"
#include "bench/map_view.hpp"

namespace rcsbench {

template <class Derived, class Part, class Threads = UnregisteredThreads>
class DeltaBaseline : public ImplBase<Derived, Threads> {
 public:
  using View = MapSetView;

  explicit DeltaBaseline(const Schema& schema) {
    for (uint32_t i = 0; i < schema.partitions; ++i) {
      parts_.push_back(std::make_unique<Part>(schema));
    }
  }

  void Put(uint32_t p, uint32_t t, std::string_view key, std::string_view value) {
    parts_[p]->delta.Put(t, key, value);
  }
  // Always inlined: see BatchDelta::Merge.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Merge(uint32_t p, uint32_t t, std::string_view key,
                                          std::string_view operand) {
    Part& part = *parts_[p];
    part.delta.Merge(t, key, operand, part.committed());
  }
  void Clear(uint32_t p, uint32_t t) { parts_[p]->delta.Clear(t); }

 protected:
  std::vector<std::unique_ptr<Part>> parts_;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_DELTA_BASELINE_HPP_
