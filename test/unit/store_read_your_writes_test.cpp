// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_read_your_writes_test.cpp
//
// rcustate::Store through the public API. A thread sees its own uncommitted writes, other threads
// do not; abort, exited writers, concurrent writers.
// Part of unit_store (the store_*_test.cpp files); shared helpers and the
// StoreTest policy fixture are in unit_util.hpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "rcustate/rcustate.hpp"
#include "unit/unit_util.hpp"

namespace rcustate {
namespace {

using namespace testing;  // unit_util.hpp: the fixture, tables and helpers

// ================================================================ read-your-writes

TEST_P(StoreTest, ReadYourWritesAndIsolationFromOtherThreads) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "a", "1").ok());
  ASSERT_TRUE(s().Put(1, kPlain, "b", "2").ok());
  ASSERT_TRUE(s().Put(1, kSum, "s", I(10)).ok());
  ASSERT_TRUE(s().Put(1, kLog, "l", "x").ok());
  CommitExpect(1, 1);

  // Uncommitted: put, erase, merge on an existing and on an absent key.
  ASSERT_TRUE(s().Put(1, kPlain, "a", "A").ok());
  ASSERT_TRUE(s().Erase(1, kPlain, "b").ok());
  ASSERT_TRUE(s().Merge(1, kSum, "s", I(5)).ok());
  ASSERT_TRUE(s().Merge(1, kSum, "n", I(3)).ok());
  ASSERT_TRUE(s().Merge(1, kLog, "l", "y").ok());
  {
    ReadSection rs;
    EXPECT_EQ(*s().Get(1, kPlain, "a").value(), "A");
    EXPECT_FALSE(s().Get(1, kPlain, "b").value().has_value());
    EXPECT_FALSE(s().Contains(1, kPlain, "b").value());
    EXPECT_TRUE(s().Contains(1, kSum, "n").value());
    EXPECT_EQ(DecodeInt64(*s().Get(1, kSum, "s").value()), 15);
    EXPECT_EQ(DecodeInt64(*s().Get(1, kSum, "n").value()), 3);
    EXPECT_EQ(*s().Get(1, kLog, "l").value(), "xy");
    // The snapshot is the published state, without this thread's writes.
    TableView plain = s().Snapshot(1)->Table(kPlain).value();
    EXPECT_EQ(plain.Find("a"), "1");
    EXPECT_EQ(plain.Find("b"), "2");
  }
  // Another thread sees only what is published.
  OnOtherThread([&] {
    EXPECT_EQ(Own(s(), 1, kPlain, "a"), "1");
    EXPECT_EQ(Own(s(), 1, kPlain, "b"), "2");
    EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 10);
    EXPECT_EQ(Own(s(), 1, kSum, "n"), std::nullopt);
    EXPECT_EQ(Own(s(), 1, kLog, "l"), "x");
  });

  // Committed: the writer still reads its values right after Commit (under
  // group commit possibly before they are published).
  ASSERT_EQ(s().Commit(1).value(), 2u);
  EXPECT_EQ(Own(s(), 1, kPlain, "a"), "A");
  EXPECT_EQ(Own(s(), 1, kPlain, "b"), std::nullopt);
  EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 15);
  EXPECT_EQ(Own(s(), 1, kLog, "l"), "xy");
  ExpectVisible(s(), GetParam(), 1, 2);
  OnOtherThread([&] {
    EXPECT_EQ(Own(s(), 1, kPlain, "a"), "A");
    EXPECT_EQ(Own(s(), 1, kPlain, "b"), std::nullopt);
    EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 15);
    EXPECT_EQ(AsInt(Own(s(), 1, kSum, "n")), 3);
    EXPECT_EQ(Own(s(), 1, kLog, "l"), "xy");
  });

  // Uncommitted clear: the table reads empty for the writer only; writes
  // after the clear show on top of the empty table.
  ASSERT_TRUE(s().Clear(1, kPlain).ok());
  ASSERT_TRUE(s().Clear(1, kSum).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "c", "C").ok());
  ASSERT_TRUE(s().Merge(1, kSum, "s", I(1)).ok());
  EXPECT_EQ(Own(s(), 1, kPlain, "a"), std::nullopt);
  EXPECT_EQ(Own(s(), 1, kPlain, "c"), "C");
  EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 1);  // merged onto nothing
  EXPECT_EQ(Own(s(), 1, kSum, "n"), std::nullopt);
  EXPECT_EQ(Own(s(), 1, kLog, "l"), "xy");  // other tables untouched
  OnOtherThread([&] {
    EXPECT_EQ(Own(s(), 1, kPlain, "a"), "A");
    EXPECT_EQ(Own(s(), 1, kPlain, "c"), std::nullopt);
    EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 15);
  });
  CommitExpect(1, 3);
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"c", "C"}}));
  EXPECT_EQ(PublishedTable(s(), 1, kSum),
            (std::vector<std::pair<std::string, std::string>>{{"s", I(1)}}));
}

