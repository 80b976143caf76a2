// File: test/unit/store_test.cpp
//
// rcustate::Store, WriteBatch, SnapshotView, PinnedSnapshot and TableView
// through the public API: opening, schema, partitions, versions,
// read-your-writes, every merge operator across commits (so that replay onto
// the standby map set is exercised), clear, erase, batches, the read-section
// rules, errors, close, pins and stats.
//
// Tests whose outcome depends on the publication policy run once per policy
// in testing::AllPolicies(). Under the default policy a commit is visible
// when it returns, and the tests check exactly that; under group commit they
// Flush() before looking from another thread (testing::ExpectVisible).
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

using testing::AsDouble;
using testing::AsInt;
using testing::CodeOf;
using testing::ExpectVisible;
using testing::kFsum;
using testing::kLog;
using testing::kMax;
using testing::kMin;
using testing::kNumTables;
using testing::kPlain;
using testing::kSum;
using testing::Own;
using testing::Published;
using testing::PublishedTable;

std::string I(int64_t v) { return EncodeInt64(v); }
std::string D(double v) { return EncodeDouble(v); }

// Runs `fn` on a new thread and waits for it: "what does another thread see".
template <typename Fn>
void OnOtherThread(Fn&& fn) {
  std::thread t(std::forward<Fn>(fn));
  t.join();
}

// ================================================================ Open, schema

TEST(StoreOpen, RejectsNoTables) {
  StoreOptions o;
  absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(o);
  EXPECT_EQ(CodeOf(s), ErrorCode::kInvalidArgument);
}

TEST(StoreOpen, RejectsEmptyTableName) {
  StoreOptions o;
  o.tables = {{"ok", nullptr, 0}, {"", nullptr, 0}};
  EXPECT_EQ(CodeOf(Store::Open(o)), ErrorCode::kInvalidArgument);
}

TEST(StoreOpen, RejectsDuplicateTableName) {
  StoreOptions o;
  o.tables = {{"a", nullptr, 0}, {"b", AddInt64(), 0}, {"a", Append(), 0}};
  EXPECT_EQ(CodeOf(Store::Open(o)), ErrorCode::kInvalidArgument);
}

TEST(StoreOpen, RejectsNegativeMaxPublishDelay) {
  StoreOptions o;
  o.tables = {{"a", nullptr, 0}};
  o.max_publish_delay = absl::Milliseconds(-1);
  EXPECT_EQ(CodeOf(Store::Open(o)), ErrorCode::kInvalidArgument);
  o.max_publish_delay = -absl::InfiniteDuration();
  EXPECT_EQ(CodeOf(Store::Open(o)), ErrorCode::kInvalidArgument);
}

TEST(StoreOpen, AcceptsEveryPolicy) {
  for (const testing::Policy& p : testing::AllPolicies()) {
    StoreOptions o;
    o.tables = {{"a", nullptr, 0}};
    o.max_publish_delay = p.max_publish_delay;
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << p.name << ": " << s.status();
  }
}

TEST(StoreSchema, FindTableAndGetTableSpec) {
  std::vector<TableSpec> tables = testing::AllKindsOfTables();
  tables[kLog].expected_entries = 100;
  auto store = testing::OpenOrDie(tables);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->num_tables(), kNumTables);
  const char* names[] = {"plain", "sum", "min", "max", "fsum", "log"};
  for (TableId t = 0; t < kNumTables; ++t) {
    absl::StatusOr<TableId> id = store->FindTable(names[t]);
    ASSERT_TRUE(id.ok()) << names[t];
    EXPECT_EQ(*id, t);
    absl::StatusOr<TableSpec> spec = store->GetTableSpec(t);
    ASSERT_TRUE(spec.ok());
    EXPECT_EQ(spec->name, names[t]);
  }
  EXPECT_EQ(store->GetTableSpec(kPlain)->merge, nullptr);
  EXPECT_EQ(store->GetTableSpec(kSum)->merge, AddInt64());
  EXPECT_EQ(store->GetTableSpec(kLog)->merge, Append());
  EXPECT_EQ(store->GetTableSpec(kLog)->expected_entries, 100u);
  EXPECT_EQ(store->GetTableSpec(kSum)->expected_entries, 0u);

  EXPECT_EQ(CodeOf(store->FindTable("nope")), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(store->FindTable("")), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(store->FindTable("Plain")), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(store->GetTableSpec(kNumTables)), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(store->GetTableSpec(~TableId{0})), ErrorCode::kNoTable);
}

// ================================================================ the policy fixture

