// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/batch_delta.hpp
//
// BatchDelta: the changes of one batch of one partition, as the baselines that
// apply a batch at commit (locked, copy, lr-sync) keep them.
#ifndef RCUSTATE_BENCH_BATCH_DELTA_HPP_
#define RCUSTATE_BENCH_BATCH_DELTA_HPP_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "bench/common.hpp"

namespace rcsbench {

// The changes of one batch of one partition, as the baselines keep them:
// per table key -> resolved value (merges are resolved when recorded, against
// the delta itself or else the committed state), plus "table cleared".
// Erase is not needed by any scenario.
class BatchDelta {
 public:
  explicit BatchDelta(const Schema& schema) : tables_(schema.tables.size()) {
    kinds_.reserve(schema.tables.size());
    for (const TableDef& t : schema.tables) kinds_.push_back(t.merge);
  }

  // Records key ⊕= operand, resolved against this delta or else against
  // `committed` (the partition's maps, one per table) unless the table was
  // cleared in this batch. Always inlined, like DeltaBaseline::Merge and
  // GroupBy::Record: with these three forced, the baselines' writer loops
  // compile as they did before the adapters shared this code (callgrind,
  // groupby, 2e5 records: instructions within 1.5% of before for every
  // implementation; without, +3% to +10% depending on which GCC inlined).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Merge(uint32_t table, std::string_view key,
                                          std::string_view operand,
                                          const std::vector<StrMap>& committed) {
    Table& tb = tables_[table];
    auto [it, inserted] = tb.ops.try_emplace(key);
    if (inserted) {
      const std::string* b = nullptr;
      if (!tb.cleared) {
        const StrMap& m = committed[table];
        auto c = m.find(key);
        if (c != m.end()) b = &c->second;
      }
      if (b != nullptr) it->second = *b;
      MergeInPlace(kinds_[table], it->second, b != nullptr, operand);
    } else {
      MergeInPlace(kinds_[table], it->second, true, operand);
    }
  }
  void Put(uint32_t table, std::string_view key, std::string_view value) {
    tables_[table].ops.try_emplace(key).first->second.assign(value.data(), value.size());
  }
  void Clear(uint32_t table) {
    tables_[table].ops.clear();
    tables_[table].cleared = true;
  }
  // Brings `maps` (one per table) up to date with this delta. kMove steals
  // the values (for the last application of a delta).
  template <bool kMove>
  void ApplyTo(std::vector<StrMap>& maps) {
    for (size_t t = 0; t < tables_.size(); ++t) {
      Table& tb = tables_[t];
      StrMap& map = maps[t];
      if (tb.cleared) map.clear();
      for (auto& [key, value] : tb.ops) {
        auto it = map.try_emplace(key).first;
        if constexpr (kMove) {
          it->second = std::move(value);
        } else {
          it->second = value;
        }
      }
    }
  }
  // Empties the delta but keeps its tables' capacity (absl's clear() frees
  // the slot array above 127 slots, which would make every batch regrow it).
  void Reset() {
    for (Table& tb : tables_) {
      const size_t n = tb.ops.size();
      tb.ops.clear();
      if (n > 0) tb.ops.reserve(n);
      tb.cleared = false;
    }
  }
  size_t size() const {
    size_t n = 0;
    for (const Table& tb : tables_) n += tb.ops.size() + (tb.cleared ? 1 : 0);
    return n;
  }

 private:
  struct Table {
    bool cleared = false;
    StrMap ops;
  };
  std::vector<MergeKind> kinds_;
  std::vector<Table> tables_;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_BATCH_DELTA_HPP_
