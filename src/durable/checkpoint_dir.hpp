// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/checkpoint_dir.hpp
//
// A checkpoint directory (one partition's checkpoints) as chains, found from
// file names alone (checkpoint_format.hpp), and the restore of the newest one.
//
// The newest chain: the full checkpoint with the highest version (among
// fulls of equal version, the one whose chain reaches furthest), extended by
// the increment whose base_version is the chain's current version and whose
// chain id is the full's, repeatedly (if several, the one reaching the
// highest version). Increments that do not link (their full was deleted, a
// gap) are ignored: they are leftovers of an interrupted cleanup, never part
// of a complete chain. Temporaries are ignored.
#ifndef RCUSTATE_DURABLE_CHECKPOINT_DIR_HPP_
#define RCUSTATE_DURABLE_CHECKPOINT_DIR_HPP_

#include "rcustate/abi.hpp"
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rcustate/snapshot.hpp"
#include "src/durable/checkpoint_format.hpp"

namespace RCUSTATE_NAMESPACE::durable {

struct CheckpointDirListing {
  std::vector<CheckpointFileName> files;  // final names, by (chain, kind, version)
  std::vector<std::string> temporaries;
  std::vector<std::string> others;  // names that are neither
  // Every chain with a full checkpoint, in apply order (full first), newest
  // chain last.
  std::vector<std::vector<CheckpointFileName>> chains;
  // Increments that extend no chain.
  std::vector<CheckpointFileName> orphans;
};

// Lists `dir`. A missing directory is an empty listing.
absl::StatusOr<CheckpointDirListing> ListCheckpointDir(const std::string& dir);

// The header of the newest chain's last file (checked), for deciding between
// a full and an incremental checkpoint (the increment's base_version is its
// version, its chain_id the chain's). nullopt: no chain in `dir`.
absl::StatusOr<std::optional<CheckpointHeader>> NewestCheckpoint(const std::string& dir);

struct RestoredChain {
  CheckpointHeader head;  // the full's header, but version = the chain's last version
  std::vector<rcustate::detail::TableMap> tables;
  uint64_t bytes = 0;    // bytes of all files read
  uint64_t entries = 0;  // entries in the restored tables
  std::vector<std::string> files;  // paths, in apply order
};

// Restores the newest chain of `dir` into fresh maps (sized from the full
// checkpoint's counts before any entry is read; an allocation failure is
// kNoMemory, never a damaged map). `expect` is the store's schema:
// every file must hold exactly these table names and merge operators, else
// kInvalidArgument naming the first difference. No chain: kIo "no checkpoint
// in DIR". A malformed file or one of another partition: kCorrupt naming the
// file and the problem. On any error nothing is returned.
absl::StatusOr<RestoredChain> ReadNewestChain(const std::string& dir, uint32_t partition,
                                              const std::vector<TableSchema>& expect);

}  // namespace rcustate::durable

#endif  // RCUSTATE_DURABLE_CHECKPOINT_DIR_HPP_
