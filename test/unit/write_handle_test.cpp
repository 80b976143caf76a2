// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/write_handle_test.cpp
//
// rcustate::WriteHandle (Store::Writer): writes through a handle land in the
// thread's delta like Store::Put's (read-your-writes, commit, abort, then
// writing on), under both publication policies; every error the handle
// reports (invalid writes, a dropped or re-created partition, a closed
// store, an empty handle); merge operators; moves; failure atomicity under
// injected allocation failures.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/alloc_fault.hpp"
#include "rcustate/rcustate.hpp"
#include "unit/unit_util.hpp"

namespace rcustate {
namespace {

using namespace testing;  // unit_util.hpp: tables and helpers

class WriteHandleTest : public ::testing::TestWithParam<Policy> {
 protected:
  void SetUp() override {
    store_ = OpenOrDie(AllKindsOfTables(), GetParam().max_publish_delay);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->CreatePartition(1).ok());
  }
  void TearDown() override {
    if (store_ != nullptr) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }
  Store& s() { return *store_; }
  WriteHandle W(uint32_t p, TableId t) {
    absl::StatusOr<WriteHandle> h = s().Writer(p, t);
    EXPECT_TRUE(h.ok()) << h.status();
    return h.ok() ? *std::move(h) : WriteHandle();
  }
  std::unique_ptr<Store> store_;
};

bool MessageHas(const absl::Status& s, std::string_view text) {
  return std::string_view(s.message().data(), s.message().size()).find(text) !=
         std::string_view::npos;
}

TEST_P(WriteHandleTest, ReadYourWritesCommitAbortAndWritingOn) {
  WriteHandle plain = W(1, kPlain);
  WriteHandle sum = W(1, kSum);
  EXPECT_EQ(plain.partition(), 1u);
  EXPECT_EQ(plain.table(), kPlain);
  ASSERT_TRUE(plain.Put("a", "1").ok());
  ASSERT_TRUE(plain.Put("b", "2").ok());
  ASSERT_TRUE(sum.Merge("s", I(10)).ok());
  // Store::Get sees the handle's uncommitted writes; other threads do not.
  EXPECT_EQ(Own(s(), 1, kPlain, "a"), "1");
  EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 10);
  OnOtherThread([&] { EXPECT_EQ(Own(s(), 1, kPlain, "a"), std::nullopt); });
  // Handle and Store::Put share the thread's delta.
  ASSERT_TRUE(s().Put(1, kPlain, "c", "3").ok());
  ASSERT_TRUE(plain.Erase("b").ok());
  EXPECT_EQ(Own(s(), 1, kPlain, "b"), std::nullopt);

  // One commit publishes what both handles and Store::Put wrote.
  ASSERT_EQ(plain.Commit().value(), 1u);
  ExpectVisible(s(), GetParam(), 1, 1);
  EXPECT_EQ(Published(s(), 1, kPlain, "a"), "1");
  EXPECT_EQ(Published(s(), 1, kPlain, "b"), std::nullopt);
  EXPECT_EQ(Published(s(), 1, kPlain, "c"), "3");
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "s")), 10);

  // The handles go on writing into the thread's (reused) delta.
  ASSERT_TRUE(sum.Merge("s", I(5)).ok());
  EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 15);
  ASSERT_EQ(s().Commit(1).value(), 2u);
  EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 15);  // committed, perhaps not yet published
  ExpectVisible(s(), GetParam(), 1, 2);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "s")), 15);

  // Abort discards the handle's writes; the handle keeps working.
  ASSERT_TRUE(plain.Put("a", "lost").ok());
  ASSERT_TRUE(s().Abort(1).ok());
  EXPECT_EQ(Own(s(), 1, kPlain, "a"), "1");
  ASSERT_TRUE(plain.Put("d", "4").ok());
  ASSERT_EQ(plain.Commit().value(), 3u);
  ExpectVisible(s(), GetParam(), 1, 3);
  EXPECT_EQ(Published(s(), 1, kPlain, "a"), "1");
  EXPECT_EQ(Published(s(), 1, kPlain, "d"), "4");
}

