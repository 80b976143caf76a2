// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_clear_erase_test.cpp
//
// rcustate::Store through the public API. Clear and Erase through the store.
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

// ================================================================ clear, erase

TEST_P(StoreTest, ClearPublishesAnEmptyTable) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(s().Put(1, kPlain, "k" + std::to_string(i), "v").ok());
    ASSERT_TRUE(s().Merge(1, kSum, "k" + std::to_string(i), I(i)).ok());
  }
  CommitExpect(1, 1);
  ASSERT_TRUE(s().Clear(1, kPlain).ok());
  CommitExpect(1, 2);
  EXPECT_TRUE(PublishedTable(s(), 1, kPlain).empty());
  EXPECT_EQ(PublishedTable(s(), 1, kSum).size(), 10u);
  EXPECT_EQ(s().Stats(1)->entries, (std::vector<size_t>{0, 10, 0, 0, 0, 0}));
  // The other map set replays the clear.
  CommitExpect(1, 3);
  EXPECT_TRUE(PublishedTable(s(), 1, kPlain).empty());
  CommitExpect(1, 4);
  EXPECT_TRUE(PublishedTable(s(), 1, kPlain).empty());

  // Clear then changes in the same batch: only the later changes remain, and
  // a merge resolves against the empty table, not the published value.
  ASSERT_TRUE(s().Put(1, kPlain, "before", "x").ok());
  ASSERT_TRUE(s().Clear(1, kSum).ok());
  ASSERT_TRUE(s().Merge(1, kSum, "k3", I(100)).ok());
  ASSERT_TRUE(s().Clear(1, kPlain).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "after", "y").ok());
  CommitExpect(1, 5);
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"after", "y"}}));
  EXPECT_EQ(PublishedTable(s(), 1, kSum),
            (std::vector<std::pair<std::string, std::string>>{{"k3", I(100)}}));
  CommitExpect(1, 6);
  CommitExpect(1, 7);
  EXPECT_EQ(PublishedTable(s(), 1, kSum),
            (std::vector<std::pair<std::string, std::string>>{{"k3", I(100)}}));
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"after", "y"}}));
}

TEST_P(StoreTest, EraseRemovesKeys) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "a", "1").ok());
  ASSERT_TRUE(s().Put(1, kPlain, "b", "2").ok());
  ASSERT_TRUE(s().Merge(1, kSum, "n", I(5)).ok());
  CommitExpect(1, 1);
  ASSERT_TRUE(s().Erase(1, kPlain, "a").ok());
  ASSERT_TRUE(s().Erase(1, kPlain, "never").ok());
  ASSERT_TRUE(s().Erase(1, kSum, "n").ok());
  CommitExpect(1, 2);
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"b", "2"}}));
  EXPECT_TRUE(PublishedTable(s(), 1, kSum).empty());
  {
    ReadSection rs;
    EXPECT_FALSE(s().Contains(1, kPlain, "a").value());
    EXPECT_TRUE(s().Contains(1, kPlain, "b").value());
  }
  CommitExpect(1, 3);  // replayed onto the other set
  CommitExpect(1, 4);
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"b", "2"}}));
  // A merge after an erase starts from nothing.
  ASSERT_TRUE(s().Merge(1, kSum, "n", I(2)).ok());
  CommitExpect(1, 5);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 2);
}

}  // namespace
}  // namespace rcustate
