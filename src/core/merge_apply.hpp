// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/merge_apply.hpp
//
// The arithmetic of the built-in merge operators, written once, and how the
// write path applies operators. The built-in operators are recognized once per
// table (Schema::kinds) and applied in place, inline, without the virtual
// calls and temporary strings a user operator needs: a groupby stream does
// several merges per record, so this is the hot path of a writer.
//
// Three users share the arithmetic (the *Arith structs): the write path
// (delta.cpp, map_set.cpp, read_own.cpp: MergeInto), the built-in
// MergeOperator objects of the public API (merge.cpp: their virtual Merge is
// MergeNumeric), and the benchmark harness (bench/common.hpp), whose baselines
// must compute exactly what rcustate computes. What the harness uses is
// inline: it links the shared library, whose internal symbols are hidden.
#ifndef RCUSTATE_SRC_CORE_MERGE_APPLY_HPP_
#define RCUSTATE_SRC_CORE_MERGE_APPLY_HPP_

#include "rcustate/abi.hpp"
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "rcustate/merge.hpp"

namespace RCUSTATE_NAMESPACE::detail {

enum class MergeKind : uint8_t { kNone, kAddInt64, kMinInt64, kMaxInt64, kAddDouble, kAppend, kUser };

// Which built-in `op` is (by identity with the shared instances), kUser for
// any other operator, kNone for nullptr.
MergeKind KindOf(const MergeOperator* op);

// Checks a put value or merge operand for a table whose operator is `op`.
absl::Status ValidateValue(MergeKind kind, const MergeOperator* op, std::string_view value);

// The numeric built-ins on 8-byte little-endian values: T is the value type,
// Combine(existing, operand) the result (see rcustate/merge.hpp for the
// semantics users are promised).
struct AddInt64Arith {
  using T = int64_t;
  static T Combine(T a, T b) {  // wraps on overflow (two's complement)
    return static_cast<T>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  }
};
struct MinInt64Arith {
  using T = int64_t;
  static T Combine(T a, T b) { return b < a ? b : a; }
};
struct MaxInt64Arith {
  using T = int64_t;
  static T Combine(T a, T b) { return b > a ? b : a; }
};
struct AddDoubleArith {
  using T = double;
  static T Combine(T a, T b) { return a + b; }
};

// target = exists ? target ⊕ operand : operand, in place, for a numeric
// built-in. `operand` and, if it exists, `target` are 8 bytes (validated).
template <class Arith>
inline void MergeNumeric(std::string& target, bool exists, std::string_view operand) {
  using T = typename Arith::T;
  T b;
  std::memcpy(&b, operand.data(), 8);
  T r = b;
  if (exists) {
    T a;
    std::memcpy(&a, target.data(), 8);
    r = Arith::Combine(a, b);
  }
  target.resize(8);
  std::memcpy(target.data(), &r, 8);
}

// target = exists ? target ⊕ operand : (nothing ⊕ operand), in place, with the
// table's operator `op` of kind `kind`. The built-ins are computed inline; `op`
// is called only for kUser (and kNone, which callers never pass: a table
// without an operator accepts no merge).
inline void MergeInto(MergeKind kind, const MergeOperator* op, std::string& target, bool exists,
                      std::string_view operand) {
  // Through a lambda, not by calling MergeNumeric directly: with GCC 12 -O3
  // this keeps the inlining of MergeInto into its callers, and so the write
  // path's code, what it was (direct calls made Delta::AbsorbImpl inline
  // MergeInto twice, +9 KB of text).
  auto numeric = [&](auto arith) { MergeNumeric<decltype(arith)>(target, exists, operand); };
  switch (kind) {
    case MergeKind::kAddInt64:
      numeric(AddInt64Arith{});
      return;
    case MergeKind::kMinInt64:
      numeric(MinInt64Arith{});
      return;
    case MergeKind::kMaxInt64:
      numeric(MaxInt64Arith{});
      return;
    case MergeKind::kAddDouble:
      numeric(AddDoubleArith{});
      return;
    case MergeKind::kAppend:
      if (exists) {
        target.append(operand.data(), operand.size());
      } else {
        target.assign(operand.data(), operand.size());
      }
      return;
    case MergeKind::kUser:
    case MergeKind::kNone: {
      std::string out;
      op->Merge(exists ? std::optional<std::string_view>(target) : std::nullopt, operand, &out);
      target.swap(out);
      return;
    }
  }
}

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_MERGE_APPLY_HPP_
