// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_catch_up_test.cpp
//
// rcustate::Store through the public API. Standby catch-up by retirement tickets, off the commit
// path.
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

// ================================================================ catch-up

// Commits to `p` until its retirement tickets have caught its standby up at
// least `n` times in all (each ticket runs on liburcu's worker once its grace
// period ended; tickets run in the order they were queued). False after 10 s.
bool WaitForCatchUps(Store& store, uint32_t p, uint64_t n) {
  for (int i = 0; i < 10000; ++i) {
    if (store.Stats(p)->catch_ups >= n) return true;
    if (i % 100 == 0 && !store.Commit(p).ok()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

TEST(StoreCatchUp, TicketsReplayTheMissedBatchOffTheCommitPath) {
  // Default policy: after a commit, the retired set's ticket replays the
  // batch it missed, so the standby is current before the next commit; the
  // data stays exact through many such rounds.
  auto store = testing::OpenOrDie(testing::AllKindsOfTables());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(1).ok());
  for (int round = 1; round <= 20; ++round) {
    ASSERT_TRUE(store->Put(1, kPlain, "k", "v" + std::to_string(round)).ok());
    ASSERT_TRUE(store->Merge(1, kSum, "n", I(round)).ok());
    if (round % 3 == 0) {
      ASSERT_TRUE(store->Erase(1, kPlain, "k").ok());
    }
    ASSERT_TRUE(store->Commit(1).ok());
    const uint64_t before = store->Stats(1)->catch_ups;
    // (Waiting commits empty batches now and then: the data stays as is.)
    ASSERT_TRUE(WaitForCatchUps(*store, 1, before + 1)) << "round " << round;
    EXPECT_EQ(AsInt(Published(*store, 1, kSum, "n")), round * (round + 1) / 2);
    EXPECT_EQ(Published(*store, 1, kPlain, "k"),
              round % 3 == 0 ? std::nullopt : std::optional<std::string>("v" + std::to_string(round)));
  }
  PartitionStats st = store->Stats(1).value();
  EXPECT_GE(st.catch_ups, 20u);
  EXPECT_EQ(st.standby_copies, 0u);
  EXPECT_EQ(st.version, st.commits);
}

TEST(StoreCatchUp, APinnedStandbyIsNotCaughtUp) {
  // The pinned set is retired by the next commit; its ticket must leave it
  // alone (the pin reads it) and the commit after replaces it by a copy.
  auto store = testing::OpenOrDie(testing::AllKindsOfTables());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(1).ok());
  ASSERT_TRUE(store->CreatePartition(2).ok());
  ASSERT_TRUE(store->Put(1, kPlain, "k", "one").ok());
  ASSERT_TRUE(store->Merge(1, kSum, "n", I(1)).ok());
  ASSERT_EQ(store->Commit(1).value(), 1u);
  PinnedSnapshot pin = store->Pin(1).value();
  ASSERT_TRUE(store->Put(1, kPlain, "k", "two").ok());
  ASSERT_TRUE(store->Merge(1, kSum, "n", I(1)).ok());
  ASSERT_TRUE(store->Put(1, kPlain, "new", "x").ok());
  ASSERT_EQ(store->Commit(1).value(), 2u);  // retires the pinned set
  // Partition 2's tickets are queued after the pinned set's: once one of
  // them caught partition 2 up, the pinned set's ticket has run too.
  ASSERT_TRUE(WaitForCatchUps(*store, 2, 1));
  EXPECT_EQ(store->Stats(1)->catch_ups, 0u);
  EXPECT_EQ(pin.Table(kPlain)->Find("k"), "one");
  EXPECT_EQ(pin.Table(kPlain)->Find("new"), std::nullopt);
  EXPECT_EQ(AsInt(std::optional<std::string>(pin.Table(kSum)->Find("n"))), 1);
  ASSERT_TRUE(store->Merge(1, kSum, "n", I(1)).ok());
  ASSERT_EQ(store->Commit(1).value(), 3u);
  EXPECT_EQ(store->Stats(1)->standby_copies, 1u);
  EXPECT_EQ(pin.Table(kPlain)->Find("k"), "one");
  EXPECT_EQ(AsInt(Published(*store, 1, kSum, "n")), 3);
  EXPECT_EQ(Published(*store, 1, kPlain, "k"), "two");
  EXPECT_EQ(Published(*store, 1, kPlain, "new"), "x");
}

}  // namespace
}  // namespace rcustate
