// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/partition_directory.hpp
//
// The partition directory of a store: partition id -> Partition*, read
// lock-free inside read sections, changed by one writer at a time (the
// owner's lock) in O(1).
//
// A three-level radix array indexed by the id's bits (11 + 11 + 10): a fixed
// top array of pointers to mid pages, mid pages of pointers to leaf pages,
// leaf pages of RCU-published partition pointers. Pages are allocated on
// first use, published with rcu::Assign once zeroed, and never freed or
// moved while the directory lives, so a reader needs no protection for them;
// only the partition pointers change, and a dropped partition is retired by
// its owner through call_rcu. A create or drop therefore stores one pointer
// (plus, at most, two fresh pages): nothing is copied, nothing else retired.
// Memory: 16 KiB inline, 16 KiB per mid page, 8 KiB per leaf page (1024
// consecutive ids).
#ifndef RCUSTATE_SRC_CORE_PARTITION_DIRECTORY_HPP_
#define RCUSTATE_SRC_CORE_PARTITION_DIRECTORY_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>
#include <cstdint>
#include <vector>

#include "src/rcu/rcu.hpp"

namespace RCUSTATE_NAMESPACE::detail {

class Partition;

class PartitionDirectory {
 public:
  PartitionDirectory() = default;
  // Frees the pages; the partitions must have been taken out before.
  ~PartitionDirectory();
  PartitionDirectory(const PartitionDirectory&) = delete;
  PartitionDirectory& operator=(const PartitionDirectory&) = delete;

  // ---- readers, inside a read section
  Partition* Find(uint32_t id) const {
    const Mid* mid = rcu::Dereference(top_[id >> kTopShift]);
    if (mid == nullptr) return nullptr;
    const Leaf* leaf = rcu::Dereference(mid->leaves[(id >> kLeafBits) & kMidMask]);
    if (leaf == nullptr) return nullptr;
    return rcu::Dereference(leaf->slots[id & kLeafMask]);
  }
  // Appends the ids present to `out` in increasing order. Throws
  // std::bad_alloc (from `out`); the caller's section guard closes the section.
  void AppendIds(std::vector<uint32_t>* out) const;
  // Calls fn(id, partition) for every partition present, in increasing id
  // order (inside a read section).
  template <typename Fn>
  void ForEachSlot(Fn&& fn) const {
    for (uint32_t t = 0; t < (1u << kTopBits); ++t) {
      const Mid* mid = rcu::Dereference(top_[t]);
      if (mid == nullptr) continue;
      for (uint32_t m = 0; m <= kMidMask; ++m) {
        const Leaf* leaf = rcu::Dereference(mid->leaves[m]);
        if (leaf == nullptr) continue;
        for (uint32_t l = 0; l <= kLeafMask; ++l) {
          if (const Partition* p = rcu::Dereference(leaf->slots[l])) {
            fn((t << kTopShift) | (m << kLeafBits) | l, *p);
          }
        }
      }
    }
  }
  // The same for the partitions with an id of at least `first`, stopping
  // before the (max + 1)-th: returns true if it stopped there, with *next set
  // to that partition's id (to go on from, in another section), else false.
  template <typename Fn>
  bool ForEachFrom(uint32_t first, size_t max, uint32_t* next, Fn&& fn) const {
    const uint32_t ft = first >> kTopShift, fm = (first >> kLeafBits) & kMidMask;
    size_t visited = 0;
    for (uint32_t t = ft; t < (1u << kTopBits); ++t) {
      const Mid* mid = rcu::Dereference(top_[t]);
      if (mid == nullptr) continue;
      for (uint32_t m = t == ft ? fm : 0; m <= kMidMask; ++m) {
        const Leaf* leaf = rcu::Dereference(mid->leaves[m]);
        if (leaf == nullptr) continue;
        for (uint32_t l = t == ft && m == fm ? first & kLeafMask : 0; l <= kLeafMask; ++l) {
          if (const Partition* p = rcu::Dereference(leaf->slots[l])) {
            const uint32_t id = (t << kTopShift) | (m << kLeafBits) | l;
            if (visited == max) {
              *next = id;
              return true;
            }
            ++visited;
            fn(id, *p);
          }
        }
      }
    }
    return false;
  }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    ForEachSlot([&fn](uint32_t, const Partition& p) { fn(p); });
  }

  // ---- the writer (under the owner's lock)
  // Makes the slot of `id` exist, so that Set(id, ...) cannot fail. Throws
  // std::bad_alloc; pages it published stay (empty, harmless).
  void Reserve(uint32_t id);
  // Publishes `p` (or removes the partition: nullptr) at `id`; Reserve(id)
  // came first. The caller retires a replaced partition through call_rcu.
  void Set(uint32_t id, Partition* p);
  // Number of partitions present.
  size_t size() const { return size_; }
  // Takes every partition out (Set(id, nullptr) for each), appending them to
  // `out`, which has room for size() more (so this never allocates).
  void TakeAll(std::vector<Partition*>* out);

 private:
  static constexpr int kLeafBits = 10;
  static constexpr int kMidBits = 11;
  static constexpr int kTopBits = 32 - kLeafBits - kMidBits;
  static constexpr int kTopShift = kLeafBits + kMidBits;
  static constexpr uint32_t kLeafMask = (1u << kLeafBits) - 1;
  static constexpr uint32_t kMidMask = (1u << kMidBits) - 1;
  struct Leaf {
    Partition* slots[size_t{1} << kLeafBits] = {};
  };
  struct Mid {
    Leaf* leaves[size_t{1} << kMidBits] = {};
  };

  Leaf* LeafOf(uint32_t id) const;  // writer side; null if absent

  Mid* top_[size_t{1} << kTopBits] = {};
  size_t size_ = 0;
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_PARTITION_DIRECTORY_HPP_
