// File: bench/common.hpp
//
// The vocabulary every implementation of the harness shares: the table
// schema (with the merge operator of each table), the 8-byte little-endian
// value encoding rcustate uses (merge.hpp), byte-string maps hashed the way
// rcustate hashes them, and BatchDelta, the per-batch delta of the baselines.
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
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace rcsbench {

static_assert(std::endian::native == std::endian::little,
              "values are encoded by memcpy: the harness assumes a little-endian host");

enum class MergeKind : uint8_t { kNone, kAddInt64, kAddDouble, kMinInt64, kMaxInt64 };

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

// Transparent hashing of byte-string keys (the same function rcustate uses).
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view k) const {
    return absl::Hash<absl::string_view>{}(absl::string_view(k.data(), k.size()));
  }
};
struct KeyEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};
using StrMap = absl::flat_hash_map<std::string, std::string, KeyHash, KeyEq>;

// `v` becomes `v ⊕ operand` (or `operand` when !exists): the semantics of
// rcustate's built-in operators on 8-byte values.
inline void MergeInPlace(MergeKind kind, std::string& v, bool exists, std::string_view operand) {
  if (!exists || v.size() != 8) {
    v.assign(operand.data(), operand.size());
    return;
  }
  char out[8] = {};
  switch (kind) {
    case MergeKind::kAddInt64:
      EncodeI64(static_cast<int64_t>(static_cast<uint64_t>(DecodeI64(v)) +
                                     static_cast<uint64_t>(DecodeI64(operand))),
                out);
      break;
    case MergeKind::kAddDouble:
      EncodeF64(DecodeF64(v) + DecodeF64(operand), out);
      break;
    case MergeKind::kMinInt64:
      EncodeI64(std::min(DecodeI64(v), DecodeI64(operand)), out);
      break;
    case MergeKind::kMaxInt64:
      EncodeI64(std::max(DecodeI64(v), DecodeI64(operand)), out);
      break;
    case MergeKind::kNone:
      v.assign(operand.data(), operand.size());
      return;
  }
  std::memcpy(v.data(), out, 8);
}

// The changes of one batch of one partition, as the baselines keep them:
// per table key -> resolved value (merges are resolved when recorded, against
// the delta itself or else the committed state), plus "table cleared".
// Erase is not needed by any scenario.
class BatchDelta {
 public:
  explicit BatchDelta(const Schema& schema) : tables_(schema.tables.size()) {
    kinds_.reserve(schema.tables.size());
    for (const TableDef& t : schema.tables) kinds_.push_back(t.merge);
  }

  // base(table, key) returns the committed value (const std::string*) or nullptr.
  template <typename Base>
  void Merge(uint32_t table, std::string_view key, std::string_view operand, Base&& base) {
    Table& tb = tables_[table];
    auto [it, inserted] = tb.ops.try_emplace(key);
    if (inserted) {
      const std::string* b = tb.cleared ? nullptr : base(table, key);
      if (b != nullptr) it->second = *b;
      MergeInPlace(kinds_[table], it->second, b != nullptr, operand);
    } else {
      MergeInPlace(kinds_[table], it->second, true, operand);
    }
  }
  void Put(uint32_t table, std::string_view key, std::string_view value) {
    tables_[table].ops.try_emplace(key).first->second.assign(value.data(), value.size());
  }
  void Clear(uint32_t table) {
    tables_[table].ops.clear();
    tables_[table].cleared = true;
  }
  // Brings `maps` (one per table) up to date with this delta. kMove steals
  // the values (for the last application of a delta).
  template <bool kMove>
  void ApplyTo(std::vector<StrMap>& maps) {
    for (size_t t = 0; t < tables_.size(); ++t) {
      Table& tb = tables_[t];
      StrMap& map = maps[t];
      if (tb.cleared) map.clear();
      for (auto& [key, value] : tb.ops) {
        auto it = map.try_emplace(key).first;
        if constexpr (kMove) {
          it->second = std::move(value);
        } else {
          it->second = value;
        }
      }
    }
  }
  // Empties the delta but keeps its tables' capacity (absl's clear() frees
  // the slot array above 127 slots, which would make every batch regrow it).
  void Reset() {
    for (Table& tb : tables_) {
      const size_t n = tb.ops.size();
      tb.ops.clear();
      if (n > 0) tb.ops.reserve(n);
      tb.cleared = false;
    }
  }
  size_t size() const {
    size_t n = 0;
    for (const Table& tb : tables_) n += tb.ops.size() + (tb.cleared ? 1 : 0);
    return n;
  }

 private:
  struct Table {
    bool cleared = false;
    StrMap ops;
  };
  std::vector<MergeKind> kinds_;
  std::vector<Table> tables_;
};

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
