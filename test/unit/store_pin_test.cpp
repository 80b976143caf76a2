// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_pin_test.cpp
//
// rcustate::Store through the public API. PinnedSnapshot: outliving commits, several pins, close
// and store destruction, moves.
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

// ================================================================ pins

TEST_P(StoreTest, PinOutlivesManyCommits) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  constexpr int kKeys = 10;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(s().Put(1, kPlain, "k" + std::to_string(i), "v0").ok());
    ASSERT_TRUE(s().Put(1, kSum, "k" + std::to_string(i), I(0)).ok());
  }
  CommitExpect(1, 1);
  PinnedSnapshot pin = s().Pin(1).value();
  ASSERT_FALSE(pin.empty());
  EXPECT_EQ(pin.version(), 1u);
  EXPECT_EQ(pin.num_tables(), kNumTables);
  EXPECT_EQ(s().Stats(1)->pins_alive, 1u);

  // True if the pin still shows exactly version 1's state.
  auto pin_unchanged = [&]() -> bool {
    if (pin.version() != 1u) return false;
    TableView plain = pin.Table(kPlain).value();
    TableView sum = pin.Table(kSum).value();
    if (plain.size() != static_cast<size_t>(kKeys) || sum.size() != static_cast<size_t>(kKeys)) {
      return false;
    }
    for (int i = 0; i < kKeys; ++i) {
      if (plain.Find("k" + std::to_string(i)) != "v0") return false;
      if (DecodeInt64(sum.Find("k" + std::to_string(i)).value_or("")) != 0) return false;
    }
    return !plain.Contains("extra");
  };
  constexpr int kCommits = 1000;
  for (int c = 2; c <= kCommits + 1; ++c) {
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_TRUE(s().Put(1, kPlain, "k" + std::to_string(i), "v" + std::to_string(c)).ok());
      ASSERT_TRUE(s().Merge(1, kSum, "k" + std::to_string(i), I(1)).ok());
    }
    if (c % 2 == 0) {
      ASSERT_TRUE(s().Put(1, kPlain, "extra", "e").ok());
    } else {
      ASSERT_TRUE(s().Erase(1, kPlain, "extra").ok());
    }
    ASSERT_EQ(s().Commit(1).value(), static_cast<uint64_t>(c));
    // Group commit publishes when it likes; make sure a publication happens
    // now and then so that the writer does need the pinned set back.
    if (testing::IsGroupCommit(GetParam()) && c % 100 == 0) {
      ASSERT_EQ(s().Flush(1).value(), static_cast<uint64_t>(c));
    }
    ASSERT_TRUE(pin_unchanged()) << "after commit " << c;
  }
  ExpectVisible(s(), GetParam(), 1, kCommits + 1);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "k3")), kCommits);
  EXPECT_EQ(Published(s(), 1, kPlain, "k3"), "v" + std::to_string(kCommits + 1));
  PartitionStats st = s().Stats(1).value();
  // The pinned set was left to the pin once; a copy replaced it as standby,
  // and from then on the two sets alternate again: one extra copy in total.
  EXPECT_EQ(st.standby_copies, 1u);

  ASSERT_TRUE(pin.Release().ok());
  EXPECT_TRUE(pin.empty());
  EXPECT_EQ(s().Stats(1)->pins_alive, 0u);
  for (int c = kCommits + 2; c <= kCommits + 11; ++c) {
    ASSERT_TRUE(s().Merge(1, kSum, "k3", I(1)).ok());
    CommitExpect(1, c);
    EXPECT_EQ(AsInt(Published(s(), 1, kSum, "k3")), kCommits + (c - kCommits - 1));
  }
  EXPECT_EQ(s().Stats(1)->standby_copies, 1u);
}

TEST_P(StoreTest, StatsCountPinsWhoseSetWasLeftBehind) {
  // PartitionStats::pins_alive: "pins currently held on this partition's
  // sets" -- a pin keeps counting after the writer stopped reusing its set.
  ASSERT_TRUE(s().CreatePartition(1).ok());
  CommitExpect(1, 1);
  PinnedSnapshot pin = s().Pin(1).value();
  EXPECT_EQ(s().Stats(1)->pins_alive, 1u);
  for (int c = 2; c <= 5; ++c) {
    CommitExpect(1, c);
    EXPECT_EQ(s().Stats(1)->pins_alive, 1u) << "after commit " << c;
  }
  EXPECT_EQ(pin.version(), 1u);
  ASSERT_TRUE(pin.Release().ok());
  EXPECT_EQ(s().Stats(1)->pins_alive, 0u);
}