class StoreTest : public ::testing::TestWithParam<testing::Policy> {
 protected:
  void SetUp() override {
    store_ = testing::OpenOrDie(testing::AllKindsOfTables(), GetParam().max_publish_delay);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    if (store_ != nullptr) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }
  // Commits this thread's delta, expects version `v`, and makes it visible.
  void CommitExpect(uint32_t p, uint64_t v) {
    absl::StatusOr<uint64_t> got = store_->Commit(p);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(*got, v);
    ExpectVisible(*store_, GetParam(), p, v);
  }
  Store& s() { return *store_; }

  std::unique_ptr<Store> store_;
};

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

// ================================================================ read-your-writes

TEST_P(StoreTest, ReadYourWritesAndIsolationFromOtherThreads) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "a", "1").ok());
  ASSERT_TRUE(s().Put(1, kPlain, "b", "2").ok());
  ASSERT_TRUE(s().Put(1, kSum, "s", I(10)).ok());
  ASSERT_TRUE(s().Put(1, kLog, "l", "x").ok());
  CommitExpect(1, 1);

  // Uncommitted: put, erase, merge on an existing and on an absent key.
  ASSERT_TRUE(s().Put(1, kPlain, "a", "A").ok());
  ASSERT_TRUE(s().Erase(1, kPlain, "b").ok());
  ASSERT_TRUE(s().Merge(1, kSum, "s", I(5)).ok());
  ASSERT_TRUE(s().Merge(1, kSum, "n", I(3)).ok());
  ASSERT_TRUE(s().Merge(1, kLog, "l", "y").ok());
  {
    ReadSection rs;
    EXPECT_EQ(*s().Get(1, kPlain, "a").value(), "A");
    EXPECT_FALSE(s().Get(1, kPlain, "b").value().has_value());
    EXPECT_FALSE(s().Contains(1, kPlain, "b").value());
    EXPECT_TRUE(s().Contains(1, kSum, "n").value());
    EXPECT_EQ(DecodeInt64(*s().Get(1, kSum, "s").value()), 15);
    EXPECT_EQ(DecodeInt64(*s().Get(1, kSum, "n").value()), 3);
    EXPECT_EQ(*s().Get(1, kLog, "l").value(), "xy");
    // The snapshot is the published state, without this thread's writes.
    TableView plain = s().Snapshot(1)->Table(kPlain).value();
    EXPECT_EQ(plain.Find("a"), "1");
    EXPECT_EQ(plain.Find("b"), "2");
  }
  // Another thread sees only what is published.
  OnOtherThread([&] {
    EXPECT_EQ(Own(s(), 1, kPlain, "a"), "1");
    EXPECT_EQ(Own(s(), 1, kPlain, "b"), "2");
    EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 10);
    EXPECT_EQ(Own(s(), 1, kSum, "n"), std::nullopt);
    EXPECT_EQ(Own(s(), 1, kLog, "l"), "x");
  });

  // Committed: the writer still reads its values right after Commit (under
  // group commit possibly before they are published).
  ASSERT_EQ(s().Commit(1).value(), 2u);
  EXPECT_EQ(Own(s(), 1, kPlain, "a"), "A");
  EXPECT_EQ(Own(s(), 1, kPlain, "b"), std::nullopt);
  EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 15);
  EXPECT_EQ(Own(s(), 1, kLog, "l"), "xy");
  ExpectVisible(s(), GetParam(), 1, 2);
  OnOtherThread([&] {
    EXPECT_EQ(Own(s(), 1, kPlain, "a"), "A");
    EXPECT_EQ(Own(s(), 1, kPlain, "b"), std::nullopt);
    EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 15);
    EXPECT_EQ(AsInt(Own(s(), 1, kSum, "n")), 3);
    EXPECT_EQ(Own(s(), 1, kLog, "l"), "xy");
  });

  // Uncommitted clear: the table reads empty for the writer only; writes
  // after the clear show on top of the empty table.
  ASSERT_TRUE(s().Clear(1, kPlain).ok());
  ASSERT_TRUE(s().Clear(1, kSum).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "c", "C").ok());
  ASSERT_TRUE(s().Merge(1, kSum, "s", I(1)).ok());
  EXPECT_EQ(Own(s(), 1, kPlain, "a"), std::nullopt);
  EXPECT_EQ(Own(s(), 1, kPlain, "c"), "C");
  EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 1);  // merged onto nothing
  EXPECT_EQ(Own(s(), 1, kSum, "n"), std::nullopt);
  EXPECT_EQ(Own(s(), 1, kLog, "l"), "xy");  // other tables untouched
  OnOtherThread([&] {
    EXPECT_EQ(Own(s(), 1, kPlain, "a"), "A");
    EXPECT_EQ(Own(s(), 1, kPlain, "c"), std::nullopt);
    EXPECT_EQ(AsInt(Own(s(), 1, kSum, "s")), 15);
  });
  CommitExpect(1, 3);
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"c", "C"}}));
  EXPECT_EQ(PublishedTable(s(), 1, kSum),
            (std::vector<std::pair<std::string, std::string>>{{"s", I(1)}}));
}

