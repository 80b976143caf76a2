// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/checkpoint_dir.cpp
#include "rcustate/abi.hpp"
#include "src/durable/checkpoint_dir.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include "rcustate/status.hpp"
#include "src/durable/checkpoint_reader.hpp"
#include "src/durable/file_io.hpp"
#include "src/durable/table_builder.hpp"

namespace RCUSTATE_NAMESPACE::durable {
namespace {

absl::Status Corrupt(const std::string& file, const std::string& what) {
  return MakeError(ErrorCode::kCorrupt, file + ": " + what);
}

// The chain starting at `full`, following increments greedily (the one
// reaching furthest when several start at the same version).
std::vector<CheckpointFileName> ChainFrom(const CheckpointFileName& full,
                                          const std::vector<CheckpointFileName>& files) {
  std::vector<CheckpointFileName> chain{full};
  for (;;) {
    const CheckpointFileName* next = nullptr;
    for (const CheckpointFileName& f : files) {
      if (f.kind == kCheckpointIncremental && f.chain_id == full.chain_id &&
          f.base_version == chain.back().version && (next == nullptr || f.version > next->version)) {
        next = &f;
      }
    }
    if (next == nullptr) return chain;
    chain.push_back(*next);  // versions strictly increase: this terminates
  }
}

// What makes a chain newer: its full's version, then how far it reaches
// (then, for a deterministic choice between equals, the chain id).
std::pair<uint64_t, uint64_t> ChainRank(const std::vector<CheckpointFileName>& c) {
  return {c.front().version, c.back().version};
}

std::string Describe(const TableSchema& t) {
  return "'" + t.name + "' (merge " + (t.merge.empty() ? std::string("none") : "'" + t.merge + "'") +
         ")";
}

absl::Status CheckSchema(const std::string& path, const CheckpointHeader& h,
                         const std::vector<TableSchema>& expect) {
  for (size_t i = 0; i < std::min(h.tables.size(), expect.size()); ++i) {
    if (!(h.tables[i] == expect[i])) {
      return MakeError(ErrorCode::kInvalidArgument,
                       path + ": table " + std::to_string(i) + " is " + Describe(h.tables[i]) +
                           ", the store's is " + Describe(expect[i]));
    }
  }
  if (h.tables.size() != expect.size()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     path + ": " + std::to_string(h.tables.size()) + " tables, the store has " +
                         std::to_string(expect.size()));
  }
  return absl::OkStatus();
}

// The header must say what the name says.
absl::Status CheckMatchesName(const std::string& path, const CheckpointFileName& n,
                              const CheckpointHeader& h) {
  if (h.kind != n.kind || h.version != n.version || h.base_version != n.base_version ||
      h.chain_id != n.chain_id) {
    return Corrupt(path, "header (kind " + std::to_string(h.kind) + ", version " +
                             std::to_string(h.version) + ", base " + std::to_string(h.base_version) +
                             ") does not match the file name");
  }
  return absl::OkStatus();
}

// Applies a chain's files, in order, to its tables. Each file's puts are
// checked against its trailer as they come, so a file holding more than it
// claims fails at the first extra put rather than after it was applied.
class ChainBuilder : public CheckpointVisitor {
 public:
  explicit ChainBuilder(std::vector<TableBuilder>* tables) : tables_(tables) {}
  void StartFile(const std::string* path) { path_ = path; }
  absl::Status OnStart(const CheckpointHeader& h, const CheckpointTrailer& t) override {
    full_ = h.kind == kCheckpointFull;
    puts_left_ = t.puts;
    return absl::OkStatus();
  }
  absl::Status OnTable(uint32_t table, bool cleared) override {
    table_ = table;
    if (cleared) (*tables_)[table].Clear();
    return absl::OkStatus();
  }
  absl::Status OnPut(std::string_view key, std::string_view value) override {
    if (puts_left_[table_] == 0) {
      return Corrupt(*path_, "table " + std::to_string(table_) + " has more puts than the trailer says");
    }
    --puts_left_[table_];
    TableBuilder& t = (*tables_)[table_];
    if (!full_) {
      t.Upsert(key, value);
    } else if (!t.Insert(key, value)) {
      return Corrupt(*path_, "duplicate key in a full checkpoint");
    }
    return absl::OkStatus();
  }
  absl::Status OnErase(std::string_view key) override {
    (*tables_)[table_].Erase(key);
    return absl::OkStatus();
  }

 private:
  std::vector<TableBuilder>* tables_;
  const std::string* path_ = nullptr;
  std::vector<uint64_t> puts_left_;
  uint32_t table_ = 0;
  bool full_ = true;
};

}  // namespace

