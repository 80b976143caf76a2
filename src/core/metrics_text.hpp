// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/metrics_text.hpp
//
// Store statistics in the Prometheus text exposition format (version 0.0.4):
// one family per statistic, with HELP and TYPE lines; store-wide families
// first, then per-partition ones labelled partition="<id>" (and
// table="<name>" for entries).
#ifndef RCUSTATE_SRC_CORE_METRICS_TEXT_HPP_
#define RCUSTATE_SRC_CORE_METRICS_TEXT_HPP_

#include "rcustate/abi.hpp"
#include <string>
#include <string_view>
#include <vector>

#include "rcustate/options.hpp"
#include "src/core/schema.hpp"
#include "src/core/store_state.hpp"

namespace RCUSTATE_NAMESPACE::detail {

// Throws std::bad_alloc.
std::string FormatMetrics(const StoreStats& store,
                          const std::vector<StoreState::PartitionMetrics>& partitions,
                          const Schema& schema);

// A label value escaped for the text format (backslash, double quote and
// line feed); a byte that is not part of well-formed UTF-8, and NUL, becomes
// U+FFFD. Throws std::bad_alloc.
std::string EscapeLabelValue(std::string_view value);

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_METRICS_TEXT_HPP_