TEST_P(StoreTest, OwnWritesSeenInsideASectionStayValidWhileWritingOn) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kSum, "m", I(100)).ok());
  CommitExpect(1, 1);
  ReadSection rs;
  ASSERT_TRUE(s().Put(1, kPlain, "k", "first value, long enough for the heap").ok());
  ASSERT_TRUE(s().Merge(1, kSum, "m", I(1)).ok());
  std::string_view k1 = *s().Get(1, kPlain, "k").value();
  std::string_view m1 = *s().Get(1, kSum, "m").value();
  ASSERT_TRUE(s().Put(1, kPlain, "k", "second value, also long enough for the heap").ok());
  ASSERT_TRUE(s().Merge(1, kSum, "m", I(1)).ok());
  ASSERT_TRUE(s().Erase(1, kPlain, "other").ok());
  EXPECT_EQ(k1, "first value, long enough for the heap");
  EXPECT_EQ(DecodeInt64(m1), 101);
  EXPECT_EQ(*s().Get(1, kPlain, "k").value(), "second value, also long enough for the heap");
  EXPECT_EQ(DecodeInt64(*s().Get(1, kSum, "m").value()), 102);
}

TEST_P(StoreTest, AbortDropsTheThreadsDelta) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "a", "1").ok());
  CommitExpect(1, 1);
  ASSERT_TRUE(s().Put(1, kPlain, "a", "2").ok());
  ASSERT_TRUE(s().Put(1, kPlain, "b", "2").ok());
  ASSERT_TRUE(s().Merge(1, kSum, "n", I(1)).ok());
  ASSERT_TRUE(s().Clear(1, kLog).ok());
  ASSERT_TRUE(s().Abort(1).ok());
  EXPECT_EQ(Own(s(), 1, kPlain, "a"), "1");
  EXPECT_EQ(Own(s(), 1, kPlain, "b"), std::nullopt);
  EXPECT_EQ(Own(s(), 1, kSum, "n"), std::nullopt);
  CommitExpect(1, 2);  // commits nothing
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"a", "1"}}));
  EXPECT_EQ(Published(s(), 1, kSum, "n"), std::nullopt);
  // Abort with nothing pending, on a partition never written to, and of an
  // unknown partition.
  EXPECT_TRUE(s().Abort(1).ok());
  ASSERT_TRUE(s().CreatePartition(2).ok());
  EXPECT_TRUE(s().Abort(2).ok());
  EXPECT_EQ(CodeOf(s().Abort(77)), ErrorCode::kNoPartition);
  // Abort only touches its own partition.
  ASSERT_TRUE(s().Put(1, kPlain, "x", "1").ok());
  ASSERT_TRUE(s().Put(2, kPlain, "x", "2").ok());
  ASSERT_TRUE(s().Abort(2).ok());
  EXPECT_EQ(Own(s(), 1, kPlain, "x"), "1");
  EXPECT_EQ(Own(s(), 2, kPlain, "x"), std::nullopt);
}

TEST_P(StoreTest, UncommittedWritesOfAnExitedThreadAreDropped) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  OnOtherThread([&] {
    ASSERT_TRUE(s().Merge(1, kSum, "n", I(1)).ok());
    ASSERT_TRUE(s().Put(1, kPlain, "real", "committed").ok());
    ASSERT_EQ(s().Commit(1).value(), 1u);
    ASSERT_TRUE(s().Put(1, kPlain, "ghost", "never committed").ok());
    ASSERT_TRUE(s().Merge(1, kSum, "n", I(100)).ok());
    ASSERT_TRUE(s().Clear(1, kLog).ok());
  });  // exits with a non-empty delta
  CommitExpect(1, 2);
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"real", "committed"}}));
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 1);
}

TEST_P(StoreTest, LastCommitterWinsForPuts) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "x", "from main").ok());  // uncommitted
  OnOtherThread([&] {
    ASSERT_TRUE(s().Put(1, kPlain, "x", "from other").ok());
    ASSERT_EQ(s().Commit(1).value(), 1u);
  });
  ExpectVisible(s(), GetParam(), 1, 1);
  EXPECT_EQ(Published(s(), 1, kPlain, "x"), "from other");
  EXPECT_EQ(Own(s(), 1, kPlain, "x"), "from main");
  CommitExpect(1, 2);
  EXPECT_EQ(Published(s(), 1, kPlain, "x"), "from main");
}

