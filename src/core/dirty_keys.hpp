// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/dirty_keys.hpp
//
// The keys a partition changed since its last checkpoint, per table, plus
// "the table was cleared": what an incremental checkpoint writes (each key's
// value in the pinned snapshot, or an erase if it has none). Kept by the
// publication path under the partition mutex, so a checkpoint that pins the
// published set and takes the record under that mutex gets exactly the
// changes up to the pinned version.
//
// Off until the partition's first checkpoint (or restore): a store that
// never checkpoints pays one branch per publication. Keys are recorded as
// each publication applies its batches; recording more than changed is
// harmless (the checkpoint then writes a key's current value again), so a
// publication that fails after recording needs no undo. Recording never
// fails: without memory it stops tracking, and the next incremental
// checkpoint is written as a full one.
#ifndef RCUSTATE_SRC_CORE_DIRTY_KEYS_HPP_
#define RCUSTATE_SRC_CORE_DIRTY_KEYS_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "rcustate/snapshot.hpp"
#include "src/core/delta.hpp"

namespace RCUSTATE_NAMESPACE::detail {

class DirtyKeys {
 public:
  using KeySet = absl::flat_hash_set<std::string, KeyHash, KeyEq>;
  struct Table {
    bool cleared = false;  // cleared after `since`, before the keys below changed
    KeySet keys;
  };

  explicit DirtyKeys(size_t num_tables) : tables_(num_tables) {}

  bool tracking() const { return tracking_; }
  // The checkpoint the record starts from: its version and chain.
  uint64_t since() const { return since_; }
  uint64_t chain_id() const { return chain_id_; }
  const std::vector<Table>& tables() const { return tables_; }

  // Starts an empty record from version `since` of chain `chain_id`.
  void Start(uint64_t since, uint64_t chain_id) noexcept;
  // Stops tracking and frees what was recorded.
  void Stop() noexcept;
  // Records the keys and clears of a batch applied by a publication.
  void Record(const Delta& delta) noexcept;
  // Moves the record out, leaving an empty one from version `since` (chain
  // unknown until the checkpoint that took it completes: SetChain).
  DirtyKeys Take(uint64_t since) noexcept;
  void SetChain(uint64_t chain_id) noexcept { chain_id_ = chain_id; }
  // Gives back a record taken by a checkpoint that failed: the changes since
  // `older`'s start are then the union of both (tracking stops if that
  // union cannot be built).
  void Restore(DirtyKeys&& older) noexcept;
  // Heap bytes of the record.
  size_t ApproxBytes() const;

 private:
  bool tracking_ = false;
  uint64_t since_ = 0;
  uint64_t chain_id_ = 0;
  std::vector<Table> tables_;
};

}  // namespace rcustate::detail

#endif  // RCUSTATE_SRC_CORE_DIRTY_KEYS_HPP_
