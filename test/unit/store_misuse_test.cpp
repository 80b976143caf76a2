// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_misuse_test.cpp
//
// rcustate::Store through the public API. Misuse: the read-section rules, unknown tables,
// everything after Close, and the store's lifetime.
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

// ================================================================ misuse

class StoreMisuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenOrDie(testing::AllKindsOfTables());
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->CreatePartition(1).ok());
    ASSERT_TRUE(store_->CreatePartition(2).ok());
    ASSERT_TRUE(store_->Put(1, kPlain, "k", "v").ok());
    ASSERT_EQ(store_->Commit(1).value(), 1u);
  }
  void TearDown() override {
    if (store_ != nullptr) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }
  Store& s() { return *store_; }
  std::unique_ptr<Store> store_;
};

TEST_F(StoreMisuseTest, ReadsOutsideAReadSectionAreRefused) {
  ASSERT_FALSE(ReadSection::Active());
  EXPECT_EQ(CodeOf(s().Get(1, kPlain, "k")), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Snapshot(1)), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Contains(1, kPlain, "k")), ErrorCode::kState);
  // Also for unknown partitions: the section rule comes first.
  EXPECT_EQ(CodeOf(s().Get(99, kPlain, "k")), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Snapshot(99)), ErrorCode::kState);
  // The calls that open their own section work.
  EXPECT_EQ(Own(s(), 1, kPlain, "k"), "v");
  EXPECT_EQ(s().Version(1).value(), 1u);
  EXPECT_TRUE(s().Pin(1).ok());
}

TEST_F(StoreMisuseTest, BlockingCallsInsideAReadSectionAreRefused) {
  PinnedSnapshot pin = s().Pin(1).value();
  WriteBatch batch(s());
  ASSERT_TRUE(batch.Put(kPlain, "b", "1").ok());
  ASSERT_TRUE(s().Put(1, kPlain, "k", "w").ok());
  {
    ReadSection rs;
    EXPECT_EQ(CodeOf(s().Commit(1)), ErrorCode::kState);
    EXPECT_EQ(CodeOf(s().Flush(1)), ErrorCode::kState);
    EXPECT_EQ(CodeOf(batch.Commit(1)), ErrorCode::kState);
    EXPECT_EQ(CodeOf(s().DropPartition(2)), ErrorCode::kState);
    EXPECT_EQ(CodeOf(s().Close()), ErrorCode::kState);
    EXPECT_EQ(CodeOf(pin.Release()), ErrorCode::kState);
    EXPECT_EQ(CodeOf(DetachThread()), ErrorCode::kState);
    // Nothing happened: the store, the partition, the pin and the writes
    // are all still there, readable in this very section.
    EXPECT_TRUE(s().HasPartition(2));
    EXPECT_FALSE(pin.empty());
    EXPECT_EQ(pin.Table(kPlain)->Find("k"), "v");
    EXPECT_EQ(*s().Get(1, kPlain, "k").value(), "w");
    EXPECT_EQ(s().Snapshot(1)->version(), 1u);
    EXPECT_EQ(batch.size(), 1u);
  }
  // Outside, every one of them works.
  EXPECT_EQ(s().Commit(1).value(), 2u);
  EXPECT_EQ(s().Flush(1).value(), 2u);
  EXPECT_EQ(batch.Commit(1).value(), 3u);
  EXPECT_TRUE(s().DropPartition(2).ok());
  EXPECT_TRUE(pin.Release().ok());
  EXPECT_TRUE(DetachThread().ok());
  EXPECT_TRUE(AttachThread().ok());
  EXPECT_EQ(Published(s(), 1, kPlain, "k"), "w");
  EXPECT_EQ(Published(s(), 1, kPlain, "b"), "1");
  EXPECT_TRUE(s().Close().ok());
}

TEST_F(StoreMisuseTest, UnknownTableIdOnEveryCall) {
  for (TableId t : {kNumTables, TableId{1000}, ~TableId{0}}) {
    SCOPED_TRACE(t);
    EXPECT_EQ(CodeOf(s().GetTableSpec(t)), ErrorCode::kNoTable);
    EXPECT_EQ(CodeOf(s().Put(1, t, "k", "v")), ErrorCode::kNoTable);
    EXPECT_EQ(CodeOf(s().Erase(1, t, "k")), ErrorCode::kNoTable);
    EXPECT_EQ(CodeOf(s().Merge(1, t, "k", I(1))), ErrorCode::kNoTable);
    EXPECT_EQ(CodeOf(s().Clear(1, t)), ErrorCode::kNoTable);
    std::string out;
    EXPECT_EQ(CodeOf(s().GetCopy(1, t, "k", &out)), ErrorCode::kNoTable);
    {
      ReadSection rs;
      EXPECT_EQ(CodeOf(s().Get(1, t, "k")), ErrorCode::kNoTable);
      EXPECT_EQ(CodeOf(s().Contains(1, t, "k")), ErrorCode::kNoTable);
      EXPECT_EQ(CodeOf(s().Snapshot(1)->Table(t)), ErrorCode::kNoTable);
    }
    PinnedSnapshot pin = s().Pin(1).value();
    EXPECT_EQ(CodeOf(pin.Table(t)), ErrorCode::kNoTable);
    WriteBatch b(s());
    EXPECT_EQ(CodeOf(b.Put(t, "k", "v")), ErrorCode::kNoTable);
    EXPECT_EQ(CodeOf(b.Erase(t, "k")), ErrorCode::kNoTable);
    EXPECT_EQ(CodeOf(b.Merge(t, "k", I(1))), ErrorCode::kNoTable);
    EXPECT_EQ(CodeOf(b.Clear(t)), ErrorCode::kNoTable);
    EXPECT_TRUE(b.empty());
  }
  // None of the failed writes reached the thread's delta.
  EXPECT_EQ(s().Commit(1).value(), 2u);
  EXPECT_EQ(s().Stats(1)->entries, (std::vector<size_t>{1, 0, 0, 0, 0, 0}));
}