absl::StatusOr<CheckpointDirListing> ListCheckpointDir(const std::string& dir) {
  bool missing = false;
  absl::StatusOr<std::vector<std::string>> names = ListDir(dir, &missing);
  if (!names.ok()) return names.status();
  CheckpointDirListing out;
  for (std::string& n : *names) {
    if (std::optional<CheckpointFileName> f = ParseCheckpointFileName(n)) {
      out.files.push_back(std::move(*f));
    } else if (IsTemporaryFileName(n)) {
      out.temporaries.push_back(std::move(n));
    } else {
      out.others.push_back(std::move(n));
    }
  }
  auto key = [](const CheckpointFileName& f) {
    return std::make_tuple(f.chain_id, f.kind, f.version, f.base_version);
  };
  std::sort(out.files.begin(), out.files.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  std::sort(out.temporaries.begin(), out.temporaries.end());
  std::sort(out.others.begin(), out.others.end());
  std::vector<bool> used(out.files.size(), false);
  for (const CheckpointFileName& f : out.files) {
    if (f.kind != kCheckpointFull) continue;
    out.chains.push_back(ChainFrom(f, out.files));
  }
  // A total order (ties broken by chain id), so the choice never depends on
  // directory order; std::sort, since stable_sort's buffer is a nothrow
  // allocation whose failure it hides.
  std::sort(out.chains.begin(), out.chains.end(), [](const auto& a, const auto& b) {
    return std::make_pair(ChainRank(a), a.front().chain_id) <
           std::make_pair(ChainRank(b), b.front().chain_id);
  });
  for (size_t i = 0; i < out.files.size(); ++i) {
    for (const auto& c : out.chains) {
      for (const CheckpointFileName& f : c) used[i] = used[i] || f.name == out.files[i].name;
    }
    if (!used[i]) out.orphans.push_back(out.files[i]);
  }
  return out;
}

absl::StatusOr<std::optional<CheckpointHeader>> NewestCheckpoint(const std::string& dir) {
  try {
    absl::StatusOr<CheckpointDirListing> l = ListCheckpointDir(dir);
    if (!l.ok()) return l.status();
    if (l->chains.empty()) return std::optional<CheckpointHeader>();
    const CheckpointFileName& last = l->chains.back().back();
    std::string path = dir + "/" + last.name;
    absl::StatusOr<CheckpointFileSummary> s = ReadCheckpointSummary(path);
    if (!s.ok()) return s.status();
    if (absl::Status st = CheckMatchesName(path, last, s->header); !st.ok()) return st;
    return std::optional<CheckpointHeader>(std::move(s->header));
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory, "out of memory listing " + dir);
  }
}

absl::StatusOr<RestoredChain> ReadNewestChain(const std::string& dir, uint32_t partition,
                                              const std::vector<TableSchema>& expect) {
  try {
    absl::StatusOr<CheckpointDirListing> l = ListCheckpointDir(dir);
    if (!l.ok()) return l.status();
    if (l->chains.empty()) return MakeError(ErrorCode::kIo, "no checkpoint in " + dir);
    const std::vector<CheckpointFileName>& chain = l->chains.back();

    // First every file's header and trailer: the schema, the partition, and
    // the full's counts that size the tables, before reading any data.
    RestoredChain out;
    std::vector<uint64_t> reserve(expect.size(), 0);
    for (const CheckpointFileName& f : chain) {
      std::string path = dir + "/" + f.name;
      absl::StatusOr<CheckpointFileSummary> s = ReadCheckpointSummary(path);
      if (!s.ok()) return s.status();
      if (absl::Status st = CheckMatchesName(path, f, s->header); !st.ok()) return st;
      if (s->header.partition != partition) {
        return Corrupt(path, "partition " + std::to_string(s->header.partition) + ", expected " +
                                 std::to_string(partition));
      }
      if (absl::Status st = CheckSchema(path, s->header, expect); !st.ok()) return st;
      if (out.files.empty()) reserve = s->trailer.puts;  // the full's: its exact sizes
      if (out.files.empty()) out.head = std::move(s->header);
      out.files.push_back(std::move(path));
    }
    out.head.version = chain.back().version;
    // Every allocation of the tables happens here or in a TableBuilder, which
    // keeps its map whole when one fails (table_builder.hpp).
    out.tables.resize(expect.size());
    std::vector<TableBuilder> builders;
    builders.reserve(expect.size());
    for (size_t t = 0; t < expect.size(); ++t) builders.emplace_back(reserve[t]);

    ChainBuilder builder(&builders);
    for (const std::string& path : out.files) {
      builder.StartFile(&path);
      absl::StatusOr<CheckpointFileSummary> s = ReadCheckpointFile(path, &builder);
      if (!s.ok()) return s.status();
      out.bytes += s->file_bytes;
    }
    for (size_t t = 0; t < expect.size(); ++t) out.tables[t] = builders[t].Take();
    for (const auto& m : out.tables) out.entries += m.size();
    return out;
  } catch (const std::bad_alloc&) {
    return MakeError(ErrorCode::kNoMemory, "out of memory restoring from " + dir);
  }
}

}  // namespace rcustate::durable
