// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_write_batch_test.cpp
//
// rcustate::Store through the public API. WriteBatch: invisible until committed, unchanged by a
// failed commit or a rejected change, movable.
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

// ================================================================ WriteBatch

TEST_P(StoreTest, WriteBatchIsInvisibleUntilCommitThenEmpty) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "gone", "x").ok());
  ASSERT_TRUE(s().Put(1, kSum, "n", I(1)).ok());
  CommitExpect(1, 1);

  WriteBatch b(s());
  EXPECT_TRUE(b.empty());
  ASSERT_TRUE(b.Put(kPlain, "k", "v").ok());
  ASSERT_TRUE(b.Put(kPlain, "k", "v2").ok());
  ASSERT_TRUE(b.Erase(kPlain, "gone").ok());
  ASSERT_TRUE(b.Merge(kSum, "n", I(41)).ok());
  ASSERT_TRUE(b.Clear(kLog).ok());
  EXPECT_EQ(b.size(), 4u);
  EXPECT_FALSE(b.empty());
  // Invisible, also to the thread that fills it.
  EXPECT_EQ(Own(s(), 1, kPlain, "k"), std::nullopt);
  EXPECT_EQ(Own(s(), 1, kPlain, "gone"), "x");
  EXPECT_EQ(AsInt(Own(s(), 1, kSum, "n")), 1);
  OnOtherThread([&] { EXPECT_EQ(Own(s(), 1, kPlain, "k"), std::nullopt); });

  ASSERT_EQ(b.Commit(1).value(), 2u);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.size(), 0u);
  ExpectVisible(s(), GetParam(), 1, 2);
  OnOtherThread([&] {
    EXPECT_EQ(Own(s(), 1, kPlain, "k"), "v2");
    EXPECT_EQ(Own(s(), 1, kPlain, "gone"), std::nullopt);
    EXPECT_EQ(AsInt(Own(s(), 1, kSum, "n")), 42);
  });

  // The emptied batch is reusable, also for another partition.
  ASSERT_TRUE(s().CreatePartition(2).ok());
  ASSERT_TRUE(b.Merge(kSum, "n", I(5)).ok());
  ASSERT_EQ(b.Commit(2).value(), 1u);
  ExpectVisible(s(), GetParam(), 2, 1);
  EXPECT_EQ(AsInt(Published(s(), 2, kSum, "n")), 5);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 42);
  // An empty batch commits an empty version.
  ASSERT_EQ(b.Commit(1).value(), 3u);
  ExpectVisible(s(), GetParam(), 1, 3);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 42);
}

TEST_P(StoreTest, WriteBatchFailedCommitLeavesItUnchanged) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().CreatePartition(2).ok());
  ASSERT_TRUE(s().DropPartition(2).ok());
  WriteBatch b(s());
  ASSERT_TRUE(b.Put(kPlain, "k", "v").ok());
  ASSERT_TRUE(b.Merge(kSum, "n", I(3)).ok());
  ASSERT_TRUE(b.Merge(kSum, "n", I(4)).ok());
  EXPECT_EQ(CodeOf(b.Commit(99)), ErrorCode::kNoPartition);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(CodeOf(b.Commit(2)), ErrorCode::kNoPartition);  // dropped
  EXPECT_EQ(b.size(), 2u);
  {
    ReadSection rs;
    EXPECT_EQ(CodeOf(b.Commit(1)), ErrorCode::kState);
  }
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(s().Version(1).value(), 0u);
  ASSERT_EQ(b.Commit(1).value(), 1u);
  ExpectVisible(s(), GetParam(), 1, 1);
  EXPECT_EQ(Published(s(), 1, kPlain, "k"), "v");
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 7);
}

TEST_P(StoreTest, WriteBatchRejectsBadChangesAndStaysUnchanged) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  WriteBatch b(s());
  ASSERT_TRUE(b.Put(kSum, "n", I(1)).ok());
  EXPECT_EQ(CodeOf(b.Put(kNumTables, "k", "v")), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(b.Erase(kNumTables, "k")), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(b.Merge(kNumTables, "k", I(1))), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(b.Clear(kNumTables)), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(b.Merge(kPlain, "k", "v")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(b.Merge(kSum, "n", "short")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(b.Put(kSum, "n", "short")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(b.Put(kPlain, std::string(kMaxKeySize + 1, 'k'), "v")),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.size(), 1u);
  ASSERT_EQ(b.Commit(1).value(), 1u);
  ExpectVisible(s(), GetParam(), 1, 1);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 1);

  ASSERT_TRUE(b.Put(kPlain, "a", "1").ok());
  ASSERT_TRUE(b.Clear(kLog).ok());
  EXPECT_EQ(b.size(), 2u);
  b.Reset();
  EXPECT_TRUE(b.empty());
  ASSERT_EQ(b.Commit(1).value(), 2u);
  ExpectVisible(s(), GetParam(), 1, 2);
  EXPECT_EQ(Published(s(), 1, kPlain, "a"), std::nullopt);
}

TEST_P(StoreTest, WriteBatchMoves) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  WriteBatch a(s());
  ASSERT_TRUE(a.Put(kPlain, "k", "v").ok());
  WriteBatch b(std::move(a));
  EXPECT_EQ(b.size(), 1u);
  WriteBatch c(s());
  c = std::move(b);
  ASSERT_EQ(c.Commit(1).value(), 1u);
  ExpectVisible(s(), GetParam(), 1, 1);
  EXPECT_EQ(Published(s(), 1, kPlain, "k"), "v");
}

}  // namespace
}  // namespace rcustate
