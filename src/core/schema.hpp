// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/schema.hpp
//
// The tables of a store: fixed at Open, shared read-only by everything.
#ifndef RCUSTATE_SRC_CORE_SCHEMA_HPP_
#define RCUSTATE_SRC_CORE_SCHEMA_HPP_

#include "rcustate/abi.hpp"
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "rcustate/options.hpp"
#include "rcustate/snapshot.hpp"
#include "src/core/merge_apply.hpp"

namespace RCUSTATE_NAMESPACE::detail {

struct Schema {
  std::vector<TableSpec> tables;
  std::vector<MergeKind> kinds;  // per table: which operator, for the inline fast path
  KeyMap<TableId> by_name;

  // kInvalidArgument for no tables, empty or duplicate names, an
  // expected_entries hint above kMaxExpectedEntries.
  static absl::StatusOr<Schema> Make(std::vector<TableSpec> tables);
  // kNoTable unless `table` names a table.
  absl::Status CheckTable(TableId table) const;
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_SCHEMA_HPP_