TEST_F(StoreMisuseTest, EverythingAfterCloseIsState) {
  PinnedSnapshot pin = s().Pin(1).value();
  WriteBatch before(s());
  ASSERT_TRUE(before.Put(kPlain, "b", "1").ok());
  ASSERT_TRUE(s().Put(1, kPlain, "pending", "x").ok());
  ASSERT_TRUE(s().Close().ok());
  EXPECT_TRUE(s().Close().ok());  // idempotent

  EXPECT_EQ(CodeOf(s().CreatePartition(3)), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().DropPartition(1)), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Version(1)), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Stats(1)), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Pin(1)), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Put(1, kPlain, "k", "v")), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Erase(1, kPlain, "k")), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Merge(1, kSum, "k", I(1))), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Clear(1, kPlain)), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Commit(1)), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Flush(1)), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().Abort(1)), ErrorCode::kState);
  std::string out;
  EXPECT_EQ(CodeOf(s().GetCopy(1, kPlain, "k", &out)), ErrorCode::kState);
  {
    ReadSection rs;
    EXPECT_EQ(CodeOf(s().Get(1, kPlain, "k")), ErrorCode::kState);
    EXPECT_EQ(CodeOf(s().Contains(1, kPlain, "k")), ErrorCode::kState);
    EXPECT_EQ(CodeOf(s().Snapshot(1)), ErrorCode::kState);
  }
  EXPECT_FALSE(s().HasPartition(1));
  EXPECT_TRUE(s().ListPartitions().empty());
  // Batches made before or after the close.
  EXPECT_EQ(CodeOf(before.Put(kPlain, "k", "v")), ErrorCode::kState);
  EXPECT_EQ(CodeOf(before.Commit(1)), ErrorCode::kState);
  EXPECT_EQ(before.size(), 1u);
  WriteBatch after(s());
  EXPECT_EQ(CodeOf(after.Put(kPlain, "k", "v")), ErrorCode::kState);
  EXPECT_EQ(CodeOf(after.Clear(kPlain)), ErrorCode::kState);
  EXPECT_TRUE(after.empty());
  // The pin taken before the close is still good.
  EXPECT_EQ(pin.Table(kPlain)->Find("k"), "v");
  EXPECT_TRUE(pin.Release().ok());
  // The destructor after an explicit Close is fine too.
  store_.reset();
}

TEST_F(StoreMisuseTest, SchemaLookupsAfterCloseAreState) {
  // Store::Close: "After it every other member returns kState."
  ASSERT_TRUE(s().Close().ok());
  EXPECT_EQ(CodeOf(s().FindTable("plain")), ErrorCode::kState);
  EXPECT_EQ(CodeOf(s().GetTableSpec(kPlain)), ErrorCode::kState);
}

TEST_F(StoreMisuseTest, UnknownTableOnAClosedStoreStillFails) {
  // On a closed store a call with an unknown table still reports something
  // (either error is clear); it must not succeed or crash.
  ASSERT_TRUE(s().Close().ok());
  ReadSection rs;
  EXPECT_FALSE(s().Get(1, kNumTables, "k").ok());
  EXPECT_FALSE(s().Put(1, kNumTables, "k", "v").ok());
}

TEST(StoreLifetime, DestructorClosesAndThreadsOutliveTheStore) {
  // A thread that wrote to a partition keeps its (now useless) delta after
  // the store is gone; its later calls on a new store are unaffected.
  auto store = testing::OpenOrDie(testing::AllKindsOfTables());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(1).ok());
  ASSERT_TRUE(store->Put(1, kPlain, "k", "v").ok());
  PinnedSnapshot pin = store->Pin(1).value();
  store.reset();  // the destructor closes
  EXPECT_EQ(pin.version(), 0u);
  EXPECT_EQ(pin.Table(kPlain)->size(), 0u);

  auto other = testing::OpenOrDie(testing::AllKindsOfTables());
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->CreatePartition(1).ok());
  EXPECT_EQ(Own(*other, 1, kPlain, "k"), std::nullopt);  // not the old store's delta
  EXPECT_EQ(other->Commit(1).value(), 1u);
  EXPECT_EQ(Published(*other, 1, kPlain, "k"), std::nullopt);
}

TEST(StoreLifetime, TwoStoresAreIndependent) {
  auto a = testing::OpenOrDie(testing::AllKindsOfTables());
  auto b = testing::OpenOrDie(testing::AllKindsOfTables());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->CreatePartition(1).ok());
  ASSERT_TRUE(b->CreatePartition(1).ok());
  ASSERT_TRUE(a->Put(1, kPlain, "k", "a").ok());
  ASSERT_TRUE(b->Put(1, kPlain, "k", "b").ok());
  EXPECT_EQ(Own(*a, 1, kPlain, "k"), "a");
  EXPECT_EQ(Own(*b, 1, kPlain, "k"), "b");
  EXPECT_EQ(a->Commit(1).value(), 1u);
  EXPECT_EQ(Own(*b, 1, kPlain, "k"), "b");
  EXPECT_EQ(Published(*b, 1, kPlain, "k"), std::nullopt);
  EXPECT_EQ(b->Commit(1).value(), 1u);
  EXPECT_EQ(Published(*a, 1, kPlain, "k"), "a");
  EXPECT_EQ(Published(*b, 1, kPlain, "k"), "b");
}

}  // namespace
}  // namespace rcustate
