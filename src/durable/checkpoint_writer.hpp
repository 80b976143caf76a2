// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/checkpoint_writer.hpp
//
// Writes one checkpoint file (format: checkpoint_format.hpp) so that a crash
// at any instant leaves the directory's previous files intact and never
// leaves a partial file under a final name: the file is written under a
// temporary name, fsynced, renamed, and the directory fsynced.
//
//   CheckpointHeader h{kCheckpointFull, partition, version, 0, 0, schema};
//   auto w = CheckpointWriter::Begin(dir, h);          // chain id chosen here
//   for each table t with entries: (*w)->BeginTable(t, false); Put(k, v)...
//   (*w)->Commit(&bytes, &entries);
//
// One writer per directory at a time (the caller serializes checkpoints of a
// partition): Commit of a full checkpoint deletes every other file of the
// directory's chains and every temporary, including another writer's.
// Write errors (ENOSPC, EROFS, EACCES, EFBIG past RLIMIT_FSIZE: SIGXFSZ is
// blocked around each write, see file_io.hpp) are kIo naming the file and
// strerror. Any error (kIo, kNoMemory, kInvalidArgument for misuse) leaves
// the writer failed: later calls return the same error, and the destructor
// removes the temporary. Not thread-safe; one thread drives a writer.
#ifndef RCUSTATE_DURABLE_CHECKPOINT_WRITER_HPP_
#define RCUSTATE_DURABLE_CHECKPOINT_WRITER_HPP_

#include "rcustate/abi.hpp"
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/durable/block_stream.hpp"
#include "src/durable/checkpoint_format.hpp"
#include "src/durable/file_io.hpp"

namespace RCUSTATE_NAMESPACE::durable {

class CheckpointWriter {
 public:
  // Creates `dir` (and parents) if missing and a temporary file in it, and
  // writes the header. A full checkpoint whose h.chain_id is 0 gets a random
  // chain id (chain_id() tells it); an incremental one must carry its chain's
  // id, and version > base_version (base_version = the version of the
  // chain's newest file, NewestCheckpoint()).
  static absl::StatusOr<std::unique_ptr<CheckpointWriter>> Begin(const std::string& dir,
                                                                 const CheckpointHeader& h);
  ~CheckpointWriter();  // not committed: removes the temporary
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // Starts table `table`'s entries. Tables in strictly increasing order;
  // `cleared` only in an incremental checkpoint (the table was emptied after
  // the base version, before the changes that follow).
  // Keeps everything in memory until Commit, which then writes it: for a
  // caller that encodes under a lock and does the I/O after releasing it.
  // Call it right after Begin.
  void HoldUntilCommit() { blocks_.Hold(); }
  absl::Status BeginTable(uint32_t table, bool cleared);
  absl::Status Put(std::string_view key, std::string_view value);
  absl::Status Erase(std::string_view key);  // incremental only

  // Writes the trailer, fsyncs, renames to the final name, fsyncs the
  // directory. A full checkpoint then deletes every other checkpoint file and
  // temporary of the directory (best effort: a leftover is never chosen over
  // the newer chain) and fsyncs the directory again. On error the temporary
  // is removed and the directory holds what it held before.
  // `bytes_written` = file size, `entries` = PUT + ERASE entries (may be null).
  absl::Status Commit(uint64_t* bytes_written, uint64_t* entries);

  uint64_t chain_id() const { return header_.chain_id; }
  // The final name (known from Begin on; exists only after Commit).
  const std::string& final_path() const { return final_path_; }
  const std::string& temporary_path() const { return file_.path(); }

 private:
  CheckpointWriter(std::string dir, CheckpointHeader h, AppendFile file);
  absl::Status Fail(absl::Status st);
  absl::Status Check() const;
  absl::Status AppendEntry(uint8_t op, std::string_view key, const std::string_view* value);
  void RemoveOtherFiles();

  std::string dir_;
  CheckpointHeader header_;
  std::string final_path_;
  AppendFile file_;
  BlockWriter blocks_;
  CheckpointTrailer trailer_;
  std::optional<uint32_t> table_;  // the table entries go to
  absl::Status failed_;
  bool committed_ = false;
};

}  // namespace rcustate::durable

#endif  // RCUSTATE_DURABLE_CHECKPOINT_WRITER_HPP_
