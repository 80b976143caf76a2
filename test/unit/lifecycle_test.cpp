// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/lifecycle_test.cpp
//
// The life of partitions and stores: the expected_entries bound, a writer
// told that a drop discarded its uncommitted changes, the memory budget of
// dropped partitions, closing many stores, fork(), and the partition
// directory over sparse and many ids.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rcustate/rcustate.hpp"
#include "src/core/partition.hpp"
#include "src/core/store_state.hpp"
#include "src/rcu/rcu.hpp"
#include "unit/unit_util.hpp"

namespace rcustate {
namespace {

using testing::CodeOf;
using testing::kPlain;

// ---------------------------------------------------------------- expected_entries

TEST(ExpectedEntries, AboveTheBoundIsRefusedAtOpen) {
  for (size_t hint : {kMaxExpectedEntries + 1, size_t{1} << 40, SIZE_MAX}) {
    StoreOptions o;
    o.tables = {{"t", nullptr, hint}};
    EXPECT_EQ(CodeOf(Store::Open(std::move(o)).status()), ErrorCode::kInvalidArgument) << hint;
  }
  StoreOptions o;
  o.tables = {{"t", nullptr, 1000}};
  EXPECT_TRUE(Store::Open(std::move(o)).ok());
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// The largest accepted hint asks for ~0.5 TB per map: creating fails with
// kNoMemory, nothing is created, the store works on. (Not under sanitizers,
// whose allocators abort on such a request instead of failing it.)
TEST(ExpectedEntries, AnUnsatisfiableHintIsNoMemoryAtCreate) {
  StoreOptions o;
  o.tables = {{"small", nullptr, 0}, {"huge", nullptr, kMaxExpectedEntries}};
  std::unique_ptr<Store> store = Store::Open(std::move(o)).value();
  const int64_t sets = detail::MapSet::Live();
  EXPECT_EQ(CodeOf(store->CreatePartition(1)), ErrorCode::kNoMemory);
  EXPECT_FALSE(store->HasPartition(1));
  EXPECT_TRUE(store->ListPartitions().empty());
  (void)sets;
  EXPECT_TRUE(store->Close().ok());
}
#endif

// ---------------------------------------------------------------- a dropped incarnation

TEST(DroppedIncarnation, TheWriterLearnsItsChangesWereDiscarded) {
  std::unique_ptr<Store> store = testing::OpenOrDie(testing::AllKindsOfTables());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(2).ok());
  ASSERT_TRUE(store->Put(2, kPlain, "k", "old").ok());
  std::thread([&] {
    ASSERT_TRUE(store->DropPartition(2).ok());
    ASSERT_TRUE(store->CreatePartition(2).ok());
  }).join();
  // The commit does not pretend: the changes are gone, and it says so.
  absl::StatusOr<uint64_t> c = store->Commit(2);
  ASSERT_EQ(CodeOf(c), ErrorCode::kNoPartition);
  EXPECT_NE(c.status().message().find("dropped"), std::string_view::npos) << c.status();
  EXPECT_NE(c.status().message().find("discarded"), std::string_view::npos) << c.status();
  // The next call works on the new incarnation, without the old changes.
  ASSERT_TRUE(store->Put(2, kPlain, "k2", "new").ok());
  absl::StatusOr<uint64_t> v = store->Commit(2);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 1u);
  EXPECT_EQ(testing::Published(*store, 2, kPlain, "k"), std::nullopt);
  EXPECT_EQ(testing::Published(*store, 2, kPlain, "k2"), "new");

  // The same when a Put is the first call to find out.
  ASSERT_TRUE(store->Put(2, kPlain, "k3", "lost").ok());
  std::thread([&] {
    ASSERT_TRUE(store->DropPartition(2).ok());
    ASSERT_TRUE(store->CreatePartition(2).ok());
  }).join();
  EXPECT_EQ(CodeOf(store->Put(2, kPlain, "k4", "x")), ErrorCode::kNoPartition);
  ASSERT_TRUE(store->Put(2, kPlain, "k4", "x").ok());
  ASSERT_TRUE(store->Commit(2).ok());
  EXPECT_EQ(testing::Published(*store, 2, kPlain, "k3"), std::nullopt);
  EXPECT_EQ(testing::Published(*store, 2, kPlain, "k4"), "x");

