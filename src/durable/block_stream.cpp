// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/block_stream.cpp
#include "rcustate/abi.hpp"
#include "src/durable/block_stream.hpp"

#include <utility>

#include "rcustate/status.hpp"
#include "src/durable/byte_codec.hpp"
#include "src/durable/crc32c.hpp"

namespace RCUSTATE_NAMESPACE::durable {
namespace {

// Buffered blocks go to the file once they reach this (the header says why
// large chunks: one write per MiB keeps the syscall cost out of the figure).
constexpr size_t kWriteChunk = size_t{1} << 20;

}  // namespace

uint32_t BlockCrc(uint32_t length, uint32_t type, std::string_view payload) {
  char frame[8];
  StoreU32(frame, length);
  StoreU32(frame + 4, type);
  return Crc32cExtend(Crc32c(frame, 8), payload.data(), payload.size());
}

BlockWriter::BlockWriter(AppendFile* file) : file_(file) {
  buf_.reserve(kWriteChunk + kBlockTargetPayload + 64);
  StartBlock();
}

void BlockWriter::StartBlock() {
  block_start_ = buf_.size();
  buf_.append(kBlockFrameSize, '\0');
}

void BlockWriter::AppendRaw(std::string_view bytes) {
  // Only before the first block: the open block is empty at buf_'s end.
  buf_.insert(block_start_, bytes.data(), bytes.size());
  block_start_ += bytes.size();
  sealed_bytes_ += bytes.size();
}

absl::Status BlockWriter::Seal(uint32_t type, bool force) {
  size_t len = payload_size();
  if (len == 0 && !force) return absl::OkStatus();
  if (len > kBlockMaxPayload) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "an entry of " + std::to_string(len) + " bytes does not fit in a block");
  }
  char* frame = buf_.data() + block_start_;
  std::string_view payload(frame + kBlockFrameSize, len);
  StoreU32(frame, static_cast<uint32_t>(len));
  StoreU32(frame + 4, type);
  StoreU32(frame + 8, BlockCrc(static_cast<uint32_t>(len), type, payload));
  sealed_bytes_ += kBlockFrameSize + len;
  ++blocks_;
  if (buf_.size() >= kWriteChunk && hold_) {
    // Keep the chunk; the next one starts in a fresh buffer. May throw
    // std::bad_alloc with the sealed block still in buf_ (the caller's
    // writer is then abandoned, its temporary removed).
    held_.emplace_back();
    held_.back().reserve(kWriteChunk + kBlockTargetPayload + 64);
    std::swap(held_.back(), buf_);
  } else if (buf_.size() >= kWriteChunk) {
    absl::Status st = file_->Append(buf_);
    buf_.clear();
    if (!st.ok()) {
      StartBlock();
      return st;
    }
  }
  StartBlock();
  return absl::OkStatus();
}

absl::Status BlockWriter::Flush() {
  hold_ = false;
  for (std::string& chunk : held_) {
    absl::Status st = file_->Append(chunk);
    std::string().swap(chunk);  // frees it as it goes
    if (!st.ok()) {
      held_.clear();
      return st;
    }
  }
  held_.clear();
  // Write all but the open (empty) block's placeholder frame.
  absl::Status st = file_->Append(std::string_view(buf_.data(), block_start_));
  buf_.clear();
  StartBlock();
  return st;
}

BlockReader::BlockReader(const RandomAccessFile* file, uint64_t offset, uint64_t end)
    : file_(file), offset_(offset), end_(end) {}

absl::Status BlockReader::Next(uint32_t* type, std::string_view* payload) {
  const std::string& name = file_->path();
  if (end_ - offset_ < kBlockFrameSize) {
    return MakeError(ErrorCode::kCorrupt, name + ": truncated at offset " + std::to_string(offset_) +
                                              " (block frame needs " +
                                              std::to_string(kBlockFrameSize) + " bytes, " +
                                              std::to_string(end_ - offset_) + " left)");
  }
  char frame[kBlockFrameSize];
  if (absl::Status st = file_->ReadAt(offset_, kBlockFrameSize, frame); !st.ok()) return st;
  uint32_t len = LoadU32(frame);
  uint32_t t = LoadU32(frame + 4);
  uint32_t crc = LoadU32(frame + 8);
  uint64_t left = end_ - offset_ - kBlockFrameSize;
  if (len > left) {
    return MakeError(ErrorCode::kCorrupt, name + ": truncated at offset " + std::to_string(offset_) +
                                              " (block of " + std::to_string(len) + " bytes, " +
                                              std::to_string(left) + " left)");
  }
  if (buf_.size() < len) buf_.resize(len);
  if (absl::Status st = file_->ReadAt(offset_ + kBlockFrameSize, len, buf_.data()); !st.ok()) {
    return st;
  }
  std::string_view p(buf_.data(), len);
  if (BlockCrc(len, t, p) != crc) {
    return MakeError(ErrorCode::kCorrupt,
                     name + ": block checksum mismatch at offset " + std::to_string(offset_));
  }
  offset_ += kBlockFrameSize + len;
  *type = t;
  *payload = p;
  return absl::OkStatus();
}

}  // namespace rcustate::durable
