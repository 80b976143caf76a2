// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/checkpoint_roundtrip_test.cpp
//
// What is written is what is restored: full checkpoints of every shape of
// data (empty tables, empty values, values over a block, NUL bytes in keys,
// many tables), and chains of 1, 2 and 20 increments with puts, overwrites,
// erases and table clears, each restore compared with the model the files
// were written from.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "durable/durable_test_util.hpp"
#include "src/durable/checkpoint_reader.hpp"

namespace rcustate::durable {
namespace {

using testing::CodeOf;
using testing::ScratchDir;
using testing::Schema;
using testing::Tables;
using testing::ToModel;
using testing::WriteFull;
using testing::WriteIncrement;

void ExpectRestores(const std::string& dir, uint32_t partition, uint64_t version,
                    const std::vector<TableSchema>& schema, const Tables& want) {
  auto r = ReadNewestChain(dir, partition, schema);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->head.version, version);
  EXPECT_EQ(r->head.partition, partition);
  EXPECT_EQ(r->head.tables, schema);
  EXPECT_TRUE(ToModel(r->tables) == want);
  uint64_t n = 0;
  for (const auto& t : want) n += t.size();
  EXPECT_EQ(r->entries, n);
}

TEST(CheckpointRoundTrip, EmptyTables) {
  ScratchDir d;
  auto schema = Schema(3);
  Tables t(3);
  ASSERT_TRUE(WriteFull(d.path(), 7, 1, schema, t).ok());
  ExpectRestores(d.path(), 7, 1, schema, t);
}

TEST(CheckpointRoundTrip, NoTablesAtAll) {
  ScratchDir d;
  ASSERT_TRUE(WriteFull(d.path(), 0, 5, {}, {}).ok());
  ExpectRestores(d.path(), 0, 5, {}, {});
}

TEST(CheckpointRoundTrip, EmptyValuesNulKeysAndBigValues) {
  ScratchDir d;
  auto schema = Schema(3);
  Tables t(3);
  t[0][""] = "";
  t[0][std::string("a\0b", 3)] = std::string("\0\0", 2);
  t[0][std::string(1, '\0')] = "nul key";
  t[1]["big"] = std::string((size_t{1} << 20) + 123, 'v');  // > one block
  t[1]["bigger"] = std::string(size_t{3} << 20, 'w');
  t[1]["small"] = "after the big ones";
  t[2]["x"] = std::string(8, '\x7f');
  ASSERT_TRUE(WriteFull(d.path(), 2, 9, schema, t).ok());
  ExpectRestores(d.path(), 2, 9, schema, t);
}

TEST(CheckpointRoundTrip, ManyTablesManyBlocks) {
  ScratchDir d;
  auto schema = Schema(64);
  Tables t(64);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 60000; ++i) {
    t[rng() % 64]["k" + std::to_string(rng())] = std::string(rng() % 80, 'a' + i % 26);
  }
  ASSERT_TRUE(WriteFull(d.path(), 3, 100, schema, t).ok());
  auto s = ReadCheckpointSummary(d.path() + "/" + testing::Names(d.path()).at(0));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_GT(s->trailer.data_blocks, 1u);
  ExpectRestores(d.path(), 3, 100, schema, t);
}

TEST(CheckpointRoundTrip, CommitReportsBytesAndEntries) {
  ScratchDir d;
  CheckpointHeader h{kCheckpointFull, 1, 4, 0, 0, Schema(2)};
  auto w = CheckpointWriter::Begin(d.path() + "/sub/dir", h);  // parents created
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*w)->BeginTable(1, false).ok());
  ASSERT_TRUE((*w)->Put("a", "1").ok());
  ASSERT_TRUE((*w)->Put("b", "2").ok());
  uint64_t bytes = 0, entries = 0;
  ASSERT_TRUE((*w)->Commit(&bytes, &entries).ok());
  EXPECT_EQ(entries, 2u);
  EXPECT_EQ(bytes, std::filesystem::file_size((*w)->final_path()));
  EXPECT_NE((*w)->chain_id(), 0u);
}

