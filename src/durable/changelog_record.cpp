// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/changelog_record.cpp
#include "rcustate/abi.hpp"
#include "src/durable/changelog_record.hpp"

#include <cstring>

#include "rcustate/status.hpp"
#include "src/durable/byte_codec.hpp"
#include "src/durable/crc32c.hpp"

namespace RCUSTATE_NAMESPACE::durable {
namespace {

constexpr uint8_t kRecPut = 0x01;
constexpr uint8_t kRecErase = 0x02;

absl::Status Corrupt(const std::string& what) {
  return MakeError(ErrorCode::kCorrupt, "changelog record: " + what);
}

uint32_t RecordCrc(std::string_view r) {
  return Crc32cExtend(Crc32c(r.data(), 16), r.data() + 20, r.size() - 20);
}

}  // namespace

void ChangelogEncoder::Begin(uint32_t partition, uint64_t version) {
  buf_.clear();
  buf_.append(kChangelogMagic, sizeof kChangelogMagic);
  PutU32(&buf_, kChangelogFormatVersion);
  PutU64(&buf_, 0);  // length, at Finish
  PutU32(&buf_, 0);  // CRC, at Finish
  PutU32(&buf_, partition);
  PutU64(&buf_, version);
  PutU32(&buf_, 0);  // table count, at Finish
  tables_ = 0;
  ops_pos_ = 0;
}

void ChangelogEncoder::CloseTable() {
  if (ops_pos_ != 0) StoreU32(buf_.data() + ops_pos_, ops_);
  ops_pos_ = 0;
}

void ChangelogEncoder::BeginTable(uint32_t table, std::string_view name, bool cleared,
                                  size_t num_ops) {
  CloseTable();
  // A guess at the ops' size (~16 bytes each) saves regrowth on big commits.
  buf_.reserve(buf_.size() + 13 + name.size() + num_ops * 16);
  PutU32(&buf_, table);
  PutU32(&buf_, static_cast<uint32_t>(name.size()));
  buf_.append(name.data(), name.size());
  PutU8(&buf_, cleared ? 1 : 0);
  ops_pos_ = buf_.size();
  PutU32(&buf_, 0);
  ops_ = 0;
  ++tables_;
}

void ChangelogEncoder::Put(std::string_view key, std::string_view value) {
  PutU8(&buf_, kRecPut);
  PutVarint(&buf_, key.size());
  buf_.append(key.data(), key.size());
  PutVarint(&buf_, value.size());
  buf_.append(value.data(), value.size());
  ++ops_;
}

void ChangelogEncoder::Erase(std::string_view key) {
  PutU8(&buf_, kRecErase);
  PutVarint(&buf_, key.size());
  buf_.append(key.data(), key.size());
  ++ops_;
}

std::string_view ChangelogEncoder::Finish() {
  CloseTable();
  StoreU64(buf_.data() + 8, buf_.size());
  StoreU32(buf_.data() + 32, tables_);
  StoreU32(buf_.data() + 16, RecordCrc(buf_));
  return buf_;
}

absl::StatusOr<ChangeRecordView> DecodeChangelog(std::string_view record) {
  if (record.size() < kChangelogHeaderSize) {
    return Corrupt("truncated: " + std::to_string(record.size()) + " bytes, the header alone is " +
                   std::to_string(kChangelogHeaderSize));
  }
  if (std::memcmp(record.data(), kChangelogMagic, sizeof kChangelogMagic) != 0) {
    return Corrupt("bad magic");
  }
  uint32_t format = LoadU32(record.data() + 4);
  if (format != kChangelogFormatVersion) {
    return Corrupt("format version " + std::to_string(format) + " unsupported (this decoder: " +
                   std::to_string(kChangelogFormatVersion) + ")");
  }
  uint64_t length = LoadU64(record.data() + 8);
  if (length != record.size()) {
    return Corrupt("length field says " + std::to_string(length) + " bytes, the record has " +
                   std::to_string(record.size()) + (length > record.size() ? " (truncated)" : ""));
  }
  if (RecordCrc(record) != LoadU32(record.data() + 16)) return Corrupt("checksum mismatch");

  try {
    ChangeRecordView v;
    ByteReader r(record.substr(20));
    uint32_t tables = 0;
    r.GetU32(&v.partition);
    r.GetU64(&v.version);
    r.GetU32(&tables);
    // A table takes at least 13 bytes: bound the count before reserving.
    if (tables > r.remaining() / 13) return Corrupt("table count " + std::to_string(tables) + " too large");
    v.tables.reserve(tables);
    for (uint32_t i = 0; i < tables; ++i) {
      ChangeRecordView::Table t;
      uint32_t name_len, ops;
      uint8_t cleared;
      if (!r.GetU32(&t.id) || !r.GetU32(&name_len) || !r.GetBytes(name_len, &t.name) ||
          !r.GetU8(&cleared) || !r.GetU32(&ops)) {
        return Corrupt("table " + std::to_string(i) + " runs past the end");
      }
      if (i > 0 && t.id <= v.tables.back().id) return Corrupt("table ids out of order");
      if (cleared > 1) return Corrupt("invalid cleared flag");
      t.cleared = cleared == 1;
      // An op takes at least 2 bytes.
      if (ops > r.remaining() / 2) return Corrupt("op count " + std::to_string(ops) + " too large");
      t.ops.reserve(ops);
      for (uint32_t k = 0; k < ops; ++k) {
        uint8_t kind = 0;
        ChangeRecordView::Op op;
        if (!r.GetU8(&kind)) return Corrupt("op runs past the end");
        if (kind != kRecPut && kind != kRecErase) return Corrupt("unknown op " + std::to_string(kind));
        op.erase = kind == kRecErase;
        if (!r.GetLengthPrefixed(&op.key)) return Corrupt("key runs past the end");
        if (!op.erase && !r.GetLengthPrefixed(&op.value)) return Corrupt("value runs past the end");
        t.ops.push_back(op);
      }
      v.tables.push_back(std::move(t));
    }
    if (!r.done()) return Corrupt(std::to_string(r.remaining()) + " bytes after the last table");
    return v;
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory, "out of memory decoding a changelog record");
  }
}

}  // namespace rcustate::durable
