// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/partition_directory.cpp
#include "rcustate/abi.hpp"
#include "src/core/partition_directory.hpp"

#include <memory>

namespace RCUSTATE_NAMESPACE::detail {

PartitionDirectory::~PartitionDirectory() {
  for (Mid* mid : top_) {
    if (mid == nullptr) continue;
    for (Leaf* leaf : mid->leaves) delete leaf;
    delete mid;
  }
}

void PartitionDirectory::AppendIds(std::vector<uint32_t>* out) const {
  ForEachSlot([out](uint32_t id, const Partition&) { out->push_back(id); });
}

PartitionDirectory::Leaf* PartitionDirectory::LeafOf(uint32_t id) const {
  const Mid* mid = top_[id >> kTopShift];
  return mid == nullptr ? nullptr : mid->leaves[(id >> kLeafBits) & kMidMask];
}

void PartitionDirectory::Reserve(uint32_t id) {
  Mid*& mid = top_[id >> kTopShift];
  if (mid == nullptr) {
    // Zeroed before it is published: readers see an empty page or none.
    rcu::Assign(mid, new Mid());
  }
  Leaf*& leaf = mid->leaves[(id >> kLeafBits) & kMidMask];
  if (leaf == nullptr) rcu::Assign(leaf, new Leaf());
}

void PartitionDirectory::Set(uint32_t id, Partition* p) {
  Partition*& slot = LeafOf(id)->slots[id & kLeafMask];
  size_ = size_ - (slot != nullptr ? 1 : 0) + (p != nullptr ? 1 : 0);
  rcu::Assign(slot, p);
}

void PartitionDirectory::TakeAll(std::vector<Partition*>* out) {
  for (Mid* mid : top_) {
    if (mid == nullptr) continue;
    for (Leaf* leaf : mid->leaves) {
      if (leaf == nullptr) continue;
      for (Partition*& slot : leaf->slots) {
        if (slot == nullptr) continue;
        out->push_back(slot);
        rcu::Assign(slot, static_cast<Partition*>(nullptr));
      }
    }
  }
  size_ = 0;
}

}  // namespace rcustate::detail
