// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/table_builder.cpp
#include "rcustate/abi.hpp"
#include "src/durable/table_builder.hpp"

#include <new>
#include <string>
#include <utility>

namespace RCUSTATE_NAMESPACE::durable {
namespace {

using rcustate::detail::TableMap;

// absl rehashes in place (no allocation) when it runs out of empty slots
// while size * 32 <= capacity * 25 and capacity > 16 (one SSE group).
bool RoomWithoutAllocating(size_t capacity, size_t need) {
  return capacity > 16 && need * 32 <= capacity * 25;
}

// An empty map with room for `n` insertions (see the header), or
// std::bad_alloc with nothing allocated.
TableMap RoomyMap(size_t n) {
  if (n == 0) return TableMap();
  // absl capacities are 2^k - 1; reserve(c - c / 8) gives exactly c.
  size_t capacity = 31;
  while (!RoomWithoutAllocating(capacity, n)) capacity = capacity * 2 + 1;
  // If reserve() throws, absl left `fresh` inconsistent: it must not be
  // destroyed. It holds nothing (its one allocation failed), so abandoning
  // the raw storage leaks nothing.
  alignas(TableMap) unsigned char storage[sizeof(TableMap)];
  TableMap* fresh = new (storage) TableMap();
  fresh->reserve(capacity - capacity / 8);
  TableMap out(std::move(*fresh));
  fresh->~TableMap();
  return out;
}

}  // namespace

TableBuilder::TableBuilder(size_t expected) : map_(RoomyMap(expected)) {}

void TableBuilder::MakeRoomForOne() {
  size_t need = map_.size() + 1;
  if (RoomWithoutAllocating(map_.capacity(), need)) return;
  TableMap fresh = RoomyMap(need * 2);  // may throw: map_ unchanged
  for (auto it = map_.begin(); it != map_.end();) fresh.insert(map_.extract(it++));
  map_ = std::move(fresh);
}

bool TableBuilder::Insert(std::string_view key, std::string_view value) {
  MakeRoomForOne();
  std::string k(key), v(value);  // may throw: nothing changed yet
  return map_.try_emplace(std::move(k), std::move(v)).second;
}

void TableBuilder::Upsert(std::string_view key, std::string_view value) {
  auto it = map_.find(key);
  if (it != map_.end()) {
    it->second.assign(value.data(), value.size());  // strong guarantee
    return;
  }
  Insert(key, value);
}

void TableBuilder::Erase(std::string_view key) {
  auto it = map_.find(key);
  if (it != map_.end()) map_.erase(it);
}

void TableBuilder::Clear() {
  TableMap fresh = RoomyMap(map_.size());  // may throw: map_ unchanged
  map_ = std::move(fresh);
}

}  // namespace rcustate::durable