  // Nothing written: nothing lost, nothing to report.
  std::thread([&] {
    ASSERT_TRUE(store->DropPartition(2).ok());
    ASSERT_TRUE(store->CreatePartition(2).ok());
  }).join();
  EXPECT_TRUE(store->Put(2, kPlain, "k5", "y").ok());
  EXPECT_TRUE(store->Close().ok());
}

// ---------------------------------------------------------------- the memory budget

// A reader holds a section on another thread, so nothing dropped can be
// reclaimed; the writer creates and drops partitions in a loop. What waits
// stays within the budget plus one partition, and the drop that has to wait
// returns once the reader leaves.
TEST(MemoryBudget, BoundsWhatDroppedPartitionsHold) {
  absl::StatusOr<detail::Schema> schema = detail::Schema::Make({{"t", nullptr, 0}});
  ASSERT_TRUE(schema.ok());
  constexpr size_t kBudget = 64 * 1024;
  auto state = std::make_shared<detail::StoreState>(*std::move(schema), kBudget,
                                                    std::chrono::nanoseconds(0));
  // One partition's share, measured: create and drop one with no reader.
  ASSERT_TRUE(state->Create(0).ok());
  ASSERT_TRUE(state->Drop(0).ok());
  const size_t one = state->pending_bytes();
  ASSERT_GT(one, 0u);
  state->tracker().Drain();
  ASSERT_EQ(state->pending_bytes(), 0u);

  std::atomic<bool> entered{false};
  std::atomic<bool> leave{false};
  std::thread reader([&] {
    ReadSection rs;
    entered.store(true);
    while (!leave.load()) std::this_thread::yield();
  });
  while (!entered.load()) std::this_thread::yield();
  // The reader leaves once the writer is past the budget: the next drop must
  // wait for it (without it that drop would never return).
  std::thread releaser([&] {
    while (state->pending_bytes() <= kBudget) std::this_thread::yield();
    leave.store(true);
  });
  size_t max_pending = 0;
  const int rounds = static_cast<int>(3 * kBudget / one) + 8;
  for (int i = 0; i < rounds; ++i) {
    ASSERT_TRUE(state->Create(static_cast<uint32_t>(i)).ok());
    ASSERT_TRUE(state->Drop(static_cast<uint32_t>(i)).ok());
    max_pending = std::max(max_pending, state->pending_bytes());
  }
  releaser.join();
  reader.join();
  std::printf("one dropped empty partition holds %zu bytes; max pending %zu (budget %zu)\n", one,
              max_pending, kBudget);
  EXPECT_LE(max_pending, kBudget + one);
  EXPECT_GT(max_pending, kBudget);  // the loop did reach the budget
  EXPECT_TRUE(state->Close().ok());
}

// ---------------------------------------------------------------- close

TEST(Close, ManyEmptyStoresOpenAndClose) {
  const int cycles = 1000;
  const uint64_t barriers = rcu::CallbackTracker::barriers();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < cycles; ++i) {
    std::unique_ptr<Store> store = testing::OpenOrDie({{"t", nullptr, 0}});
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Close().ok());
  }
  // Nothing was queued: no close waited for liburcu's callback batching.
  EXPECT_EQ(rcu::CallbackTracker::barriers(), barriers);
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  std::printf("open+close of an empty store: %.1f us per cycle\n", us / cycles);  // reported, not asserted
}

TEST(Close, StoresWithPartitionsOpenAndClose) {
  const int cycles = 100;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < cycles; ++i) {
    std::unique_ptr<Store> store = testing::OpenOrDie({{"t", nullptr, 0}});
    ASSERT_NE(store, nullptr);
    for (uint32_t p = 0; p < 4; ++p) ASSERT_TRUE(store->CreatePartition(p).ok());
    ASSERT_TRUE(store->Put(1, kPlain, "k", "v").ok());
    ASSERT_TRUE(store->Commit(1).ok());
    ASSERT_TRUE(store->Close().ok());
  }
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  std::printf("open+4 creates+commit+close: %.1f us per cycle\n", us / cycles);
}

// ---------------------------------------------------------------- fork

#if !defined(__SANITIZE_THREAD__)
// Waits for `pid` without hanging forever: a child that hangs is killed and
// counts as a failure (the bound is a hang detector, not a timing check).
int WaitBounded(pid_t pid) {
  for (int i = 0; i < 60 * 100; ++i) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}
#endif

// Not under TSan: its runtime refuses to start a thread in the child of a
// multi-threaded fork (liburcu's after-fork hook recreates its call_rcu
// worker), which is exactly what this test needs.
#if !defined(__SANITIZE_THREAD__)
TEST(Fork, AChildCommitsAndReadsAndTheParentGoesOn) {
  std::unique_ptr<Store> store = testing::OpenOrDie({{"t", nullptr, 0}});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(0).ok());
  // Callbacks queued before the fork (retired snapshots), so that the call_rcu
  // worker exists and has work.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->Put(0, kPlain, "k", std::to_string(i)).ok());
    ASSERT_TRUE(store->Commit(0).ok());
  }
  fflush(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: commits (grace periods, call_rcu), reads, drops, closes.
    int rc = 0;
    for (int i = 0; i < 10 && rc == 0; ++i) {
      if (!store->Put(0, kPlain, "k", "child" + std::to_string(i)).ok()) rc = 2;
      if (!store->Commit(0).ok()) rc = 3;
    }
    if (rc == 0 && testing::Published(*store, 0, kPlain, "k") != "child9") rc = 4;
    if (rc == 0 && !store->CreatePartition(1).ok()) rc = 5;
    if (rc == 0 && !store->DropPartition(1).ok()) rc = 6;
    if (rc == 0 && !store->Close().ok()) rc = 7;
    _exit(rc);
  }
  EXPECT_EQ(WaitBounded(pid), 0);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->Put(0, kPlain, "k", "parent" + std::to_string(i)).ok());
    ASSERT_TRUE(store->Commit(0).ok());
  }
  EXPECT_EQ(testing::Published(*store, 0, kPlain, "k"), "parent9");
  EXPECT_TRUE(store->Close().ok());
}

