// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/checkpoint_reader.cpp
#include "rcustate/abi.hpp"
#include "src/durable/checkpoint_reader.hpp"

#include <cstring>
#include <utility>

#include "rcustate/status.hpp"
#include "src/durable/block_stream.hpp"
#include "src/durable/byte_codec.hpp"
#include "src/durable/file_io.hpp"

namespace RCUSTATE_NAMESPACE::durable {
namespace {

absl::Status Corrupt(const std::string& file, const std::string& what) {
  return MakeError(ErrorCode::kCorrupt, file + ": " + what);
}

// The smallest entry is an ERASE of an empty key (2 bytes): no count in a
// file can exceed half its size. Bounds what a caller reserves from counts.
constexpr uint64_t kMinEntryBytes = 2;

struct OpenedFile {
  RandomAccessFile file;
  CheckpointFileSummary summary;
  uint64_t header_size = 0;
};

absl::StatusOr<OpenedFile> OpenAndCheck(const std::string& path) {
  absl::StatusOr<RandomAccessFile> f = RandomAccessFile::Open(path);
  if (!f.ok()) return f.status();
  uint64_t size = f->size();
  char start[16];
  if (size < sizeof start) {
    return Corrupt(path, "truncated at offset " + std::to_string(size) + " (header)");
  }
  if (absl::Status st = f->ReadAt(0, sizeof start, start); !st.ok()) return st;
  if (std::memcmp(start, kCheckpointMagic, sizeof kCheckpointMagic) != 0) {
    return Corrupt(path, "bad magic (not a checkpoint file)");
  }
  uint32_t format = LoadU32(start + 8);
  if (format != kCheckpointFormatVersion) {
    return Corrupt(path, "format version " + std::to_string(format) + " unsupported (this reader: " +
                             std::to_string(kCheckpointFormatVersion) + ")");
  }
  uint32_t h = LoadU32(start + 12);
  if (h < kHeaderMinSize || h > kHeaderMaxSize) {
    return Corrupt(path, "header length " + std::to_string(h) + " invalid");
  }
  if (h > size) return Corrupt(path, "truncated at offset " + std::to_string(size) + " (header)");
  std::string hbytes(h, '\0');
  if (absl::Status st = f->ReadAt(0, h, hbytes.data()); !st.ok()) return st;
  absl::StatusOr<CheckpointHeader> header = DecodeCheckpointHeader(hbytes, path);
  if (!header.ok()) return header.status();

  // The trailer: fixed size, last in the file.
  size_t n = header->tables.size();
  uint64_t tsize = kBlockFrameSize + TrailerPayloadSize(n);
  if (size < h + tsize) {
    return Corrupt(path, "truncated at offset " + std::to_string(size) + " (no room for the trailer)");
  }
  uint64_t toff = size - tsize;
  BlockReader tr(&*f, toff, size);
  uint32_t type;
  std::string_view payload;
  if (absl::Status st = tr.Next(&type, &payload); !st.ok()) {
    if (ErrorCodeOf(st) != ErrorCode::kCorrupt) return st;
    return Corrupt(path, "trailer missing or damaged at offset " + std::to_string(toff) +
                             " (truncated file?): " + std::string(st.message()));
  }
  if (type != kBlockTypeTrailer) {
    return Corrupt(path, "trailer missing at offset " + std::to_string(toff) + " (truncated file?)");
  }
  absl::StatusOr<CheckpointTrailer> trailer = DecodeTrailerPayload(payload, n, path);
  if (!trailer.ok()) return trailer.status();
  if (trailer->body_end != toff) {
    return Corrupt(path, "trailer says the data ends at " + std::to_string(trailer->body_end) +
                             ", it ends at " + std::to_string(toff));
  }
  if (trailer->entries > (toff - h) / kMinEntryBytes) {
    return Corrupt(path, "trailer counts " + std::to_string(trailer->entries) +
                             " entries, more than the data can hold");
  }
  if (header->kind == kCheckpointFull) {
    for (size_t i = 0; i < n; ++i) {
      if (trailer->erases[i] != 0) return Corrupt(path, "full checkpoint with erases");
    }
  }
  OpenedFile out{std::move(*f), CheckpointFileSummary{std::move(*header), std::move(*trailer), size},
                 h};
  return out;
}

// Parses one data block's entries.
class EntryParser {
 public:
  EntryParser(const std::string& path, const CheckpointHeader& h, CheckpointVisitor* v)
      : path_(path), header_(h), visitor_(v), puts_(h.tables.size()), erases_(h.tables.size()) {}

