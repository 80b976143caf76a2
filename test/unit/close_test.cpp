// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/close_test.cpp
//
// Store::Close() frees everything: after a workload that leaves retired map
// sets, dropped partitions, detached (pinned, then released) sets, sealed
// group-commit batches and thread-local deltas behind, Close() returns with
// no map set alive, and once the writer threads have exited no partition
// either. (LeakSanitizer, in the ASan build, checks the rest at exit.)
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "rcustate/rcustate.hpp"
#include "src/core/map_set.hpp"
#include "src/core/partition.hpp"
#include "test/common/test_env.hpp"

namespace rcustate {
namespace {

class CloseTest : public ::testing::TestWithParam<testing::Policy> {};

TEST_P(CloseTest, CloseFreesEveryMapSetAndPartition) {
  const int64_t sets_before = detail::MapSet::Live();
  const int64_t parts_before = detail::Partition::Live();
  StoreOptions o;
  o.tables = {{"t", nullptr, 0}, {"n", AddInt64(), 0}};
  o.max_publish_delay = GetParam().max_publish_delay;
  auto store = Store::Open(o).value();
  for (uint32_t p = 0; p < 4; ++p) ASSERT_TRUE(store->CreatePartition(p).ok());

  std::vector<std::thread> writers;
  for (uint32_t p = 0; p < 4; ++p) {
    writers.emplace_back([&store, p] {
      PinnedSnapshot pin;
      for (int c = 0; c < 200; ++c) {
        ASSERT_TRUE(store->Put(p, 0, "k" + std::to_string(c % 7), std::string(40, 'x')).ok());
        ASSERT_TRUE(store->Merge(p, 1, "sum", EncodeInt64(c)).ok());
        ASSERT_TRUE(store->Commit(p).ok());
        if (c % 50 == 0) pin = store->Pin(p).value();  // forces detached standbys
      }
      ASSERT_TRUE(store->Put(p, 0, "uncommitted", "x").ok());  // left in the thread's delta
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_TRUE(store->DropPartition(3).ok());
  ASSERT_TRUE(store->Put(2, 0, "main-uncommitted", "y").ok());
  EXPECT_GT(detail::MapSet::Live(), sets_before);

  ASSERT_TRUE(store->Close().ok());
  EXPECT_EQ(detail::MapSet::Live(), sets_before);
  store.reset();
  // The main thread's entry for partition 2 holds that partition until the
  // thread touches a new entry or exits; every other partition is gone.
  EXPECT_LE(detail::Partition::Live(), parts_before + 1);
  std::thread([] {}).join();
}

TEST_P(CloseTest, PinKeepsItsSetAfterCloseAndFreesItOnRelease) {
  const int64_t sets_before = detail::MapSet::Live();
  StoreOptions o;
  o.tables = {{"t", nullptr, 0}};
  o.max_publish_delay = GetParam().max_publish_delay;
  auto store = Store::Open(o).value();
  ASSERT_TRUE(store->CreatePartition(0).ok());
  ASSERT_TRUE(store->Put(0, 0, "k", "v").ok());
  ASSERT_TRUE(store->Commit(0).ok());
  ASSERT_TRUE(store->Flush(0).ok());
  PinnedSnapshot pin = store->Pin(0).value();
  ASSERT_TRUE(store->Close().ok());
  store.reset();
  EXPECT_EQ(detail::MapSet::Live(), sets_before + 1);  // only the pinned one
  EXPECT_EQ(pin.Table(0).value().Find("k").value(), "v");
  ASSERT_TRUE(pin.Release().ok());
  EXPECT_EQ(detail::MapSet::Live(), sets_before);
}

INSTANTIATE_TEST_SUITE_P(Policies, CloseTest, ::testing::ValuesIn(testing::AllPolicies()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace rcustate
