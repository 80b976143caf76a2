// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/merge.cpp
//
// The built-in merge operators. Numeric values are 8-byte little-endian; the
// machines we target are little-endian, so memcpy is the encoding (checked at
// compile time below).
#include "rcustate/abi.hpp"
#include <bit>
#include <cstring>
#include <limits>

#include "rcustate/merge.hpp"
#include "rcustate/status.hpp"
#include "src/core/merge_apply.hpp"

namespace RCUSTATE_NAMESPACE {

static_assert(std::endian::native == std::endian::little,
              "rcustate's numeric encoding assumes a little-endian host");

absl::Status MergeOperator::Validate(std::string_view) const { return absl::OkStatus(); }

std::string EncodeInt64(int64_t v) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &v, 8);
  return s;
}
std::string EncodeDouble(double v) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &v, 8);
  return s;
}
std::optional<int64_t> DecodeInt64(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  int64_t v;
  std::memcpy(&v, bytes.data(), 8);
  return v;
}
std::optional<double> DecodeDouble(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  double v;
  std::memcpy(&v, bytes.data(), 8);
  return v;
}

namespace {

// An 8-byte numeric operator; its arithmetic is Arith's (merge_apply.hpp), the
// very code the write path inlines.
template <class Arith>
class NumericOperator final : public MergeOperator {
 public:
  explicit NumericOperator(std::string_view name) : name_(name) {}
  std::string_view Name() const override { return name_; }
  absl::Status Validate(std::string_view v) const override {
    if (v.size() == 8) return absl::OkStatus();
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(name_) + ": value/operand must be exactly 8 bytes, got " +
                         std::to_string(v.size()));
  }
  void Merge(std::optional<std::string_view> existing, std::string_view operand,
             std::string* out) const override {
    // `out` never aliases the arguments: copy the existing value (or, when
    // there is none, any 8 bytes), then merge in place.
    out->assign(existing ? existing->data() : operand.data(), 8);
    detail::MergeNumeric<Arith>(*out, existing.has_value(), operand);
  }

 private:
  std::string_view name_;
};

class AppendOperator final : public MergeOperator {
 public:
  std::string_view Name() const override { return "append"; }
  void Merge(std::optional<std::string_view> existing, std::string_view operand,
             std::string* out) const override {
    out->clear();
    if (existing) {
      out->reserve(existing->size() + operand.size());
      out->append(*existing);
    }
    out->append(operand);
  }
};

}  // namespace

std::shared_ptr<const MergeOperator> AddInt64() {
  static const auto op = std::make_shared<NumericOperator<detail::AddInt64Arith>>("add_i64");
  return op;
}
std::shared_ptr<const MergeOperator> MinInt64() {
  static const auto op = std::make_shared<NumericOperator<detail::MinInt64Arith>>("min_i64");
  return op;
}
std::shared_ptr<const MergeOperator> MaxInt64() {
  static const auto op = std::make_shared<NumericOperator<detail::MaxInt64Arith>>("max_i64");
  return op;
}
std::shared_ptr<const MergeOperator> AddDouble() {
  static const auto op = std::make_shared<NumericOperator<detail::AddDoubleArith>>("add_f64");
  return op;
}
std::shared_ptr<const MergeOperator> Append() {
  static const auto op = std::make_shared<AppendOperator>();
  return op;
}

namespace detail {

MergeKind KindOf(const MergeOperator* op) {
  if (op == nullptr) return MergeKind::kNone;
  if (op == AddInt64().get()) return MergeKind::kAddInt64;
  if (op == MinInt64().get()) return MergeKind::kMinInt64;
  if (op == MaxInt64().get()) return MergeKind::kMaxInt64;
  if (op == AddDouble().get()) return MergeKind::kAddDouble;
  if (op == Append().get()) return MergeKind::kAppend;
  return MergeKind::kUser;
}

absl::Status ValidateValue(MergeKind kind, const MergeOperator* op, std::string_view value) {
  switch (kind) {
    case MergeKind::kNone:
    case MergeKind::kAppend:
      return absl::OkStatus();
    case MergeKind::kAddInt64:
    case MergeKind::kMinInt64:
    case MergeKind::kMaxInt64:
    case MergeKind::kAddDouble:
      if (value.size() == 8) return absl::OkStatus();
      return op->Validate(value);  // builds the error message
    case MergeKind::kUser:
      return op->Validate(value);
  }
  return absl::OkStatus();
}

}  // namespace detail
}  // namespace rcustate