TEST_P(StoreTest, OwnWritesSeenInsideASectionStayValidWhileWritingOn) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kSum, "m", I(100)).ok());
  CommitExpect(1, 1);
  ReadSection rs;
  ASSERT_TRUE(s().Put(1, kPlain, "k", "first value, long enough for the heap").ok());
  ASSERT_TRUE(s().Merge(1, kSum, "m", I(1)).ok());
  std::string_view k1 = *s().Get(1, kPlain, "k").value();
  std::string_view m1 = *s().Get(1, kSum, "m").value();
  ASSERT_TRUE(s().Put(1, kPlain, "k", "second value, also long enough for the heap").ok());
  ASSERT_TRUE(s().Merge(1, kSum, "m", I(1)).ok());
  ASSERT_TRUE(s().Erase(1, kPlain, "other").ok());
  EXPECT_EQ(k1, "first value, long enough for the heap");
  EXPECT_EQ(DecodeInt64(m1), 101);
  EXPECT_EQ(*s().Get(1, kPlain, "k").value(), "second value, also long enough for the heap");
  EXPECT_EQ(DecodeInt64(*s().Get(1, kSum, "m").value()), 102);
}

TEST_P(StoreTest, AbortDropsTheThreadsDelta) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "a", "1").ok());
  CommitExpect(1, 1);
  ASSERT_TRUE(s().Put(1, kPlain, "a", "2").ok());
  ASSERT_TRUE(s().Put(1, kPlain, "b", "2").ok());
  ASSERT_TRUE(s().Merge(1, kSum, "n", I(1)).ok());
  ASSERT_TRUE(s().Clear(1, kLog).ok());
  ASSERT_TRUE(s().Abort(1).ok());
  EXPECT_EQ(Own(s(), 1, kPlain, "a"), "1");
  EXPECT_EQ(Own(s(), 1, kPlain, "b"), std::nullopt);
  EXPECT_EQ(Own(s(), 1, kSum, "n"), std::nullopt);
  CommitExpect(1, 2);  // commits nothing
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"a", "1"}}));
  EXPECT_EQ(Published(s(), 1, kSum, "n"), std::nullopt);
  // Abort with nothing pending, on a partition never written to, and of an
  // unknown partition.
  EXPECT_TRUE(s().Abort(1).ok());
  ASSERT_TRUE(s().CreatePartition(2).ok());
  EXPECT_TRUE(s().Abort(2).ok());
  EXPECT_EQ(CodeOf(s().Abort(77)), ErrorCode::kNoPartition);
  // Abort only touches its own partition.
  ASSERT_TRUE(s().Put(1, kPlain, "x", "1").ok());
  ASSERT_TRUE(s().Put(2, kPlain, "x", "2").ok());
  ASSERT_TRUE(s().Abort(2).ok());
  EXPECT_EQ(Own(s(), 1, kPlain, "x"), "1");
  EXPECT_EQ(Own(s(), 2, kPlain, "x"), std::nullopt);
}

TEST_P(StoreTest, UncommittedWritesOfAnExitedThreadAreDropped) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  OnOtherThread([&] {
    ASSERT_TRUE(s().Merge(1, kSum, "n", I(1)).ok());
    ASSERT_TRUE(s().Put(1, kPlain, "real", "committed").ok());
    ASSERT_EQ(s().Commit(1).value(), 1u);
    ASSERT_TRUE(s().Put(1, kPlain, "ghost", "never committed").ok());
    ASSERT_TRUE(s().Merge(1, kSum, "n", I(100)).ok());
    ASSERT_TRUE(s().Clear(1, kLog).ok());
  });  // exits with a non-empty delta
  CommitExpect(1, 2);
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"real", "committed"}}));
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 1);
}

TEST_P(StoreTest, LastCommitterWinsForPuts) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "x", "from main").ok());  // uncommitted
  OnOtherThread([&] {
    ASSERT_TRUE(s().Put(1, kPlain, "x", "from other").ok());
    ASSERT_EQ(s().Commit(1).value(), 1u);
  });
  ExpectVisible(s(), GetParam(), 1, 1);
  EXPECT_EQ(Published(s(), 1, kPlain, "x"), "from other");
  EXPECT_EQ(Own(s(), 1, kPlain, "x"), "from main");
  CommitExpect(1, 2);
  EXPECT_EQ(Published(s(), 1, kPlain, "x"), "from main");
}

TEST_P(StoreTest, ConcurrentWritersMergeCommute) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  constexpr int kThreads = 2;
  constexpr int kCommits = 100;
  std::vector<std::vector<uint64_t>> versions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommits; ++i) {
        EXPECT_TRUE(s().Merge(1, kSum, "n", I(1)).ok());
        EXPECT_TRUE(s().Merge(1, kSum, "n", I(2)).ok());
        EXPECT_TRUE(s().Merge(1, kMax, "hi", I(i)).ok());
        EXPECT_TRUE(s().Merge(1, kLog, "l", "x").ok());
        absl::StatusOr<uint64_t> v = s().Commit(1);
        EXPECT_TRUE(v.ok()) << v.status();
        if (v.ok()) versions[t].push_back(*v);
      }
    });
  }
  for (auto& t : threads) t.join();
  // Every commit got its own version, 1..N, increasing on each thread.
  std::vector<uint64_t> all;
  for (const auto& vs : versions) {
    EXPECT_TRUE(std::is_sorted(vs.begin(), vs.end()));
    all.insert(all.end(), vs.begin(), vs.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<uint64_t> want(kThreads * kCommits);
  for (size_t i = 0; i < want.size(); ++i) want[i] = i + 1;
  EXPECT_EQ(all, want);
  ExpectVisible(s(), GetParam(), 1, kThreads * kCommits);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 3 * kThreads * kCommits);
  EXPECT_EQ(AsInt(Published(s(), 1, kMax, "hi")), kCommits - 1);
  EXPECT_EQ(Published(s(), 1, kLog, "l"), std::string(kThreads * kCommits, 'x'));
}

}  // namespace
}  // namespace rcustate
