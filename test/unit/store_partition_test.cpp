// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_partition_test.cpp
//
// rcustate::Store through the public API. Creating, listing and dropping partitions, also while
// readers run.
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

// ================================================================ partitions

TEST_P(StoreTest, PartitionsCreateListHasDrop) {
  EXPECT_TRUE(s().ListPartitions().empty());
  EXPECT_FALSE(s().HasPartition(1));
  ASSERT_TRUE(s().CreatePartition(3).ok());
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().CreatePartition(0).ok());
  ASSERT_TRUE(s().CreatePartition(UINT32_MAX).ok());
  EXPECT_EQ(s().ListPartitions(), (std::vector<uint32_t>{0, 1, 3, UINT32_MAX}));
  EXPECT_TRUE(s().HasPartition(0));
  EXPECT_TRUE(s().HasPartition(UINT32_MAX));
  EXPECT_FALSE(s().HasPartition(2));

  EXPECT_EQ(CodeOf(s().CreatePartition(3)), ErrorCode::kExists);
  EXPECT_EQ(CodeOf(s().CreatePartition(0)), ErrorCode::kExists);

  ASSERT_TRUE(s().DropPartition(3).ok());
  EXPECT_FALSE(s().HasPartition(3));
  EXPECT_EQ(CodeOf(s().DropPartition(3)), ErrorCode::kNoPartition);
  EXPECT_EQ(CodeOf(s().DropPartition(2)), ErrorCode::kNoPartition);
  EXPECT_EQ(s().ListPartitions(), (std::vector<uint32_t>{0, 1, UINT32_MAX}));
  EXPECT_EQ(CodeOf(s().Version(3)), ErrorCode::kNoPartition);
  EXPECT_EQ(CodeOf(s().Stats(3)), ErrorCode::kNoPartition);
  EXPECT_EQ(CodeOf(s().Pin(3)), ErrorCode::kNoPartition);
  EXPECT_EQ(CodeOf(s().Commit(3)), ErrorCode::kNoPartition);
  EXPECT_EQ(CodeOf(s().Flush(3)), ErrorCode::kNoPartition);
  EXPECT_EQ(CodeOf(s().Put(3, kPlain, "k", "v")), ErrorCode::kNoPartition);
  EXPECT_EQ(CodeOf(s().Abort(3)), ErrorCode::kNoPartition);
  {
    ReadSection rs;
    EXPECT_EQ(CodeOf(s().Snapshot(3)), ErrorCode::kNoPartition);
    EXPECT_EQ(CodeOf(s().Get(3, kPlain, "k")), ErrorCode::kNoPartition);
    EXPECT_EQ(CodeOf(s().Contains(3, kPlain, "k")), ErrorCode::kNoPartition);
  }
  std::string out;
  EXPECT_EQ(CodeOf(s().GetCopy(3, kPlain, "k", &out)), ErrorCode::kNoPartition);
  ASSERT_TRUE(s().CreatePartition(3).ok());  // an id can come back
  EXPECT_TRUE(s().HasPartition(3));
}

TEST_P(StoreTest, DropThenRecreateStartsAtVersionZeroAndEmpty) {
  ASSERT_TRUE(s().CreatePartition(5).ok());
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(s().Put(5, kPlain, "k" + std::to_string(i), "v").ok());
    ASSERT_TRUE(s().Merge(5, kSum, "n", I(i)).ok());
    CommitExpect(5, i);
  }
  ASSERT_TRUE(s().DropPartition(5).ok());
  ASSERT_TRUE(s().CreatePartition(5).ok());
  EXPECT_EQ(s().Version(5).value(), 0u);
  {
    ReadSection rs;
    SnapshotView snap = s().Snapshot(5).value();
    EXPECT_EQ(snap.version(), 0u);
    for (TableId t = 0; t < kNumTables; ++t) EXPECT_EQ(snap.Table(t)->size(), 0u) << t;
  }
  PartitionStats st = s().Stats(5).value();
  EXPECT_EQ(st.version, 0u);
  EXPECT_EQ(st.commits, 0u);
  EXPECT_EQ(st.entries, std::vector<size_t>(kNumTables, 0));
  EXPECT_EQ(Own(s(), 5, kSum, "n"), std::nullopt);
  ASSERT_TRUE(s().Merge(5, kSum, "n", I(10)).ok());
  CommitExpect(5, 1);
  EXPECT_EQ(AsInt(Published(s(), 5, kSum, "n")), 10);
}

TEST_P(StoreTest, UncommittedDeltaOfDroppedPartitionIsDiscarded) {
  ASSERT_TRUE(s().CreatePartition(2).ok());
  ASSERT_TRUE(s().Put(2, kPlain, "k", "old").ok());
  ASSERT_TRUE(s().Merge(2, kSum, "n", I(7)).ok());
  EXPECT_EQ(Own(s(), 2, kPlain, "k"), "old");
  ASSERT_TRUE(s().DropPartition(2).ok());
  {
    ReadSection rs;
    EXPECT_EQ(CodeOf(s().Get(2, kPlain, "k")), ErrorCode::kNoPartition);
  }
  EXPECT_EQ(CodeOf(s().Commit(2)), ErrorCode::kNoPartition);
  EXPECT_EQ(CodeOf(s().Put(2, kPlain, "k", "x")), ErrorCode::kNoPartition);

  // A commit after re-creating starts from an empty delta.
  ASSERT_TRUE(s().CreatePartition(2).ok());
  EXPECT_EQ(Own(s(), 2, kPlain, "k"), std::nullopt);
  CommitExpect(2, 1);
  EXPECT_EQ(Published(s(), 2, kPlain, "k"), std::nullopt);
  EXPECT_EQ(Published(s(), 2, kSum, "n"), std::nullopt);
  EXPECT_EQ(s().Stats(2)->entries, std::vector<size_t>(kNumTables, 0));
}

