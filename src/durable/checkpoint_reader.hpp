// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/checkpoint_reader.hpp
//
// Reads and verifies one checkpoint file (format: checkpoint_format.hpp).
// Everything is checked: magic, format version, header CRC, the trailer
// (found from the end of the file and checked before any data is used, so a
// truncated file fails before the caller sizes anything from it), every
// block's CRC before its entries are parsed, every length against what is
// left, the order and kinds of entries, and at the end that the data agrees
// with the trailer's counts. Errors: kCorrupt "<file>: <what is wrong>" for
// anything malformed, kIo for a failing read.
//
// The visitor sees entries as they are parsed, so a caller that builds state
// from them must discard it when the read fails (ReadNewestChain does).
#ifndef RCUSTATE_DURABLE_CHECKPOINT_READER_HPP_
#define RCUSTATE_DURABLE_CHECKPOINT_READER_HPP_

#include "rcustate/abi.hpp"
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/durable/checkpoint_format.hpp"

namespace RCUSTATE_NAMESPACE::durable {

class CheckpointVisitor {
 public:
  virtual ~CheckpointVisitor() = default;
  // After the header and trailer were verified, before any entry. A non-OK
  // status stops the read and is returned as is.
  virtual absl::Status OnStart(const CheckpointHeader& header, const CheckpointTrailer& trailer) {
    (void)header;
    (void)trailer;
    return absl::OkStatus();
  }
  virtual absl::Status OnTable(uint32_t table, bool cleared) = 0;
  // Views are valid during the call only.
  virtual absl::Status OnPut(std::string_view key, std::string_view value) = 0;
  virtual absl::Status OnErase(std::string_view key) = 0;
};

struct CheckpointFileSummary {
  CheckpointHeader header;
  CheckpointTrailer trailer;
  uint64_t file_bytes = 0;
};

// Header and trailer only (both verified; the data blocks are not read).
absl::StatusOr<CheckpointFileSummary> ReadCheckpointSummary(const std::string& path);

// The whole file, every entry passed to `visitor` (null: verify only).
absl::StatusOr<CheckpointFileSummary> ReadCheckpointFile(const std::string& path,
                                                         CheckpointVisitor* visitor);

}  // namespace rcustate::durable

#endif  // RCUSTATE_DURABLE_CHECKPOINT_READER_HPP_
