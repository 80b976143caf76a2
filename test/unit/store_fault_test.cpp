// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_fault_test.cpp
//
// Failure atomicity of the store's own paths (test/common/alloc_fault.hpp):
// a failed allocation in listing or acquiring partitions never leaves a read
// section open; creating, dropping and closing either do all their work or
// nothing; a thread's commit that fails keeps its delta.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "common/alloc_fault.hpp"
#include "rcustate/rcustate.hpp"
#include "src/core/partition.hpp"
#include "src/core/commit.hpp"
#include "src/core/thread_deltas.hpp"
#include "unit/unit_util.hpp"

namespace rcustate {
namespace {

using testing::AllocFault;
using testing::CodeOf;
using testing::kPlain;

// A commit on another thread completes: no grace period is blocked by a
// section this thread left open (a hang fails the test through its timeout).
void ExpectOtherThreadCommits(Store& store, uint32_t p) {
  std::thread t([&] {
    ASSERT_TRUE(store.Put(p, kPlain, "other", "x").ok());
    ASSERT_TRUE(store.Commit(p).ok());
  });
  t.join();
}

TEST(StoreFault, ListPartitionsNeverLeavesASectionOpen) {
  std::unique_ptr<Store> store = testing::OpenOrDie(testing::AllKindsOfTables());
  ASSERT_NE(store, nullptr);
  for (uint32_t p = 0; p < 5000; p += 3) ASSERT_TRUE(store->CreatePartition(p).ok());
  int injected = 0;
  for (int64_t n = 1;; ++n) {
    bool threw = false;
    std::vector<uint32_t> ids;
    {
      AllocFault fault(n);
      try {
        ids = store->ListPartitions();
      } catch (const std::bad_alloc&) {
        threw = true;
      }
      fault.Disarm();
      EXPECT_EQ(threw, fault.fired());
      if (!fault.fired()) break;
    }
    ++injected;
    ASSERT_FALSE(ReadSection::Active()) << "allocation " << n;
  }
  EXPECT_GT(injected, 5);
  ExpectOtherThreadCommits(*store, 0);
  EXPECT_EQ(store->ListPartitions().size(), 1667u);
  EXPECT_TRUE(store->Close().ok());
}

TEST(StoreFault, AcquiringAPartitionNeverLeavesASectionOpen) {
  std::unique_ptr<Store> store = testing::OpenOrDie(testing::AllKindsOfTables());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(0).ok());
  int injected = 0;
  // Stats acquires the partition; of a missing one it builds an error inside
  // Acquire. (A present one is not swept here: Partition::Stats allocates
  // under the partition's own lock, which is the partition's to make safe.)
  for (uint32_t p : {7u}) {
    for (int64_t n = 1;; ++n) {
      AllocFault fault(n);
      bool threw = false;
      try {
        (void)store->Stats(p);
      } catch (const std::bad_alloc&) {
        threw = true;
      }
      fault.Disarm();
      ASSERT_FALSE(ReadSection::Active()) << "allocation " << n;
      if (!fault.fired()) break;
      (void)threw;
      ++injected;
    }
  }
  EXPECT_GT(injected, 0);
  ExpectOtherThreadCommits(*store, 0);
  EXPECT_TRUE(store->Close().ok());
}

// Store::Stats() and MetricsText() under every allocation failure: kNoMemory
// (never an exception), no read section or lock left behind (a commit of
// another thread and a drop, which takes the totals' mutex, complete), and
// the next call gives the same series.
TEST(StoreFault, StatsAndMetricsTextFailCleanly) {
  std::unique_ptr<Store> store = testing::OpenOrDie(testing::AllKindsOfTables());
  ASSERT_NE(store, nullptr);
  for (uint32_t p = 0; p < 40; ++p) {
    ASSERT_TRUE(store->CreatePartition(p).ok());
    ASSERT_TRUE(store->Put(p, kPlain, "k", "v").ok());
    ASSERT_TRUE(store->Commit(p).ok());
  }
  const std::string expected = store->MetricsText().value();
  const StoreStats expected_stats = store->Stats().value();
  int injected = 0;
  for (int which = 0; which < 2; ++which) {
    for (int64_t n = 1;; ++n) {
      absl::Status s;
      {
        AllocFault fault(n);
        s = which == 0 ? store->Stats().status() : store->MetricsText().status();
        fault.Disarm();
        ASSERT_FALSE(ReadSection::Active()) << "allocation " << n;
        if (!fault.fired()) {
          ASSERT_TRUE(s.ok()) << s;
          break;
        }
      }
      ASSERT_EQ(CodeOf(s), ErrorCode::kNoMemory) << "allocation " << n << ": " << s;
      ++injected;
    }
  }
  EXPECT_GT(injected, 10);
  // The same series (values such as catch-ups may move on in the background).
  auto lines = [](const std::string& t) { return std::count(t.begin(), t.end(), '\n'); };
  EXPECT_EQ(lines(store->MetricsText().value()), lines(expected));
  EXPECT_EQ(store->Stats().value().commits, expected_stats.commits);
  ExpectOtherThreadCommits(*store, 0);
  ASSERT_TRUE(store->DropPartition(39).ok());
  EXPECT_EQ(store->Stats().value().partitions, 39u);
  EXPECT_TRUE(store->Close().ok());
}

void CreateDropCloseBody() {
  std::vector<TableSpec> tables = testing::AllKindsOfTables();
  tables[0].expected_entries = 1000;  // creating reserves: one more allocation to fail
  std::unique_ptr<Store> store = testing::OpenOrDie(std::move(tables));
  ASSERT_NE(store, nullptr);
  const int64_t live_before = detail::Partition::Live();
  int injected = 0;
  // Create: each id far from the last, so that its directory pages are new.
  for (uint32_t p : {1u, 5000u, 3000000u, 4000000000u}) {
    const int64_t live = detail::Partition::Live();
    for (int64_t n = 1;; ++n) {
      AllocFault fault(n);
      absl::Status s = store->CreatePartition(p);
      fault.Disarm();
      if (!fault.fired()) {
        ASSERT_TRUE(s.ok()) << s;
        break;
      }
      ++injected;
      ASSERT_EQ(CodeOf(s), ErrorCode::kNoMemory) << "allocation " << n << ": " << s;
      ASSERT_FALSE(store->HasPartition(p));
      ASSERT_EQ(detail::Partition::Live(), live) << "a failed create left a partition, allocation " << n << ": " << s;
    }
    ASSERT_TRUE(store->HasPartition(p));
    ASSERT_TRUE(store->Put(p, kPlain, "k", "v").ok());
    ASSERT_TRUE(store->Commit(p).ok());
  }
  EXPECT_GT(injected, 8);
  // Drop: all or nothing.
  for (uint32_t p : {1u, 5000u}) {
    for (int64_t n = 1;; ++n) {
      AllocFault fault(n);
      absl::Status s = store->DropPartition(p);
      fault.Disarm();
      if (!fault.fired()) {
        ASSERT_TRUE(s.ok()) << s;
        break;
      }
      ASSERT_EQ(CodeOf(s), ErrorCode::kNoMemory) << "allocation " << n << ": " << s;
      ASSERT_TRUE(store->HasPartition(p));
      ASSERT_EQ(testing::Published(*store, p, kPlain, "k"), "v");
    }
    ASSERT_FALSE(store->HasPartition(p));
  }
  // Close: all or nothing.
  for (int64_t n = 1;; ++n) {
    AllocFault fault(n);
    absl::Status s = store->Close();
    fault.Disarm();
    if (!fault.fired()) {
      ASSERT_TRUE(s.ok()) << s;
      break;
    }
    ASSERT_EQ(CodeOf(s), ErrorCode::kNoMemory) << "allocation " << n << ": " << s;
    ASSERT_TRUE(store->HasPartition(3000000u));
    ASSERT_TRUE(store->Put(3000000u, kPlain, "k", "w").ok());
    ASSERT_TRUE(store->Commit(3000000u).ok());
  }
  EXPECT_EQ(CodeOf(store->CreatePartition(9)), ErrorCode::kState);
  (void)live_before;
}

TEST(StoreFault, CreateDropCloseDoAllOrNothing) {
  const int64_t live = detail::Partition::Live();
  // On its own thread: the thread's records hold the partitions it wrote to
  // until it exits. After that, nothing a failed call made may remain.
  std::thread(CreateDropCloseBody).join();
  EXPECT_EQ(detail::Partition::Live(), live);
}

// The thread's part of a commit: if the partition's commit fails (an error
// status or std::bad_alloc), the thread's delta and its count are exactly as
// they were, and the next commit works. With group commit, a failed
// allocation of the sealed record happens before the partition commits.
TEST(StoreFault, AFailedCommitKeepsTheThreadsDelta) {
  for (auto delay : {std::chrono::nanoseconds(0), std::chrono::nanoseconds(5'000'000)}) {
    absl::StatusOr<detail::Schema> schema = detail::Schema::Make(testing::AllKindsOfTables());
    ASSERT_TRUE(schema.ok());
    auto state = std::make_shared<detail::StoreState>(*std::move(schema), size_t{1} << 20, delay);
    ASSERT_TRUE(state->Create(0).ok());
    absl::StatusOr<detail::ThreadEntry*> e = detail::ThreadEntryFor(state, 0);
    ASSERT_TRUE(e.ok());
    detail::ThreadEntry& entry = **e;
    ASSERT_TRUE(entry.Change([&](detail::Delta& d) { return d.Put(state->schema, kPlain, "k", "v"); }).ok());
    const size_t counted = detail::local_nonempty;
    const bool may_seal = delay.count() > 0;
    auto expect_kept = [&] {
      ASSERT_EQ(entry.delta().size(), 1u);
      ASSERT_NE(entry.delta().Find(kPlain, "k"), nullptr);
      ASSERT_EQ(entry.delta().Find(kPlain, "k")->value, "v");
      ASSERT_EQ(detail::local_nonempty, counted);
    };
    absl::StatusOr<detail::CommitResult> r = entry.Commit(
        nullptr, may_seal, [](std::unique_ptr<detail::Delta>&) -> absl::StatusOr<detail::CommitResult> {
          return MakeError(ErrorCode::kNoMemory, "injected");
        });
    EXPECT_EQ(CodeOf(r.status()), ErrorCode::kNoMemory);
    expect_kept();
    EXPECT_THROW(entry.Commit(nullptr, may_seal,
                              [](std::unique_ptr<detail::Delta>&) -> absl::StatusOr<detail::CommitResult> {
                                throw std::bad_alloc();
                              }),
                 std::bad_alloc);
    expect_kept();
    // The thread's own allocations before the partition commits.
    for (int64_t n = 1;; ++n) {
      bool reached = false;
      AllocFault fault(n);
      try {
        (void)entry.Commit(nullptr, may_seal, [&](std::unique_ptr<detail::Delta>&) {
          reached = true;
          return absl::StatusOr<detail::CommitResult>(MakeError(ErrorCode::kNoMemory, ""));
        });
      } catch (const std::bad_alloc&) {
      }
      fault.Disarm();
      expect_kept();
      if (reached) break;
    }
    absl::StatusOr<uint64_t> v = detail::CommitForThread(state, 0, nullptr);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(*v, 1u);
    ASSERT_TRUE(detail::FlushForThread(state, 0).ok());
    {
      ReadSection rs;
      const detail::MapSet* set = state->Find(0)->Published();
      auto it = set->tables[kPlain].find("k");
      ASSERT_NE(it, set->tables[kPlain].end());
      EXPECT_EQ(it->second, "v");
    }
    EXPECT_TRUE(state->Close().ok());
  }
}

}  // namespace
}  // namespace rcustate
