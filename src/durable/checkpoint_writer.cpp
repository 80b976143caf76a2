// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/checkpoint_writer.cpp
#include "rcustate/abi.hpp"
#include "src/durable/checkpoint_writer.hpp"

#include <random>
#include <utility>

#include "rcustate/status.hpp"
#include "src/durable/byte_codec.hpp"

namespace RCUSTATE_NAMESPACE::durable {
namespace {

uint64_t RandomNonZero64() {
  std::random_device rd;
  uint64_t v = 0;
  while (v == 0) v = (uint64_t{rd()} << 32) ^ rd();
  return v;
}

absl::Status Invalid(std::string msg) { return MakeError(ErrorCode::kInvalidArgument, msg); }

absl::Status ValidateHeader(const CheckpointHeader& h) {
  if (h.kind == kCheckpointFull) {
    if (h.base_version != 0) return Invalid("a full checkpoint has base version 0");
  } else if (h.kind == kCheckpointIncremental) {
    if (h.chain_id == 0) return Invalid("an incremental checkpoint needs its chain's id");
    if (h.base_version >= h.version) {
      return Invalid("an incremental checkpoint's version (" + std::to_string(h.version) +
                     ") must be above its base version (" + std::to_string(h.base_version) + ")");
    }
  } else {
    return Invalid("unknown checkpoint kind " + std::to_string(h.kind));
  }
  if (h.tables.size() > UINT32_MAX) return Invalid("too many tables");
  for (const TableSchema& t : h.tables) {
    if (t.name.size() > UINT32_MAX || t.merge.size() > UINT32_MAX) {
      return Invalid("table name too long");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointWriter>> CheckpointWriter::Begin(
    const std::string& dir, const CheckpointHeader& h) {
  std::string created;  // the temporary, once it exists
  try {
    if (absl::Status st = ValidateHeader(h); !st.ok()) return st;
    if (absl::Status st = MakeDirs(dir); !st.ok()) return st;
    CheckpointHeader header = h;
    if (header.kind == kCheckpointFull && header.chain_id == 0) header.chain_id = RandomNonZero64();
    std::string path = dir + "/" + TemporaryFileName(RandomNonZero64());
    absl::StatusOr<AppendFile> file = AppendFile::Create(path);
    if (!file.ok()) return file.status();
    created = std::move(path);  // a move: nothing can throw between
    std::unique_ptr<CheckpointWriter> w(
        new CheckpointWriter(dir, std::move(header), std::move(*file)));
    created.clear();  // from here the writer's destructor removes it
    w->blocks_.AppendRaw(EncodeCheckpointHeader(w->header_));
    return w;
  } catch (const std::bad_alloc&) {
    if (!created.empty()) RemoveFileQuietly(created);
    return MakeError(ErrorCode::kNoMemory, "out of memory starting a checkpoint in " + dir);
  }
}

CheckpointWriter::CheckpointWriter(std::string dir, CheckpointHeader h, AppendFile file)
    : dir_(std::move(dir)),
      header_(std::move(h)),
      file_(std::move(file)),
      blocks_(&file_) {
  final_path_ = dir_ + "/" +
                CheckpointFileNameFor(header_.kind, header_.base_version, header_.version,
                                      header_.chain_id);
  trailer_.puts.assign(header_.tables.size(), 0);
  trailer_.erases.assign(header_.tables.size(), 0);
}

CheckpointWriter::~CheckpointWriter() {
  if (!committed_) {
    (void)file_.Close();
    RemoveFileQuietly(file_.path());
  }
}

absl::Status CheckpointWriter::Fail(absl::Status st) {
  if (failed_.ok()) failed_ = st;
  return st;
}

absl::Status CheckpointWriter::Check() const {
  if (!failed_.ok()) return failed_;
  if (committed_) return Invalid("checkpoint already committed");
  return absl::OkStatus();
}

absl::Status CheckpointWriter::BeginTable(uint32_t table, bool cleared) {
  if (absl::Status st = Check(); !st.ok()) return st;
  if (table >= header_.tables.size()) {
    return Fail(Invalid("table " + std::to_string(table) + " out of range"));
  }
  if (table_.has_value() && table <= *table_) {
    return Fail(Invalid("tables must be written in increasing order"));
  }
  if (cleared && header_.kind != kCheckpointIncremental) {
    return Fail(Invalid("only an incremental checkpoint clears a table"));
  }
  table_ = table;
  try {
    std::string& p = blocks_.payload();
    if (blocks_.payload_size() > kBlockTargetPayload - 16) {
      if (absl::Status st = blocks_.Seal(kBlockTypeData); !st.ok()) return Fail(st);
    }
    PutU8(&p, kOpTable);
    PutVarint(&p, table);
    PutU8(&p, cleared ? 1 : 0);
  } catch (const std::bad_alloc&) {
    return Fail(MakeError(ErrorCode::kNoMemory, "out of memory writing " + final_path_));
  }
  return absl::OkStatus();
}

absl::Status CheckpointWriter::AppendEntry(uint8_t op, std::string_view key,
                                           const std::string_view* value) {
  if (absl::Status st = Check(); !st.ok()) return st;
  if (!table_.has_value()) return Fail(Invalid("Put/Erase before BeginTable"));
  uint64_t size = 1 + VarintSize(key.size()) + key.size();
  if (value != nullptr) size += VarintSize(value->size()) + value->size();
  if (size > kBlockMaxPayload) {
    return Fail(Invalid("an entry of " + std::to_string(size) + " bytes exceeds the 4 GiB limit"));
  }
  try {
    // A block never splits an entry: seal first if it would pass the target.
    if (blocks_.payload_size() > 0 && blocks_.payload_size() + size > kBlockTargetPayload) {
      if (absl::Status st = blocks_.Seal(kBlockTypeData); !st.ok()) return Fail(st);
    }
    std::string& p = blocks_.payload();
    PutU8(&p, op);
    PutVarint(&p, key.size());
    p.append(key.data(), key.size());
    if (value != nullptr) {
      PutVarint(&p, value->size());
      p.append(value->data(), value->size());
    }
  } catch (const std::bad_alloc&) {
    return Fail(MakeError(ErrorCode::kNoMemory, "out of memory writing " + final_path_));
  }
  ++trailer_.entries;
  ++(value != nullptr ? trailer_.puts : trailer_.erases)[*table_];
  return absl::OkStatus();
}

absl::Status CheckpointWriter::Put(std::string_view key, std::string_view value) {
  return AppendEntry(kOpPut, key, &value);
}

absl::Status CheckpointWriter::Erase(std::string_view key) {
  if (header_.kind != kCheckpointIncremental) {
    if (absl::Status st = Check(); !st.ok()) return st;
    return Fail(Invalid("a full checkpoint has no erases"));
  }
  return AppendEntry(kOpErase, key, nullptr);
}

absl::Status CheckpointWriter::Commit(uint64_t* bytes_written, uint64_t* entries) {
  if (absl::Status st = Check(); !st.ok()) return st;
  try {
    if (absl::Status st = blocks_.Seal(kBlockTypeData); !st.ok()) return Fail(st);
    trailer_.body_end = blocks_.bytes();
    trailer_.data_blocks = blocks_.blocks();
    blocks_.payload() += EncodeTrailerPayload(trailer_);
  } catch (const std::bad_alloc&) {
    return Fail(MakeError(ErrorCode::kNoMemory, "out of memory writing " + final_path_));
  }
  if (absl::Status st = blocks_.Seal(kBlockTypeTrailer, /*force=*/true); !st.ok()) return Fail(st);
  if (absl::Status st = blocks_.Flush(); !st.ok()) return Fail(st);
  if (absl::Status st = file_.Sync(); !st.ok()) return Fail(st);
  if (absl::Status st = file_.Close(); !st.ok()) return Fail(st);
  if (absl::Status st = RenameFile(file_.path(), final_path_); !st.ok()) return Fail(st);
  if (absl::Status st = SyncDir(dir_); !st.ok()) {
    // The rename may or may not survive a crash: undo it so that success
    // and the file's existence agree.
    RemoveFileQuietly(final_path_);
    return Fail(st);
  }
  committed_ = true;
  if (header_.kind == kCheckpointFull) {
    RemoveOtherFiles();
    (void)SyncDir(dir_);  // the deletions are cleanup: a lost one is harmless
  }
  if (bytes_written != nullptr) *bytes_written = file_.size();
  if (entries != nullptr) *entries = trailer_.entries;
  return absl::OkStatus();
}

void CheckpointWriter::RemoveOtherFiles() {
  try {
    absl::StatusOr<std::vector<std::string>> names = ListDir(dir_);
    if (!names.ok()) return;
    std::string mine = final_path_.substr(dir_.size() + 1);
    for (const std::string& n : *names) {
      if (n == mine) continue;
      if (ParseCheckpointFileName(n).has_value() || IsTemporaryFileName(n)) {
        RemoveFileQuietly(dir_ + "/" + n);
      }
    }
  } catch (const std::bad_alloc&) {
    // Cleanup only: old chains stay until the next full checkpoint.
  }
}

}  // namespace rcustate::durable