TEST_P(WriteHandleTest, EachThreadWritesItsOwnDelta) {
  WriteHandle mine = W(1, kPlain);
  ASSERT_TRUE(mine.Put("main", "m").ok());
  OnOtherThread([&] {
    WriteHandle theirs = W(1, kPlain);
    ASSERT_TRUE(theirs.Put("other", "o").ok());
    EXPECT_EQ(Own(s(), 1, kPlain, "main"), std::nullopt);
    ASSERT_TRUE(theirs.Commit().ok());
  });
  EXPECT_EQ(Own(s(), 1, kPlain, "main"), "m");
  ASSERT_TRUE(mine.Commit().ok());
  if (IsGroupCommit(GetParam())) {
    ASSERT_TRUE(s().Flush(1).ok());
  }
  EXPECT_EQ(Published(s(), 1, kPlain, "main"), "m");
  EXPECT_EQ(Published(s(), 1, kPlain, "other"), "o");
}

TEST_P(WriteHandleTest, MergeOperators) {
  WriteHandle sum = W(1, kSum), mn = W(1, kMin), mx = W(1, kMax), fsum = W(1, kFsum),
              log = W(1, kLog);
  for (int64_t v : {5, -3, 11}) {
    ASSERT_TRUE(sum.Merge("k", I(v)).ok());
    ASSERT_TRUE(mn.Merge("k", I(v)).ok());
    ASSERT_TRUE(mx.Merge("k", I(v)).ok());
  }
  ASSERT_TRUE(fsum.Merge("k", D(0.5)).ok());
  ASSERT_TRUE(fsum.Merge("k", D(1.25)).ok());
  ASSERT_TRUE(log.Merge("k", "ab").ok());
  ASSERT_TRUE(log.Merge("k", "c").ok());
  // A put then a merge, an erase then a merge.
  ASSERT_TRUE(sum.Put("p", I(100)).ok());
  ASSERT_TRUE(sum.Merge("p", I(1)).ok());
  ASSERT_TRUE(sum.Erase("e").ok());
  ASSERT_TRUE(sum.Merge("e", I(7)).ok());
  EXPECT_EQ(AsInt(Own(s(), 1, kSum, "k")), 13);
  EXPECT_EQ(AsInt(Own(s(), 1, kMin, "k")), -3);
  EXPECT_EQ(AsInt(Own(s(), 1, kMax, "k")), 11);
  EXPECT_EQ(AsDouble(Own(s(), 1, kFsum, "k")), 1.75);
  EXPECT_EQ(Own(s(), 1, kLog, "k"), "abc");
  ASSERT_TRUE(sum.Commit().ok());
  ExpectVisible(s(), GetParam(), 1, 1);
  // Merges onto published values.
  ASSERT_TRUE(sum.Merge("k", I(7)).ok());
  ASSERT_TRUE(log.Merge("k", "d").ok());
  ASSERT_TRUE(log.Commit().ok());
  ExpectVisible(s(), GetParam(), 1, 2);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "k")), 20);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "p")), 101);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "e")), 7);
  EXPECT_EQ(AsInt(Published(s(), 1, kMin, "k")), -3);
  EXPECT_EQ(AsInt(Published(s(), 1, kMax, "k")), 11);
  EXPECT_EQ(AsDouble(Published(s(), 1, kFsum, "k")), 1.75);
  EXPECT_EQ(Published(s(), 1, kLog, "k"), "abcd");
}

