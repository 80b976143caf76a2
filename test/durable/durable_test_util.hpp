// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/durable_test_util.hpp
//
// Helpers of the durability-layer tests: a scratch directory removed at the
// end, whole-file reads and writes, and a model of a partition's tables
// (std::map per table) that writes itself as a full checkpoint and diffs
// itself into an incremental one, so that every test compares a restore
// against what was meant to be written.
#ifndef RCUSTATE_TEST_DURABLE_DURABLE_TEST_UTIL_HPP_
#define RCUSTATE_TEST_DURABLE_DURABLE_TEST_UTIL_HPP_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rcustate/status.hpp"
#include "src/durable/checkpoint_dir.hpp"
#include "src/durable/checkpoint_writer.hpp"

namespace rcustate::durable::testing {

inline ErrorCode CodeOf(const absl::Status& s) { return ErrorCodeOf(s); }
template <typename T>
ErrorCode CodeOf(const absl::StatusOr<T>& s) {
  return ErrorCodeOf(s.status());
}

class ScratchDir {
 public:
  ScratchDir() {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base ? base : "/tmp") + "/rcs-durable-XXXXXX";
    char* p = mkdtemp(tmpl.data());
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}
inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
// Names in `dir`, sorted.
inline std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

inline std::vector<TableSchema> Schema(size_t n) {
  static const char* kMerges[] = {"", "add_i64", "append", "max_i64", "add_f64"};
  std::vector<TableSchema> s;
  for (size_t i = 0; i < n; ++i) s.push_back({"t" + std::to_string(i), kMerges[i % 5]});
  return s;
}

using Tables = std::vector<std::map<std::string, std::string>>;

// Writes `tables` as a full checkpoint of `dir`.
inline absl::Status WriteFull(const std::string& dir, uint32_t partition, uint64_t version,
                              const std::vector<TableSchema>& schema, const Tables& tables) {
  CheckpointHeader h{kCheckpointFull, partition, version, 0, 0, schema};
  auto w = CheckpointWriter::Begin(dir, h);
  if (!w.ok()) return w.status();
  for (size_t t = 0; t < tables.size(); ++t) {
    if (tables[t].empty()) continue;
    if (auto st = (*w)->BeginTable(static_cast<uint32_t>(t), false); !st.ok()) return st;
    for (const auto& [k, v] : tables[t]) {
      if (auto st = (*w)->Put(k, v); !st.ok()) return st;
    }
  }
  uint64_t bytes = 0, entries = 0;
  return (*w)->Commit(&bytes, &entries);
}

// Writes the change from `before` to `after` as an increment of the newest
// chain in `dir` at `version`. `cleared[t]`: write table t as cleared and
// re-put all of `after[t]`.
inline absl::Status WriteIncrement(const std::string& dir, uint32_t partition, uint64_t version,
                                   const std::vector<TableSchema>& schema, const Tables& before,
                                   const Tables& after, const std::set<size_t>& cleared = {}) {
  auto newest = NewestCheckpoint(dir);
  if (!newest.ok()) return newest.status();
  if (!newest->has_value()) return MakeError(ErrorCode::kInternal, "no chain to extend");
  CheckpointHeader h{kCheckpointIncremental, partition, version, (*newest)->version,
                     (*newest)->chain_id, schema};
  auto w = CheckpointWriter::Begin(dir, h);
  if (!w.ok()) return w.status();
  for (size_t t = 0; t < after.size(); ++t) {
    bool clear = cleared.count(t) > 0;
    std::vector<std::pair<std::string, std::optional<std::string>>> ch;
    for (const auto& [k, v] : after[t]) {
      auto it = before[t].find(k);
      if (clear || it == before[t].end() || it->second != v) ch.push_back({k, v});
    }
    if (!clear) {
      for (const auto& [k, v] : before[t]) {
        if (!after[t].count(k)) ch.push_back({k, std::nullopt});
      }
    }
    if (ch.empty() && !clear) continue;
    if (auto st = (*w)->BeginTable(static_cast<uint32_t>(t), clear); !st.ok()) return st;
    for (const auto& [k, v] : ch) {
      auto st = v ? (*w)->Put(k, *v) : (*w)->Erase(k);
      if (!st.ok()) return st;
    }
  }
  return (*w)->Commit(nullptr, nullptr);
}

inline Tables ToModel(const std::vector<rcustate::detail::TableMap>& maps) {
  Tables out(maps.size());
  for (size_t t = 0; t < maps.size(); ++t) {
    for (const auto& [k, v] : maps[t]) out[t][k] = v;
  }
  return out;
}

}  // namespace rcustate::durable::testing

#endif  // RCUSTATE_TEST_DURABLE_DURABLE_TEST_UTIL_HPP_
