// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/published_slot.cpp
#include "rcustate/abi.hpp"
#include "src/core/published_slot.hpp"

namespace RCUSTATE_NAMESPACE::detail {

void PublishedSlot::Unpin(MapSet* set) noexcept {
  set->partition_pins->fetch_sub(1, std::memory_order_relaxed);
  set->pins.fetch_sub(1, std::memory_order_acq_rel);
  set->Unref();
}

MapSet* PublishedSlot::Pin() {
  MapSet* set = static_cast<MapSet*>(rcu::Dereference(published_));
  // Inside the read section the set cannot be reused: the writer checks
  // `pins` only after the grace period that follows the set's retirement,
  // which this section delays, so it will see this increment.
  set->Ref();
  set->pins.fetch_add(1, std::memory_order_acq_rel);
  set->partition_pins->fetch_add(1, std::memory_order_relaxed);
  return set;
}

void PublishedSlot::DropHold() noexcept {
  if (holds_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // The partition was dropped (it gave up its hold) and this was the last
  // handle: the slot is frozen and nobody can load it any more.
  MapSet* last = static_cast<MapSet*>(published_);
  published_ = nullptr;
  last->Unref();
}

}  // namespace rcustate::detail
