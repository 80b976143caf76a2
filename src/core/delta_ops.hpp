// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/delta_ops.hpp
//
// The bodies of Delta's per-key operations for a table id already checked
// (PutChecked, EraseChecked, MergeChecked), inline: delta.cpp builds
// Delta::Put/Erase/Merge from them, and WriteHandle (write_handle.cpp) calls
// them directly, so that a write through a handle is one call with the map
// insertion inside. Error messages are built out of line (delta.cpp).
//
// Every operation validates first, then records; on error nothing changes:
// an invalid argument returns its status, a failed allocation throws
// std::bad_alloc with the delta exactly as it was.
#ifndef RCUSTATE_SRC_CORE_DELTA_OPS_HPP_
#define RCUSTATE_SRC_CORE_DELTA_OPS_HPP_

#include "rcustate/abi.hpp"
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "src/core/delta.hpp"
#include "src/core/merge_apply.hpp"
#include "src/core/safe_map.hpp"

namespace RCUSTATE_NAMESPACE::detail {

namespace delta_ops {
// Strings up to this length live in std::string's inline buffer: building or
// assigning one never allocates, so it cannot throw.
inline const size_t kInlineChars = std::string().capacity();

inline bool IsNumeric(MergeKind kind) {
  return kind == MergeKind::kAddInt64 || kind == MergeKind::kMinInt64 ||
         kind == MergeKind::kMaxInt64 || kind == MergeKind::kAddDouble;
}

// ValidateValue() for a table with an operator, its common case inline: a
// numeric built-in accepts every 8-byte value (merge.cpp), which needs no
// call and no Status; anything else asks ValidateValue, which also builds
// the error message.
inline absl::Status Validate(MergeKind kind, const MergeOperator* op, std::string_view value) {
  if (ABSL_PREDICT_TRUE(IsNumeric(kind) && value.size() == 8)) return absl::OkStatus();
  return ValidateValue(kind, op, value);
}
// value = value ⊕ operand for a numeric built-in whose value is already
// 8 bytes (a pending operand or a put value of a numeric table): in place,
// no allocation, no call. The hit of a numeric merge, which a write handle
// makes once per record.
template <class Arith>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void CombineInPlace(std::string& value,
                                                        std::string_view operand) {
  using T = typename Arith::T;
  T a, b;
  std::memcpy(&a, value.data(), 8);
  std::memcpy(&b, operand.data(), 8);
  const T r = Arith::Combine(a, b);
  std::memcpy(value.data(), &r, 8);
}
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void CombineNumeric(MergeKind kind, std::string& value,
                                                        std::string_view operand) {
  switch (kind) {
    case MergeKind::kAddInt64: return CombineInPlace<AddInt64Arith>(value, operand);
    case MergeKind::kMinInt64: return CombineInPlace<MinInt64Arith>(value, operand);
    case MergeKind::kMaxInt64: return CombineInPlace<MaxInt64Arith>(value, operand);
    default: return CombineInPlace<AddDoubleArith>(value, operand);  // kAddDouble
  }
}
}  // namespace delta_ops

// Inlined into Put, Erase and Merge: the call and its spills were a fifth of
// a numeric Delta::Merge's own instructions (callgrind).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Op& Delta::SlotInline(TableId table, std::string_view key,
                                                          bool* inserted) {
  auto& ops = tables_[table].ops;
  // The common case (room left) tested here, so that the growth stays out
  // of line.
  if (ABSL_PREDICT_FALSE(InsertWouldGrow(ops))) {
    ReserveOneMore(ops);  // may throw; the map is unchanged then
  }
  // Cannot throw: there is room, and the key is built in its inline buffer.
  auto [it, fresh] = ops.try_emplace(key);
  if (fresh) ++size_;
  *inserted = fresh;
  return it->second;
}

