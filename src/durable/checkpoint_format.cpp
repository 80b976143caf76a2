// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/checkpoint_format.cpp
#include "rcustate/abi.hpp"
#include "src/durable/checkpoint_format.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "rcustate/status.hpp"
#include "src/durable/byte_codec.hpp"
#include "src/durable/crc32c.hpp"

namespace RCUSTATE_NAMESPACE::durable {
namespace {

absl::Status Corrupt(const std::string& file, const std::string& what) {
  return MakeError(ErrorCode::kCorrupt, file + ": " + what);
}

constexpr std::string_view kFinalSuffix = ".rcsckpt";
constexpr std::string_view kTempPrefix = "tmp-";
constexpr std::string_view kTempSuffix = ".rcsckpt-tmp";

// Exactly `digits` characters, all decimal (hex: lower-case hex) digits.
bool ParseFixed(std::string_view s, size_t digits, bool hex, uint64_t* out) {
  if (s.size() != digits) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (hex && c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    uint64_t base = hex ? 16 : 10;
    if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / base) return false;
    v = v * base + static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

}  // namespace

std::string EncodeCheckpointHeader(const CheckpointHeader& h) {
  std::string out;
  out.append(kCheckpointMagic, sizeof kCheckpointMagic);
  PutU32(&out, kCheckpointFormatVersion);
  PutU32(&out, 0);  // H, patched below
  PutU32(&out, h.kind);
  PutU32(&out, h.partition);
  PutU64(&out, h.version);
  PutU64(&out, h.base_version);
  PutU64(&out, h.chain_id);
  PutU32(&out, static_cast<uint32_t>(h.tables.size()));
  for (const TableSchema& t : h.tables) {
    PutU32(&out, static_cast<uint32_t>(t.name.size()));
    out += t.name;
    PutU32(&out, static_cast<uint32_t>(t.merge.size()));
    out += t.merge;
  }
  StoreU32(out.data() + 12, static_cast<uint32_t>(out.size() + 4));
  PutU32(&out, Crc32c(out));
  return out;
}

absl::StatusOr<CheckpointHeader> DecodeCheckpointHeader(std::string_view bytes,
                                                        const std::string& file) {
  if (bytes.size() < kHeaderMinSize) return Corrupt(file, "header too short");
  std::string_view covered = bytes.substr(0, bytes.size() - 4);
  if (Crc32c(covered) != LoadU32(bytes.data() + bytes.size() - 4)) {
    return Corrupt(file, "header checksum mismatch");
  }
  ByteReader r(covered.substr(16));
  CheckpointHeader h;
  uint32_t n = 0;
  if (!r.GetU32(&h.kind) || !r.GetU32(&h.partition) || !r.GetU64(&h.version) ||
      !r.GetU64(&h.base_version) || !r.GetU64(&h.chain_id) || !r.GetU32(&n)) {
    return Corrupt(file, "header too short");
  }
  if (h.kind != kCheckpointFull && h.kind != kCheckpointIncremental) {
    return Corrupt(file, "unknown checkpoint kind " + std::to_string(h.kind));
  }
  if (h.kind == kCheckpointFull && h.base_version != 0) {
    return Corrupt(file, "full checkpoint with base version " + std::to_string(h.base_version));
  }
  if (h.kind == kCheckpointIncremental && h.base_version >= h.version) {
    return Corrupt(file, "incremental checkpoint with base version " +
                             std::to_string(h.base_version) + " not below its version " +
                             std::to_string(h.version));
  }
  if (h.chain_id == 0) return Corrupt(file, "chain id 0");
  // Each table takes at least 8 bytes: bound N before reserving.
  if (n > r.remaining() / 8) return Corrupt(file, "table count " + std::to_string(n) + " too large");
  h.tables.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t len;
    std::string_view name, merge;
    if (!r.GetU32(&len) || !r.GetBytes(len, &name) || !r.GetU32(&len) ||
        !r.GetBytes(len, &merge)) {
      return Corrupt(file, "header table " + std::to_string(i) + " runs past the header");
    }
    h.tables.push_back(TableSchema{std::string(name), std::string(merge)});
  }
  if (!r.done()) return Corrupt(file, "header has " + std::to_string(r.remaining()) + " extra bytes");
  return h;
}

size_t TrailerPayloadSize(size_t tables) { return 16 * tables + 24; }

std::string EncodeTrailerPayload(const CheckpointTrailer& t) {
  std::string out;
  out.reserve(TrailerPayloadSize(t.puts.size()));
  for (size_t i = 0; i < t.puts.size(); ++i) {
    PutU64(&out, t.puts[i]);
    PutU64(&out, t.erases[i]);
  }
  PutU64(&out, t.entries);
  PutU64(&out, t.body_end);
  PutU64(&out, t.data_blocks);
  return out;
}

absl::StatusOr<CheckpointTrailer> DecodeTrailerPayload(std::string_view payload, size_t tables,
                                                       const std::string& file) {
  if (payload.size() != TrailerPayloadSize(tables)) {
    return Corrupt(file, "trailer of " + std::to_string(payload.size()) + " bytes, expected " +
                             std::to_string(TrailerPayloadSize(tables)));
  }
  ByteReader r(payload);
  CheckpointTrailer t;
  t.puts.resize(tables);
  t.erases.resize(tables);
  uint64_t sum = 0;
  for (size_t i = 0; i < tables; ++i) {
    r.GetU64(&t.puts[i]);
    r.GetU64(&t.erases[i]);
    // Overflow-safe: each count is bounded by the file size later; a sum
    // that wraps is itself corrupt.
    if (t.puts[i] > UINT64_MAX - sum) return Corrupt(file, "trailer counts overflow");
    sum += t.puts[i];
    if (t.erases[i] > UINT64_MAX - sum) return Corrupt(file, "trailer counts overflow");
    sum += t.erases[i];
  }
  r.GetU64(&t.entries);
  r.GetU64(&t.body_end);
  r.GetU64(&t.data_blocks);
  if (sum != t.entries) {
    return Corrupt(file, "trailer total " + std::to_string(t.entries) +
                             " differs from the sum of its table counts " + std::to_string(sum));
  }
  return t;
}

std::string CheckpointFileNameFor(uint32_t kind, uint64_t base_version, uint64_t version,
                                  uint64_t chain_id) {
  char buf[96];
  if (kind == kCheckpointFull) {
    std::snprintf(buf, sizeof buf, "full-%020" PRIu64 "-%016" PRIx64 ".rcsckpt", version, chain_id);
  } else {
    std::snprintf(buf, sizeof buf, "incr-%020" PRIu64 "-%020" PRIu64 "-%016" PRIx64 ".rcsckpt",
                  base_version, version, chain_id);
  }
  return buf;
}

std::optional<CheckpointFileName> ParseCheckpointFileName(std::string_view name) {
  if (name.size() <= kFinalSuffix.size() ||
      name.substr(name.size() - kFinalSuffix.size()) != kFinalSuffix) {
    return std::nullopt;
  }
  std::string_view stem = name.substr(0, name.size() - kFinalSuffix.size());
  CheckpointFileName f;
  f.name = std::string(name);
  // full-V20-C16 / incr-B20-V20-C16
  if (stem.size() == 5 + 20 + 1 + 16 && stem.substr(0, 5) == "full-" && stem[25] == '-') {
    f.kind = kCheckpointFull;
    if (!ParseFixed(stem.substr(5, 20), 20, false, &f.version) ||
        !ParseFixed(stem.substr(26, 16), 16, true, &f.chain_id)) {
      return std::nullopt;
    }
  } else if (stem.size() == 5 + 20 + 1 + 20 + 1 + 16 && stem.substr(0, 5) == "incr-" &&
             stem[25] == '-' && stem[46] == '-') {
    f.kind = kCheckpointIncremental;
    if (!ParseFixed(stem.substr(5, 20), 20, false, &f.base_version) ||
        !ParseFixed(stem.substr(26, 20), 20, false, &f.version) ||
        !ParseFixed(stem.substr(47, 16), 16, true, &f.chain_id) || f.base_version >= f.version) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  if (f.chain_id == 0) return std::nullopt;
  return f;
}

std::string TemporaryFileName(uint64_t random) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "tmp-%016" PRIx64 ".rcsckpt-tmp", random);
  return buf;
}

bool IsTemporaryFileName(std::string_view name) {
  return name.size() > kTempPrefix.size() + kTempSuffix.size() &&
         name.substr(0, kTempPrefix.size()) == kTempPrefix &&
         name.substr(name.size() - kTempSuffix.size()) == kTempSuffix;
}

}  // namespace rcustate::durable