  absl::Status Block(std::string_view payload, uint64_t offset) {
    ByteReader r(payload);
    if (r.done()) return Corrupt(path_, "empty data block at offset " + std::to_string(offset));
    while (!r.done()) {
      uint8_t op = 0;
      r.GetU8(&op);
      if (op == kOpTable) {
        uint64_t t;
        uint8_t cleared;
        if (!r.GetVarint(&t) || !r.GetU8(&cleared)) return Bad(offset, "TABLE entry cut short");
        if (t >= header_.tables.size()) return Bad(offset, "table " + std::to_string(t) + " out of range");
        if (has_table_ && t <= table_) return Bad(offset, "tables out of order");
        if (cleared > 1 || (cleared == 1 && header_.kind != kCheckpointIncremental)) {
          return Bad(offset, "invalid cleared flag");
        }
        has_table_ = true;
        table_ = static_cast<uint32_t>(t);
        if (visitor_ != nullptr) {
          if (absl::Status st = visitor_->OnTable(table_, cleared == 1); !st.ok()) return st;
        }
      } else if (op == kOpPut || op == kOpErase) {
        if (!has_table_) return Bad(offset, "entry before any TABLE");
        std::string_view key, value;
        if (!r.GetLengthPrefixed(&key)) return Bad(offset, "key runs past the block");
        if (op == kOpPut) {
          if (!r.GetLengthPrefixed(&value)) return Bad(offset, "value runs past the block");
          ++puts_[table_];
          if (visitor_ != nullptr) {
            if (absl::Status st = visitor_->OnPut(key, value); !st.ok()) return st;
          }
        } else {
          if (header_.kind != kCheckpointIncremental) return Bad(offset, "ERASE in a full checkpoint");
          ++erases_[table_];
          if (visitor_ != nullptr) {
            if (absl::Status st = visitor_->OnErase(key); !st.ok()) return st;
          }
        }
      } else {
        return Bad(offset, "unknown entry op " + std::to_string(op));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Finish(const CheckpointTrailer& t) const {
    for (size_t i = 0; i < puts_.size(); ++i) {
      if (puts_[i] != t.puts[i] || erases_[i] != t.erases[i]) {
        return Corrupt(path_, "table " + std::to_string(i) + " has " + std::to_string(puts_[i]) +
                                  " puts and " + std::to_string(erases_[i]) +
                                  " erases, the trailer says " + std::to_string(t.puts[i]) + " and " +
                                  std::to_string(t.erases[i]));
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Bad(uint64_t offset, const std::string& what) const {
    return Corrupt(path_, what + " (block at offset " + std::to_string(offset) + ")");
  }
  const std::string& path_;
  const CheckpointHeader& header_;
  CheckpointVisitor* visitor_;
  std::vector<uint64_t> puts_, erases_;
  bool has_table_ = false;
  uint32_t table_ = 0;
};

}  // namespace

absl::StatusOr<CheckpointFileSummary> ReadCheckpointSummary(const std::string& path) {
  try {
    absl::StatusOr<OpenedFile> f = OpenAndCheck(path);
    if (!f.ok()) return f.status();
    return std::move(f->summary);
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory, "out of memory reading " + path);
  }
}

absl::StatusOr<CheckpointFileSummary> ReadCheckpointFile(const std::string& path,
                                                         CheckpointVisitor* visitor) {
  try {
    absl::StatusOr<OpenedFile> f = OpenAndCheck(path);
    if (!f.ok()) return f.status();
    const CheckpointHeader& h = f->summary.header;
    const CheckpointTrailer& t = f->summary.trailer;
    if (visitor != nullptr) {
      if (absl::Status st = visitor->OnStart(h, t); !st.ok()) return st;
    }
    EntryParser parser(path, h, visitor);
    BlockReader blocks(&f->file, f->header_size, t.body_end);
    uint64_t n = 0;
    while (!blocks.at_end()) {
      uint64_t offset = blocks.offset();
      uint32_t type;
      std::string_view payload;
      if (absl::Status st = blocks.Next(&type, &payload); !st.ok()) return st;
      if (type != kBlockTypeData) {
        return Corrupt(path, "block of type " + std::to_string(type) + " at offset " +
                                 std::to_string(offset) + " (expected data)");
      }
      ++n;
      if (absl::Status st = parser.Block(payload, offset); !st.ok()) return st;
    }
    if (n != t.data_blocks) {
      return Corrupt(path, std::to_string(n) + " data blocks, the trailer says " +
                               std::to_string(t.data_blocks));
    }
    if (absl::Status st = parser.Finish(t); !st.ok()) return st;
    return std::move(f->summary);
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory, "out of memory reading " + path);
  }
}

}  // namespace rcustate::durable
