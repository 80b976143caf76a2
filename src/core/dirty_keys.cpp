// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/dirty_keys.cpp
#include "rcustate/abi.hpp"
#include "src/core/dirty_keys.hpp"

#include <new>
#include <utility>

#include "src/core/safe_map.hpp"

namespace RCUSTATE_NAMESPACE::detail {
namespace {

// set.insert(key) that throws std::bad_alloc with `set` unchanged; needs
// room for the insertion (ReserveInserts). A key that fits the string's
// inline buffer is copied without allocating; a longer one is copied first,
// then moved in.
void InsertSafely(DirtyKeys::KeySet& set, const std::string& key) {
  static const size_t kInline = std::string().capacity();
  if (key.size() <= kInline) {
    set.insert(key);
    return;
  }
  if (set.contains(key)) return;
  std::string copy(key);         // may throw: nothing changed yet
  set.insert(std::move(copy));   // moves: cannot throw
}

}  // namespace

void DirtyKeys::Start(uint64_t since, uint64_t chain_id) noexcept {
  for (Table& t : tables_) {
    t.cleared = false;
    t.keys.clear();
  }
  tracking_ = true;
  since_ = since;
  chain_id_ = chain_id;
}

void DirtyKeys::Stop() noexcept {
  for (Table& t : tables_) {
    t.cleared = false;
    KeySet().swap(t.keys);  // frees the slots
  }
  tracking_ = false;
}

void DirtyKeys::Record(const Delta& delta) noexcept {
  if (!tracking_) return;
  try {
    for (size_t i = 0; i < tables_.size(); ++i) {
      const TableDelta& td = delta.tables()[i];
      Table& t = tables_[i];
      if (td.cleared) {
        // Whatever changed before the clear is covered by it.
        t.cleared = true;
        t.keys.clear();
      }
      if (td.ops.empty()) continue;
      // Room first (safe_map.hpp: abseil's growth is not exception-safe),
      // then insertions that copy a long key before they touch the set.
      ReserveInserts(t.keys, td.ops.size());
      for (const auto& kv : td.ops) InsertSafely(t.keys, kv.first);
    }
  } catch (const std::bad_alloc&) {
    Stop();  // the set is whole but misses keys: the next checkpoint is full
  }
}

DirtyKeys DirtyKeys::Take(uint64_t since) noexcept {
  DirtyKeys taken(0);
  // The empty record that stays here, allocated before anything moves: the
  // record must keep one table per store table (Start and Record rely on
  // it). Without memory for it, keep the tables, stop tracking and hand
  // out a record that is not tracking either: the checkpoint is then full.
  std::vector<Table> fresh;
  try {
    fresh.resize(tables_.size());
  } catch (const std::bad_alloc&) {
    Stop();
    since_ = since;
    chain_id_ = 0;
    return taken;
  }
  // Each set starts with the room the last interval needed, so that it
  // does not regrow (a safe growth rehashes every key) on the way back to
  // that size. Room is an optimization: without memory the sets grow as
  // they need.
  try {
    for (size_t i = 0; i < fresh.size(); ++i) ReserveInserts(fresh[i].keys, tables_[i].keys.size());
  } catch (const std::bad_alloc&) {
  }
  std::swap(taken.tables_, tables_);
  tables_ = std::move(fresh);
  taken.tracking_ = tracking_;
  taken.since_ = since_;
  taken.chain_id_ = chain_id_;
  tracking_ = true;
  since_ = since;
  chain_id_ = 0;
  return taken;
}

void DirtyKeys::Restore(DirtyKeys&& older) noexcept {
  if (!tracking_ || !older.tracking_ || tables_.size() != older.tables_.size()) {
    Stop();
    return;
  }
  try {
    for (size_t i = 0; i < tables_.size(); ++i) {
      Table& mine = tables_[i];
      Table& old = older.tables_[i];
      // A clear since the failed cut covers what the older record holds.
      if (mine.cleared) continue;
      ReserveInserts(mine.keys, old.keys.size());
      for (const std::string& k : old.keys) InsertSafely(mine.keys, k);
      mine.cleared = old.cleared;
    }
  } catch (const std::bad_alloc&) {
    Stop();
    return;
  }
  since_ = older.since_;
  chain_id_ = older.chain_id_;
}

size_t DirtyKeys::ApproxBytes() const {
  static const size_t kInline = std::string().capacity();
  size_t total = tables_.capacity() * sizeof(Table);
  for (const Table& t : tables_) {
    total += t.keys.capacity() * (sizeof(std::string) + 1);
    for (const std::string& k : t.keys) total += k.capacity() > kInline ? k.capacity() + 1 : 0;
  }
  return total;
}

}  // namespace rcustate::detail
