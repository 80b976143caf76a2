// SPDX-License-Identifier: LGPL-2.1-or-later
// File: rcustate/merge.hpp
//
// Merge operators: a table with a merge operator accepts `Merge(key, operand)`,
// which becomes `value = Merge(existing value or nothing, operand)` at commit.
// Merges from several writer threads commute (for the commutative built-ins),
// and a merge saves the caller a read-modify-write.
//
// Built in (numeric operands and values are exactly 8 bytes, little-endian):
//   AddInt64()  signed 64-bit add, wrapping on overflow (two's complement)
//   MinInt64()  / MaxInt64()  signed 64-bit min / max
//   AddDouble() IEEE-754 double add
//   Append()    byte append (operand appended to the existing value)
// A Put of a value of the wrong size into a numeric table is an error too, so a
// numeric table only ever holds 8-byte values.
//
// User operators: derive from MergeOperator. rcustate combines pending operands
// of one key with the operator itself (Merge(a, b) then Merge(v, a⊕b)), so an
// operator must be associative and operands must share the value's format.
// AddDouble is associative only up to rounding: how operands are grouped
// depends on batching and, under group commit, on when publications happen,
// so the last bits of a double sum may differ between two runs of the same
// stream (exact for sums of values with few significant bits).
// Merge must be deterministic and must not throw; it runs on the writer thread
// during Put/Merge/Commit, never on a reader.
#ifndef RCUSTATE_MERGE_HPP_
#define RCUSTATE_MERGE_HPP_

#include "rcustate/abi.hpp"
#include "rcustate/export.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace RCUSTATE_NAMESPACE {

class RCUSTATE_EXPORT MergeOperator {
 public:
  virtual ~MergeOperator() = default;

  // A short name for diagnostics ("add_i64", ...).
  virtual std::string_view Name() const = 0;

  // Checks a value or operand before it enters a delta. The default accepts
  // everything; numeric built-ins require exactly 8 bytes (kInvalidArgument).
  virtual absl::Status Validate(std::string_view value_or_operand) const;

  // Writes `existing ⊕ operand` to *out. `existing` is nullopt when the key is
  // absent. Both arguments have passed Validate(). `out` never aliases them.
  virtual void Merge(std::optional<std::string_view> existing, std::string_view operand,
                     std::string* out) const = 0;
};

// The built-in operators; each call returns a shared immutable instance.
RCUSTATE_EXPORT std::shared_ptr<const MergeOperator> AddInt64();
RCUSTATE_EXPORT std::shared_ptr<const MergeOperator> MinInt64();
RCUSTATE_EXPORT std::shared_ptr<const MergeOperator> MaxInt64();
RCUSTATE_EXPORT std::shared_ptr<const MergeOperator> AddDouble();
RCUSTATE_EXPORT std::shared_ptr<const MergeOperator> Append();

// Helpers for the 8-byte little-endian encoding of numeric values.
RCUSTATE_EXPORT std::string EncodeInt64(int64_t v);
RCUSTATE_EXPORT std::string EncodeDouble(double v);
// Return nullopt unless `bytes` is exactly 8 bytes long.
RCUSTATE_EXPORT std::optional<int64_t> DecodeInt64(std::string_view bytes);
RCUSTATE_EXPORT std::optional<double> DecodeDouble(std::string_view bytes);

}  // namespace rcustate

#endif  // RCUSTATE_MERGE_HPP_
