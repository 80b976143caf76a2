// SPDX-License-Identifier: LGPL-2.1-or-later
// File: rcustate/snapshot.hpp
//
// Views of published partition state.
//
// SnapshotView: one published version of a partition, valid only inside the
//   ReadSection in which it was obtained. Lookups through it cost one
//   flat_hash_map probe: no lock, no atomic, no allocation.
// PinnedSnapshot: a long-lived reference to one version (scans, checkpoints).
//   It holds no read section, so writers never wait for it; instead the writer
//   stops reusing the pinned maps and builds its next standby by copying
//   (memory stays within three copies of the state however long a pin lives).
//   Its const accessors may be called from any number of threads at once;
//   destroying or moving it must not race with them.
// TableView: one table of either; valid as long as the view it came from.
// TableReader: a handle on one table of one partition, resolved once
//   (Store::Reader), whose lookups are inline: one acquire load of the
//   partition's published snapshot, one index, one probe. Use it on hot read
//   paths; it must be used inside a ReadSection like SnapshotView.
//
// None of them shows the calling thread's uncommitted writes (Store::Get does).
#ifndef RCUSTATE_SNAPSHOT_HPP_
#define RCUSTATE_SNAPSHOT_HPP_

#include "rcustate/abi.hpp"
#include "rcustate/export.hpp"

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rcustate/read_section.hpp"

namespace RCUSTATE_NAMESPACE {

using TableId = uint32_t;

namespace detail {
// Transparent hashing of byte-string keys, so lookups by std::string_view
// never build a std::string (the packaged abseil has its own string_view type,
// which the default hasher expects).
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view k) const {
    return absl::Hash<absl::string_view>{}(absl::string_view(k.data(), k.size()));
  }
};
struct KeyEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};
template <typename V>
using KeyMap = absl::flat_hash_map<std::string, V, KeyHash, KeyEq>;
// One table of one snapshot. Keys and values are byte strings.
using TableMap = KeyMap<std::string>;
// The immutable part of a published snapshot, as readers see it.
struct SnapshotData {
  uint64_t version = 0;
  std::vector<TableMap> tables;
};
class MapSet;
class Partition;
class StoreState;
}  // namespace detail

class TableReader;

class RCUSTATE_EXPORT TableView {
 public:
  // The value stored under `key`, or nullopt. The view into the value is valid
  // as long as the snapshot it came from.
  std::optional<std::string_view> Find(std::string_view key) const {
    auto it = map_->find(key);
    if (it == map_->end()) return std::nullopt;
    return std::string_view(it->second);
  }
  bool Contains(std::string_view key) const { return map_->contains(key); }
  size_t size() const { return map_->size(); }
  // Calls fn(key, value) for every entry, in unspecified order; a `false`
  // returned from fn stops the walk (fn may also return void).
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [k, v] : *map_) {
      if constexpr (std::is_same_v<decltype(fn(std::string_view(k), std::string_view(v))), bool>) {
        if (!fn(std::string_view(k), std::string_view(v))) return;
      } else {
        fn(std::string_view(k), std::string_view(v));
      }
    }
  }

 private:
  friend class SnapshotView;
  friend class PinnedSnapshot;
  friend class TableReader;
  explicit TableView(const detail::TableMap* map) : map_(map) {}
  const detail::TableMap* map_;
};

class RCUSTATE_EXPORT SnapshotView {
 public:
  // Number of commits this snapshot contains (0 = the empty initial state).
  uint64_t version() const { return data_->version; }
  size_t num_tables() const { return data_->tables.size(); }
  // kNoTable for an unknown table id.
  absl::StatusOr<TableView> Table(TableId table) const;

  // The view as an opaque pointer, for bindings that hand views out across a
  // C interface (rcs_view*): never null, nothing to free, valid exactly as
  // long as the view (until its read section ends). FromHandle() gives the
  // view back; it accepts only a pointer ToHandle() returned. Both are free:
  // the view is that pointer.
  const void* ToHandle() const { return data_; }
  static SnapshotView FromHandle(const void* handle) {
    assert(handle != nullptr);
    return SnapshotView(static_cast<const detail::SnapshotData*>(handle));
  }

 private:
  friend class Store;
  friend class TableReader;
  explicit SnapshotView(const detail::SnapshotData* data) : data_(data) {}
  const detail::SnapshotData* data_;
};