TEST_P(StoreTest, ConcurrentWritersMergeCommute) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  constexpr int kThreads = 2;
  constexpr int kCommits = 100;
  std::vector<std::vector<uint64_t>> versions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommits; ++i) {
        EXPECT_TRUE(s().Merge(1, kSum, "n", I(1)).ok());
        EXPECT_TRUE(s().Merge(1, kSum, "n", I(2)).ok());
        EXPECT_TRUE(s().Merge(1, kMax, "hi", I(i)).ok());
        EXPECT_TRUE(s().Merge(1, kLog, "l", "x").ok());
        absl::StatusOr<uint64_t> v = s().Commit(1);
        EXPECT_TRUE(v.ok()) << v.status();
        if (v.ok()) versions[t].push_back(*v);
      }
    });
  }
  for (auto& t : threads) t.join();
  // Every commit got its own version, 1..N, increasing on each thread.
  std::vector<uint64_t> all;
  for (const auto& vs : versions) {
    EXPECT_TRUE(std::is_sorted(vs.begin(), vs.end()));
    all.insert(all.end(), vs.begin(), vs.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<uint64_t> want(kThreads * kCommits);
  for (size_t i = 0; i < want.size(); ++i) want[i] = i + 1;
  EXPECT_EQ(all, want);
  ExpectVisible(s(), GetParam(), 1, kThreads * kCommits);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 3 * kThreads * kCommits);
  EXPECT_EQ(AsInt(Published(s(), 1, kMax, "hi")), kCommits - 1);
  EXPECT_EQ(Published(s(), 1, kLog, "l"), std::string(kThreads * kCommits, 'x'));
}

// ================================================================ merge operators

TEST_P(StoreTest, EveryMergeOperatorAcrossCommitsAndReplays) {
  // Every other commit writes the other map set, which first replays what
  // it missed. Keys are touched on different rounds so that a key changed
  // in round r but not in r+1 must arrive in round r+1's set by replay.
  // After every commit every key of every table is compared with a model.
  ASSERT_TRUE(s().CreatePartition(1).ok());
  constexpr int kKeys = 24;
  constexpr int kRounds = 12;
  std::map<std::string, int64_t> sum, lo, hi;
  std::map<std::string, double> fsum;
  std::map<std::string, std::string> log, plain;
  for (int r = 1; r <= kRounds; ++r) {
    for (int i = 0; i < kKeys; ++i) {
      const std::string k = "key" + std::to_string(i);
      if ((i + r) % 3 == 0) continue;  // untouched this round
      const int64_t x = (i * 7919 + r * 104729) % 1000 - 500;
      ASSERT_TRUE(s().Merge(1, kSum, k, I(x)).ok());
      ASSERT_TRUE(s().Merge(1, kSum, k, I(1)).ok());  // combined in the delta
      sum[k] += x + 1;
      ASSERT_TRUE(s().Merge(1, kMin, k, I(x)).ok());
      lo[k] = lo.count(k) != 0 ? std::min(lo.at(k), x) : x;
      ASSERT_TRUE(s().Merge(1, kMax, k, I(x)).ok());
      hi[k] = hi.count(k) != 0 ? std::max(hi.at(k), x) : x;
      ASSERT_TRUE(s().Merge(1, kFsum, k, D(0.25 * static_cast<double>(x))).ok());
      fsum[k] += 0.25 * static_cast<double>(x);  // exact in binary
      const std::string piece(1, static_cast<char>('a' + r));
      ASSERT_TRUE(s().Merge(1, kLog, k, piece).ok());
      log[k] += piece;
      plain[k] = "r" + std::to_string(r);
      ASSERT_TRUE(s().Put(1, kPlain, k, plain[k]).ok());
    }
    // Some puts, erases and erase-then-merge in numeric tables too.
    if (r % 4 == 0) {
      const std::string k = "key" + std::to_string(r % kKeys);
      ASSERT_TRUE(s().Put(1, kSum, k, I(1000)).ok());
      ASSERT_TRUE(s().Merge(1, kSum, k, I(1)).ok());
      sum[k] = 1001;
      ASSERT_TRUE(s().Erase(1, kMin, k).ok());
      lo.erase(k);
      ASSERT_TRUE(s().Erase(1, kPlain, k).ok());
      plain.erase(k);
      const std::string k2 = "key" + std::to_string((r + 1) % kKeys);
      ASSERT_TRUE(s().Erase(1, kLog, k2).ok());
      ASSERT_TRUE(s().Merge(1, kLog, k2, "!").ok());
      log[k2] = "!";
    }
    CommitExpect(1, r);
    auto check_int = [&](TableId t, const std::map<std::string, int64_t>& model) {
      std::vector<std::pair<std::string, std::string>> want;
      for (const auto& [k, v] : model) want.emplace_back(k, I(v));
      EXPECT_EQ(PublishedTable(s(), 1, t), want) << "table " << t << " after commit " << r;
    };
    check_int(kSum, sum);
    check_int(kMin, lo);
    check_int(kMax, hi);
    {
      std::vector<std::pair<std::string, std::string>> want;
      for (const auto& [k, v] : fsum) want.emplace_back(k, D(v));
      EXPECT_EQ(PublishedTable(s(), 1, kFsum), want) << "after commit " << r;
    }
    EXPECT_EQ(PublishedTable(s(), 1, kLog),
              (std::vector<std::pair<std::string, std::string>>(log.begin(), log.end())))
        << "after commit " << r;
    EXPECT_EQ(PublishedTable(s(), 1, kPlain),
              (std::vector<std::pair<std::string, std::string>>(plain.begin(), plain.end())))
        << "after commit " << r;
    // The writer thread sees the same through Get.
    EXPECT_EQ(AsInt(Own(s(), 1, kSum, "key1")), sum.count("key1") ? sum["key1"] : -999999);
  }
  // Two empty commits: each map set in turn replays the last real batch.
  CommitExpect(1, kRounds + 1);
  CommitExpect(1, kRounds + 2);
  EXPECT_EQ(PublishedTable(s(), 1, kLog),
            (std::vector<std::pair<std::string, std::string>>(log.begin(), log.end())));
  EXPECT_EQ(PublishedTable(s(), 1, kMin).size(), lo.size());
}

