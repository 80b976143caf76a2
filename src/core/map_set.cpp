// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/map_set.cpp
#include "rcustate/abi.hpp"
#include "src/core/map_set.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "src/core/safe_map.hpp"

#include "src/core/safe_map.hpp"

namespace RCUSTATE_NAMESPACE::detail {
namespace {

// Bytes a std::string holds on the heap (0 while it fits the inline buffer).
inline size_t HeapBytes(const std::string& s) {
  static const size_t kInline = std::string().capacity();
  return s.capacity() > kInline ? s.capacity() + 1 : 0;
}

// Prefetch distance and the smallest table (in slots) worth prefetching for:
// 32Ki slots of pair<string, string> are 2 MiB, this machine's L2.
constexpr int kPrefetchAhead = 8;
constexpr size_t kPrefetchCapacity = size_t{1} << 15;

}  // namespace

std::atomic<int64_t> MapSet::live_{0};

MapSet::MapSet(const Schema& schema) : heap_bytes_(schema.tables.size(), 0) {
  tables.resize(schema.tables.size());
  for (size_t i = 0; i < tables.size(); ++i) {
    // SafeReserve: absl's reserve() corrupts the table when its allocation
    // throws (safe_map.hpp); this one throws std::bad_alloc cleanly.
    if (schema.tables[i].expected_entries > 0) SafeReserve(tables[i], schema.tables[i].expected_entries);
  }
  live_.fetch_add(1, std::memory_order_relaxed);  // last: a throw above leaves no count
}

MapSet::~MapSet() {
  live_.fetch_sub(1, std::memory_order_release);
#ifndef NDEBUG
  for (TableMap& map : tables) {
    for (auto& [key, value] : map) std::fill(value.begin(), value.end(), kPoison);
  }
#endif
}

MapSet* MapSet::CopyOf(const MapSet& other) {
  // Element by element with safe_map.hpp's helpers rather than the maps' copy
  // constructors, which abseil does not make exception-safe: on
  // std::bad_alloc the partial copy is whole, and freed.
  std::unique_ptr<MapSet> set(new MapSet());
  set->version = other.version;
  set->tables.resize(other.tables.size());
  set->heap_bytes_ = other.heap_bytes_;
  for (size_t t = 0; t < other.tables.size(); ++t) {
    TableMap& map = set->tables[t];
    ReserveSafely(map, other.tables[t].size());
    for (const auto& [key, value] : other.tables[t]) {
      auto [it, inserted] = TryEmplaceSafely(map, key);
      it->second = value;
    }
  }
  set->partition_pins = other.partition_pins;
  return set.release();
}

std::unique_ptr<MapSet> MapSet::Adopt(std::vector<TableMap> tables, uint64_t version) {
  std::unique_ptr<MapSet> set(new MapSet());
  set->heap_bytes_.assign(tables.size(), 0);
  for (size_t t = 0; t < tables.size(); ++t) {
    for (const auto& [key, value] : tables[t]) set->heap_bytes_[t] += HeapBytes(key) + HeapBytes(value);
  }
  set->tables = std::move(tables);
  set->version = version;
  return set;
}

template <bool kMove, bool kResolve, bool kUndo, typename D>
void MapSet::ApplyImpl(D& delta, const Schema* schema, std::vector<Undo>* undo) {
  auto& dtables = delta.tables();
  for (size_t t = 0; t < dtables.size(); ++t) {
    auto& td = dtables[t];
    TableMap& map = tables[t];
    size_t& bytes = heap_bytes_[t];
    if (td.cleared) {
      map.clear();
      bytes = 0;
    }
    // Growing first, safely: an allocation failure below leaves a whole map.
    ReserveInserts(map, td.ops.size());
    // A batch's keys are random in a large map: each update is a cache miss
    // or two. Prefetching the slot of the update kAhead positions ahead lets
    // those misses overlap (rcustate-readpath's apply1000 at 1e6 keys: 103 ->
    // 73 ns per update). Below a few MiB of slots the map stays in cache and
    // the second hash computation would only cost.
    const bool prefetch = map.capacity() >= kPrefetchCapacity;
    auto ahead = td.ops.begin();
    const auto end = td.ops.end();
    if (prefetch) {
      for (int i = 0; i < kPrefetchAhead && ahead != end; ++i, ++ahead) map.prefetch(ahead->first);
    }
    for (auto& [key, op] : td.ops) {
      if (prefetch && ahead != end) {
        map.prefetch(ahead->first);
        ++ahead;
      }
      if (op.kind == Op::kErase) {
        auto it = map.find(key);
        if (it != map.end()) {
          bytes -= HeapBytes(it->first) + HeapBytes(it->second);
          map.erase(it);
        }
        continue;
      }
      auto [it, inserted] = TryEmplaceSafely(map, key);
      if (inserted) {
        bytes += HeapBytes(it->first);
      } else {
        bytes -= HeapBytes(it->second);
      }
      if constexpr (kResolve) {
        if (op.kind == Op::kMerge) {
          // The set holds the latest committed state: merge in the slot, and
          // keep the result in the delta as a put for the other set.
          MergeInto(schema->kinds[t], schema->tables[t].merge.get(), it->second, !inserted,
                    op.value);
          bytes += HeapBytes(it->second);
          if constexpr (kUndo) {
            // The operand moves to the undo list first (reserved: cannot
            // throw); if the copy of the result then throws, op is still a
            // merge and Undo gives it its operand back.
            undo->push_back(Undo{&op, std::move(op.value)});
            op.value = it->second;
            op.kind = Op::kPut;
          } else {
            op.value = it->second;  // first: if it throws, op is still the merge
            op.kind = Op::kPut;
          }
          continue;
        }
      }
      // kPut (without kResolve, merges were resolved before)
      if constexpr (kMove) {
        it->second = std::move(op.value);
      } else {
        it->second = op.value;
      }
      bytes += HeapBytes(it->second);
    }
  }
}

void MapSet::ApplyResolving(const Schema& schema, Delta& delta) {
  ApplyImpl<false, true, false>(delta, &schema, nullptr);
}

void MapSet::ApplyResolvingUndoable(const Schema& schema, Delta& delta, std::vector<Undo>& undo) {
  ApplyImpl<false, true, true>(delta, &schema, &undo);
}

void MapSet::UndoResolved(std::vector<Undo>& undo) noexcept {
  for (Undo& u : undo) {
    u.op->value = std::move(u.operand);
    u.op->kind = Op::kMerge;
  }
  undo.clear();
}

void MapSet::Apply(const Delta& delta) { ApplyImpl<false, false, false>(delta, nullptr, nullptr); }
void MapSet::ApplyMove(Delta& delta) { ApplyImpl<true, false, false>(delta, nullptr, nullptr); }

size_t MapSet::ApproxBytes() const {
  size_t total = sizeof(MapSet);
  for (size_t t = 0; t < tables.size(); ++t) {
    total += tables[t].capacity() * (sizeof(TableMap::value_type) + 1) + heap_bytes_[t];
  }
  return total;
}

void MapSet::Unref() {
  if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

}  // namespace rcustate::detail
