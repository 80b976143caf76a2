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
  auto [it, fresh] = tables_[table].ops.try_emplace(key, Op{Op::kErase, {}});
  if (fresh) ++size_;
  *inserted = fresh;
  return it->second;
}

absl::Status Delta::Put(const Schema& schema, TableId table, std::string_view key,
                        std::string_view value) {
  if (absl::Status s = CheckKey(schema, table, key); !s.ok()) return s;
  if (const auto& op = schema.tables[table].merge) {
    if (absl::Status s = op->Validate(value); !s.ok()) return s;
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
  const MergeOperator* op = schema.tables[table].merge.get();
  if (op == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     absl::StrCat("table \"", schema.tables[table].name, "\" has no merge operator"));
  }
  if (absl::Status s = op->Validate(operand); !s.ok()) return s;
  bool inserted;
  Op& slot = Slot(table, key, &inserted);
  std::string merged;
  if (inserted) {
    // Nothing earlier in this delta: after a clear the base is known to be
    // empty, so the merge resolves now; otherwise it waits for the commit.
    if (tables_[table].cleared) {
      op->Merge(std::nullopt, operand, &merged);
      slot = Op{Op::kPut, std::move(merged)};
    } else {
      slot = Op{Op::kMerge, std::string(operand)};
    }
    return absl::OkStatus();
  }
  switch (slot.kind) {
    case Op::kPut:
      op->Merge(std::string_view(slot.value), operand, &merged);
      break;
    case Op::kErase:
      op->Merge(std::nullopt, operand, &merged);
      slot.kind = Op::kPut;
      break;
    case Op::kMerge:  // combine operands: associativity (merge.hpp)
      op->Merge(std::string_view(slot.value), operand, &merged);
      break;
  }
  slot.value = std::move(merged);
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
void Delta::AbsorbImpl(D& later) {
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
    for (auto& [key, op] : lt.ops) {
      auto [it, inserted] = mine.ops.try_emplace(key, Op{op.kind, {}});
      if (inserted) ++size_;
      it->second.kind = op.kind;
      if constexpr (kMove) {
        it->second.value = std::move(op.value);
      } else {
        it->second.value = op.value;
      }
    }
  }
}

void Delta::Absorb(const Delta& later) { AbsorbImpl<false>(later); }
void Delta::AbsorbMove(Delta& later) { AbsorbImpl<true>(later); }

void Delta::Reset() {
  for (TableDelta& t : tables_) {
    t.ops.clear();
    t.cleared = false;
  }
  size_ = 0;
}

}  // namespace rcustate::detail