TEST(CheckpointRoundTrip, WriterRejectsMisuse) {
  ScratchDir d;
  CheckpointHeader h{kCheckpointFull, 1, 4, 0, 0, Schema(3)};
  {
    auto w = CheckpointWriter::Begin(d.path(), h);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(CodeOf((*w)->Put("k", "v")), ErrorCode::kInvalidArgument);  // no table
  }
  {
    auto w = CheckpointWriter::Begin(d.path(), h);
    ASSERT_TRUE((*w)->BeginTable(1, false).ok());
    EXPECT_EQ(CodeOf((*w)->BeginTable(1, false)), ErrorCode::kInvalidArgument);  // order
  }
  {
    auto w = CheckpointWriter::Begin(d.path(), h);
    EXPECT_EQ(CodeOf((*w)->BeginTable(3, false)), ErrorCode::kInvalidArgument);  // range
  }
  {
    auto w = CheckpointWriter::Begin(d.path(), h);
    EXPECT_EQ(CodeOf((*w)->BeginTable(0, true)), ErrorCode::kInvalidArgument);  // clear in full
  }
  {
    auto w = CheckpointWriter::Begin(d.path(), h);
    ASSERT_TRUE((*w)->BeginTable(0, false).ok());
    EXPECT_EQ(CodeOf((*w)->Erase("k")), ErrorCode::kInvalidArgument);  // erase in full
    EXPECT_EQ(CodeOf((*w)->Commit(nullptr, nullptr)), ErrorCode::kInvalidArgument);  // failed
  }
  CheckpointHeader bad = h;
  bad.kind = kCheckpointIncremental;
  bad.base_version = 4;  // not below version
  bad.chain_id = 1;
  EXPECT_EQ(CodeOf(CheckpointWriter::Begin(d.path(), bad)), ErrorCode::kInvalidArgument);
  // Nothing committed: no file, no temporary left.
  EXPECT_TRUE(testing::Names(d.path()).empty());
}

// A chain of `n` increments: random puts, overwrites and erases, a clear now
// and then, restored after every step.
void RunChain(int n, uint64_t seed) {
  ScratchDir d;
  auto schema = Schema(4);
  std::mt19937_64 rng(seed);
  Tables model(4);
  for (int i = 0; i < 300; ++i) model[rng() % 4]["k" + std::to_string(rng() % 500)] = std::to_string(i);
  uint64_t version = 10;
  ASSERT_TRUE(WriteFull(d.path(), 1, version, schema, model).ok());
  for (int step = 0; step < n; ++step) {
    Tables next = model;
    std::set<size_t> cleared;
    if (step % 3 == 1) {
      size_t t = rng() % 4;
      cleared.insert(t);
      next[t].clear();
    }
    for (int i = 0; i < 40; ++i) {
      auto& m = next[rng() % 4];
      std::string k = "k" + std::to_string(rng() % 500);
      if (rng() % 3 == 0) {
        m.erase(k);
      } else {
        m[k] = "s" + std::to_string(step) + std::string(rng() % 3, '\0');
      }
    }
    version += 1 + rng() % 5;
    ASSERT_TRUE(WriteIncrement(d.path(), 1, version, schema, model, next, cleared).ok());
    model = next;
    ExpectRestores(d.path(), 1, version, schema, model);
    if (::testing::Test::HasFailure()) return;
  }
  auto r = ReadNewestChain(d.path(), 1, schema);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->files.size(), static_cast<size_t>(n) + 1);
  EXPECT_EQ(r->head.kind, kCheckpointFull);
}

TEST(CheckpointRoundTrip, ChainOfOne) { RunChain(1, 11); }
TEST(CheckpointRoundTrip, ChainOfTwo) { RunChain(2, 12); }
TEST(CheckpointRoundTrip, ChainOfTwenty) { RunChain(20, 13); }

TEST(CheckpointRoundTrip, NewestCheckpointIsTheChainsLastFile) {
  ScratchDir d;
  auto schema = Schema(1);
  auto none = NewestCheckpoint(d.path() + "/missing");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  Tables a(1), b(1);
  b[0]["x"] = "1";
  ASSERT_TRUE(WriteFull(d.path(), 0, 3, schema, a).ok());
  ASSERT_TRUE(WriteIncrement(d.path(), 0, 8, schema, a, b).ok());
  auto n = NewestCheckpoint(d.path());
  ASSERT_TRUE(n.ok() && n->has_value());
  EXPECT_EQ((*n)->kind, kCheckpointIncremental);
  EXPECT_EQ((*n)->version, 8u);
  EXPECT_EQ((*n)->base_version, 3u);
}

}  // namespace
}  // namespace rcustate::durable
