// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/read_own.hpp
//
// Read-your-writes: what a thread's own records (its unpublished sealed
// groups, then its uncommitted delta) make of a key over the snapshot it
// reads. Store::Get calls it only when the thread has such records
// (local_nonempty != 0).
#ifndef RCUSTATE_SRC_CORE_READ_OWN_HPP_
#define RCUSTATE_SRC_CORE_READ_OWN_HPP_

#include "rcustate/abi.hpp"
#include <cstdint>
#include <optional>
#include <string_view>

#include "src/core/schema.hpp"
#include "src/core/thread_deltas.hpp"

namespace RCUSTATE_NAMESPACE::detail {

// What `entry` makes of `key` over `map`, the table of the snapshot of
// version `snapshot_version`: nullopt if no layer says anything about the key
// (read the map), else the value (nullopt inside: absent). A built value
// lives in the thread's scratch area (ScratchValue). Throws std::bad_alloc
// (the scratch value) with the entry unchanged in meaning.
std::optional<std::optional<std::string_view>> ReadOwn(ThreadEntry& entry,
                                                       uint64_t snapshot_version, TableId table,
                                                       std::string_view key, const TableMap& map);

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_READ_OWN_HPP_
