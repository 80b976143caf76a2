// File: src/core/safe_map.hpp
//
// Growing a flat_hash_map without risking it. abseil 20220623's raw_hash_set
// is not exception-safe: a resize that fails to allocate has already set the
// new capacity (the map is then corrupt: using or destroying it crashes), and
// an insertion marks the slot full before constructing the element (a key
// copy that fails to allocate leaves a "full" slot of garbage). So:
//  - ReserveSafely() makes room for `extra` insertions up front, growing into
//    a fresh map (whose failed allocation leaves nothing to destroy) and
//    moving the elements over (no allocation);
//  - TryEmplaceSafely() builds a key that needs the heap before inserting it,
//    so that the insertion itself moves it and cannot throw.
// With both, an allocation failure leaves the map whole (a consistent map
// with part of the updates), destroyable and reusable.
#ifndef RCUSTATE_SRC_CORE_SAFE_MAP_HPP_
#define RCUSTATE_SRC_CORE_SAFE_MAP_HPP_

#include <cstddef>
#include <new>
#include <string>
#include <utility>

namespace rcustate::detail {

// After this, `extra` insertions into `map` never allocate (and never rehash
// in a way that allocates: a full table of tombstones is rehashed in place,
// which abseil does without allocating below 25/32 load). Throws
// std::bad_alloc with `map` unchanged.
template <typename Map>
void ReserveSafely(Map& map, size_t extra) {
  const size_t cap = map.capacity();
  const size_t need = map.size() + extra;
  // Above a group (16 slots) abseil rehashes in place below 25/32 load; small
  // tables always grow, so keep them at most half full.
  const bool enough = cap > 16 ? need * 32 <= cap * 25 : need * 2 <= cap;
  if (enough || extra == 0) return;
  alignas(Map) unsigned char raw[sizeof(Map)];
  Map* fresh = new (raw) Map();
  // On failure `fresh` owns no memory (its allocation failed) and is left
  // undestroyed: its destructor would read the capacity it failed to get.
  fresh->reserve(2 * need);
  fresh->merge(map);  // moves every element: `fresh` has room, nothing allocates
  map.swap(*fresh);
  fresh->~Map();  // the old, now empty, slot array
}

// map.try_emplace(key) that throws std::bad_alloc with `map` unchanged.
// Needs room for the insertion (ReserveSafely).
template <typename Map>
std::pair<typename Map::iterator, bool> TryEmplaceSafely(Map& map, const std::string& key) {
  static const size_t kInline = std::string().capacity();
  if (key.size() <= kInline) return map.try_emplace(key);  // the copy cannot allocate
  auto it = map.find(key);
  if (it != map.end()) return {it, false};
  std::string copy(key);                    // may throw: nothing changed yet
  return map.try_emplace(std::move(copy));  // moves: cannot throw
}

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_SAFE_MAP_HPP_