TEST_P(WriteHandleTest, InvalidWritesChangeNothing) {
  WriteHandle plain = W(1, kPlain);
  WriteHandle sum = W(1, kSum);
  ASSERT_TRUE(plain.Put("keep", "v").ok());
  ASSERT_TRUE(sum.Merge("n", I(1)).ok());

  const std::string long_key(kMaxKeySize + 1, 'k');
  absl::Status st = plain.Put(long_key, "v");
  EXPECT_EQ(CodeOf(st), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(MessageHas(st, "exceeds the limit")) << st;
  EXPECT_EQ(CodeOf(plain.Erase(long_key)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(sum.Merge(long_key, I(1))), ErrorCode::kInvalidArgument);
  // The longest key is fine.
  EXPECT_TRUE(plain.Put(std::string(kMaxKeySize, 'k'), "v").ok());

  // Numeric tables take 8-byte values and operands.
  st = sum.Merge("n", "1234567");
  EXPECT_EQ(CodeOf(st), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(MessageHas(st, "8")) << st;
  EXPECT_EQ(CodeOf(sum.Put("n", "123456789")), ErrorCode::kInvalidArgument);
  // Merge on a table without an operator.
  st = plain.Merge("keep", "x");
  EXPECT_EQ(CodeOf(st), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(MessageHas(st, "\"plain\" has no merge operator")) << st;

  EXPECT_EQ(Own(s(), 1, kPlain, "keep"), "v");
  EXPECT_EQ(AsInt(Own(s(), 1, kSum, "n")), 1);
  ASSERT_TRUE(plain.Commit().ok());
  ExpectVisible(s(), GetParam(), 1, 1);
  EXPECT_EQ(Published(s(), 1, kPlain, "keep"), "v");
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 1);
}

TEST_P(WriteHandleTest, WriterErrors) {
  EXPECT_EQ(CodeOf(s().Writer(1, kNumTables)), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(s().Writer(2, kPlain)), ErrorCode::kNoPartition);
  ASSERT_TRUE(s().Close().ok());
  EXPECT_EQ(CodeOf(s().Writer(1, kPlain)), ErrorCode::kState);
}

TEST_P(WriteHandleTest, DroppedPartitionIsReportedOnceThenRecreatedIsWritten) {
  WriteHandle h = W(1, kPlain);
  ASSERT_TRUE(h.Put("old", "1").ok());
  ASSERT_TRUE(s().DropPartition(1).ok());
  // The first write after the drop says the uncommitted changes are gone.
  absl::Status st = h.Put("x", "1");
  EXPECT_EQ(CodeOf(st), ErrorCode::kNoPartition);
  EXPECT_TRUE(MessageHas(st, "discarded")) << st;
  // Then plainly: no such partition.
  st = h.Put("x", "1");
  EXPECT_EQ(CodeOf(st), ErrorCode::kNoPartition);
  EXPECT_FALSE(MessageHas(st, "discarded")) << st;
  EXPECT_EQ(CodeOf(h.Commit()), ErrorCode::kNoPartition);

  // Re-created: the handle writes to the new partition, without the old changes.
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(h.Put("new", "2").ok());
  EXPECT_EQ(Own(s(), 1, kPlain, "new"), "2");
  EXPECT_EQ(Own(s(), 1, kPlain, "old"), std::nullopt);
  ASSERT_EQ(h.Commit().value(), 1u);
  ExpectVisible(s(), GetParam(), 1, 1);
  EXPECT_EQ(Published(s(), 1, kPlain, "new"), "2");
  EXPECT_EQ(Published(s(), 1, kPlain, "old"), std::nullopt);
}

TEST_P(WriteHandleTest, DropAndRecreateNoticedFirstByTheStore) {
  // The thread's record of the dropped partition is discarded by a Store
  // call before the handle's next write: the handle must not use it.
  WriteHandle h = W(1, kPlain);
  ASSERT_TRUE(h.Put("old", "1").ok());
  ASSERT_TRUE(s().DropPartition(1).ok());
  ASSERT_TRUE(s().CreatePartition(1).ok());
  EXPECT_EQ(CodeOf(s().Put(1, kPlain, "via_store", "s")), ErrorCode::kNoPartition);  // once
  ASSERT_TRUE(s().Put(1, kPlain, "via_store", "s").ok());
  ASSERT_TRUE(h.Put("via_handle", "h").ok());
  ASSERT_EQ(h.Commit().value(), 1u);
  ExpectVisible(s(), GetParam(), 1, 1);
  EXPECT_EQ(Published(s(), 1, kPlain, "via_store"), "s");
  EXPECT_EQ(Published(s(), 1, kPlain, "via_handle"), "h");
  EXPECT_EQ(Published(s(), 1, kPlain, "old"), std::nullopt);
}

TEST_P(WriteHandleTest, DropWithoutChangesThenRecreate) {
  WriteHandle h = W(1, kPlain);
  ASSERT_TRUE(s().DropPartition(1).ok());
  EXPECT_EQ(CodeOf(h.Erase("x")), ErrorCode::kNoPartition);
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(h.Put("x", "1").ok());
  EXPECT_EQ(Own(s(), 1, kPlain, "x"), "1");
}

TEST_P(WriteHandleTest, ClosedStore) {
  WriteHandle h = W(1, kSum);
  ASSERT_TRUE(h.Merge("k", I(1)).ok());
  ASSERT_TRUE(s().Close().ok());
  EXPECT_EQ(CodeOf(h.Merge("k", I(1))), ErrorCode::kState);
  EXPECT_EQ(CodeOf(h.Put("k", I(1))), ErrorCode::kState);
  EXPECT_EQ(CodeOf(h.Erase("k")), ErrorCode::kState);
  EXPECT_EQ(CodeOf(h.Commit()), ErrorCode::kState);
}

TEST_P(WriteHandleTest, HandleOutlivesTheStore) {
  WriteHandle h = W(1, kPlain);
  ASSERT_TRUE(h.Put("k", "v").ok());
  ASSERT_TRUE(s().Close().ok());
  store_.reset();
  EXPECT_EQ(CodeOf(h.Put("k", "v")), ErrorCode::kState);
}

TEST_P(WriteHandleTest, MovedHandles) {
  WriteHandle a = W(1, kPlain);
  WriteHandle b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_FALSE(b.empty());
  absl::Status st = a.Put("k", "v");  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(CodeOf(st), ErrorCode::kState);
  EXPECT_TRUE(MessageHas(st, "empty")) << st;
  EXPECT_EQ(CodeOf(a.Commit()), ErrorCode::kState);
  ASSERT_TRUE(b.Put("b", "1").ok());

  // Assignment over a live handle releases it and takes the other.
  WriteHandle c = W(1, kSum);
  c = std::move(b);
  EXPECT_EQ(c.table(), kPlain);
  ASSERT_TRUE(c.Put("c", "2").ok());
  WriteHandle empty;
  EXPECT_EQ(CodeOf(empty.Erase("k")), ErrorCode::kState);
  c = std::move(empty);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(Own(s(), 1, kPlain, "b"), "1");
  EXPECT_EQ(Own(s(), 1, kPlain, "c"), "2");
}

INSTANTIATE_TEST_SUITE_P(Policies, WriteHandleTest, ::testing::ValuesIn(AllPolicies()),
                         [](const auto& info) { return info.param.name; });

#ifndef NDEBUG
TEST(WriteHandleDeathTest, UseOnAnotherThreadIsCaught) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_DEATH(
      {
        std::unique_ptr<Store> store = OpenOrDie(AllKindsOfTables());
        (void)store->CreatePartition(0);
        WriteHandle h = store->Writer(0, kPlain).value();
        std::thread t([&] { (void)h.Put("k", "v"); });
        t.join();
      },
      "owner_");
}
#endif

// ---------------------------------------------------------------- failure atomicity

TEST(WriteHandleFault, FailedWritesChangeNothing) {
  std::unique_ptr<Store> store = OpenOrDie(AllKindsOfTables());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(0).ok());
  WriteHandle plain = store->Writer(0, kPlain).value();
  WriteHandle log = store->Writer(0, kLog).value();
  const std::string big(100, 'v');  // beyond std::string's inline buffer: allocates
  int injected = 0;
  // Enough new keys to grow the delta's map several times.
  for (int i = 0; i < 100; ++i) {
    const std::string key = "key-" + std::to_string(i) + std::string(20, 'x');
    for (int64_t n = 1;; ++n) {
      AllocFault fault(n);
      absl::Status st = (i % 2 == 0) ? plain.Put(key, big) : log.Merge(key, big);
      fault.Disarm();
      if (!fault.fired()) {
        ASSERT_TRUE(st.ok()) << st;
        break;
      }
      ++injected;
      ASSERT_EQ(CodeOf(st), ErrorCode::kNoMemory) << st;
      // Nothing changed: the key is absent, the earlier ones are intact.
      EXPECT_EQ(Own(*store, 0, i % 2 == 0 ? kPlain : kLog, key), std::nullopt);
    }
  }
  EXPECT_GT(injected, 100);
  // A merge onto an existing value that must grow it.
  const std::string key1 = "key-1" + std::string(20, 'x');
  const std::string more(1000, 'm');
  for (int64_t n = 1;; ++n) {
    AllocFault fault(n);
    absl::Status st = log.Merge(key1, more);
    fault.Disarm();
    if (!fault.fired()) {
      ASSERT_TRUE(st.ok()) << st;
      break;
    }
    ASSERT_EQ(CodeOf(st), ErrorCode::kNoMemory) << st;
    EXPECT_EQ(Own(*store, 0, kLog, key1), big);
  }
  ASSERT_EQ(store->Commit(0).value(), 1u);
  for (int i = 0; i < 100; ++i) {
    const std::string key = "key-" + std::to_string(i) + std::string(20, 'x');
    const std::string want = i == 1 ? big + std::string(1000, 'm') : big;
    EXPECT_EQ(Published(*store, 0, i % 2 == 0 ? kPlain : kLog, key), want) << key;
  }
  ASSERT_TRUE(store->Close().ok());
}

TEST(WriteHandleFault, FailedWriterAndRebindChangeNothing) {
  std::unique_ptr<Store> store = OpenOrDie(AllKindsOfTables());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(0).ok());
  // Making the handle (the thread's first record for the partition).
  std::optional<WriteHandle> h;
  for (int64_t n = 1;; ++n) {
    AllocFault fault(n);
    absl::StatusOr<WriteHandle> r = store->Writer(0, kPlain);
    fault.Disarm();
    if (!fault.fired()) {
      ASSERT_TRUE(r.ok()) << r.status();
      h.emplace(*std::move(r));
      break;
    }
    ASSERT_EQ(CodeOf(r), ErrorCode::kNoMemory) << r.status();
  }
  ASSERT_TRUE(h->Put("a", "1").ok());
  // After a drop and re-creation the handle makes a new record.
  ASSERT_TRUE(store->DropPartition(0).ok());
  ASSERT_TRUE(store->CreatePartition(0).ok());
  EXPECT_EQ(CodeOf(h->Put("b", "2")), ErrorCode::kNoPartition);  // the drop, once
  for (int64_t n = 1;; ++n) {
    AllocFault fault(n);
    absl::Status st = h->Put("b", "2");
    fault.Disarm();
    if (!fault.fired()) {
      ASSERT_TRUE(st.ok()) << st;
      break;
    }
    ASSERT_EQ(CodeOf(st), ErrorCode::kNoMemory) << st;
    EXPECT_EQ(Own(*store, 0, kPlain, "b"), std::nullopt);
  }
  ASSERT_EQ(h->Commit().value(), 1u);
  EXPECT_EQ(Published(*store, 0, kPlain, "b"), "2");
  EXPECT_EQ(Published(*store, 0, kPlain, "a"), std::nullopt);
  ASSERT_TRUE(store->Close().ok());
}

}  // namespace
}  // namespace rcustate
