// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/delta_pool.hpp
//
// A bounded free list of empty deltas, so that batches reuse the capacity of
// the maps a previous batch grew instead of regrowing them from scratch. A
// partition keeps one for the deltas it replays and publishes; a thread keeps
// one per partition it writes to for the batches it seals under group commit.
//
// Not thread-safe: its owner's lock (or thread) protects it. Take() may throw
// std::bad_alloc (it may build a new delta); Give() never allocates and never
// throws, so it is safe on paths that must not fail.
#ifndef RCUSTATE_SRC_CORE_DELTA_POOL_HPP_
#define RCUSTATE_SRC_CORE_DELTA_POOL_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>
#include <memory>
#include <new>
#include <vector>

#include "src/core/delta.hpp"

namespace RCUSTATE_NAMESPACE::detail {

class DeltaPool {
 public:
  // Keeps at most `capacity` spare deltas of `num_tables` tables each.
  DeltaPool(size_t num_tables, size_t capacity) : num_tables_(num_tables), capacity_(capacity) {
    spares_.reserve(capacity);  // so that Give() never allocates
  }

  // An empty delta: a spare one if there is one, else a new one.
  std::unique_ptr<Delta> Take() {
    if (spares_.empty()) return std::make_unique<Delta>(num_tables_);
    std::unique_ptr<Delta> d = std::move(spares_.back());
    spares_.pop_back();
    return d;
  }

  // Takes `d` back, emptied, if there is room; else frees it. Null is fine.
  // A full pool keeps the spares with the least room: `d` replaces the
  // roomiest spare (which is freed) when that one holds far more room than
  // `d` needs. Without that, deltas grown by a few huge batches (a bulk load)
  // would stay in the pool for good while every later batch needs a fraction
  // of them: under group commit a partition takes a spare only when a commit
  // publishes, so its spares are rarely taken, reset to smaller ones, again.
  void Give(std::unique_ptr<Delta> d) noexcept {
    if (d == nullptr || capacity_ == 0) return;
    if (spares_.size() >= capacity_) {
      auto roomiest = spares_.begin();
      for (auto it = spares_.begin(); it != spares_.end(); ++it) {
        if (Room(**it) > Room(**roomiest)) roomiest = it;
      }
      // Room for d->size() changes is at most ~2.3x that many slots (absl's
      // growth); 4x leaves spares of the same order alone (no churn).
      if (Room(**roomiest) <= 4 * (d->size() + kSmallRoom)) return;  // d is freed
      roomiest->swap(d);  // the roomiest is freed with `d`
      (*roomiest)->Reset();
      return;
    }
    d->Reset();  // never fails: without memory it ends empty with no room kept
    spares_.push_back(std::move(d));  // room reserved in the constructor
  }

  size_t size() const { return spares_.size(); }
  // Slots the delta's maps hold (what Reset keeps room for).
  static size_t Room(const Delta& d) {
    size_t slots = 0;
    for (const TableDelta& t : d.tables()) slots += t.ops.capacity();
    return slots;
  }
  // Heap bytes held by the pool: its slots and each spare (see DeltaBytes).
  template <typename Bytes>
  size_t ApproxBytes(Bytes delta_bytes) const {
    size_t total = spares_.capacity() * sizeof(spares_[0]);
    for (const auto& d : spares_) total += delta_bytes(*d);
    return total;
  }

 private:
  // Below this many slots a spare is never worth replacing.
  static constexpr size_t kSmallRoom = 1024;
  size_t num_tables_;
  size_t capacity_;
  std::vector<std::unique_ptr<Delta>> spares_;
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_DELTA_POOL_HPP_
