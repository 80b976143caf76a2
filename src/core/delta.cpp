// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/delta.cpp
#include "rcustate/abi.hpp"
#include "src/core/delta.hpp"
#include "src/core/delta_ops.hpp"

#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"
#include "src/core/safe_map.hpp"

namespace RCUSTATE_NAMESPACE::detail {

absl::StatusOr<Schema> Schema::Make(std::vector<TableSpec> tables) {
  if (tables.empty()) return MakeError(ErrorCode::kInvalidArgument, "a store needs at least one table");
  if (tables.size() > UINT32_MAX) return MakeError(ErrorCode::kInvalidArgument, "too many tables");
  Schema schema;
  for (size_t i = 0; i < tables.size(); ++i) {
    if (tables[i].name.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, absl::StrCat("table ", i, " has an empty name"));
    }
    if (tables[i].expected_entries > kMaxExpectedEntries) {
      return MakeError(ErrorCode::kInvalidArgument,
                       absl::StrCat("table \"", tables[i].name, "\": expected_entries ",
                                    tables[i].expected_entries, " exceeds the limit of ",
                                    kMaxExpectedEntries));
    }
    // abseil's maps are not exception-safe: room first, then an insertion
    // that cannot throw (safe_map.hpp).
    ReserveInserts(schema.by_name, 1);
    auto [it, inserted] = TryEmplaceSafely(schema.by_name, tables[i].name);
    if (!inserted) {
      return MakeError(ErrorCode::kInvalidArgument,
                       absl::StrCat("duplicate table name \"", tables[i].name, "\""));
    }
    it->second = static_cast<TableId>(i);
  }
  schema.kinds.reserve(tables.size());
  for (const TableSpec& t : tables) schema.kinds.push_back(KindOf(t.merge.get()));
  schema.tables = std::move(tables);
  return schema;
}

absl::Status Schema::CheckTable(TableId table) const {
  if (table < tables.size()) return absl::OkStatus();
  return MakeError(ErrorCode::kNoTable,
                   absl::StrCat("unknown table id ", table, " (the store has ", tables.size(), ")"));
}

absl::Status KeyTooLong(size_t size) {
  return MakeError(ErrorCode::kInvalidArgument,
                   absl::StrCat("key of ", size, " bytes exceeds the limit of ", kMaxKeySize));
}

absl::Status NoMergeOperator(const Schema& schema, TableId table) {
  return MakeError(ErrorCode::kInvalidArgument,
                   absl::StrCat("table \"", schema.tables[table].name, "\" has no merge operator"));
}

Op* Delta::FindMutable(TableId table, std::string_view key) {
  auto& ops = tables_[table].ops;
  auto it = ops.find(key);
  return it == ops.end() ? nullptr : &it->second;
}

void Delta::Insert(TableId table, std::string&& key, Op&& op) {
  auto& ops = tables_[table].ops;
  ReserveOneMore(ops);  // may throw; the map is unchanged then
  // Cannot throw: there is room (no growth) and both parts are moved in.
  ops.try_emplace(std::move(key), std::move(op));
  ++size_;
}

absl::Status Delta::Put(const Schema& schema, TableId table, std::string_view key,
                        std::string_view value) {
  if (absl::Status s = schema.CheckTable(table); !s.ok()) return s;
  return PutChecked(schema, table, key, value);
}

absl::Status Delta::Erase(const Schema& schema, TableId table, std::string_view key) {
  if (absl::Status s = schema.CheckTable(table); !s.ok()) return s;
  return EraseChecked(table, key);
}

absl::Status Delta::Merge(const Schema& schema, TableId table, std::string_view key,
                          std::string_view operand) {
  if (absl::Status s = schema.CheckTable(table); !s.ok()) return s;
  return MergeChecked(schema, table, key, operand);
}

absl::Status Delta::Clear(const Schema& schema, TableId table) {
  if (absl::Status s = schema.CheckTable(table); !s.ok()) return s;
  TableDelta& t = tables_[table];
  size_ -= t.ops.size() + (t.cleared ? 1 : 0);
  t.ops.clear();  // never throws (it frees or keeps the backing array)
  t.cleared = true;
  ++size_;
  return absl::OkStatus();
}

template <bool kMove, typename D>
void Delta::AbsorbImpl(const Schema& schema, D& later) {
  auto& ltables = later.tables();
  for (size_t t = 0; t < ltables.size(); ++t) {
    auto& lt = ltables[t];
    TableDelta& mine = tables_[t];
    if (lt.cleared) {
      size_ -= mine.ops.size() + (mine.cleared ? 1 : 0);
      mine.ops.clear();
      mine.cleared = true;
      ++size_;
    }
    const MergeKind kind = schema.kinds[t];
    const MergeOperator* mop = schema.tables[t].merge.get();
    for (auto& [key, op] : lt.ops) {
      // Basic guarantee: if an allocation fails, this delta stays whole (it
      // absorbed a prefix of `later`'s keys, each wholly).
      auto found = mine.ops.find(key);
      if (found == mine.ops.end()) {
        // A key new here: its op is built first, then moved in.
        Op fresh;
        if (op.kind != Op::kMerge) {  // a later put or erase
          fresh.kind = op.kind;
        } else if (!mine.cleared) {  // nothing known of the key: stays a merge
          fresh.kind = Op::kMerge;
        } else {  // the base is known empty
          fresh.kind = Op::kPut;
        }
        if (op.kind == Op::kMerge && mine.cleared) {
          MergeInto(kind, mop, fresh.value, /*exists=*/false, op.value);
        } else if constexpr (kMove) {
          fresh.value = std::move(op.value);
        } else {
          fresh.value = op.value;
        }
        Insert(static_cast<TableId>(t), std::string(key), std::move(fresh));
        continue;
      }
      Op& slot = found->second;
      if (op.kind != Op::kMerge) {  // a later put or erase replaces
        if constexpr (kMove) {
          slot.value = std::move(op.value);
        } else {
          slot.value = op.value;  // strong guarantee
        }
        slot.kind = op.kind;
      } else if (slot.kind == Op::kErase) {  // the base is known empty
        MergeInto(kind, mop, slot.value, /*exists=*/false, op.value);
        slot.kind = Op::kPut;
      } else {  // onto a put (stays a put) or a merge (combined operand)
        MergeInto(kind, mop, slot.value, /*exists=*/true, op.value);
      }
    }
  }
}

void Delta::Absorb(const Schema& schema, const Delta& later) { AbsorbImpl<false>(schema, later); }
void Delta::AbsorbMove(const Schema& schema, Delta& later) { AbsorbImpl<true>(schema, later); }

void Delta::Reset() noexcept {
  // Keep the capacity a batch needed (absl's clear() frees slot arrays above
  // 127 slots, which would make every batch regrow its maps from scratch),
  // up to a bound so that one huge batch does not pin memory forever.
  constexpr size_t kKeepAtMost = size_t{1} << 16;
  for (TableDelta& t : tables_) {
    const size_t n = t.ops.size();
    ClearKeepingRoom(t.ops, n < kKeepAtMost ? n : kKeepAtMost);
    t.cleared = false;
  }
  size_ = 0;
}

}  // namespace rcustate::detail
