// File: src/core/delta.cpp
#include "src/core/delta.hpp"

#include <utility>

#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"

namespace rcustate::detail {

absl::StatusOr<Schema> Schema::Make(std::vector<TableSpec> tables) {
  if (tables.empty()) return MakeError(ErrorCode::kInvalidArgument, "a store needs at least one table");
  if (tables.size() > UINT32_MAX) return MakeError(ErrorCode::kInvalidArgument, "too many tables");
  Schema schema;
  for (size_t i = 0; i < tables.size(); ++i) {
    if (tables[i].name.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, absl::StrCat("table ", i, " has an empty name"));
    }
    if (!schema.by_name.emplace(tables[i].name, static_cast<TableId>(i)).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       absl::StrCat("duplicate table name \"", tables[i].name, "\""));
    }
  }
  schema.tables = std::move(tables);
  for (const TableSpec& t : schema.tables) schema.kinds.push_back(KindOf(t.merge.get()));
  return schema;
}

absl::Status Schema::CheckTable(TableId table) const {
  if (table < tables.size()) return absl::OkStatus();
  return MakeError(ErrorCode::kNoTable,
                   absl::StrCat("unknown table id ", table, " (the store has ", tables.size(), ")"));
}

absl::Status Delta::CheckKey(const Schema& schema, TableId table, std::string_view key) const {
  if (absl::Status s = schema.CheckTable(table); !s.ok()) return s;
  if (key.size() > kMaxKeySize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     absl::StrCat("key of ", key.size(), " bytes exceeds the limit of ", kMaxKeySize));
  }
  return absl::OkStatus();
}

Op& Delta::Slot(TableId table, std::string_view key, bool* inserted) {
  // try_emplace(key) alone: an Op argument would be built (and moved from)
  // on every call, found or not.
  auto [it, fresh] = tables_[table].ops.try_emplace(key);
  if (fresh) ++size_;
  *inserted = fresh;
  return it->second;
}

absl::Status Delta::Put(const Schema& schema, TableId table, std::string_view key,
                        std::string_view value) {
  if (absl::Status s = CheckKey(schema, table, key); !s.ok()) return s;
  if (const MergeKind kind = schema.kinds[table]; kind != MergeKind::kNone) {
    if (absl::Status s = ValidateValue(kind, schema.tables[table].merge.get(), value); !s.ok()) {
      return s;
    }
  }
  bool inserted;
  Op& slot = Slot(table, key, &inserted);
  slot.kind = Op::kPut;
  slot.value.assign(value.data(), value.size());
  return absl::OkStatus();
}

absl::Status Delta::Erase(const Schema& schema, TableId table, std::string_view key) {
  if (absl::Status s = CheckKey(schema, table, key); !s.ok()) return s;
  bool inserted;
  Op& slot = Slot(table, key, &inserted);
  slot.kind = Op::kErase;
  slot.value.clear();
  return absl::OkStatus();
}

absl::Status Delta::Merge(const Schema& schema, TableId table, std::string_view key,
                          std::string_view operand) {
  if (absl::Status s = CheckKey(schema, table, key); !s.ok()) return s;
  const MergeKind kind = schema.kinds[table];
  const MergeOperator* op = schema.tables[table].merge.get();
  if (kind == MergeKind::kNone) {
    return MakeError(ErrorCode::kInvalidArgument,
                     absl::StrCat("table \"", schema.tables[table].name, "\" has no merge operator"));
  }
  if (absl::Status s = ValidateValue(kind, op, operand); !s.ok()) return s;
  bool inserted;
  Op& slot = Slot(table, key, &inserted);
  if (inserted) {
    // Nothing earlier in this delta: after a clear the base is known to be
    // empty, so the merge resolves now; otherwise it waits for the commit.
    if (tables_[table].cleared) {
      slot.kind = Op::kPut;
      MergeInto(kind, op, slot.value, /*exists=*/false, operand);
    } else {
      slot.kind = Op::kMerge;
      slot.value.assign(operand.data(), operand.size());
    }
    return absl::OkStatus();
  }
  switch (slot.kind) {
    case Op::kPut:    // put then merge: one put
    case Op::kMerge:  // merge then merge: one merge of the combined operand (associativity)
      MergeInto(kind, op, slot.value, /*exists=*/true, operand);
      break;
    case Op::kErase:  // erase then merge: a put of the merge with nothing
      slot.kind = Op::kPut;
      MergeInto(kind, op, slot.value, /*exists=*/false, operand);
      break;
  }
  return absl::OkStatus();
}

absl::Status Delta::Clear(const Schema& schema, TableId table) {
  if (absl::Status s = schema.CheckTable(table); !s.ok()) return s;
  TableDelta& t = tables_[table];
  size_ -= t.ops.size() + (t.cleared ? 1 : 0);
  t.ops.clear();
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
      auto [it, inserted] = mine.ops.try_emplace(key);
      Op& slot = it->second;
      if (inserted) ++size_;
      if (op.kind != Op::kMerge) {  // a later put or erase replaces
        slot.kind = op.kind;
        if constexpr (kMove) {
          slot.value = std::move(op.value);
        } else {
          slot.value = op.value;
        }
      } else if (inserted && !mine.cleared) {  // nothing known of the key: stays a merge
        slot.kind = Op::kMerge;
        slot.value.assign(op.value.data(), op.value.size());
      } else if (inserted || slot.kind == Op::kErase) {  // the base is known empty
        slot.kind = Op::kPut;
        MergeInto(kind, mop, slot.value, /*exists=*/false, op.value);
      } else {  // onto a put (stays a put) or a merge (combined operand)
        MergeInto(kind, mop, slot.value, /*exists=*/true, op.value);
      }
    }
  }
}

void Delta::Absorb(const Schema& schema, const Delta& later) { AbsorbImpl<false>(schema, later); }
void Delta::AbsorbMove(const Schema& schema, Delta& later) { AbsorbImpl<true>(schema, later); }

void Delta::Reset() {
  // Keep the capacity a batch needed (absl's clear() frees slot arrays above
  // 127 slots, which would make every batch regrow its maps from scratch),
  // up to a bound so that one huge batch does not pin memory forever.
  constexpr size_t kKeepAtMost = size_t{1} << 16;
  for (TableDelta& t : tables_) {
    const size_t n = t.ops.size();
    t.ops.clear();
    if (n > 0) t.ops.reserve(n < kKeepAtMost ? n : kKeepAtMost);
    t.cleared = false;
  }
  size_ = 0;
}

}  // namespace rcustate::detail
