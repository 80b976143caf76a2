// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/changelog_record.hpp
//
// The changelog record: one commit of one partition, as the resulting values
// of its keys (puts, erases, table clears; never merge operands), so that
// applying records in version order reproduces the partition bit for bit
// whatever its merge operators. Self-describing (table names travel with
// their ids), versioned, checksummed. All integers little-endian; "varint"
// is LEB128 (checkpoint_format.hpp).
//
// RECORD, format version 1:
//   off  size
//   0    4    magic "RCSL" (52 43 53 4C)
//   4    4    format_version = 1 (a decoder rejects any other value)
//   8    8    record_length: bytes of the whole record, these fields included
//   16   4    CRC-32C of bytes [0, 16) followed by bytes [20, record_length)
//   20   4    partition
//   24   8    version: the partition version this commit produced
//   32   4    T = number of tables the commit changed
//   36   ...  T times, table ids strictly increasing:
//              u32 table id, u32 name_length, name bytes, u8 cleared (0/1),
//              u32 op count, then the ops:
//                u8 0x01 PUT   varint key_length, key, varint value_length, value
//                u8 0x02 ERASE varint key_length, key
//   A cleared table is emptied before its ops apply. Within a table a key
//   appears at most once (its final state in the commit). Nothing follows the
//   last table.
//
// The decoder checks, in this order: magic, format version, record_length
// against the bytes given, the CRC, then every field and length against the
// end of the record; any failure is kCorrupt saying what is wrong.
#ifndef RCUSTATE_DURABLE_CHANGELOG_RECORD_HPP_
#define RCUSTATE_DURABLE_CHANGELOG_RECORD_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace RCUSTATE_NAMESPACE::durable {

inline constexpr char kChangelogMagic[4] = {'R', 'C', 'S', 'L'};
inline constexpr uint32_t kChangelogFormatVersion = 1;
inline constexpr size_t kChangelogHeaderSize = 36;

// Builds records in one reusable buffer: after the first few records reach
// the usual size, encoding allocates nothing. Calls: Begin, then for each
// changed table in increasing id order BeginTable and its Put/Erase calls,
// then Finish. Not thread-safe; one encoder per committing thread.
class ChangelogEncoder {
 public:
  void Begin(uint32_t partition, uint64_t version);
  // `num_ops` is the number of Put/Erase calls that will follow for this
  // table; it sizes the buffer (the record holds the count actually made).
  void BeginTable(uint32_t table, std::string_view name, bool cleared, size_t num_ops);
  void Put(std::string_view key, std::string_view value);
  void Erase(std::string_view key);
  // The record, valid until the next Begin.
  std::string_view Finish();

 private:
  void CloseTable();
  std::string buf_;
  uint32_t tables_ = 0;
  size_t ops_pos_ = 0;  // offset of the open table's op count, 0 if none
  uint32_t ops_ = 0;
};

struct ChangeRecordView {
  uint32_t partition = 0;
  uint64_t version = 0;
  struct Op {
    bool erase = false;
    std::string_view key;
    std::string_view value;  // empty for an erase
  };
  struct Table {
    uint32_t id = 0;
    std::string_view name;
    bool cleared = false;
    std::vector<Op> ops;
  };
  std::vector<Table> tables;
};

// Decodes and checks a record (see above). Views point into `record`.
// kCorrupt for anything malformed, kNoMemory if the views cannot be built.
absl::StatusOr<ChangeRecordView> DecodeChangelog(std::string_view record);

}  // namespace rcustate::durable

#endif  // RCUSTATE_DURABLE_CHANGELOG_RECORD_HPP_