TEST_P(StoreTest, MergeErrorsThroughTheStore) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  EXPECT_EQ(CodeOf(s().Merge(1, kPlain, "k", "v")), ErrorCode::kInvalidArgument);
  for (TableId t : {kSum, kMin, kMax, kFsum}) {
    EXPECT_EQ(CodeOf(s().Merge(1, t, "k", "1234567")), ErrorCode::kInvalidArgument) << t;
    EXPECT_EQ(CodeOf(s().Put(1, t, "k", "123456789")), ErrorCode::kInvalidArgument) << t;
  }
  EXPECT_EQ(CodeOf(s().Put(1, kPlain, std::string(kMaxKeySize + 1, 'k'), "v")),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(s().Erase(1, kPlain, std::string(kMaxKeySize + 1, 'k'))),
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(s().Put(1, kPlain, std::string(kMaxKeySize, 'k'), "v").ok());
  CommitExpect(1, 1);
  EXPECT_EQ(Published(s(), 1, kPlain, std::string(kMaxKeySize, 'k')), "v");
  EXPECT_EQ(s().Stats(1)->entries, (std::vector<size_t>{1, 0, 0, 0, 0, 0}));
}

// ================================================================ clear, erase

TEST_P(StoreTest, ClearPublishesAnEmptyTable) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(s().Put(1, kPlain, "k" + std::to_string(i), "v").ok());
    ASSERT_TRUE(s().Merge(1, kSum, "k" + std::to_string(i), I(i)).ok());
  }
  CommitExpect(1, 1);
  ASSERT_TRUE(s().Clear(1, kPlain).ok());
  CommitExpect(1, 2);
  EXPECT_TRUE(PublishedTable(s(), 1, kPlain).empty());
  EXPECT_EQ(PublishedTable(s(), 1, kSum).size(), 10u);
  EXPECT_EQ(s().Stats(1)->entries, (std::vector<size_t>{0, 10, 0, 0, 0, 0}));
  // The other map set replays the clear.
  CommitExpect(1, 3);
  EXPECT_TRUE(PublishedTable(s(), 1, kPlain).empty());
  CommitExpect(1, 4);
  EXPECT_TRUE(PublishedTable(s(), 1, kPlain).empty());

  // Clear then changes in the same batch: only the later changes remain, and
  // a merge resolves against the empty table, not the published value.
  ASSERT_TRUE(s().Put(1, kPlain, "before", "x").ok());
  ASSERT_TRUE(s().Clear(1, kSum).ok());
  ASSERT_TRUE(s().Merge(1, kSum, "k3", I(100)).ok());
  ASSERT_TRUE(s().Clear(1, kPlain).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "after", "y").ok());
  CommitExpect(1, 5);
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"after", "y"}}));
  EXPECT_EQ(PublishedTable(s(), 1, kSum),
            (std::vector<std::pair<std::string, std::string>>{{"k3", I(100)}}));
  CommitExpect(1, 6);
  CommitExpect(1, 7);
  EXPECT_EQ(PublishedTable(s(), 1, kSum),
            (std::vector<std::pair<std::string, std::string>>{{"k3", I(100)}}));
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"after", "y"}}));
}

