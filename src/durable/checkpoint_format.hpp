// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/checkpoint_format.hpp
//
// The checkpoint file format, version 1: what a checkpoint file holds, byte
// by byte, and the names files get in a checkpoint directory. Writing is
// checkpoint_writer.hpp, reading checkpoint_reader.hpp, the directory and its
// chains checkpoint_dir.hpp.
//
// A checkpoint directory holds the checkpoints of one partition. A *chain* is
// a full checkpoint (every entry of every table at one version) followed by
// zero or more incremental ones, each holding what changed between the
// previous file's version (its base_version) and its own version. All
// integers are little-endian. "varint" is LEB128 (7 bits per byte, low group
// first, high bit = more bytes follow, at most 10 bytes).
//
// FILE = HEADER BLOCK* TRAILER_BLOCK, nothing after the trailer.
//
// HEADER (H bytes):
//   off  size
//   0    8     magic "RCSCKPT\n" (52 43 53 43 4B 50 54 0A)
//   8    4     format_version = 1 (a reader rejects any other value)
//   12   4     H = header length in bytes, this field and the CRC included
//   16   4     kind: 0 = full, 1 = incremental
//   20   4     partition
//   24   8     version       partition version the file brings the state to
//   32   8     base_version  0 for a full checkpoint; else the version of the
//                            chain's previous file (strictly below version)
//   40   8     chain_id      random, non-zero, chosen by the full checkpoint;
//                            every increment of its chain carries it
//   48   4     N = table count
//   52   ...   N times: u32 name_length, name bytes, u32 merge_length, merge
//              bytes (the table's merge operator name, empty = none)
//   H-4  4     CRC-32C of bytes [0, H-4)
//
// BLOCK (see block_stream.hpp):
//   u32 payload_length, u32 type, u32 CRC-32C(length ‖ type ‖ payload), payload.
//   Data blocks have type 1. A payload holds whole entries (an entry never
//   spans blocks) and stays under 1 MiB unless it holds a single larger entry.
//   Entries, each starting with an op byte:
//     0x01 TABLE  varint table, u8 cleared (0/1; 1 only in incremental files)
//                 Selects the table later PUT/ERASE entries apply to. Table
//                 ids strictly increase through the file; a table appears at
//                 most once; a full file may omit empty tables, an
//                 incremental one omits unchanged tables. cleared = 1: the
//                 table was emptied after base_version, before the PUTs and
//                 ERASEs that follow it.
//     0x02 PUT    varint key_length, key, varint value_length, value
//     0x03 ERASE  varint key_length, key      (incremental files only)
//   In a full file every key appears at most once per table. In an
//   incremental file, a key appears at most once per table (its final state).
//
// TRAILER_BLOCK: a block of type 2 whose payload is exactly 16*N + 24 bytes:
//   N times: u64 puts, u64 erases     entries of each table in this file
//   u64 entries        total PUT + ERASE entries
//   u64 body_end       file offset where the trailer block starts (= bytes of
//                      header and data blocks)
//   u64 data_blocks    number of data blocks
// Its size being fixed by N, a reader finds it at file_size - (12 + 16N + 24)
// and can size its maps before reading the data. A file whose trailer is
// missing, damaged or disagrees with the data is corrupt: that is how every
// truncation is detected.
//
// RESTORING a chain: start from empty tables, apply the full file's PUTs,
// then each increment in order: for each TABLE entry, clear the table if
// cleared, then apply its PUTs (insert or overwrite) and ERASEs (remove if
// present). The result is the partition at the last file's version.
//
// FILE NAMES (sort and parse without opening the file; %020 = 20 decimal
// digits with leading zeros, %016x = 16 lower-case hex digits):
//   full-<version%020>-<chain_id%016x>.rcsckpt
//   incr-<base_version%020>-<version%020>-<chain_id%016x>.rcsckpt
// A file being written is named tmp-<random%016x>.rcsckpt-tmp and renamed to
// its final name only after it was completely written and fsynced; readers
// ignore temporaries and any other name.
#ifndef RCUSTATE_DURABLE_CHECKPOINT_FORMAT_HPP_
#define RCUSTATE_DURABLE_CHECKPOINT_FORMAT_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace RCUSTATE_NAMESPACE::durable {

inline constexpr char kCheckpointMagic[8] = {'R', 'C', 'S', 'C', 'K', 'P', 'T', '\n'};
inline constexpr uint32_t kCheckpointFormatVersion = 1;
inline constexpr uint32_t kCheckpointFull = 0;         // = RCS_CHECKPOINT_FULL
inline constexpr uint32_t kCheckpointIncremental = 1;  // = RCS_CHECKPOINT_INCREMENTAL

inline constexpr uint32_t kBlockTypeData = 1;
inline constexpr uint32_t kBlockTypeTrailer = 2;

inline constexpr uint8_t kOpTable = 0x01;
inline constexpr uint8_t kOpPut = 0x02;
inline constexpr uint8_t kOpErase = 0x03;

// Fixed part of the header (before the tables) and the CRC after them.
inline constexpr size_t kHeaderFixedSize = 52;
inline constexpr size_t kHeaderMinSize = kHeaderFixedSize + 4;
// A reader refuses larger headers before allocating for them.
inline constexpr size_t kHeaderMaxSize = size_t{64} << 20;

struct TableSchema {
  std::string name;
  std::string merge;  // MergeOperator::Name(), "" = none
  bool operator==(const TableSchema&) const = default;
};

struct CheckpointHeader {
  uint32_t kind = kCheckpointFull;
  uint32_t partition = 0;
  uint64_t version = 0;
  uint64_t base_version = 0;
  uint64_t chain_id = 0;
  std::vector<TableSchema> tables;
};

struct CheckpointTrailer {
  std::vector<uint64_t> puts;    // per table
  std::vector<uint64_t> erases;  // per table
  uint64_t entries = 0;
  uint64_t body_end = 0;
  uint64_t data_blocks = 0;
};

// The header's bytes, CRC included.
std::string EncodeCheckpointHeader(const CheckpointHeader& h);
// Parses a whole header (`bytes` = H bytes as read). The caller has checked
// magic and format version; this checks everything else. kCorrupt messages
// start with `file`.
absl::StatusOr<CheckpointHeader> DecodeCheckpointHeader(std::string_view bytes,
                                                        const std::string& file);

size_t TrailerPayloadSize(size_t tables);
std::string EncodeTrailerPayload(const CheckpointTrailer& t);
absl::StatusOr<CheckpointTrailer> DecodeTrailerPayload(std::string_view payload, size_t tables,
                                                       const std::string& file);

// A final checkpoint file name, parsed.
struct CheckpointFileName {
  uint32_t kind = kCheckpointFull;
  uint64_t base_version = 0;
  uint64_t version = 0;
  uint64_t chain_id = 0;
  std::string name;  // the file name, without directory
};
std::string CheckpointFileNameFor(uint32_t kind, uint64_t base_version, uint64_t version,
                                  uint64_t chain_id);
std::optional<CheckpointFileName> ParseCheckpointFileName(std::string_view name);
std::string TemporaryFileName(uint64_t random);
bool IsTemporaryFileName(std::string_view name);

}  // namespace rcustate::durable

#endif  // RCUSTATE_DURABLE_CHECKPOINT_FORMAT_HPP_
