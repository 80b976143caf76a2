// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/map_set.hpp
//
// A MapSet is one complete version of a partition: one flat_hash_map per
// table plus its version (SnapshotData, what readers see) and the bookkeeping
// of its life cycle. Each partition owns two (docs/design.md, "Writes: deltas
// and commits"): the published one and the standby, which the writer brings
// up to date and publishes next.
//
// Lifetime: `refs` counts the partition's ownership (1 while the set is in
// the partition's cycle), each pin, and each retirement ticket in flight.
// Every path that drops the owner reference does so at least one grace period
// after the set became unreachable to new readers (a detached standby was
// retired a grace period earlier; a dropped partition releases its sets from a
// call_rcu callback), so whoever drops the last reference frees the set at
// once.
#ifndef RCUSTATE_SRC_CORE_MAP_SET_HPP_
#define RCUSTATE_SRC_CORE_MAP_SET_HPP_

#include "rcustate/abi.hpp"
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rcustate/snapshot.hpp"
#include "src/core/delta.hpp"
#include "src/core/schema.hpp"

namespace RCUSTATE_NAMESPACE::detail {

class MapSet : public SnapshotData {
 public:
  explicit MapSet(const Schema& schema);
  // In builds with assertions, overwrites every value with kPoison bytes
  // first, so a reader that sees a freed set sees poison (stress tests
  // check for it on every read).
  ~MapSet();
  static constexpr char kPoison = '\xdd';
  // Map sets alive in the process (tests check Close() frees them all).
  static int64_t Live() { return live_.load(std::memory_order_acquire); }
  // A deep copy of `other`'s maps and version, with fresh bookkeeping.
  static MapSet* CopyOf(const MapSet& other);
  // A set made of `tables` (one per table of the schema, e.g. restored from
  // a checkpoint) at `version`. Throws std::bad_alloc (tables then lost).
  static std::unique_ptr<MapSet> Adopt(std::vector<TableMap> tables, uint64_t version);

  // Entries in all its tables.
  size_t Entries() const {
    size_t n = 0;
    for (const TableMap& t : tables) n += t.size();
    return n;
  }

  // Brings the maps up to date with a resolved delta (no kMerge ops left).
  // ApplyMove may steal the delta's strings: use it for the last application.
  void Apply(const Delta& delta);
  void ApplyMove(Delta& delta);
  // Like Apply, for a delta whose merges are not resolved yet and a set that
  // holds the latest committed state: each kMerge is merged with the set's
  // own value, in the slot it is about to write (one probe instead of a
  // lookup in the published set plus an insert here), and the delta keeps the
  // result as a kPut, ready to be replayed onto the other set.
  // On std::bad_alloc every Apply leaves the set whole but partly updated
  // (the caller then rebuilds it; safe_map.hpp) and, for ApplyResolving, each
  // op either as it was or converted.
  void ApplyResolving(const Schema& schema, Delta& delta);

  // Like ApplyResolving, with each merge op it turns into a put recorded
  // in `undo` (reserved by the caller for delta.size() entries), so that
  // Undo() can give `delta` back its merges if the publication fails.
  struct Undo {
    Op* op;
    std::string operand;
  };
  void ApplyResolvingUndoable(const Schema& schema, Delta& delta, std::vector<Undo>& undo);
  static void UndoResolved(std::vector<Undo>& undo) noexcept;

  // Heap bytes of both keys and values plus the tables' slot arrays.
  size_t ApproxBytes() const;
  // Bytes ApproxBytes() leaves out: the per-table vectors of the set.
  size_t FixedBytes() const {
    return tables.capacity() * sizeof(TableMap) + heap_bytes_.capacity() * sizeof(size_t);
  }

  void Ref() { refs.fetch_add(1, std::memory_order_relaxed); }
  // Frees the set when this was the last reference (see the file comment).
  void Unref();

  std::atomic<uint32_t> refs{1};
  std::atomic<uint32_t> pins{0};
  // Pins on every set this one's partition ever had, detached ones included
  // (PartitionStats::pins_alive); shared so that it outlives the partition.
  std::shared_ptr<std::atomic<uint32_t>> partition_pins;
  // Retirements of this set so far (writer only, under the partition mutex).
  uint64_t retired_gen = 0;
  // Highest retirement whose grace period is known to have ended; set by the
  // retirement ticket's call_rcu callback (release), read by the writer
  // (acquire) to decide whether it must call synchronize_rcu itself.
  std::atomic<uint64_t> reclaimed_gen{0};

 private:
  MapSet() { live_.fetch_add(1, std::memory_order_relaxed); }
  template <bool kMove, bool kResolve, bool kUndo, typename D>
  void ApplyImpl(D& delta, const Schema* schema, std::vector<Undo>* undo);
  std::vector<size_t> heap_bytes_;  // per table; writer only
  static std::atomic<int64_t> live_;
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_MAP_SET_HPP_
