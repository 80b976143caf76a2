// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/published_slot.hpp
//
// A partition's published map set as readers see it: the one RCU-published
// pointer of the partition, plus the holds that keep the last published set
// alive after the partition was dropped.
//
// Readers load the slot with rcu::Dereference (Load, Pin) or, in
// TableReader, inline with an acquire load of slot(); the writer stores it
// with rcu::Assign under its partition's mutex. Once the partition is
// dropped the slot is frozen; the set it points to is freed with the last
// hold: 1 for the partition until it releases its sets, plus 1 per read
// handle (TableReader), so a dropped partition's handles keep reading it.
//
// Nothing here allocates or fails.
#ifndef RCUSTATE_SRC_CORE_PUBLISHED_SLOT_HPP_
#define RCUSTATE_SRC_CORE_PUBLISHED_SLOT_HPP_

#include "rcustate/abi.hpp"
#include <atomic>
#include <cstdint>

#include "rcustate/snapshot.hpp"
#include "src/core/map_set.hpp"
#include "src/rcu/rcu.hpp"

namespace RCUSTATE_NAMESPACE::detail {

class PublishedSlot {
 public:
  explicit PublishedSlot(MapSet* first) : published_(first) {}
  PublishedSlot(const PublishedSlot&) = delete;
  PublishedSlot& operator=(const PublishedSlot&) = delete;

  // ---- readers (inside a read section)
  const MapSet* Load() const { return static_cast<const MapSet*>(rcu::Dereference(published_)); }
  // Takes a pin on the published set (refs and pins incremented).
  MapSet* Pin();
  // Releases a pin Pin() took (anywhere): frees the set if the writer already
  // let go of it.
  static void Unpin(MapSet* set) noexcept;
  SnapshotData* const* slot() const { return &published_; }

  // ---- the writer (under its partition's mutex, before the drop)
  void Store(MapSet* set) noexcept { rcu::Assign(published_, static_cast<SnapshotData*>(set)); }

  // ---- holds on the last published set
  // AddHold: inside a read section on a partition found in the directory,
  // or holding a handle (either keeps the count above zero).
  void AddHold() noexcept { holds_.fetch_add(1, std::memory_order_relaxed); }
  // The last one frees the set; the partition's own hold is dropped only
  // once it was dropped (the slot is frozen then).
  void DropHold() noexcept;

 private:
  SnapshotData* published_;
  std::atomic<uint32_t> holds_{1};
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_PUBLISHED_SLOT_HPP_