TEST_P(StoreTest, EraseRemovesKeys) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "a", "1").ok());
  ASSERT_TRUE(s().Put(1, kPlain, "b", "2").ok());
  ASSERT_TRUE(s().Merge(1, kSum, "n", I(5)).ok());
  CommitExpect(1, 1);
  ASSERT_TRUE(s().Erase(1, kPlain, "a").ok());
  ASSERT_TRUE(s().Erase(1, kPlain, "never").ok());
  ASSERT_TRUE(s().Erase(1, kSum, "n").ok());
  CommitExpect(1, 2);
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"b", "2"}}));
  EXPECT_TRUE(PublishedTable(s(), 1, kSum).empty());
  {
    ReadSection rs;
    EXPECT_FALSE(s().Contains(1, kPlain, "a").value());
    EXPECT_TRUE(s().Contains(1, kPlain, "b").value());
  }
  CommitExpect(1, 3);  // replayed onto the other set
  CommitExpect(1, 4);
  EXPECT_EQ(PublishedTable(s(), 1, kPlain),
            (std::vector<std::pair<std::string, std::string>>{{"b", "2"}}));
  // A merge after an erase starts from nothing.
  ASSERT_TRUE(s().Merge(1, kSum, "n", I(2)).ok());
  CommitExpect(1, 5);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 2);
}

// ================================================================ WriteBatch

TEST_P(StoreTest, WriteBatchIsInvisibleUntilCommitThenEmpty) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "gone", "x").ok());
  ASSERT_TRUE(s().Put(1, kSum, "n", I(1)).ok());
  CommitExpect(1, 1);

  WriteBatch b(s());
  EXPECT_TRUE(b.empty());
  ASSERT_TRUE(b.Put(kPlain, "k", "v").ok());
  ASSERT_TRUE(b.Put(kPlain, "k", "v2").ok());
  ASSERT_TRUE(b.Erase(kPlain, "gone").ok());
  ASSERT_TRUE(b.Merge(kSum, "n", I(41)).ok());
  ASSERT_TRUE(b.Clear(kLog).ok());
  EXPECT_EQ(b.size(), 4u);
  EXPECT_FALSE(b.empty());
  // Invisible, also to the thread that fills it.
  EXPECT_EQ(Own(s(), 1, kPlain, "k"), std::nullopt);
  EXPECT_EQ(Own(s(), 1, kPlain, "gone"), "x");
  EXPECT_EQ(AsInt(Own(s(), 1, kSum, "n")), 1);
  OnOtherThread([&] { EXPECT_EQ(Own(s(), 1, kPlain, "k"), std::nullopt); });

  ASSERT_EQ(b.Commit(1).value(), 2u);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.size(), 0u);
  ExpectVisible(s(), GetParam(), 1, 2);
  OnOtherThread([&] {
    EXPECT_EQ(Own(s(), 1, kPlain, "k"), "v2");
    EXPECT_EQ(Own(s(), 1, kPlain, "gone"), std::nullopt);
    EXPECT_EQ(AsInt(Own(s(), 1, kSum, "n")), 42);
  });

  // The emptied batch is reusable, also for another partition.
  ASSERT_TRUE(s().CreatePartition(2).ok());
  ASSERT_TRUE(b.Merge(kSum, "n", I(5)).ok());
  ASSERT_EQ(b.Commit(2).value(), 1u);
  ExpectVisible(s(), GetParam(), 2, 1);
  EXPECT_EQ(AsInt(Published(s(), 2, kSum, "n")), 5);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 42);
  // An empty batch commits an empty version.
  ASSERT_EQ(b.Commit(1).value(), 3u);
  ExpectVisible(s(), GetParam(), 1, 3);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 42);
}

TEST_P(StoreTest, WriteBatchFailedCommitLeavesItUnchanged) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().CreatePartition(2).ok());
  ASSERT_TRUE(s().DropPartition(2).ok());
  WriteBatch b(s());
  ASSERT_TRUE(b.Put(kPlain, "k", "v").ok());
  ASSERT_TRUE(b.Merge(kSum, "n", I(3)).ok());
  ASSERT_TRUE(b.Merge(kSum, "n", I(4)).ok());
  EXPECT_EQ(CodeOf(b.Commit(99)), ErrorCode::kNoPartition);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(CodeOf(b.Commit(2)), ErrorCode::kNoPartition);  // dropped
  EXPECT_EQ(b.size(), 2u);
  {
    ReadSection rs;
    EXPECT_EQ(CodeOf(b.Commit(1)), ErrorCode::kState);
  }
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(s().Version(1).value(), 0u);
  ASSERT_EQ(b.Commit(1).value(), 1u);
  ExpectVisible(s(), GetParam(), 1, 1);
  EXPECT_EQ(Published(s(), 1, kPlain, "k"), "v");
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 7);
}

