// File: src/core/checkpoint.cpp
#include "src/core/checkpoint.hpp"

#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"
#include "src/core/dirty_keys.hpp"
#include "src/core/map_set.hpp"
#include "src/core/published_slot.hpp"
#include "src/durable/checkpoint_dir.hpp"
#include "src/durable/checkpoint_writer.hpp"
#include "src/rcu/rcu.hpp"

namespace rcustate::detail {
namespace {

std::vector<durable::TableSchema> FileSchema(const Schema& schema) {
  std::vector<durable::TableSchema> out;
  out.reserve(schema.tables.size());
  for (const TableSpec& t : schema.tables) {
    out.push_back(durable::TableSchema{
        t.name, t.merge != nullptr ? std::string(t.merge->Name()) : std::string()});
  }
  return out;
}

// Releases the checkpoint's pin on every path.
class PinGuard {
 public:
  explicit PinGuard(MapSet* set) : set_(set) {}
  ~PinGuard() {
    if (set_ != nullptr) PublishedSlot::Unpin(set_);
  }
  PinGuard(const PinGuard&) = delete;
  PinGuard& operator=(const PinGuard&) = delete;

 private:
  MapSet* set_;
};

// Every entry of every table.
absl::Status WriteFull(durable::CheckpointWriter& w, const MapSet& set) {
  for (size_t t = 0; t < set.tables.size(); ++t) {
    if (set.tables[t].empty()) continue;
    if (absl::Status s = w.BeginTable(static_cast<uint32_t>(t), false); !s.ok()) return s;
    for (const auto& [key, value] : set.tables[t]) {
      if (absl::Status s = w.Put(key, value); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// The changed keys of each table: their value in the pinned set, or an
// erase where it has none.
absl::Status WriteIncrement(durable::CheckpointWriter& w, const MapSet& set,
                            const DirtyKeys& changes) {
  for (size_t t = 0; t < set.tables.size(); ++t) {
    const DirtyKeys::Table& dt = changes.tables()[t];
    if (!dt.cleared && dt.keys.empty()) continue;
    if (absl::Status s = w.BeginTable(static_cast<uint32_t>(t), dt.cleared); !s.ok()) return s;
    const TableMap& map = set.tables[t];
    for (const std::string& key : dt.keys) {
      auto it = map.find(key);
      absl::Status s = it != map.end() ? w.Put(key, it->second)
                       : dt.cleared    ? absl::OkStatus()  // gone with the clear already
                                       : w.Erase(key);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CheckpointInfo> Write(StoreState& store, Partition& p, const std::string& dir,
                                     CheckpointKind kind) {
  // The newest file of the directory: what an increment would extend.
  std::optional<durable::CheckpointHeader> newest;
  if (kind == CheckpointKind::kIncremental) {
    absl::StatusOr<std::optional<durable::CheckpointHeader>> n = durable::NewestCheckpoint(dir);
    if (!n.ok()) return n.status();
    newest = *std::move(n);
  }
  absl::StatusOr<Partition::Cut> cut = p.CutForCheckpoint();
  if (!cut.ok()) return cut.status();
  PinGuard pin(cut->pinned);
  const MapSet& set = *cut->pinned;
  const DirtyKeys& changes = cut->changes;
  // An increment only extends the file its record of changes starts from.
  const bool incremental = newest.has_value() && changes.tracking() && changes.chain_id() != 0 &&
                           newest->partition == p.id() && newest->version == changes.since() &&
                           newest->chain_id == changes.chain_id();
  CheckpointInfo info;
  info.partition = p.id();
  info.version = set.version;
  info.incremental = incremental;
  if (incremental && set.version == newest->version) {
    // Nothing committed since: the chain already holds this version.
    p.CheckpointDone(*cut, /*ok=*/true, newest->chain_id);
    info.base_version = newest->base_version;
    return info;
  }
  durable::CheckpointHeader h;
  h.kind = incremental ? durable::kCheckpointIncremental : durable::kCheckpointFull;
  h.partition = p.id();
  h.version = set.version;
  h.base_version = incremental ? newest->version : 0;
  h.chain_id = incremental ? newest->chain_id : 0;
  h.tables = FileSchema(store.schema);
  absl::Status s;
  uint64_t chain_id = 0;
  absl::StatusOr<std::unique_ptr<durable::CheckpointWriter>> w = durable::CheckpointWriter::Begin(dir, h);
  if (!w.ok()) {
    s = w.status();
  } else {
    chain_id = (*w)->chain_id();
    s = incremental ? WriteIncrement(**w, set, changes) : WriteFull(**w, set);
    if (s.ok()) s = (*w)->Commit(&info.bytes, &info.entries);
  }
  p.CheckpointDone(*cut, s.ok(), chain_id);
  if (!s.ok()) return s;
  info.base_version = h.base_version;
  return info;
}

}  // namespace

absl::StatusOr<CheckpointInfo> CheckpointPartition(const std::shared_ptr<StoreState>& store,
                                                   uint32_t partition, const std::string& dir,
                                                   CheckpointKind kind) {
  if (rcu::InReadSection()) return InsideReadSection("Checkpoint");
  if (kind != CheckpointKind::kFull && kind != CheckpointKind::kIncremental) {
    return MakeError(ErrorCode::kInvalidArgument, "Checkpoint: unknown checkpoint kind");
  }
  if (dir.empty()) return MakeError(ErrorCode::kInvalidArgument, "Checkpoint: empty directory name");
  if (absl::Status s = store->CheckOpen(); !s.ok()) return s;
  try {
    absl::StatusOr<PartitionRef> p = store->Acquire(partition);
    if (!p.ok()) return p.status();
    CheckedMutexLock serialize(&(*p)->checkpoint_mu());
    return Write(*store, *p->get(), dir, kind);
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory,
                     absl::StrCat("Checkpoint of partition ", partition,
                                  ": out of memory (nothing was written)"));
  }
}

absl::StatusOr<CheckpointInfo> RestorePartition(const std::shared_ptr<StoreState>& store,
                                                uint32_t partition, const std::string& dir) {
  if (rcu::InReadSection()) return InsideReadSection("Restore");
  if (dir.empty()) return MakeError(ErrorCode::kInvalidArgument, "Restore: empty directory name");
  if (absl::Status s = store->CheckOpen(); !s.ok()) return s;
  try {
    if (store->Acquire(partition).ok()) {
      return MakeError(ErrorCode::kExists, absl::StrCat("partition ", partition, " already exists"));
    }
    absl::StatusOr<durable::RestoredChain> chain =
        durable::ReadNewestChain(dir, partition, FileSchema(store->schema));
    if (!chain.ok()) return chain.status();
    CheckpointInfo info;
    info.partition = partition;
    info.version = chain->head.version;
    // The version the chain's last file extends (0: the chain is one full).
    if (std::optional<durable::CheckpointFileName> last = durable::ParseCheckpointFileName(
            chain->files.back().substr(chain->files.back().rfind('/') + 1))) {
      info.base_version = last->base_version;
    }
    info.bytes = chain->bytes;
    info.entries = chain->entries;
    info.incremental = chain->files.size() > 1;
    std::unique_ptr<MapSet> set = MapSet::Adopt(std::move(chain->tables), chain->head.version);
    if (absl::Status s = store->CreateRestored(partition, std::move(set), chain->head.chain_id);
        !s.ok()) {
      return s;
    }
    return info;
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory,
                     absl::StrCat("Restore of partition ", partition,
                                  ": out of memory (the partition was not created)"));
  }
}

}  // namespace rcustate::detail
