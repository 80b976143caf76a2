// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/block_stream.hpp
//
// Checksummed blocks, the body of a checkpoint file. A block is
//
//   u32 payload_length   (little-endian)
//   u32 type             (what the payload holds; the format decides)
//   u32 crc              CRC-32C of the 8 bytes above followed by the payload
//   payload_length bytes
//
// The writer builds each block in place in one buffer (frame placeholder,
// then payload, frame filled in when the block is sealed) and hands the file
// ~1 MiB at a time, so the only copy is the caller's append into the payload.
// The reader checks a block's length against the bytes left in the file and
// its CRC before it returns the payload: nothing inside a payload is looked
// at before its checksum is verified.
#ifndef RCUSTATE_DURABLE_BLOCK_STREAM_HPP_
#define RCUSTATE_DURABLE_BLOCK_STREAM_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "src/durable/file_io.hpp"

namespace RCUSTATE_NAMESPACE::durable {

inline constexpr size_t kBlockFrameSize = 12;
// A block is sealed before an entry would take its payload past this; a
// block holding one bigger entry is the exception.
inline constexpr size_t kBlockTargetPayload = size_t{1} << 20;
// Largest payload a frame can describe.
inline constexpr uint64_t kBlockMaxPayload = 0xFFFFFFFFu;

class BlockWriter {
 public:
  explicit BlockWriter(AppendFile* file);

  // Raw bytes before the first block (the file header). Only before any
  // payload was appended.
  void AppendRaw(std::string_view bytes);
  // The payload of the block being built: append to it.
  std::string& payload() { return buf_; }
  size_t payload_size() const { return buf_.size() - block_start_ - kBlockFrameSize; }
  // Seals the current block (if it has a payload, or `force`) with `type`,
  // writes buffered blocks once they reach the write chunk, starts a new one.
  absl::Status Seal(uint32_t type, bool force = false);
  // Writes everything buffered. The open block must be empty (sealed).
  absl::Status Flush();
  // From now until Flush(), sealed blocks stay in memory (in chunks of about
  // the write size, never one growing buffer): nothing is written. For a
  // caller that encodes under a lock and writes after releasing it.
  void Hold() { hold_ = true; }
  // Bytes sealed so far (written or buffered), blocks sealed.
  uint64_t bytes() const { return sealed_bytes_; }
  uint64_t blocks() const { return blocks_; }

 private:
  void StartBlock();
  AppendFile* file_;
  std::string buf_;
  bool hold_ = false;
  std::vector<std::string> held_;  // full chunks kept by Hold(), in order
  size_t block_start_ = 0;    // offset of the open block's frame in buf_
  uint64_t sealed_bytes_ = 0;  // file offset of the open block's frame
  uint64_t blocks_ = 0;
};

class BlockReader {
 public:
  // Reads blocks of `file` from `offset`; `end` is where the blocks end.
  BlockReader(const RandomAccessFile* file, uint64_t offset, uint64_t end);
  // The next block, verified. kCorrupt naming the file and offset when the
  // frame does not fit before `end` (truncated) or the checksum differs.
  // `payload` is valid until the next call.
  absl::Status Next(uint32_t* type, std::string_view* payload);
  uint64_t offset() const { return offset_; }
  bool at_end() const { return offset_ == end_; }

 private:
  const RandomAccessFile* file_;
  uint64_t offset_;
  uint64_t end_;
  std::string buf_;
};

// CRC of a block: frame's first 8 bytes, then the payload.
uint32_t BlockCrc(uint32_t length, uint32_t type, std::string_view payload);

}  // namespace rcustate::durable

#endif  // RCUSTATE_DURABLE_BLOCK_STREAM_HPP_
