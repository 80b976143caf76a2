// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/read_own.cpp
#include "rcustate/abi.hpp"
#include "src/core/read_own.hpp"

#include <string>

#include "absl/container/inlined_vector.h"
#include "src/core/merge_apply.hpp"
#include "src/core/store_state.hpp"

namespace RCUSTATE_NAMESPACE::detail {

std::optional<std::optional<std::string_view>> ReadOwn(ThreadEntry& entry,
                                                       uint64_t snapshot_version, TableId table,
                                                       std::string_view key, const TableMap& map) {
  // The layers over the snapshot, oldest first: the unpublished sealed groups
  // (a suffix of entry.sealed(), each folded where cheap), then the
  // uncommitted delta.
  const auto& sealed = entry.sealed();
  size_t first = sealed.size();
  while (first > 0 && sealed[first - 1].last_version > snapshot_version) --first;
  // Which layers say something about the key (first to last), and whether
  // any does.
  absl::InlinedVector<const Delta*, 16> layers;
  bool touched = false;
  auto visit = [&](const Delta& d) {
    layers.push_back(&d);
    touched = touched || d.cleared(table) || d.Find(table, key) != nullptr;
  };
  for (size_t g = first; g < sealed.size(); ++g) {
    entry.FoldSealed(g);
    for (const auto& d : sealed[g].layers) visit(*d);
  }
  visit(entry.delta());
  if (!touched) return std::nullopt;

  // The thread's own records may change before its section ends: the value
  // is built in its scratch area.
  std::string* out = ScratchValue(entry.store()->flavor() == rcu::Flavor::kQsbr);
  bool exists = false;
  if (auto it = map.find(key); it != map.end()) {
    out->assign(it->second);
    exists = true;
  }
  const Schema& schema = entry.store()->schema;
  const MergeKind kind = schema.kinds[table];
  const MergeOperator* mop = schema.tables[table].merge.get();
  for (const Delta* d : layers) {
    if (d->cleared(table)) exists = false;  // what the delta records came after the clear
    const Op* op = d->Find(table, key);
    if (op == nullptr) continue;
    switch (op->kind) {
      case Op::kPut:
        out->assign(op->value);
        exists = true;
        break;
      case Op::kErase:
        exists = false;
        break;
      case Op::kMerge:
        if (!exists) out->clear();
        MergeInto(kind, mop, *out, exists, op->value);
        exists = true;
        break;
    }
  }
  if (!exists) return std::optional<std::string_view>();
  return std::optional<std::string_view>(*out);
}

}  // namespace rcustate::detail
