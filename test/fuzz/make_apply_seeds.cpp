// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fuzz/make_apply_seeds.cpp
//
// Writes the seed corpus of changelog_apply_fuzzer: changelog records of a
// store with the fuzzer's schema (every kind of table, puts, erases, merges,
// clears, an empty commit, NUL bytes in keys), chained in the fuzzer's input
// format: in order, with duplicates, one too early, to the other partition.
// Not a test; run it by hand to regenerate test/fuzz/corpus_changelog_apply/:
//   make_apply_seeds SRCDIR/test/fuzz/corpus_changelog_apply
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "changelog_apply_common.hpp"

namespace {

std::vector<std::string> records;

int OnRecord(void*, uint32_t, uint64_t, const void* rec, size_t len) {
  records.emplace_back(static_cast<const char*>(rec), len);
  return 0;
}

// One chunk of the input format (changelog_apply_common.hpp).
std::string Chunk(uint8_t flags, const std::string& rec) {
  std::string out(1, static_cast<char>(flags));
  const uint32_t n = static_cast<uint32_t>(rec.size());
  for (int i = 0; i < 4; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  return out + rec;
}

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "make_apply_seeds: %s: %s\n", what, rcs_last_error());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  rcs_store* s = apply_fuzz::OpenStore();
  Require(s != nullptr, "open");
  Require(rcs_changelog_set(s, OnRecord, nullptr) == RCS_OK, "changelog_set");
  Require(rcs_partition_create(s, 1) == RCS_OK, "create");
  const int64_t one = 1, minus = -7;
  const double half = 0.5;
  const char nul_key[] = {'k', '\0', 'x'};
  // 1: puts into every table.
  Require(rcs_put(s, 1, 0, "a", 1, "alpha", 5) == RCS_OK, "put");
  Require(rcs_put(s, 1, 0, nul_key, sizeof nul_key, "", 0) == RCS_OK, "put");
  Require(rcs_merge(s, 1, 1, "n", 1, &one, 8) == RCS_OK, "merge");
  Require(rcs_merge(s, 1, 2, "f", 1, &half, 8) == RCS_OK, "merge");
  Require(rcs_merge(s, 1, 3, "l", 1, "ab", 2) == RCS_OK, "merge");
  Require(rcs_commit(s, 1, nullptr) == RCS_OK, "commit");
  // 2: merges onto existing values, an erase.
  Require(rcs_merge(s, 1, 1, "n", 1, &minus, 8) == RCS_OK, "merge");
  Require(rcs_merge(s, 1, 3, "l", 1, "\0c", 2) == RCS_OK, "merge");
  Require(rcs_delete(s, 1, 0, "a", 1) == RCS_OK, "delete");
  Require(rcs_commit(s, 1, nullptr) == RCS_OK, "commit");
  // 3: empty.
  Require(rcs_commit(s, 1, nullptr) == RCS_OK, "commit");
  // 4: a clear, then a put into the cleared table.
  Require(rcs_clear(s, 1, 0) == RCS_OK, "clear");
  Require(rcs_put(s, 1, 0, "b", 1, std::string(300, 'b').data(), 300) == RCS_OK, "put");
  Require(rcs_commit(s, 1, nullptr) == RCS_OK, "commit");
  Require(rcs_store_close(s) == RCS_OK, "close");
  Require(records.size() == 4, "four records");

  const std::string dir = argv[1];
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream f(dir + "/" + name, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    Require(static_cast<bool>(f), "write a seed");
  };
  std::string all, all_fixed, dup, early, other;
  for (const std::string& r : records) {
    all += Chunk(0, r);
    all_fixed += Chunk(1, r);
    dup += Chunk(0, r) + Chunk(0, r);
  }
  early = Chunk(0, records[1]) + Chunk(0, records[0]) + Chunk(0, records[1]);
  other = Chunk(2, records[0]) + Chunk(4, records[0]) + Chunk(0, records[0]);
  write("in_order", all);
  write("in_order_crc_fixed", all_fixed);
  write("duplicates", dup);
  write("one_too_early", early);
  write("other_partitions", other);
  for (size_t i = 0; i < records.size(); ++i) write("record_" + std::to_string(i + 1), Chunk(1, records[i]));
  std::printf("%zu records, seeds written to %s\n", records.size(), dir.c_str());
  return 0;
}
