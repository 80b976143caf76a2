// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/safe_map.hpp
//
// Growing an absl::flat_hash_map without risking its integrity when an
// allocation fails. absl (20220623) is not exception-safe there:
//  - resize() stores the new capacity before it allocates the new backing
//    array, so a std::bad_alloc from the allocation leaves a table whose
//    capacity does not match its control bytes (later probes read past the
//    array: the "ctrl[capacity] == kSentinel" assertion, or a segfault);
//    reserve() and every insertion that grows go through it;
//  - an insertion marks its slot full (control byte, size, growth budget)
//    before it constructs the element, so a throwing key or value
//    constructor leaves a "full" slot holding garbage, destroyed later.
// The rules that keep a map whole, used by Delta and MapSet: build every string before
// the insertion and move it in (moves do not throw), and never let absl grow
// a live map: grow a fresh one here instead, which is thrown away untouched
// if its allocation fails.
#ifndef RCUSTATE_SRC_CORE_SAFE_MAP_HPP_
#define RCUSTATE_SRC_CORE_SAFE_MAP_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace RCUSTATE_NAMESPACE::detail {

// The allocator of maps that grow in place, fast, yet safely (Delta's): before
// absl grows such a map, PreparedReserve() allocates the new backing array
// itself (where a failure changes nothing) and leaves it here; absl's
// allocation then takes it and cannot fail.
struct PreparedBlock {
  void* p = nullptr;
  size_t bytes = 0;
};
inline thread_local PreparedBlock prepared_block;

template <typename T>
class GrowAllocator {
 public:
  using value_type = T;
  GrowAllocator() = default;
  template <typename U>
  GrowAllocator(const GrowAllocator<U>&) {}  // NOLINT: rebinding
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    PreparedBlock& b = prepared_block;
    if (b.p != nullptr && b.bytes >= bytes) {
      return static_cast<T*>(std::exchange(b.p, nullptr));
    }
    return static_cast<T*>(::operator new(bytes));
  }
  void deallocate(T* p, size_t) { ::operator delete(p); }
  friend bool operator==(const GrowAllocator&, const GrowAllocator&) { return true; }
  friend bool operator!=(const GrowAllocator&, const GrowAllocator&) { return false; }
};

// True if inserting one more key into `map` would make absl grow it. Exact
// for maps nobody erased single keys from (no tombstones), which is how
// Delta uses its maps.
template <typename Map>
size_t GrowthOf(const Map& map) {
  return map.capacity() == 0 ? 0 : absl::container_internal::CapacityToGrowth(map.capacity());
}
template <typename Map>
bool InsertWouldGrow(const Map& map) {
  return map.size() >= GrowthOf(map);
}

// Makes `map` hold its elements with room for `n` without growing, moving
// the elements (no copy). Throws std::bad_alloc with `map` unchanged.
template <typename Map>
void SafeReserve(Map& map, size_t n) {
  if (n < map.size()) n = map.size();
  // The fresh map lives in raw storage: if its reserve() throws, absl left it
  // in the inconsistent state described above, so it must not be destroyed;
  // it holds nothing (its only allocation failed), so abandoning it leaks
  // nothing.
  alignas(Map) unsigned char storage[sizeof(Map)];
  Map* fresh = new (storage) Map();
  fresh->reserve(n);  // the only step that may throw
  for (auto it = map.begin(); it != map.end();) {
    // Node handles move the element (key included) without copying it; the
    // insertion cannot grow `fresh`, which has room for all of them.
    fresh->insert(map.extract(it++));
  }
  map = std::move(*fresh);
  fresh->~Map();
}