// Group commit in a forked child: the publisher thread does not survive
// fork(), so the child must start its own, or a batch sealed in the child
// would only become visible at the writer's next commit or Flush. The
// standby's reclamation callback is told not to publish (a test hook), so
// the publisher is the only thing that can make the child's batch visible.
TEST(Fork, AGroupCommitChildPublishesWithoutCommittingAgain) {
  std::unique_ptr<Store> store =
      testing::OpenOrDie({{"t", nullptr, 0}}, absl::Milliseconds(1));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(0).ok());
  // Commits back to back: some seal, which starts the parent's publisher.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store->Put(0, kPlain, "k", std::to_string(i)).ok());
    ASSERT_TRUE(store->Commit(0).ok());
  }
  ASSERT_TRUE(store->Flush(0).ok());
  fflush(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int rc = 0;
    uint64_t committed = 0;
    // Two commits back to back: the second finds its standby retired a
    // moment ago, not reclaimed, and seals.
    for (int i = 0; i < 2 && rc == 0; ++i) {
      if (!store->Put(0, kPlain, "k", "child" + std::to_string(i)).ok()) rc = 2;
      absl::StatusOr<uint64_t> v = store->Commit(0);
      if (!v.ok()) rc = 3;
      if (v.ok()) committed = *v;
    }
    // Nobody commits or flushes any more: only the publisher can publish.
    // Polled without a bound here: the parent kills a child that hangs.
    while (rc == 0 && store->Version(0).value_or(0) < committed) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (rc == 0 && testing::Published(*store, 0, kPlain, "k") != "child1") rc = 4;
    if (rc == 0 && !store->Close().ok()) rc = 5;
    _exit(rc);
  }
  EXPECT_EQ(WaitBounded(pid), 0) << "the child's sealed batch was never published";
  ASSERT_TRUE(store->Put(0, kPlain, "k", "parent").ok());
  ASSERT_TRUE(store->Commit(0).ok());
  ASSERT_TRUE(store->Flush(0).ok());
  EXPECT_EQ(testing::Published(*store, 0, kPlain, "k"), "parent");
  EXPECT_TRUE(store->Close().ok());
}
#endif

// ---------------------------------------------------------------- the directory

TEST(Directory, SparseAndManyIds) {
  std::unique_ptr<Store> store = testing::OpenOrDie({{"t", nullptr, 0}});
  ASSERT_NE(store, nullptr);
  std::vector<uint32_t> ids = {0, 1, 1023, 1024, 2097151, 2097152, 0x7fffffffu, 0xfffffffeu,
                               0xffffffffu};
  for (uint32_t i = 5000; i < 25000; ++i) ids.push_back(i);
  std::sort(ids.begin(), ids.end());
  for (uint32_t id : ids) ASSERT_TRUE(store->CreatePartition(id).ok()) << id;
  EXPECT_EQ(CodeOf(store->CreatePartition(1024)), ErrorCode::kExists);
  EXPECT_EQ(store->ListPartitions(), ids);
  for (uint32_t id : ids) ASSERT_TRUE(store->HasPartition(id)) << id;
  EXPECT_FALSE(store->HasPartition(2));
  EXPECT_FALSE(store->HasPartition(0xfffffffdu));
  ASSERT_TRUE(store->Put(0xffffffffu, kPlain, "k", "v").ok());
  ASSERT_TRUE(store->Commit(0xffffffffu).ok());
  EXPECT_EQ(testing::Published(*store, 0xffffffffu, kPlain, "k"), "v");
  for (size_t i = 0; i < ids.size(); i += 2) ASSERT_TRUE(store->DropPartition(ids[i]).ok());
  std::vector<uint32_t> left;
  for (size_t i = 1; i < ids.size(); i += 2) left.push_back(ids[i]);
  EXPECT_EQ(store->ListPartitions(), left);
  EXPECT_EQ(CodeOf(store->DropPartition(ids[0])), ErrorCode::kNoPartition);
  EXPECT_TRUE(store->Close().ok());
  EXPECT_TRUE(store->ListPartitions().empty());
}

}  // namespace
}  // namespace rcustate