TEST_P(StoreTest, WriteBatchRejectsBadChangesAndStaysUnchanged) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  WriteBatch b(s());
  ASSERT_TRUE(b.Put(kSum, "n", I(1)).ok());
  EXPECT_EQ(CodeOf(b.Put(kNumTables, "k", "v")), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(b.Erase(kNumTables, "k")), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(b.Merge(kNumTables, "k", I(1))), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(b.Clear(kNumTables)), ErrorCode::kNoTable);
  EXPECT_EQ(CodeOf(b.Merge(kPlain, "k", "v")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(b.Merge(kSum, "n", "short")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(b.Put(kSum, "n", "short")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(b.Put(kPlain, std::string(kMaxKeySize + 1, 'k'), "v")),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.size(), 1u);
  ASSERT_EQ(b.Commit(1).value(), 1u);
  ExpectVisible(s(), GetParam(), 1, 1);
  EXPECT_EQ(AsInt(Published(s(), 1, kSum, "n")), 1);

  ASSERT_TRUE(b.Put(kPlain, "a", "1").ok());
  ASSERT_TRUE(b.Clear(kLog).ok());
  EXPECT_EQ(b.size(), 2u);
  b.Reset();
  EXPECT_TRUE(b.empty());
  ASSERT_EQ(b.Commit(1).value(), 2u);
  ExpectVisible(s(), GetParam(), 1, 2);
  EXPECT_EQ(Published(s(), 1, kPlain, "a"), std::nullopt);
}

TEST_P(StoreTest, WriteBatchMoves) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  WriteBatch a(s());
  ASSERT_TRUE(a.Put(kPlain, "k", "v").ok());
  WriteBatch b(std::move(a));
  EXPECT_EQ(b.size(), 1u);
  WriteBatch c(s());
  c = std::move(b);
  ASSERT_EQ(c.Commit(1).value(), 1u);
  ExpectVisible(s(), GetParam(), 1, 1);
  EXPECT_EQ(Published(s(), 1, kPlain, "k"), "v");
}

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

// ================================================================ reads

TEST_P(StoreTest, GetCopyContainsAndTableViews) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  std::map<std::string, std::string> want;
  for (int i = 0; i < 5; ++i) {
    want["k" + std::to_string(i)] = std::string(i, 'v');  // includes an empty value
    ASSERT_TRUE(s().Put(1, kPlain, "k" + std::to_string(i), std::string(i, 'v')).ok());
  }
  CommitExpect(1, 1);

  std::string out = "unchanged?";
  EXPECT_FALSE(s().GetCopy(1, kPlain, "absent", &out).value());
  EXPECT_TRUE(s().GetCopy(1, kPlain, "k3", &out).value());
  EXPECT_EQ(out, "vvv");
  EXPECT_TRUE(s().GetCopy(1, kPlain, "k0", &out).value());
  EXPECT_EQ(out, "");
  {
    ReadSection rs;  // GetCopy also works inside a section
    EXPECT_TRUE(s().GetCopy(1, kPlain, "k4", &out).value());
    EXPECT_EQ(out, "vvvv");
    EXPECT_TRUE(s().Contains(1, kPlain, "k0").value());  // empty value, present key
    EXPECT_FALSE(s().Contains(1, kPlain, "absent").value());
    EXPECT_FALSE(s().Contains(1, kSum, "k0").value());
    std::optional<std::string_view> v = s().Get(1, kPlain, "k0").value();
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->empty());

    TableView t = s().Snapshot(1)->Table(kPlain).value();
    EXPECT_EQ(t.size(), 5u);
    EXPECT_TRUE(t.Contains("k2"));
    EXPECT_FALSE(t.Contains("k5"));
    EXPECT_EQ(t.Find("k2"), "vv");
    EXPECT_EQ(t.Find("k5"), std::nullopt);

    std::map<std::string, std::string> seen;
    t.ForEach([&](std::string_view k, std::string_view v) { seen.emplace(k, v); });
    EXPECT_EQ(seen, want);

    int calls = 0;
    t.ForEach([&](std::string_view, std::string_view) -> bool { return ++calls < 2; });
    EXPECT_EQ(calls, 2);  // stopped by the second `false`-returning call

    calls = 0;
    t.ForEach([&](std::string_view, std::string_view) { return ++calls > 100; });
    EXPECT_EQ(calls, 1);  // a bool lambda that returns false at once

    calls = 0;
    t.ForEach([&](std::string_view, std::string_view) -> bool {
      ++calls;
      return true;
    });
    EXPECT_EQ(calls, 5);

    EXPECT_EQ(CodeOf(s().Snapshot(1)->Table(kNumTables)), ErrorCode::kNoTable);
  }
  // Pinned table views walk the same way.
  PinnedSnapshot pin = s().Pin(1).value();
  std::map<std::string, std::string> pinned;
  pin.Table(kPlain)->ForEach([&](std::string_view k, std::string_view v) { pinned.emplace(k, v); });
  EXPECT_EQ(pinned, want);
  int calls = 0;
  pin.Table(kPlain)->ForEach([&](std::string_view, std::string_view) { return ++calls < 3; });
  EXPECT_EQ(calls, 3);
}

