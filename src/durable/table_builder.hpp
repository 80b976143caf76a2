// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/table_builder.hpp
//
// Builds one TableMap from a restore's stream of puts, erases and clears so
// that running out of memory at any point throws std::bad_alloc and leaves
// a map that is still whole (safe to destroy), never a corrupt one.
//
// Why this is needed: absl's flat_hash_map (20220623) is not exception-safe
// when it allocates. resize() records the new capacity before allocating the
// new array, so a failed growth (reserve, or an insertion that grows) leaves
// a table whose destructor reads past its control bytes; and an insertion
// marks its slot full before constructing the element, so a throwing string
// copy leaves a "full" slot of garbage. (The core keeps its live maps whole
// the same way, with its own helpers; this layer may not include the core.)
//
// How: absl never grows the map itself. Before inserting a new key, the
// builder makes sure absl has room: while the table is larger than one group
// (16 slots) and at most 25/32 full, absl clears erase tombstones in place
// instead of growing. When that room runs out it grows the map itself, into
// a fresh map reserved first (abandoned without being destroyed if that one
// allocation fails: it holds nothing), then moves the elements over (node
// handles, no allocation). Keys and values are copied into strings before an
// insertion and moved in (moves do not throw). A clear starts a fresh map
// (absl's clear() frees large arrays; growing back would allocate inside).
#ifndef RCUSTATE_DURABLE_TABLE_BUILDER_HPP_
#define RCUSTATE_DURABLE_TABLE_BUILDER_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>
#include <string_view>

#include "rcustate/snapshot.hpp"

namespace RCUSTATE_NAMESPACE::durable {

class TableBuilder {
 public:
  // Room for `expected` keys (e.g. a full checkpoint's count of the table).
  // Throws std::bad_alloc (nothing allocated then).
  explicit TableBuilder(size_t expected);

  // Each throws std::bad_alloc with the map whole (possibly without the
  // change).
  // Inserts a new key; false (and no change) if it is present.
  bool Insert(std::string_view key, std::string_view value);
  void Upsert(std::string_view key, std::string_view value);
  void Erase(std::string_view key);
  // Empties the map, keeping room for as many keys as it held.
  void Clear();

  rcustate::detail::TableMap Take() { return std::move(map_); }

 private:
  void MakeRoomForOne();
  rcustate::detail::TableMap map_;
};

}  // namespace rcustate::durable

#endif  // RCUSTATE_DURABLE_TABLE_BUILDER_HPP_