// A read handle on one table of one partition (Store::Reader). Made once,
// used for any number of lookups, on any thread, from any number of copies.
//
// Every accessor below requires the calling thread to be inside a
// ReadSection, or online for a QSBR store (asserted in builds without
// NDEBUG; not checked otherwise), and
// what it returns -- views, values -- stays valid until that section ends, or
// until this reader is destroyed, whichever comes first (QSBR: until the
// thread's next quiescent state or offline transition). Each call reads the
// partition's published snapshot afresh, with no directory lookup, no
// StatusOr and no thread-local access: two calls in one section may see two
// versions, each of them whole (batches stay atomic; versions never go
// backwards on one thread). For several lookups that must see one version,
// take Table() (or Snapshot(), for several tables) once and look up through
// it. Like SnapshotView, a reader does not show the calling thread's
// uncommitted writes (Store::Get does).
//
// Lifetime: a reader holds its partition (not the Store). After
// DropPartition() or Store::Close() it keeps reading the partition's last
// published snapshot, which no commit changes any more (dropped() tells);
// that snapshot's memory then stays allocated until the last reader of the
// partition is destroyed, as a pin's does. A reader may outlive its Store.
//
//   TableReader counts = store->Reader(p, counts_table).value();   // once
//   ...
//   { rcustate::ReadSection rs;
//     std::optional<std::string_view> v = counts.Find("user-42"); }
class RCUSTATE_EXPORT TableReader {
 public:
  TableReader() = default;  // empty: holds nothing; only assignment, empty() and destruction
  TableReader(const TableReader& other);
  TableReader& operator=(const TableReader& other);
  TableReader(TableReader&& other) noexcept
      : partition_(other.partition_), slot_(other.slot_), table_(other.table_), qsbr_(other.qsbr_) {
    other.partition_ = nullptr;
    other.slot_ = nullptr;
  }
  TableReader& operator=(TableReader&& other) noexcept;
  // Never blocks; allowed inside a read section (views obtained through this
  // reader die with it if it was the last reader of a dropped partition).
  ~TableReader() {
    if (partition_ != nullptr) Release();
  }

  bool empty() const { return partition_ == nullptr; }
  TableId table() const { return table_; }

  // The value stored under `key` in the published snapshot, or nullopt.
  std::optional<std::string_view> Find(std::string_view key) const {
    const detail::TableMap& map = Load()->tables[table_];
    auto it = map.find(key);
    if (it == map.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  bool Contains(std::string_view key) const { return Load()->tables[table_].contains(key); }
  // The table in the published snapshot: one version for every lookup made
  // through the returned view.
  TableView Table() const { return TableView(&Load()->tables[table_]); }
  // The partition's whole published snapshot (every table, one version).
  SnapshotView Snapshot() const { return SnapshotView(Load()); }
  // This reader's table in `snapshot`, which must come from Snapshot() of a
  // reader of the same store (any table): reads several tables in one version
  // without a StatusOr.
  TableView Table(const SnapshotView& snapshot) const {
    assert(table_ < snapshot.data_->tables.size());
    return TableView(&snapshot.data_->tables[table_]);
  }
  // The published version (commits it contains).
  uint64_t version() const { return Load()->version; }

  // True once the partition was dropped (or the store closed): the reader
  // then reads the partition's last snapshot. Out of line; works anywhere.
  bool dropped() const;

 private:
  friend class Store;
  TableReader(detail::Partition* partition, detail::SnapshotData* const* slot, TableId table,
              bool qsbr)
      : partition_(partition), slot_(slot), table_(table), qsbr_(qsbr) {}
  // An acquire load: pairs with the release store that publishes a snapshot
  // (like rcu_dereference, and seen as such by ThreadSanitizer).
  const detail::SnapshotData* Load() const {
    assert(partition_ != nullptr && "TableReader: empty reader");
    assert((qsbr_ ? ThreadIsOnline() : ReadSection::Active()) &&
           "TableReader: use it inside a ReadSection (QSBR store: on an online thread)");
    return __atomic_load_n(slot_, __ATOMIC_ACQUIRE);
  }
  void Release() noexcept;

  detail::Partition* partition_ = nullptr;          // counted (Partition::AddReader)
  detail::SnapshotData* const* slot_ = nullptr;     // the partition's published pointer
  TableId table_ = 0;
  bool qsbr_ = false;  // the store's read flavor is QSBR
};

class RCUSTATE_EXPORT PinnedSnapshot {
 public:
  PinnedSnapshot() = default;  // empty: holds nothing
  PinnedSnapshot(PinnedSnapshot&& other) noexcept;
  PinnedSnapshot& operator=(PinnedSnapshot&& other) noexcept;
  PinnedSnapshot(const PinnedSnapshot&) = delete;
  PinnedSnapshot& operator=(const PinnedSnapshot&) = delete;
  // Releases the pin. Never blocks, so it is safe anywhere, including inside a
  // read section (the maps are handed to call_rcu if this was the last pin).
  ~PinnedSnapshot();

  bool empty() const { return set_ == nullptr; }
  // Precondition for the accessors below: !empty().
  uint64_t version() const;
  size_t num_tables() const;
  // kNoTable for an unknown table id; kState on an empty pin.
  absl::StatusOr<TableView> Table(TableId table) const;

  // Releases the pin now. kState inside a read section (the pin is kept; a
  // release is a reclamation step and the contract keeps those out of read
  // sections) or on an empty pin.
  absl::Status Release();

 private:
  friend class Store;
  PinnedSnapshot(std::shared_ptr<detail::StoreState> store, detail::MapSet* set)
      : store_(std::move(store)), set_(set) {}
  void Drop() noexcept;
  std::shared_ptr<detail::StoreState> store_;
  detail::MapSet* set_ = nullptr;
};

}  // namespace rcustate

#endif  // RCUSTATE_SNAPSHOT_HPP_