TEST_P(StoreTest, ViewsStayValidInsideTheirSectionWhileWritersCommit) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "k", "old value, long enough to live on the heap").ok());
  CommitExpect(1, 1);
  std::atomic<bool> writer_done{false};
  std::thread writer;
  int changed = 0;
  {
    ReadSection rs;
    SnapshotView snap = s().Snapshot(1).value();
    std::string_view v = *s().Get(1, kPlain, "k").value();
    // A writer commits twice meanwhile. The second commit needs the map set
    // this section sees, so (default policy) it must wait for the section to
    // end; it must never write into it. This thread does not wait for the
    // writer while inside (that would deadlock); it keeps checking its views.
    writer = std::thread([&] {
      for (int c = 0; c < 2; ++c) {
        EXPECT_TRUE(s().Put(1, kPlain, "k", "new " + std::to_string(c)).ok());
        EXPECT_TRUE(s().Put(1, kPlain, "k" + std::to_string(c), std::string(64, 'x')).ok());
        EXPECT_TRUE(s().Commit(1).ok());
      }
      writer_done.store(true, std::memory_order_release);
    });
    for (int i = 0; i < 2000 && !writer_done.load(std::memory_order_acquire); ++i) {
      if (snap.version() != 1 || v != "old value, long enough to live on the heap" ||
          snap.Table(kPlain)->Find("k") != "old value, long enough to live on the heap" ||
          snap.Table(kPlain)->size() != 1) {
        ++changed;
      }
      std::this_thread::yield();
    }
    EXPECT_EQ(snap.version(), 1u);
    EXPECT_EQ(v, "old value, long enough to live on the heap");
    EXPECT_EQ(snap.Table(kPlain)->size(), 1u);
  }
  writer.join();
  EXPECT_EQ(changed, 0);
  ExpectVisible(s(), GetParam(), 1, 3);
  EXPECT_EQ(Published(s(), 1, kPlain, "k"), "new 1");
}

TEST_P(StoreTest, NestedReadSections) {
  ASSERT_TRUE(s().CreatePartition(1).ok());
  ASSERT_TRUE(s().Put(1, kPlain, "k", "v").ok());
  CommitExpect(1, 1);
  ASSERT_TRUE(s().Put(1, kPlain, "mine", "uncommitted value, long enough for the heap").ok());
  EXPECT_FALSE(ReadSection::Active());
  {
    ReadSection outer;
    std::string_view from_inner;
    std::string_view own_from_inner;
    {
      ReadSection inner;
      EXPECT_TRUE(ReadSection::Active());
      from_inner = *s().Get(1, kPlain, "k").value();
      own_from_inner = *s().Get(1, kPlain, "mine").value();
    }
    EXPECT_TRUE(ReadSection::Active());
    // Views obtained in the inner section live until the outer one ends.
    EXPECT_EQ(from_inner, "v");
    EXPECT_EQ(own_from_inner, "uncommitted value, long enough for the heap");
    EXPECT_EQ(*s().Get(1, kPlain, "k").value(), "v");
    EXPECT_EQ(CodeOf(s().Commit(1)), ErrorCode::kState);  // still inside
  }
  EXPECT_FALSE(ReadSection::Active());
  EXPECT_EQ(CodeOf(s().Get(1, kPlain, "k")), ErrorCode::kState);
  ASSERT_TRUE(s().Abort(1).ok());
}

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

INSTANTIATE_TEST_SUITE_P(Policies, StoreTest, ::testing::ValuesIn(testing::AllPolicies()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace rcustate