inline absl::Status Delta::PutChecked(const Schema& schema, TableId table, std::string_view key,
                                      std::string_view value) {
  using delta_ops::kInlineChars;
  if (ABSL_PREDICT_FALSE(key.size() > kMaxKeySize)) return KeyTooLong(key.size());
  if (const MergeKind kind = schema.kinds[table]; kind != MergeKind::kNone) {
    if (absl::Status s = delta_ops::Validate(kind, schema.tables[table].merge.get(), value);
        !s.ok()) {
      return s;
    }
  }
  if (key.size() <= kInlineChars && value.size() <= kInlineChars) {
    // The common small case in one probe: nothing below can throw but the
    // room SlotInline makes first.
    bool inserted;
    Op& slot = SlotInline(table, key, &inserted);
    slot.value.assign(value.data(), value.size());  // fits inline or reuses capacity
    slot.kind = Op::kPut;
    return absl::OkStatus();
  }
  if (Op* slot = FindMutable(table, key)) {
    slot->value.assign(value.data(), value.size());  // strong guarantee: unchanged if it throws
    slot->kind = Op::kPut;
    return absl::OkStatus();
  }
  Insert(table, std::string(key), Op{Op::kPut, std::string(value)});
  return absl::OkStatus();
}

inline absl::Status Delta::EraseChecked(TableId table, std::string_view key) {
  if (ABSL_PREDICT_FALSE(key.size() > kMaxKeySize)) return KeyTooLong(key.size());
  if (key.size() <= delta_ops::kInlineChars) {  // one probe; only the room may throw
    bool inserted;
    Op& slot = SlotInline(table, key, &inserted);
    slot.kind = Op::kErase;
    slot.value.clear();
    return absl::OkStatus();
  }
  if (Op* slot = FindMutable(table, key)) {
    slot->kind = Op::kErase;
    slot->value.clear();
    return absl::OkStatus();
  }
  Insert(table, std::string(key), Op{Op::kErase, std::string()});
  return absl::OkStatus();
}

inline absl::Status Delta::MergeChecked(const Schema& schema, TableId table, std::string_view key,
                                        std::string_view operand) {
  if (ABSL_PREDICT_FALSE(key.size() > kMaxKeySize)) return KeyTooLong(key.size());
  const MergeKind kind = schema.kinds[table];
  const MergeOperator* op = schema.tables[table].merge.get();
  if (ABSL_PREDICT_FALSE(kind == MergeKind::kNone)) return NoMergeOperator(schema, table);
  if (absl::Status s = delta_ops::Validate(kind, op, operand); !s.ok()) return s;
  if (delta_ops::IsNumeric(kind) && key.size() <= delta_ops::kInlineChars) {
    // The common numeric case in one probe: values are 8 bytes, inline, so
    // nothing below can throw but the room SlotInline makes first.
    bool inserted;
    Op& slot = SlotInline(table, key, &inserted);
    if (inserted) {
      if (tables_[table].cleared) {  // the base is known empty: resolve now
        MergeInto(kind, op, slot.value, /*exists=*/false, operand);
        slot.kind = Op::kPut;
      } else {
        slot.value.assign(operand.data(), operand.size());
        slot.kind = Op::kMerge;
      }
    } else if (slot.kind == Op::kErase) {
      MergeInto(kind, op, slot.value, /*exists=*/false, operand);
      slot.kind = Op::kPut;
    } else if (ABSL_PREDICT_TRUE(slot.value.size() == 8)) {  // always, for a numeric table
      delta_ops::CombineNumeric(kind, slot.value, operand);
    } else {
      MergeInto(kind, op, slot.value, /*exists=*/true, operand);
    }
    return absl::OkStatus();
  }
  // MergeInto gives the strong guarantee: the target is unchanged if it throws.
  if (Op* slot = FindMutable(table, key)) {
    switch (slot->kind) {
      case Op::kPut:    // put then merge: one put
      case Op::kMerge:  // merge then merge: one merge of the combined operand (associativity)
        MergeInto(kind, op, slot->value, /*exists=*/true, operand);
        break;
      case Op::kErase:  // erase then merge: a put of the merge with nothing
        MergeInto(kind, op, slot->value, /*exists=*/false, operand);
        slot->kind = Op::kPut;
        break;
    }
    return absl::OkStatus();
  }
  // Nothing earlier in this delta: after a clear the base is known to be
  // empty, so the merge resolves now; otherwise it waits for the commit.
  Op fresh;
  if (tables_[table].cleared) {
    fresh.kind = Op::kPut;
    MergeInto(kind, op, fresh.value, /*exists=*/false, operand);
  } else {
    fresh.kind = Op::kMerge;
    fresh.value.assign(operand.data(), operand.size());
  }
  Insert(table, std::string(key), std::move(fresh));
  return absl::OkStatus();
}

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_DELTA_OPS_HPP_
