// File: src/core/merge_apply.hpp
//
// Applying merge operators on the write path. The built-in operators are
// recognized once per table (Schema::kinds) and applied in place, inline,
// without the virtual calls and temporary strings a user operator needs:
// a groupby stream does several merges per record, so this is the hot path
// of a writer.
#ifndef RCUSTATE_SRC_CORE_MERGE_APPLY_HPP_
#define RCUSTATE_SRC_CORE_MERGE_APPLY_HPP_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "rcustate/merge.hpp"

namespace rcustate::detail {

enum class MergeKind : uint8_t { kNone, kAddInt64, kMinInt64, kMaxInt64, kAddDouble, kAppend, kUser };

// Which built-in `op` is (by identity with the shared instances), kUser for
// any other operator, kNone for nullptr.
MergeKind KindOf(const MergeOperator* op);

// Checks a put value or merge operand for a table whose operator is `op`.
absl::Status ValidateValue(MergeKind kind, const MergeOperator* op, std::string_view value);

// target = exists ? target ⊕ operand : (nothing ⊕ operand), in place.
inline void MergeInto(MergeKind kind, const MergeOperator* op, std::string& target, bool exists,
                      std::string_view operand) {
  auto numeric = [&](auto combine, auto zero) {
    using T = decltype(zero);
    T b;
    std::memcpy(&b, operand.data(), 8);
    T r = b;
    if (exists) {
      T a;
      std::memcpy(&a, target.data(), 8);
      r = combine(a, b);
    }
    target.resize(8);
    std::memcpy(target.data(), &r, 8);
  };
  switch (kind) {
    case MergeKind::kAddInt64:
      numeric([](int64_t a, int64_t b) {
        return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
      }, int64_t{0});
      return;
    case MergeKind::kMinInt64:
      numeric([](int64_t a, int64_t b) { return b < a ? b : a; }, int64_t{0});
      return;
    case MergeKind::kMaxInt64:
      numeric([](int64_t a, int64_t b) { return b > a ? b : a; }, int64_t{0});
      return;
    case MergeKind::kAddDouble:
      numeric([](double a, double b) { return a + b; }, double{0});
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