// SafeReserve for a map with GrowAllocator: absl's own in-place resize (no
// rehash by insertion), fed the backing array allocated here first.
template <typename Map>
void PreparedReserve(Map& map, size_t n) {
  namespace ci = absl::container_internal;
  if (n <= GrowthOf(map)) return;
  using Slot = typename Map::slot_type;
  const size_t capacity = ci::NormalizeCapacity(ci::GrowthToLowerboundCapacity(n));
  const size_t bytes = (ci::AllocSize(capacity, sizeof(Slot), alignof(Slot)) + 15) & ~size_t{15};
  prepared_block = PreparedBlock{::operator new(bytes), bytes};  // may throw: nothing changed
  map.reserve(n);  // takes the block: cannot fail
  if (prepared_block.p != nullptr) {  // not needed after all (absl had room)
    ::operator delete(prepared_block.p);
    prepared_block = PreparedBlock{};
  }
}

template <typename Map>
constexpr bool kGrowsPrepared =
    std::is_same_v<typename Map::allocator_type, GrowAllocator<typename Map::value_type>>;

// Makes room for `n` keys the fastest safe way for this map's allocator.
template <typename Map>
void ReserveSafely(Map& map, size_t n) {
  if constexpr (kGrowsPrepared<Map>) {
    PreparedReserve(map, n);
  } else {
    SafeReserve(map, n);
  }
}

// Before inserting one key: grows `map` (doubling) if absl would grow it on
// that insertion. Throws std::bad_alloc with `map` unchanged.
template <typename Map>
void ReserveOneMore(Map& map) {
  if (InsertWouldGrow(map)) ReserveSafely(map, map.size() < 8 ? 16 : map.size() * 2);
}

// Makes room for `extra` more insertions into a map that single keys may be
// erased from (tombstones, which absl does not report): grows early enough
// that absl, finding no room, can always rehash in place (it does so, without
// allocating, while the table is at most 25/32 full and larger than one
// group; small tables always grow, so they are kept at most half full).
// Throws std::bad_alloc with `map` unchanged.
inline bool RoomWithoutAllocating(size_t capacity, size_t need) {
  return capacity > 16 ? need * 32 <= capacity * 25 : need * 2 <= capacity;
}
template <typename Map>
void ReserveInserts(Map& map, size_t extra) {
  const size_t need = map.size() + extra;
  if (extra == 0 || RoomWithoutAllocating(map.capacity(), need)) return;
  // The smallest table (abseil's capacities are 2^k - 1) with that room: the
  // size abseil itself would grow to, so a map costs no more memory than
  // abseil's own growth would make it (tables double, so growth stays
  // geometric). reserve(capacity - capacity / 8) gives exactly `capacity`.
  size_t capacity = 15;
  while (!RoomWithoutAllocating(capacity, need)) capacity = capacity * 2 + 1;
  SafeReserve(map, capacity - capacity / 8);
}
template <typename Map>
void ReserveOneMoreErasable(Map& map) {
  ReserveInserts(map, 1);
}

// map.try_emplace(key) that throws std::bad_alloc with `map` unchanged.
// Needs room for the insertion (ReserveInserts): a key that fits the string's
// inline buffer is copied without allocating; a longer one is copied first,
// then moved in.
template <typename Map>
std::pair<typename Map::iterator, bool> TryEmplaceSafely(Map& map, const std::string& key) {
  static const size_t kInline = std::string().capacity();
  if (key.size() <= kInline) return map.try_emplace(key);
  auto it = map.find(key);
  if (it != map.end()) return {it, false};
  std::string copy(key);                    // may throw: nothing changed yet
  return map.try_emplace(std::move(copy));  // moves: cannot throw
}

// Empties `map` keeping room for `n` keys if that can be had; never throws
// (without memory it ends empty with no room).
template <typename Map>
void ClearKeepingRoom(Map& map, size_t n) noexcept {
  // absl's clear() keeps the backing array of small tables and frees large
  // ones; growing back then goes through SafeReserve.
  map.clear();
  if (GrowthOf(map) >= n) return;
  try {
    ReserveSafely(map, n);
  } catch (const std::bad_alloc&) {
    // Left empty: room is an optimization, never required.
  }
}

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_SAFE_MAP_HPP_
