// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/reader_test.cpp
//
// rcustate::TableReader and Store::Reader: errors, agreement with Store::Get
// on committed data, new versions seen through a handle made before them,
// copies and moves, and the lifetime rules: after DropPartition and Close a
// reader keeps reading the partition's last snapshot, which is freed (with
// the partition) when the last reader goes -- checked with the Live()
// counters here and for use-after-free by the ASan build.
//
// Writes that must not leave a thread-local entry behind (it would hold the
// partition and hide what the Live() counters check) are made on a thread
// that exits.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "rcustate/rcustate.hpp"
#include "src/core/map_set.hpp"
#include "src/core/partition.hpp"
#include "src/rcu/rcu.hpp"
#include "unit/unit_util.hpp"

namespace rcustate {
namespace {

using testing::CodeOf;
using testing::ExpectVisible;
using testing::IsGroupCommit;
using testing::kLog;
using testing::kNumTables;
using testing::kPlain;
using testing::kSum;

std::string I(int64_t v) { return EncodeInt64(v); }

template <typename Fn>
void OnOtherThread(Fn&& fn) {
  std::thread t(std::forward<Fn>(fn));
  t.join();
}

// Waits until every call_rcu callback queued so far has run (a drop's
// ReleaseSets among them).
void WaitForCallbacks() {
  rcu::EnsureRegistered();
  urcu_memb_barrier();
  urcu_memb_barrier();
}

// Commits `value` under `key` in `p` from a thread that exits, and flushes.
void CommitOnOtherThread(Store& store, uint32_t p, TableId t, const std::string& key,
                         const std::string& value) {
  OnOtherThread([&] {
    ASSERT_TRUE(store.Put(p, t, key, value).ok());
    ASSERT_TRUE(store.Commit(p).ok());
    ASSERT_TRUE(store.Flush(p).ok());
  });
}

std::optional<std::string> Read(const TableReader& r, std::string_view key) {
  ReadSection rs;
  std::optional<std::string_view> v = r.Find(key);
  if (!v) return std::nullopt;
  return std::string(*v);
}

class ReaderTest : public ::testing::TestWithParam<testing::Policy> {
 protected:
  void SetUp() override {
    store_ = testing::OpenOrDie(testing::AllKindsOfTables(), GetParam().max_publish_delay);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->CreatePartition(1).ok());
  }
  Store& s() { return *store_; }
  std::unique_ptr<Store> store_;
};

TEST_P(ReaderTest, Errors) {
  for (TableId t : {kNumTables, TableId{1000}, ~TableId{0}}) {
    EXPECT_EQ(CodeOf(s().Reader(1, t)), ErrorCode::kNoTable) << t;
  }
  EXPECT_EQ(CodeOf(s().Reader(2, kPlain)), ErrorCode::kNoPartition);
  {
    ReadSection rs;  // the same inside a section
    EXPECT_EQ(CodeOf(s().Reader(2, kPlain)), ErrorCode::kNoPartition);
    EXPECT_EQ(CodeOf(s().Reader(1, kNumTables)), ErrorCode::kNoTable);
    EXPECT_TRUE(s().Reader(1, kLog).ok());
  }
  ASSERT_TRUE(s().CreatePartition(2).ok());
  EXPECT_TRUE(s().Reader(2, kPlain).ok());
  ASSERT_TRUE(s().DropPartition(2).ok());
  EXPECT_EQ(CodeOf(s().Reader(2, kPlain)), ErrorCode::kNoPartition);
  ASSERT_TRUE(s().Close().ok());
  EXPECT_EQ(CodeOf(s().Reader(1, kPlain)), ErrorCode::kState);
  EXPECT_FALSE(s().Reader(1, kNumTables).ok());
}

TEST_P(ReaderTest, AgreesWithGetOnCommittedData) {
  std::vector<TableReader> readers;
  for (TableId t = 0; t < kNumTables; ++t) readers.push_back(s().Reader(1, t).value());
  OnOtherThread([&] {
    for (int c = 0; c < 3; ++c) {  // several commits: the standby replays them
      for (int i = 0; i < 300; ++i) {
        const std::string k = "k" + std::to_string(i);
        ASSERT_TRUE(s().Put(1, kPlain, k, "v" + std::to_string(i * 7 + c)).ok());
        ASSERT_TRUE(s().Merge(1, kSum, k, I(i)).ok());
        ASSERT_TRUE(s().Merge(1, testing::kMin, k, I(i - c)).ok());
        ASSERT_TRUE(s().Merge(1, testing::kMax, k, I(i + c)).ok());
        ASSERT_TRUE(s().Merge(1, testing::kFsum, k, EncodeDouble(0.5 * i)).ok());
        ASSERT_TRUE(s().Merge(1, kLog, k, "x").ok());
        if (i % 10 == c) {
          ASSERT_TRUE(s().Erase(1, kPlain, k).ok());
        }
      }
      ASSERT_TRUE(s().Commit(1).ok());
    }
    ASSERT_TRUE(s().Flush(1).ok());
  });
  ExpectVisible(s(), GetParam(), 1, 3);
  ReadSection rs;
  for (TableId t = 0; t < kNumTables; ++t) {
    const TableReader& r = readers[t];
    EXPECT_EQ(r.table(), t);
    EXPECT_EQ(r.version(), 3u);
    size_t found = 0;
    for (int i = 0; i < 320; ++i) {  // 300..319 are absent
      const std::string k = "k" + std::to_string(i);
      auto want = s().Get(1, t, k);
      ASSERT_TRUE(want.ok());
      EXPECT_EQ(r.Find(k), *want) << "table " << t << " key " << k;
      EXPECT_EQ(r.Contains(k), want->has_value());
      EXPECT_EQ(r.Table().Find(k), *want);
      EXPECT_EQ(r.Table(r.Snapshot()).Find(k), *want);
      found += want->has_value();
    }
    EXPECT_GT(found, 0u);
    EXPECT_EQ(r.Table().size(), s().Stats(1)->entries[t]);
    EXPECT_EQ(r.Snapshot().version(), 3u);
    EXPECT_EQ(r.Snapshot().num_tables(), size_t{kNumTables});
  }
}

TEST_P(ReaderTest, SeesEveryNewVersionThroughTheSameHandle) {
  TableReader r = s().Reader(1, kSum).value();
  TableReader plain = s().Reader(1, kPlain).value();
  {
    ReadSection rs;
    EXPECT_EQ(r.version(), 0u);
    EXPECT_EQ(r.Find("n"), std::nullopt);
    EXPECT_EQ(r.Table().size(), 0u);
  }
  for (int64_t c = 1; c <= 40; ++c) {
    ASSERT_TRUE(s().Merge(1, kSum, "n", I(1)).ok());
    ASSERT_TRUE(s().Put(1, kPlain, "c" + std::to_string(c), "x").ok());
    if (c > 1) {
      ASSERT_TRUE(s().Erase(1, kPlain, "c" + std::to_string(c - 1)).ok());
    }
    ASSERT_TRUE(s().Commit(1).ok());
    ExpectVisible(s(), GetParam(), 1, static_cast<uint64_t>(c));
    ReadSection rs;
    EXPECT_EQ(r.version(), static_cast<uint64_t>(c));
    ASSERT_TRUE(r.Find("n").has_value());
    EXPECT_EQ(DecodeInt64(*r.Find("n")), c);
    EXPECT_TRUE(plain.Contains("c" + std::to_string(c)));
    EXPECT_FALSE(plain.Contains("c" + std::to_string(c - 1)));
    EXPECT_EQ(plain.Table().size(), 1u);
  }
}

TEST_P(ReaderTest, DoesNotShowTheThreadsUncommittedWrites) {
  TableReader r = s().Reader(1, kPlain).value();
  ASSERT_TRUE(s().Put(1, kPlain, "k", "committed").ok());
  ASSERT_TRUE(s().Commit(1).ok());
  ExpectVisible(s(), GetParam(), 1, 1);
  ASSERT_TRUE(s().Put(1, kPlain, "k", "mine").ok());
  ASSERT_TRUE(s().Put(1, kPlain, "new", "mine").ok());
  ReadSection rs;
  EXPECT_EQ(s().Get(1, kPlain, "k").value(), "mine");
  EXPECT_EQ(r.Find("k"), "committed");
  EXPECT_EQ(r.Find("new"), std::nullopt);
  EXPECT_EQ(s().Get(1, kPlain, "new").value(), "mine");
}

TEST_P(ReaderTest, CopiesAndMoves) {
  CommitOnOtherThread(s(), 1, kPlain, "k", "v");
  const int64_t parts_before = detail::Partition::Live();
  TableReader a = s().Reader(1, kPlain).value();
  TableReader b = a;  // copy
  EXPECT_EQ(Read(b, "k"), "v");
  TableReader c = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_FALSE(c.empty());
  EXPECT_EQ(Read(c, "k"), "v");
  TableReader d;
  EXPECT_TRUE(d.empty());
  EXPECT_FALSE(d.dropped());
  d = b;  // copy-assign into an empty one
  b = std::move(c);
  const TableReader& bref = b;
  b = bref;  // self-assignment keeps it
  EXPECT_EQ(Read(b, "k"), "v");
  EXPECT_EQ(Read(d, "k"), "v");
  d = s().Reader(1, kSum).value();  // replaces a held reader
  EXPECT_EQ(d.table(), kSum);
  {
    std::vector<TableReader> many(8, b);
    for (const TableReader& r : many) EXPECT_EQ(Read(r, "k"), "v");
  }
  // A reader can be used on another thread than the one that made it.
  OnOtherThread([&] { EXPECT_EQ(Read(b, "k"), "v"); });
  EXPECT_EQ(detail::Partition::Live(), parts_before);  // the directory still holds it
}

TEST_P(ReaderTest, AfterDropReadsTheLastSnapshotAndTheLastReaderFreesIt) {
  for (int i = 0; i < 3; ++i) CommitOnOtherThread(s(), 1, kPlain, "k" + std::to_string(i), "v");
  CommitOnOtherThread(s(), 1, kPlain, "k", "last");
  WaitForCallbacks();
  const int64_t sets_before = detail::MapSet::Live();
  const int64_t parts_before = detail::Partition::Live();
  TableReader r = s().Reader(1, kPlain).value();
  TableReader copy = r;
  const uint64_t version = s().Version(1).value();
  EXPECT_FALSE(r.dropped());

  ASSERT_TRUE(s().DropPartition(1).ok());
  EXPECT_TRUE(r.dropped());
  WaitForCallbacks();
  // The standby is freed, the last published set is the readers'.
  EXPECT_EQ(detail::MapSet::Live(), sets_before - 1);
  EXPECT_EQ(detail::Partition::Live(), parts_before);
  {
    ReadSection rs;
    EXPECT_EQ(r.version(), version);
    EXPECT_EQ(r.Find("k"), "last");
    EXPECT_EQ(r.Table().size(), 4u);
    EXPECT_EQ(copy.Find("k1"), "v");
  }
  // A partition created under the same id is another partition.
  ASSERT_TRUE(s().CreatePartition(1).ok());
  CommitOnOtherThread(s(), 1, kPlain, "k", "new");
  EXPECT_EQ(Read(r, "k"), "last");
  EXPECT_EQ(Read(s().Reader(1, kPlain).value(), "k"), "new");
  ASSERT_TRUE(s().DropPartition(1).ok());
  WaitForCallbacks();
  EXPECT_EQ(detail::MapSet::Live(), sets_before - 1);

  r = TableReader();  // not the last one: nothing is freed
  EXPECT_EQ(detail::MapSet::Live(), sets_before - 1);
  EXPECT_EQ(Read(copy, "k"), "last");
  {
    // The last reader may go inside a section (its views die with it).
    ReadSection rs;
    EXPECT_EQ(copy.Find("k2"), "v");
    copy = TableReader();
  }
  EXPECT_EQ(detail::MapSet::Live(), sets_before - 2);
  EXPECT_EQ(detail::Partition::Live(), parts_before - 1);
}

TEST_P(ReaderTest, DropWithoutReadersFreesAtOnce) {
  CommitOnOtherThread(s(), 1, kPlain, "k", "v");
  { TableReader gone = s().Reader(1, kPlain).value(); }  // came and went before the drop
  WaitForCallbacks();
  const int64_t sets_before = detail::MapSet::Live();
  const int64_t parts_before = detail::Partition::Live();
  ASSERT_TRUE(s().DropPartition(1).ok());
  WaitForCallbacks();
  EXPECT_EQ(detail::MapSet::Live(), sets_before - 2);
  EXPECT_EQ(detail::Partition::Live(), parts_before - 1);
}

TEST_P(ReaderTest, AfterCloseAndStoreDestruction) {
  ASSERT_TRUE(s().CreatePartition(2).ok());
  CommitOnOtherThread(s(), 1, kPlain, "k", "one");
  CommitOnOtherThread(s(), 2, kPlain, "k", "two");
  const int64_t sets_before = detail::MapSet::Live();
  const int64_t parts_before = detail::Partition::Live();
  TableReader r1 = s().Reader(1, kPlain).value();
  TableReader r2 = s().Reader(2, kPlain).value();
  ASSERT_TRUE(s().Close().ok());  // waits for every callback
  EXPECT_TRUE(r1.dropped());
  EXPECT_EQ(detail::MapSet::Live(), sets_before - 2);  // one set left per partition
  EXPECT_EQ(detail::Partition::Live(), parts_before);
  EXPECT_EQ(Read(r1, "k"), "one");
  store_.reset();
  EXPECT_EQ(Read(r2, "k"), "two");
  r1 = TableReader();
  EXPECT_EQ(detail::MapSet::Live(), sets_before - 3);
  EXPECT_EQ(detail::Partition::Live(), parts_before - 1);
  {
    ReadSection rs;
    EXPECT_EQ(r2.version(), 1u);
  }
  r2 = TableReader();
  EXPECT_EQ(detail::MapSet::Live(), sets_before - 4);
  EXPECT_EQ(detail::Partition::Live(), parts_before - 2);
}

INSTANTIATE_TEST_SUITE_P(Policies, ReaderTest, ::testing::ValuesIn(testing::AllPolicies()),
                         [](const auto& info) { return info.param.name; });

#ifndef NDEBUG
TEST(ReaderDeathTest, LookupOutsideAReadSectionAsserts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto store = testing::OpenOrDie(testing::AllKindsOfTables());
  ASSERT_TRUE(store->CreatePartition(1).ok());
  TableReader r = store->Reader(1, kPlain).value();
  EXPECT_DEATH(r.Find("k"), "inside a ReadSection");
  EXPECT_DEATH(r.version(), "inside a ReadSection");
}
#endif

}  // namespace
}  // namespace rcustate
