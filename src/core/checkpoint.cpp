// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/checkpoint.cpp
#include "rcustate/abi.hpp"
#include "src/core/checkpoint.hpp"

#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"
#include "src/core/dirty_keys.hpp"
#include "src/core/map_set.hpp"
#include "src/durable/checkpoint_dir.hpp"
#include "src/durable/checkpoint_writer.hpp"
#include "src/rcu/rcu.hpp"

namespace RCUSTATE_NAMESPACE::detail {
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

// Every entry of every table. Keys and values longer than std::string's
// inline buffer live elsewhere on the heap, one cache miss each: they are
// prefetched a few slots ahead so that the misses overlap.
absl::Status WriteFull(durable::CheckpointWriter& w, const MapSet& set) {
  constexpr int kAhead = 8;
  for (size_t t = 0; t < set.tables.size(); ++t) {
    const TableMap& map = set.tables[t];
    if (map.empty()) continue;
    if (absl::Status s = w.BeginTable(static_cast<uint32_t>(t), false); !s.ok()) return s;
    auto ahead = map.begin();
    for (int i = 0; i < kAhead && ahead != map.end(); ++i, ++ahead) {
      __builtin_prefetch(ahead->first.data());
      __builtin_prefetch(ahead->second.data());
    }
    for (const auto& [key, value] : map) {
      if (ahead != map.end()) {
        __builtin_prefetch(ahead->first.data());
        __builtin_prefetch(ahead->second.data());
        ++ahead;
      }
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
    // Each changed key is a probe at a random place of a large map: the
    // slots of the keys a few places ahead are prefetched (as a
    // publication's apply does) so that the misses overlap.
    constexpr int kAhead = 8;
    auto ahead = dt.keys.begin();
    for (int i = 0; i < kAhead && ahead != dt.keys.end(); ++i, ++ahead) map.prefetch(*ahead);
    for (const std::string& key : dt.keys) {
      if (ahead != dt.keys.end()) {
        map.prefetch(*ahead);
        ++ahead;
      }
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
  const std::vector<durable::TableSchema> tables = FileSchema(store.schema);
  CheckpointInfo info;
  info.partition = p.id();
  std::unique_ptr<durable::CheckpointWriter> w;
  bool nothing_new = false;
  // Under the partition's publication mutex: the published version, encoded
  // into memory (no I/O but creating the temporary file). Commits wait for
  // it under the default policy and seal under group commit; the disk
  // writes happen below, after it is released.
  absl::StatusOr<DirtyKeys> taken =
      p.CheckpointCut([&](const MapSet& set, const DirtyKeys& changes) -> absl::Status {
        // An increment only extends the file its record of changes starts from.
        info.incremental = newest.has_value() && changes.chain_id() != 0 &&
                           newest->partition == p.id() && newest->version == changes.since() &&
                           newest->chain_id == changes.chain_id();
        info.version = set.version;
        if (info.incremental && set.version == newest->version) {
          nothing_new = true;  // the chain already holds this version
          return absl::OkStatus();
        }
        durable::CheckpointHeader h;
        h.kind = info.incremental ? durable::kCheckpointIncremental : durable::kCheckpointFull;
        h.partition = p.id();
        h.version = set.version;
        h.base_version = info.incremental ? newest->version : 0;
        h.chain_id = info.incremental ? newest->chain_id : 0;
        h.tables = tables;
        info.base_version = h.base_version;
        absl::StatusOr<std::unique_ptr<durable::CheckpointWriter>> b =
            durable::CheckpointWriter::Begin(dir, h);
        if (!b.ok()) return b.status();
        w = *std::move(b);
        w->HoldUntilCommit();
        return info.incremental ? WriteIncrement(*w, set, changes) : WriteFull(*w, set);
      });
  if (!taken.ok()) return taken.status();  // nothing taken; the temporary is removed
  if (nothing_new) {
    info.base_version = newest->base_version;
    p.CheckpointDone(*taken, /*ok=*/true, newest->chain_id);
    return info;
  }
  absl::Status s = w->Commit(&info.bytes, &info.entries);
  p.CheckpointDone(*taken, s.ok(), w->chain_id());
  if (!s.ok()) return s;
  return info;
}

}  // namespace

absl::StatusOr<CheckpointInfo> CheckpointPartition(const std::shared_ptr<StoreState>& store,
                                                   uint32_t partition, const std::string& dir,
                                                   CheckpointKind kind) {
  if (store->WaitWouldSelfDeadlock()) return InsideReadSection("Checkpoint");
  rcu::OfflineScope offline(store->flavor());  // QSBR: blocking calls are quiescent
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
  if (store->WaitWouldSelfDeadlock()) return InsideReadSection("Restore");
  rcu::OfflineScope offline(store->flavor());  // QSBR: blocking calls are quiescent
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
