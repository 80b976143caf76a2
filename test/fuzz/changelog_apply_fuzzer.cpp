// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fuzz/changelog_apply_fuzzer.cpp
//
// Fuzzing of rcs_changelog_apply against a store with a fixed schema
// (changelog_apply_common.hpp: the input is a sequence of records, each
// applied to one of two partitions or to an absent one; the seeds are
// valid records of such a store, written by make_apply_seeds).
//
// Checked for every record: the call never crashes and returns RCS_OK,
// RCS_EINVAL, RCS_ECORRUPT, RCS_ESTATE, RCS_ENOPARTITION or RCS_ENOMEM; a
// failed call changes nothing (same version, same contents) and leaves an
// out parameter untouched; a successful one moves the version by 0 or 1 and
// reports it; a record just applied, applied again, changes nothing.
// Built two ways like c_api_fuzzer (test/fuzz/meson.build).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "changelog_apply_common.hpp"
#include "src/durable/byte_codec.hpp"
#include "src/durable/changelog_record.hpp"
#include "src/durable/crc32c.hpp"

namespace {

[[noreturn]] void Fail(const char* what, int rc) {
  std::fprintf(stderr, "FUZZ CHECK failed: %s (rc %d: %s)\n", what, rc, rcs_last_error());
  std::abort();
}

int Collect(const void* k, size_t kl, const void* v, size_t vl, void* ctx) {
  std::string* out = static_cast<std::string*>(ctx);
  out->append(std::to_string(kl)).append(":");
  out->append(static_cast<const char*>(k), kl);
  out->append(std::to_string(vl)).append(":");
  out->append(static_cast<const char*>(v), vl);
  return 0;
}

// Version and every entry (in map order: the same map gives the same order,
// and a change of contents changes the string).
std::string State(rcs_store* s, uint32_t p) {
  rcs_snapshot* snap = nullptr;
  if (rcs_snapshot_open(s, p, &snap) != RCS_OK) return "absent";
  std::string out = "v" + std::to_string(rcs_snapshot_version(snap));
  for (uint32_t t = 0; t < apply_fuzz::kNumTables; ++t) {
    out += "|t";
    if (rcs_snapshot_foreach(snap, t, Collect, &out) != RCS_OK) Fail("foreach", 0);
  }
  rcs_snapshot_close(snap);
  return out;
}

uint64_t VersionOf(rcs_store* s, uint32_t p) {
  uint64_t v = 0;
  return rcs_version(s, p, &v) == RCS_OK ? v : ~uint64_t{0};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rcs_store* s = apply_fuzz::OpenStore();
  if (s == nullptr) Fail("rcs_store_open", 0);
  if (rcs_partition_create(s, 1) != RCS_OK || rcs_partition_create(s, 2) != RCS_OK) {
    Fail("rcs_partition_create", 0);
  }
  size_t pos = 0;
  while (pos < size) {
    const uint8_t flags = data[pos++];
    uint32_t len = 0;
    for (int i = 0; i < 4 && pos < size; ++i) len |= uint32_t{data[pos++]} << (8 * i);
    if (len > size - pos) len = static_cast<uint32_t>(size - pos);
    std::string rec(reinterpret_cast<const char*>(data) + pos, len);
    pos += len;
    if ((flags & 1) && rec.size() >= rcustate::durable::kChangelogHeaderSize) {
      using namespace rcustate::durable;  // NOLINT
      StoreU64(rec.data() + 8, rec.size());
      StoreU32(rec.data() + 16,
               Crc32cExtend(Crc32c(rec.data(), 16), rec.data() + 20, rec.size() - 20));
    }
    const uint32_t p = apply_fuzz::PartitionOf(flags);
    const std::string before = State(s, p);
    const uint64_t v0 = VersionOf(s, p);
    uint64_t out = 0xfeedfacecafebeefull;
    const int rc = rcs_changelog_apply(s, p, rec.data(), rec.size(), &out);
    const std::string message = rc == RCS_OK ? std::string() : std::string(rcs_last_error());
    switch (rc) {
      case RCS_OK: {
        const uint64_t v1 = VersionOf(s, p);
        if (out != v1) Fail("reported version is not the partition's", rc);
        if (v1 != v0 && v1 != v0 + 1) Fail("version moved by more than one", rc);
        if (v1 == v0 && State(s, p) != before) Fail("a skipped record changed the partition", rc);
        if (v1 == v0 + 1) {
          // Applied: again, it is skipped and changes nothing.
          const std::string after = State(s, p);
          uint64_t again = 0;
          if (rcs_changelog_apply(s, p, rec.data(), rec.size(), &again) != RCS_OK || again != v1 ||
              State(s, p) != after) {
            Fail("a record applied twice changed the partition", rc);
          }
        }
        break;
      }
      case RCS_EINVAL:
      case RCS_ECORRUPT:
      case RCS_ESTATE:
      case RCS_ENOPARTITION:
      case RCS_ENOMEM:
        if (out != 0xfeedfacecafebeefull) Fail("out parameter written on failure", rc);
        if (State(s, p) != before) Fail("a failed apply changed the partition", rc);
        if (message.compare(0, 19, "rcs_changelog_apply") != 0) {
          Fail("message without the function's name", rc);
        }
        break;
      default:
        Fail("unexpected status", rc);
    }
  }
  if (rcs_store_close(s) != RCS_OK) Fail("rcs_store_close", 0);
  return 0;
}