TEST_P(StoreTest, SeveralPinsOnOneVersionAndOnSeveral) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "k", "one").ok());
  CommitExpect(1, 1);
  std::vector<PinnedSnapshot> v1;
  for (int i = 0; i < 3; ++i) v1.push_back(s().Pin(1).value());
  EXPECT_EQ(s().Stats(1)->pins_alive, 3u);
  ASSERT_TRUE(s().Put(1, kPlain, "k", "two").ok());
  CommitExpect(1, 2);
  std::vector<PinnedSnapshot> v2;
  for (int i = 0; i < 2; ++i) v2.push_back(s().Pin(1).value());
  EXPECT_EQ(s().Stats(1)->pins_alive, 5u);
  for (int c = 3; c <= 20; ++c) {
    ASSERT_TRUE(s().Put(1, kPlain, "k", "v" + std::to_string(c)).ok());
    CommitExpect(1, c);
  }
  for (const PinnedSnapshot& p : v1) {
    EXPECT_EQ(p.version(), 1u);
    EXPECT_EQ(p.Table(kPlain)->Find("k"), "one");
  }
  for (const PinnedSnapshot& p : v2) {
    EXPECT_EQ(p.version(), 2u);
    EXPECT_EQ(p.Table(kPlain)->Find("k"), "two");
  }
  // Releasing some pins of a version leaves the others readable.
  ASSERT_TRUE(v1[0].Release().ok());
  ASSERT_TRUE(v1[1].Release().ok());
  ASSERT_TRUE(v2[0].Release().ok());
  for (int c = 21; c <= 30; ++c) CommitExpect(1, c);
  EXPECT_EQ(v1[2].Table(kPlain)->Find("k"), "one");
  EXPECT_EQ(v2[1].Table(kPlain)->Find("k"), "two");
  EXPECT_EQ(Published(s(), 1, kPlain, "k"), "v20");
  // Two versions pinned: each of their sets was left behind once.
  EXPECT_EQ(s().Stats(1)->standby_copies, 2u);
}

TEST_P(StoreTest, PinAliveAfterCloseAndStoreDestruction) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().CreatePartition(2).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "k", "pinned while current").ok());
  CommitExpect(1, 1);
  ASSERT_TRUE(s().Put(2, kPlain, "k", "pinned, then left behind").ok());
  CommitExpect(2, 1);
  PinnedSnapshot current = s().Pin(1).value();
  PinnedSnapshot detached = s().Pin(2).value();
  for (int c = 2; c <= 4; ++c) CommitExpect(2, c);  // the writer leaves detached's set
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  EXPECT_EQ(current.version(), 1u);
  EXPECT_EQ(current.Table(kPlain)->Find("k"), "pinned while current");
  EXPECT_EQ(detached.version(), 1u);
  EXPECT_EQ(detached.Table(kPlain)->Find("k"), "pinned, then left behind");
  EXPECT_EQ(CodeOf(current.Table(kNumTables)), ErrorCode::kNoTable);
  ASSERT_TRUE(current.Release().ok());
  // `detached` is released by its destructor (LeakSanitizer checks both).
}

TEST_P(StoreTest, PinMovesAndEmptyPins) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "k", "v").ok());
  CommitExpect(1, 1);
  PinnedSnapshot empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(CodeOf(empty.Table(kPlain)), ErrorCode::kState);
  EXPECT_EQ(CodeOf(empty.Release()), ErrorCode::kState);

  PinnedSnapshot a = s().Pin(1).value();
  PinnedSnapshot b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(b.Table(kPlain)->Find("k"), "v");
  EXPECT_EQ(s().Stats(1)->pins_alive, 1u);
  PinnedSnapshot c = s().Pin(1).value();
  EXPECT_EQ(s().Stats(1)->pins_alive, 2u);
  c = std::move(b);  // releases c's own pin
  EXPECT_EQ(s().Stats(1)->pins_alive, 1u);
  EXPECT_EQ(c.version(), 1u);
  ASSERT_TRUE(c.Release().ok());
  EXPECT_EQ(CodeOf(c.Release()), ErrorCode::kState);  // twice
  EXPECT_EQ(s().Stats(1)->pins_alive, 0u);
  {
    // Pinning inside a read section is allowed.
    ReadSection rs;
    PinnedSnapshot d = s().Pin(1).value();
    EXPECT_EQ(d.version(), 1u);
    EXPECT_EQ(CodeOf(d.Release()), ErrorCode::kState);  // but not releasing
    EXPECT_FALSE(d.empty());
    d = PinnedSnapshot();  // the destructor path is always allowed
  }
  EXPECT_EQ(s().Stats(1)->pins_alive, 0u);
}

}  // namespace
}  // namespace rcustate
