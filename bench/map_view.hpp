// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/map_view.hpp
//
// MapSetView: the View (see impl_base.hpp) of the implementations that keep a
// partition as one plain StrMap per table (raw, locked, copy, lr-sync).
#ifndef RCUSTATE_BENCH_MAP_VIEW_HPP_
#define RCUSTATE_BENCH_MAP_VIEW_HPP_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "bench/common.hpp"

namespace rcsbench {

class MapSetView {
 public:
  explicit MapSetView(const std::vector<StrMap>* maps) : maps_(maps) {}
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

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_MAP_VIEW_HPP_
