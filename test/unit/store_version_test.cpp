// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_version_test.cpp
//
// rcustate::Store through the public API. Partition versions: where they start and what advances
// them.
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

// ================================================================ versions

TEST_P(StoreTest, VersionsStartAtZeroAndCountEveryCommit) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().CreatePartition(2).ok());
  EXPECT_EQ(s().Version(1).value(), 0u);
  {
    ReadSection rs;
    EXPECT_EQ(s().Snapshot(1)->version(), 0u);
    EXPECT_EQ(s().Snapshot(1)->num_tables(), kNumTables);
  }
  CommitExpect(1, 1);  // empty commits count
  CommitExpect(1, 2);
  ASSERT_TRUE(s().Put(1, kPlain, "k", "v").ok());
  CommitExpect(1, 3);
  WriteBatch b(s());
  ASSERT_EQ(b.Commit(1).value(), 4u);  // an empty batch counts too
  ASSERT_TRUE(b.Put(kPlain, "k", "w").ok());
  ASSERT_EQ(b.Commit(1).value(), 5u);
  ExpectVisible(s(), GetParam(), 1, 5);
  {
    ReadSection rs;
    EXPECT_EQ(s().Snapshot(1)->version(), 5u);
  }
  // Flush with nothing sealed publishes nothing new.
  EXPECT_EQ(s().Flush(1).value(), 5u);
  EXPECT_EQ(s().Flush(1).value(), 5u);
  EXPECT_EQ(s().Version(1).value(), 5u);
  // Partitions count separately.
  EXPECT_EQ(s().Flush(2).value(), 0u);
  EXPECT_EQ(s().Version(2).value(), 0u);
  CommitExpect(2, 1);
  EXPECT_EQ(s().Version(1).value(), 5u);
  PartitionStats st = s().Stats(1).value();
  EXPECT_EQ(st.version, 5u);
  EXPECT_EQ(st.commits, 5u);
}

}  // namespace
}  // namespace rcustate
