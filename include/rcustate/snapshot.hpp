// File: rcustate/snapshot.hpp
//
// Views of published partition state.
//
// SnapshotView: one published version of a partition, valid only inside the
//   ReadSection in which it was obtained. Lookups through it cost one
//   flat_hash_map probe: no lock, no atomic, no allocation.
// PinnedSnapshot: a long-lived reference to one version (scans, checkpoints).
//   It holds no read section, so writers never wait for it; instead the writer
//   stops reusing the pinned maps and builds its next standby by copying (design
//   §4: memory stays within three copies of the state however long a pin lives).
// TableView: one table of either; valid as long as the view it came from.
//
// Neither view shows the calling thread's uncommitted writes (Store::Get does).
#ifndef RCUSTATE_SNAPSHOT_HPP_
#define RCUSTATE_SNAPSHOT_HPP_

#include "rcustate/export.hpp"

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

namespace rcustate {

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
class StoreState;
}  // namespace detail

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

 private:
  friend class Store;
  explicit SnapshotView(const detail::SnapshotData* data) : data_(data) {}
  const detail::SnapshotData* data_;
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
