// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/common.hpp
//
// The vocabulary every implementation of the harness shares: the table
// schema (with the merge operator of each table, named by rcustate's own
// MergeKind), the 8-byte little-endian value encoding rcustate uses
// (merge.hpp), and byte-string maps hashed the way rcustate hashes them.
//
// Every baseline stores the same byte strings rcustate stores (std::string
// keys and values in absl::flat_hash_map, the same hash), so a ratio between
// two implementations measures the publication mechanism and the API, never
// a different data representation.
#ifndef RCUSTATE_BENCH_COMMON_HPP_
#define RCUSTATE_BENCH_COMMON_HPP_

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "rcustate/snapshot.hpp"
#include "src/core/merge_apply.hpp"

namespace rcsbench {

static_assert(std::endian::native == std::endian::little,
              "values are encoded by memcpy: the harness assumes a little-endian host");

// The merge operators are rcustate's own (src/core/merge_apply.hpp): the
// baselines combine values with its Arith functions, the very arithmetic
// rcustate's write path inlines, so every implementation computes the same
// values. The scenarios use kNone and the numeric built-ins only.
using rcustate::detail::MergeKind;

struct TableDef {
  std::string name;
  MergeKind merge = MergeKind::kNone;
  // Entries per partition the scenario expects (lfht sizes its bucket array
  // with it: its resize is lazy and incremental; the flat maps reach their
  // size during prefill anyway).
  uint64_t expected = 0;
};

struct Schema {
  std::vector<TableDef> tables;
  uint32_t partitions = 1;
};

inline void EncodeI64(int64_t v, char out[8]) { std::memcpy(out, &v, 8); }
inline void EncodeF64(double v, char out[8]) { std::memcpy(out, &v, 8); }
inline int64_t DecodeI64(std::string_view s) {
  int64_t v = 0;
  if (s.size() == 8) std::memcpy(&v, s.data(), 8);
  return v;
}
inline double DecodeF64(std::string_view s) {
  double v = 0;
  if (s.size() == 8) std::memcpy(&v, s.data(), 8);
  return v;
}

// Monotonic nanoseconds.
inline uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// CPU time of the calling thread, nanoseconds.
inline uint64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// A harness bug or an unexpected library error: no point in going on.
[[noreturn]] inline void Die(std::string_view what) {
  std::fprintf(stderr, "rcustate-bench: fatal: %.*s\n", static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  std::abort();
}

// v = v ⊕ operand for 8-byte values, in place.
template <class Arith>
inline void CombineInPlace(std::string& v, std::string_view operand) {
  typename Arith::T a, b;
  std::memcpy(&a, v.data(), 8);
  std::memcpy(&b, operand.data(), 8);
  const typename Arith::T r = Arith::Combine(a, b);
  std::memcpy(v.data(), &r, 8);
}

// v = exists ? v ⊕ operand : operand, for a table with a numeric built-in
// operator (the scenarios merge into no other table). The values of such a
// table are always 8 bytes. In place, without rcustate's resize of the
// target (MergeNumeric): a baseline's merge stays as cheap as it can be.
inline void MergeInPlace(MergeKind kind, std::string& v, bool exists, std::string_view operand) {
  if (!exists) {
    v.assign(operand.data(), operand.size());
    return;
  }
  using namespace rcustate::detail;
  switch (kind) {
    case MergeKind::kAddInt64:
      return CombineInPlace<AddInt64Arith>(v, operand);
    case MergeKind::kMinInt64:
      return CombineInPlace<MinInt64Arith>(v, operand);
    case MergeKind::kMaxInt64:
      return CombineInPlace<MaxInt64Arith>(v, operand);
    case MergeKind::kAddDouble:
      return CombineInPlace<AddDoubleArith>(v, operand);
    case MergeKind::kNone:
    case MergeKind::kAppend:
    case MergeKind::kUser:
      break;
  }
  Die("merge into a table without a numeric built-in merge operator");
}

// The baselines keep their state in the same map type as rcustate's
// snapshots (transparent byte-string hashing), so that every implementation
// pays the same hash and probe.
using KeyHash = rcustate::detail::KeyHash;
using StrMap = rcustate::detail::TableMap;

// Bytes one absl::flat_hash_map<std::string, std::string> holding exactly
// `entries` entries occupies after growing by insertion: the slot array at
// absl's maximum load factor (7/8, capacity 2^k-1) plus one control byte per
// slot, plus heap bytes of strings too long for the inline buffer. This is
// "live data bytes": the memory one plain copy of the state needs.
inline size_t MapBytes(size_t entries, size_t key_bytes, size_t value_bytes) {
  if (entries == 0) return 0;
  size_t cap = 1;
  while (cap - cap / 8 < entries) cap = cap * 2 + 1;
  constexpr size_t kSlot = sizeof(std::pair<const std::string, std::string>);
  constexpr size_t kInline = 15;
  auto heap = [](size_t n) -> size_t { return n > kInline ? (n + 1 + 8 + 15) / 16 * 16 : 0; };
  return cap * (kSlot + 1) + 16 + entries * (heap(key_bytes) + heap(value_bytes));
}

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_COMMON_HPP_
