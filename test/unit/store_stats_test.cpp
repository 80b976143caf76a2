// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_stats_test.cpp
//
// rcustate::Store through the public API. PartitionStats fields.
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

// ================================================================ stats

TEST_P(StoreTest, StatsFields) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  PartitionStats st = s().Stats(1).value();
  EXPECT_EQ(st.version, 0u);
  EXPECT_EQ(st.commits, 0u);
  EXPECT_EQ(st.entries, std::vector<size_t>(kNumTables, 0));
  EXPECT_GT(st.approx_bytes, 0u);
  EXPECT_EQ(st.pins_alive, 0u);
  EXPECT_EQ(st.standby_copies, 0u);
  const size_t empty_bytes = st.approx_bytes;

  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(s().Put(1, kPlain, "key-" + std::to_string(i), std::string(100, 'v')).ok());
  }
  ASSERT_TRUE(s().Merge(1, kSum, "a", I(1)).ok());
  ASSERT_TRUE(s().Merge(1, kSum, "b", I(1)).ok());
  ASSERT_TRUE(s().Put(1, kLog, "l", "x").ok());
  CommitExpect(1, 1);
  CommitExpect(1, 2);  // both sets now hold the data
  st = s().Stats(1).value();
  EXPECT_EQ(st.version, 2u);
  EXPECT_EQ(st.committed_version, 2u);
  EXPECT_EQ(st.commits, 2u);
  EXPECT_GE(st.publications, 1u);
  EXPECT_LE(st.publications, 2u);
  if (!testing::IsGroupCommit(GetParam())) {
    EXPECT_EQ(st.publications, 2u);  // the default policy publishes every commit
  }
  EXPECT_EQ(st.entries, (std::vector<size_t>{1000, 2, 0, 0, 0, 1}));
  // Two sets, each with 1000 values of 100 heap bytes.
  EXPECT_GE(st.approx_bytes, empty_bytes + 2 * 1000 * 100);
  EXPECT_EQ(st.pins_alive, 0u);
  {
    PinnedSnapshot pin = s().Pin(1).value();
    EXPECT_EQ(s().Stats(1)->pins_alive, 1u);
  }
  EXPECT_EQ(s().Stats(1)->pins_alive, 0u);

  ASSERT_TRUE(s().Clear(1, kPlain).ok());
  CommitExpect(1, 3);
  st = s().Stats(1).value();
  EXPECT_EQ(st.entries, (std::vector<size_t>{0, 2, 0, 0, 0, 1}));
  EXPECT_EQ(st.commits, 3u);
}

}  // namespace
}  // namespace rcustate