TEST_P(StoreTest, UncommittedDeltaIsDiscardedWhenPartitionIsRecreatedBehindTheWriter) {
  // The writer does not touch the partition between the drop and the
  // re-creation: its old delta must still not leak into the new partition.
  ASSERT_TRUE(s().CreatePartition(2).ok());
  ASSERT_TRUE(s().Put(2, kPlain, "k", "old").ok());
  ASSERT_TRUE(s().Merge(2, kSum, "n", I(7)).ok());
  OnOtherThread([&] {
    ASSERT_TRUE(s().DropPartition(2).ok());
    ASSERT_TRUE(s().CreatePartition(2).ok());
  });
  EXPECT_EQ(Own(s(), 2, kPlain, "k"), std::nullopt);
  EXPECT_EQ(Own(s(), 2, kSum, "n"), std::nullopt);
  // The writer is told once that its changes went with the old partition;
  // then it writes to the new one.
  absl::StatusOr<uint64_t> lost = s().Commit(2);
  EXPECT_EQ(CodeOf(lost.status()), ErrorCode::kNoPartition);
  EXPECT_NE(lost.status().message().find("dropped"), std::string_view::npos) << lost.status();
  CommitExpect(2, 1);
  EXPECT_EQ(Published(s(), 2, kPlain, "k"), std::nullopt);
  EXPECT_EQ(Published(s(), 2, kSum, "n"), std::nullopt);
}

TEST_P(StoreTest, AbortOnDroppedPartitionIsNoPartition) {
  // Store::Abort: "kNoPartition" -- also when this thread had written to the
  // partition before it was dropped.
  ASSERT_TRUE(s().CreatePartition(4).ok());
  ASSERT_TRUE(s().Put(4, kPlain, "k", "v").ok());
  ASSERT_TRUE(s().DropPartition(4).ok());
  EXPECT_EQ(CodeOf(s().Abort(4)), ErrorCode::kNoPartition);
}

TEST_P(StoreTest, CreateAndDropWhileReadersRun) {
  // Invariant, checked on every read: a reader either finds no partition or
  // a snapshot in which plain/"a", plain/"b" and sum/"c" all hold the same
  // generation number (each generation is written by one commit), and the
  // version is 1 exactly when they are present.
  constexpr int kGenerations = 200;
  constexpr int kReaders = 2;
  std::atomic<bool> done{false};
  std::atomic<int64_t> last_seen{-1};  // highest generation any reader saw
  std::atomic<int> violations{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      while (!done.load(std::memory_order_acquire)) {
        {
          ReadSection rs;
          absl::StatusOr<SnapshotView> snap = s().Snapshot(9);
          if (!snap.ok()) {
            if (CodeOf(snap) != ErrorCode::kNoPartition) violations.fetch_add(1);
            continue;
          }
          auto a = snap->Table(kPlain)->Find("a");
          auto b = snap->Table(kPlain)->Find("b");
          auto c = snap->Table(kSum)->Find("c");
          const uint64_t v = snap->version();
          if (v == 0) {
            if (a || b || c) violations.fetch_add(1);
            continue;
          }
          if (v != 1 || !a || !b || !c || *a != *b || DecodeInt64(*c) != std::stoll(std::string(*a))) {
            violations.fetch_add(1);
            continue;
          }
          int64_t gen = std::stoll(std::string(*a));
          int64_t prev = last_seen.load();
          while (gen > prev && !last_seen.compare_exchange_weak(prev, gen)) {
          }
        }
        // Get and Contains see the same two outcomes.
        ReadSection rs;
        absl::StatusOr<std::optional<std::string_view>> g = s().Get(9, kPlain, "a");
        if (!g.ok() && CodeOf(g) != ErrorCode::kNoPartition) violations.fetch_add(1);
        if (r == 0) {
          absl::StatusOr<PinnedSnapshot> pin = s().Pin(9);
          if (pin.ok()) {
            auto a = pin->Table(kPlain)->Find("a");
            auto b = pin->Table(kPlain)->Find("b");
            if (a.has_value() != b.has_value() || (a && *a != *b)) violations.fetch_add(1);
          } else if (CodeOf(pin) != ErrorCode::kNoPartition) {
            violations.fetch_add(1);
          }
        }
      }
    });
  }
  // The writer runs in a lambda so that a failed ASSERT still lets the
  // readers be stopped and joined below.
  [&] {
    for (int gen = 0; gen < kGenerations; ++gen) {
      ASSERT_TRUE(s().CreatePartition(9).ok());
      ASSERT_TRUE(s().Put(9, kPlain, "a", std::to_string(gen)).ok());
      ASSERT_TRUE(s().Put(9, kPlain, "b", std::to_string(gen)).ok());
      ASSERT_TRUE(s().Merge(9, kSum, "c", I(gen)).ok());
      ASSERT_EQ(s().Commit(9).value(), 1u);
      if (testing::IsGroupCommit(GetParam())) {
        ASSERT_EQ(s().Flush(9).value(), 1u);
      }
      // Every tenth generation, wait until a reader has seen it (no clock:
      // readers spin continuously, so this is a handshake).
      if (gen % 10 == 0) {
        while (last_seen.load() < gen && violations.load() == 0) std::this_thread::yield();
      }
      ASSERT_TRUE(s().DropPartition(9).ok());
    }
  }();
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GE(last_seen.load(), (kGenerations - 1) / 10 * 10);
}

// The one instantiation of the StoreTest cases of every store_*_test.cpp
// file (they form one executable): each case runs once per policy.
INSTANTIATE_TEST_SUITE_P(Policies, StoreTest, ::testing::ValuesIn(testing::AllPolicies()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace rcustate
