// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/delta.hpp
//
// A Delta is the changes of one batch, per table: key -> put value / erase /
// pending merge operand, plus "table cleared". The same type serves three
// roles: an explicit WriteBatch, a thread's thread-local delta for a
// partition, and, once publication resolved its merges into puts, the record
// a partition keeps to replay onto its standby map set (docs/design.md,
// reclamation contract: replay is a plain, deterministic put/erase). Under
// group commit, the sealed batches waiting for publication are one Delta too.
//
// Repeated changes of one key compact in place: put-then-merge becomes one put,
// merge-then-merge one merge of the combined operand.
#ifndef RCUSTATE_SRC_CORE_DELTA_HPP_
#define RCUSTATE_SRC_CORE_DELTA_HPP_

#include "rcustate/abi.hpp"
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "rcustate/snapshot.hpp"
#include "src/core/safe_map.hpp"
#include "src/core/schema.hpp"

namespace RCUSTATE_NAMESPACE::detail {

struct Op {
  enum Kind : uint8_t { kPut, kErase, kMerge };
  Kind kind = kErase;  // what a fresh slot says until its writer sets it
  std::string value;   // put value or merge operand; empty for erase
};

// Key equality for the delta's maps, every write's probe: the byte compare
// inline for keys up to 16 bytes (two overlapping word loads each) instead
// of a call to memcmp, which was a sixth of a numeric merge's time through
// a write handle (8-byte keys, perf).
struct DeltaKeyEq {
  using is_transparent = void;
  static uint64_t Load8(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static uint32_t Load4(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  bool operator()(std::string_view a, std::string_view b) const {
    const size_t n = a.size();
    if (n != b.size()) return false;
    const char* x = a.data();
    const char* y = b.data();
    if (n >= 8) {
      if (n > 16) return std::memcmp(x, y, n) == 0;
      return Load8(x) == Load8(y) && Load8(x + n - 8) == Load8(y + n - 8);
    }
    if (n >= 4) return Load4(x) == Load4(y) && Load4(x + n - 4) == Load4(y + n - 4);
    if (n == 0) return true;
    return x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1];
  }
};

// KeyMap<Op> with an allocator that lets the delta grow its maps in place
// without risking them when an allocation fails (safe_map.hpp).
using OpMap = absl::flat_hash_map<std::string, Op, KeyHash, DeltaKeyEq,
                                  GrowAllocator<std::pair<const std::string, Op>>>;

struct TableDelta {
  bool cleared = false;
  OpMap ops;
};

// The errors of the Delta operations (out of line: they build messages).
absl::Status KeyTooLong(size_t size);
absl::Status NoMergeOperator(const Schema& schema, TableId table);

class Delta {
 public:
  explicit Delta(size_t num_tables) : tables_(num_tables) {}

  // Validate, then record. On error nothing changes: an invalid argument
  // returns its status, a failed allocation throws std::bad_alloc (the
  // caller maps it to kNoMemory) with the delta exactly as it was.
  absl::Status Put(const Schema& schema, TableId table, std::string_view key,
                   std::string_view value);
  absl::Status Erase(const Schema& schema, TableId table, std::string_view key);
  absl::Status Merge(const Schema& schema, TableId table, std::string_view key,
                     std::string_view operand);
  absl::Status Clear(const Schema& schema, TableId table);
  // The same for a table id known to be valid (a WriteHandle checked it
  // once): everything else is checked. Defined inline in delta_ops.hpp, so
  // that a caller including it makes no further call on the common path.
  absl::Status PutChecked(const Schema& schema, TableId table, std::string_view key,
                          std::string_view value);
  absl::Status EraseChecked(TableId table, std::string_view key);
  absl::Status MergeChecked(const Schema& schema, TableId table, std::string_view key,
                            std::string_view operand);

  // What the delta says about `key`: the op, or nullptr if it says nothing
  // (then `cleared(table)` tells whether the key is gone anyway).
  const Op* Find(TableId table, std::string_view key) const {
    const auto& ops = tables_[table].ops;
    auto it = ops.find(key);
    return it == ops.end() ? nullptr : &it->second;
  }
  bool cleared(TableId table) const { return tables_[table].cleared; }

  // Appends a later delta to this one, so that applying the result equals
  // applying both in order: later puts, erases and clears replace, later
  // merges combine with what is here (associativity) and stay unresolved
  // where nothing is known of the key. Compacts sealed batches under group
  // commit. The Move variant steals strings. If an allocation fails it
  // throws std::bad_alloc with both deltas whole but `later` partly absorbed
  // (basic guarantee).
  void Absorb(const Schema& schema, const Delta& later);
  void AbsorbMove(const Schema& schema, Delta& later);

  // Distinct keys changed plus tables cleared.
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Empties the delta, keeping (bounded) room for as many keys. Never throws.
  void Reset() noexcept;

  std::vector<TableDelta>& tables() { return tables_; }
  const std::vector<TableDelta>& tables() const { return tables_; }

 private:
  Op* FindMutable(TableId table, std::string_view key);
  // The op of a key short enough for std::string's inline buffer, inserted
  // (kErase, empty) if absent, in one probe. Throws std::bad_alloc with
  // nothing changed (only when growing the map).
  Op& SlotInline(TableId table, std::string_view key, bool* inserted);
  // Inserts a key the table does not hold. Throws std::bad_alloc with
  // nothing changed (see safe_map.hpp).
  void Insert(TableId table, std::string&& key, Op&& op);
  template <bool kMove, typename D>
  void AbsorbImpl(const Schema& schema, D& later);

  std::vector<TableDelta> tables_;
  size_t size_ = 0;
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_DELTA_HPP_
