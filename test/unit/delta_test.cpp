// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/delta_test.cpp
//
// detail::Delta (the changes of one batch) and detail::MapSet (one version
// of a partition's maps): compaction rules, size accounting, validation, and
// that applying a resolved delta gives the state the rules promise.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rcustate/rcustate.hpp"
#include "src/core/delta.hpp"
#include "src/core/delta_pool.hpp"
#include "src/core/map_set.hpp"
#include "src/core/schema.hpp"
#include "unit/unit_util.hpp"

namespace rcustate::detail {
namespace {

using rcustate::testing::CodeOf;

constexpr TableId kPlain = 0;  // no operator
constexpr TableId kSum = 1;    // AddInt64
constexpr TableId kLog = 2;    // Append

class DeltaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Schema> s =
        Schema::Make({{"plain", nullptr, 0}, {"sum", AddInt64(), 0}, {"log", Append(), 0}});
    ASSERT_TRUE(s.ok()) << s.status();
    schema_ = *std::move(s);
  }

  // The op the delta holds for (table, key), as "kind:value" or "none".
  std::string Describe(TableId t, std::string_view key) const {
    const Op* op = delta_.Find(t, key);
    if (op == nullptr) return "none";
    switch (op->kind) {
      case Op::kPut: return "put:" + op->value;
      case Op::kErase: return "erase:" + op->value;
      case Op::kMerge: return "merge:" + op->value;
    }
    return "?";
  }
  static std::string I(int64_t v) { return EncodeInt64(v); }

  Schema schema_;
  Delta delta_{3};
};

// ---------------------------------------------------------------- compaction

TEST_F(DeltaTest, PutThenMergeBecomesPut) {
  ASSERT_TRUE(delta_.Put(schema_, kSum, "k", I(3)).ok());
  ASSERT_TRUE(delta_.Merge(schema_, kSum, "k", I(4)).ok());
  EXPECT_EQ(Describe(kSum, "k"), "put:" + I(7));
  ASSERT_TRUE(delta_.Put(schema_, kLog, "k", "ab").ok());
  ASSERT_TRUE(delta_.Merge(schema_, kLog, "k", "cd").ok());
  EXPECT_EQ(Describe(kLog, "k"), "put:abcd");
  EXPECT_EQ(delta_.size(), 2u);
}

TEST_F(DeltaTest, EraseThenMergeBecomesPutOfMergeOfNothing) {
  ASSERT_TRUE(delta_.Erase(schema_, kSum, "k").ok());
  ASSERT_TRUE(delta_.Merge(schema_, kSum, "k", I(4)).ok());
  EXPECT_EQ(Describe(kSum, "k"), "put:" + I(4));
  ASSERT_TRUE(delta_.Erase(schema_, kLog, "k").ok());
  ASSERT_TRUE(delta_.Merge(schema_, kLog, "k", "x").ok());
  ASSERT_TRUE(delta_.Merge(schema_, kLog, "k", "y").ok());
  EXPECT_EQ(Describe(kLog, "k"), "put:xy");
  EXPECT_EQ(delta_.size(), 2u);
}

TEST_F(DeltaTest, MergeThenMergeCombinesOperands) {
  ASSERT_TRUE(delta_.Merge(schema_, kSum, "k", I(3)).ok());
  EXPECT_EQ(Describe(kSum, "k"), "merge:" + I(3));
  ASSERT_TRUE(delta_.Merge(schema_, kSum, "k", I(4)).ok());
  ASSERT_TRUE(delta_.Merge(schema_, kSum, "k", I(-10)).ok());
  EXPECT_EQ(Describe(kSum, "k"), "merge:" + I(-3));
  ASSERT_TRUE(delta_.Merge(schema_, kLog, "k", "a").ok());
  ASSERT_TRUE(delta_.Merge(schema_, kLog, "k", "b").ok());
  EXPECT_EQ(Describe(kLog, "k"), "merge:ab");
  EXPECT_EQ(delta_.size(), 2u);
}

TEST_F(DeltaTest, LaterPutOrEraseReplacesEarlierOps) {
  ASSERT_TRUE(delta_.Merge(schema_, kSum, "k", I(3)).ok());
  ASSERT_TRUE(delta_.Put(schema_, kSum, "k", I(10)).ok());
  EXPECT_EQ(Describe(kSum, "k"), "put:" + I(10));
  ASSERT_TRUE(delta_.Erase(schema_, kSum, "k").ok());
  EXPECT_EQ(Describe(kSum, "k"), "erase:");
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "p", "one").ok());
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "p", "two").ok());
  EXPECT_EQ(Describe(kPlain, "p"), "put:two");
  EXPECT_EQ(delta_.size(), 2u);
}

TEST_F(DeltaTest, ClearDropsEarlierOpsAndLaterMergesResolveAgainstEmpty) {
  ASSERT_TRUE(delta_.Put(schema_, kSum, "a", I(1)).ok());
  ASSERT_TRUE(delta_.Merge(schema_, kSum, "b", I(2)).ok());
  ASSERT_TRUE(delta_.Erase(schema_, kSum, "c").ok());
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "other", "stays").ok());
  EXPECT_EQ(delta_.size(), 4u);
  EXPECT_FALSE(delta_.cleared(kSum));

  ASSERT_TRUE(delta_.Clear(schema_, kSum).ok());
  EXPECT_TRUE(delta_.cleared(kSum));
  EXPECT_FALSE(delta_.cleared(kPlain));
  EXPECT_EQ(Describe(kSum, "a"), "none");
  EXPECT_EQ(Describe(kSum, "b"), "none");
  EXPECT_EQ(Describe(kSum, "c"), "none");
  EXPECT_EQ(Describe(kPlain, "other"), "put:stays");
  EXPECT_EQ(delta_.size(), 2u);  // "other" + the clear

  // A merge after the clear has a known base (nothing): it resolves now.
  ASSERT_TRUE(delta_.Merge(schema_, kSum, "b", I(5)).ok());
  EXPECT_EQ(Describe(kSum, "b"), "put:" + I(5));
  ASSERT_TRUE(delta_.Merge(schema_, kSum, "b", I(6)).ok());
  EXPECT_EQ(Describe(kSum, "b"), "put:" + I(11));
  ASSERT_TRUE(delta_.Merge(schema_, kSum, "d", I(-1)).ok());
  EXPECT_EQ(Describe(kSum, "d"), "put:" + I(-1));
  EXPECT_EQ(delta_.size(), 4u);

  // Clearing again forgets those too, counts the clear once.
  ASSERT_TRUE(delta_.Clear(schema_, kSum).ok());
  EXPECT_EQ(Describe(kSum, "b"), "none");
  EXPECT_EQ(delta_.size(), 2u);
}

TEST_F(DeltaTest, EraseAfterClearStaysAnErase) {
  ASSERT_TRUE(delta_.Clear(schema_, kLog).ok());
  ASSERT_TRUE(delta_.Erase(schema_, kLog, "x").ok());
  EXPECT_EQ(Describe(kLog, "x"), "erase:");
  ASSERT_TRUE(delta_.Merge(schema_, kLog, "x", "v").ok());
  EXPECT_EQ(Describe(kLog, "x"), "put:v");
  EXPECT_EQ(delta_.size(), 2u);
}

// ---------------------------------------------------------------- size()

TEST_F(DeltaTest, SizeCountsDistinctKeysPerTablePlusClears) {
  EXPECT_TRUE(delta_.empty());
  EXPECT_EQ(delta_.size(), 0u);
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "k", "1").ok());
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "k", "2").ok());
  ASSERT_TRUE(delta_.Erase(schema_, kPlain, "k").ok());
  EXPECT_EQ(delta_.size(), 1u);
  ASSERT_TRUE(delta_.Put(schema_, kLog, "k", "1").ok());  // same key, other table
  EXPECT_EQ(delta_.size(), 2u);
  ASSERT_TRUE(delta_.Erase(schema_, kPlain, "absent").ok());  // erasing counts as a change
  EXPECT_EQ(delta_.size(), 3u);
  ASSERT_TRUE(delta_.Clear(schema_, kSum).ok());  // clear of an untouched table
  EXPECT_EQ(delta_.size(), 4u);
  ASSERT_TRUE(delta_.Clear(schema_, kSum).ok());
  EXPECT_EQ(delta_.size(), 4u);
  ASSERT_TRUE(delta_.Clear(schema_, kPlain).ok());  // drops 2 keys, adds 1 clear
  EXPECT_EQ(delta_.size(), 3u);
  EXPECT_FALSE(delta_.empty());

  delta_.Reset();
  EXPECT_TRUE(delta_.empty());
  EXPECT_EQ(delta_.size(), 0u);
  for (TableId t : {kPlain, kSum, kLog}) EXPECT_FALSE(delta_.cleared(t));
  EXPECT_EQ(Describe(kLog, "k"), "none");
  ASSERT_TRUE(delta_.Put(schema_, kLog, "k", "again").ok());
  EXPECT_EQ(delta_.size(), 1u);
}

// ---------------------------------------------------------------- validation

TEST_F(DeltaTest, KeyLimitIs64KiB) {
  const std::string exact(kMaxKeySize, 'k');
  const std::string over(kMaxKeySize + 1, 'k');
  EXPECT_TRUE(delta_.Put(schema_, kPlain, exact, "v").ok());
  EXPECT_TRUE(delta_.Erase(schema_, kLog, exact).ok());
  EXPECT_TRUE(delta_.Merge(schema_, kSum, exact, I(1)).ok());
  EXPECT_EQ(delta_.size(), 3u);
  EXPECT_EQ(CodeOf(delta_.Put(schema_, kPlain, over, "v")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(delta_.Erase(schema_, kPlain, over)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(delta_.Merge(schema_, kSum, over, I(1))), ErrorCode::kInvalidArgument);
  EXPECT_EQ(delta_.size(), 3u);
  EXPECT_EQ(Describe(kPlain, over), "none");
  EXPECT_EQ(Describe(kPlain, exact), "put:v");
  // The empty key is a key like any other.
  EXPECT_TRUE(delta_.Put(schema_, kPlain, "", "empty").ok());
  EXPECT_EQ(Describe(kPlain, ""), "put:empty");
}

TEST_F(DeltaTest, UnknownTableIsNoTable) {
  for (TableId t : {TableId{3}, TableId{1000}, ~TableId{0}}) {
    EXPECT_EQ(CodeOf(delta_.Put(schema_, t, "k", "v")), ErrorCode::kNoTable) << t;
    EXPECT_EQ(CodeOf(delta_.Erase(schema_, t, "k")), ErrorCode::kNoTable) << t;
    EXPECT_EQ(CodeOf(delta_.Merge(schema_, t, "k", I(1))), ErrorCode::kNoTable) << t;
    EXPECT_EQ(CodeOf(delta_.Clear(schema_, t)), ErrorCode::kNoTable) << t;
  }
  // The table check comes first, even with an oversized key.
  EXPECT_EQ(CodeOf(delta_.Put(schema_, 3, std::string(kMaxKeySize + 1, 'k'), "v")),
            ErrorCode::kNoTable);
  EXPECT_TRUE(delta_.empty());
}

TEST_F(DeltaTest, MergeWithoutOperatorIsInvalidArgument) {
  EXPECT_EQ(CodeOf(delta_.Merge(schema_, kPlain, "k", "v")), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "k", "v").ok());
  EXPECT_EQ(CodeOf(delta_.Merge(schema_, kPlain, "k", "w")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Describe(kPlain, "k"), "put:v");
}

TEST_F(DeltaTest, NumericTablesRejectWrongSizes) {
  for (size_t n : {0u, 1u, 7u, 9u}) {
    const std::string v(n, 'x');
    EXPECT_EQ(CodeOf(delta_.Put(schema_, kSum, "k", v)), ErrorCode::kInvalidArgument) << n;
    EXPECT_EQ(CodeOf(delta_.Merge(schema_, kSum, "k", v)), ErrorCode::kInvalidArgument) << n;
  }
  EXPECT_TRUE(delta_.empty());
  // Tables without a numeric operator take any size.
  EXPECT_TRUE(delta_.Put(schema_, kPlain, "k", "").ok());
  EXPECT_TRUE(delta_.Put(schema_, kLog, "k", "three").ok());
  EXPECT_TRUE(delta_.Merge(schema_, kLog, "k", "").ok());
  EXPECT_EQ(Describe(kLog, "k"), "put:three");
}

TEST_F(DeltaTest, FailingCallsLeaveTheDeltaUnchanged) {
  ASSERT_TRUE(delta_.Put(schema_, kSum, "p", I(1)).ok());
  ASSERT_TRUE(delta_.Merge(schema_, kSum, "m", I(2)).ok());
  ASSERT_TRUE(delta_.Clear(schema_, kLog).ok());
  ASSERT_TRUE(delta_.Put(schema_, kLog, "l", "x").ok());
  const size_t size = delta_.size();
  ASSERT_EQ(size, 4u);

  const std::string big(kMaxKeySize + 1, 'p');
  EXPECT_FALSE(delta_.Put(schema_, kSum, "p", "short").ok());
  EXPECT_FALSE(delta_.Merge(schema_, kSum, "p", "short").ok());
  EXPECT_FALSE(delta_.Merge(schema_, kSum, "m", "").ok());
  EXPECT_FALSE(delta_.Merge(schema_, kSum, "new", "").ok());
  EXPECT_FALSE(delta_.Put(schema_, kSum, big, I(9)).ok());
  EXPECT_FALSE(delta_.Erase(schema_, kSum, big).ok());
  EXPECT_FALSE(delta_.Merge(schema_, kPlain, "p", "x").ok());
  EXPECT_FALSE(delta_.Put(schema_, 7, "p", I(9)).ok());
  EXPECT_FALSE(delta_.Clear(schema_, 7).ok());

  EXPECT_EQ(delta_.size(), size);
  EXPECT_EQ(Describe(kSum, "p"), "put:" + I(1));
  EXPECT_EQ(Describe(kSum, "m"), "merge:" + I(2));
  EXPECT_EQ(Describe(kSum, "new"), "none");
  EXPECT_EQ(Describe(kSum, big), "none");
  EXPECT_EQ(Describe(kPlain, "p"), "none");
  EXPECT_EQ(Describe(kLog, "l"), "put:x");
  EXPECT_TRUE(delta_.cleared(kLog));
  EXPECT_FALSE(delta_.cleared(kSum));
}

// ---------------------------------------------------------------- Absorb

TEST_F(DeltaTest, AbsorbEqualsApplyingBothInOrder) {
  // Two deltas without merges.
  Delta later(3);
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "a", "1").ok());
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "b", "1").ok());
  ASSERT_TRUE(delta_.Erase(schema_, kPlain, "c").ok());
  ASSERT_TRUE(delta_.Put(schema_, kLog, "x", "old").ok());
  ASSERT_TRUE(later.Put(schema_, kPlain, "b", "2").ok());
  ASSERT_TRUE(later.Put(schema_, kPlain, "c", "2").ok());
  ASSERT_TRUE(later.Erase(schema_, kPlain, "a").ok());
  ASSERT_TRUE(later.Clear(schema_, kLog).ok());
  ASSERT_TRUE(later.Put(schema_, kLog, "y", "new").ok());
  delta_.Absorb(schema_, later);
  EXPECT_EQ(Describe(kPlain, "a"), "erase:");
  EXPECT_EQ(Describe(kPlain, "b"), "put:2");
  EXPECT_EQ(Describe(kPlain, "c"), "put:2");
  EXPECT_EQ(Describe(kLog, "x"), "none");
  EXPECT_EQ(Describe(kLog, "y"), "put:new");
  EXPECT_TRUE(delta_.cleared(kLog));
  EXPECT_EQ(delta_.size(), 5u);  // a, b, c, clear(log), y
  EXPECT_EQ(later.size(), 5u);   // Absorb (copy) leaves `later` alone
  EXPECT_EQ(later.Find(kPlain, "b")->value, "2");
}

TEST_F(DeltaTest, AbsorbCombinesLaterMerges) {
  // Group commit seals batches with unresolved merges; compacting them must
  // equal applying both in order.
  Delta later(3);
  ASSERT_TRUE(delta_.Put(schema_, kSum, "p", I(1)).ok());
  ASSERT_TRUE(delta_.Merge(schema_, kSum, "m", I(2)).ok());
  ASSERT_TRUE(delta_.Erase(schema_, kSum, "e").ok());
  ASSERT_TRUE(delta_.Clear(schema_, kLog).ok());
  ASSERT_TRUE(later.Merge(schema_, kSum, "p", I(3)).ok());
  ASSERT_TRUE(later.Merge(schema_, kSum, "m", I(4)).ok());
  ASSERT_TRUE(later.Merge(schema_, kSum, "e", I(5)).ok());
  ASSERT_TRUE(later.Merge(schema_, kSum, "new", I(6)).ok());
  ASSERT_TRUE(later.Merge(schema_, kLog, "z", "q").ok());
  delta_.AbsorbMove(schema_, later);
  EXPECT_EQ(Describe(kSum, "p"), "put:" + I(4));      // put 1, +3
  EXPECT_EQ(Describe(kSum, "m"), "merge:" + I(6));    // +2, +4: still unresolved
  EXPECT_EQ(Describe(kSum, "e"), "put:" + I(5));      // erased, +5
  EXPECT_EQ(Describe(kSum, "new"), "merge:" + I(6));  // nothing known: unresolved
  EXPECT_EQ(Describe(kLog, "z"), "put:q");            // the table was cleared: base empty
  EXPECT_EQ(delta_.size(), 6u);  // p, m, e, new, clear(log), z
}

// ---------------------------------------------------------------- MapSet

class MapSetTest : public DeltaTest {
 protected:
  // The footprint of `set` with no key or value on the heap.
  static size_t EmptyFootprint(const MapSet& set) {
    size_t total = sizeof(MapSet);
    for (const TableMap& m : set.tables) total += m.capacity() * (sizeof(TableMap::value_type) + 1);
    return total;
  }
  // Heap bytes held by the key and value strings (0 for inline ones).
  static size_t HeapOfStrings(const MapSet& set) {
    const size_t inline_capacity = std::string().capacity();
    auto heap = [&](const std::string& str) {
      return str.capacity() > inline_capacity ? str.capacity() + 1 : 0;
    };
    size_t total = 0;
    for (const TableMap& m : set.tables) {
      for (const auto& [k, v] : m) total += heap(k) + heap(v);
    }
    return total;
  }
  static std::map<std::string, std::string> Contents(const MapSet& set, TableId t) {
    return {set.tables[t].begin(), set.tables[t].end()};
  }
};

TEST_F(MapSetTest, ApplyPutsErasesAndClears) {
  MapSet set(schema_);
  EXPECT_EQ(set.version, 0u);
  ASSERT_EQ(set.tables.size(), 3u);

  ASSERT_TRUE(delta_.Put(schema_, kPlain, "a", "1").ok());
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "b", "2").ok());
  ASSERT_TRUE(delta_.Put(schema_, kLog, "l", "x").ok());
  set.Apply(delta_);
  EXPECT_EQ(Contents(set, kPlain), (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(Contents(set, kLog), (std::map<std::string, std::string>{{"l", "x"}}));
  // Apply copies: the delta still holds its values.
  EXPECT_EQ(Describe(kPlain, "a"), "put:1");

  delta_.Reset();
  ASSERT_TRUE(delta_.Erase(schema_, kPlain, "a").ok());
  ASSERT_TRUE(delta_.Erase(schema_, kPlain, "never-there").ok());
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "b", "22").ok());
  ASSERT_TRUE(delta_.Clear(schema_, kLog).ok());
  ASSERT_TRUE(delta_.Put(schema_, kLog, "m", "y").ok());
  set.ApplyMove(delta_);
  EXPECT_EQ(Contents(set, kPlain), (std::map<std::string, std::string>{{"b", "22"}}));
  EXPECT_EQ(Contents(set, kLog), (std::map<std::string, std::string>{{"m", "y"}}));
  EXPECT_TRUE(set.tables[kSum].empty());
}

TEST_F(MapSetTest, CopyOfIsDeepAndIndependent) {
  MapSet set(schema_);
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "a", std::string(100, 'a')).ok());
  set.Apply(delta_);
  set.version = 7;
  MapSet* copy = MapSet::CopyOf(set);
  EXPECT_EQ(copy->version, 7u);
  EXPECT_EQ(Contents(*copy, kPlain), Contents(set, kPlain));
  EXPECT_EQ(copy->pins.load(), 0u);
  EXPECT_EQ(copy->refs.load(), 1u);
  EXPECT_EQ(copy->ApproxBytes() - EmptyFootprint(*copy), set.ApproxBytes() - EmptyFootprint(set));

  delta_.Reset();
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "a", "changed").ok());
  ASSERT_TRUE(delta_.Put(schema_, kPlain, "b", "new").ok());
  copy->Apply(delta_);
  EXPECT_EQ(set.tables[kPlain].at("a"), std::string(100, 'a'));
  EXPECT_FALSE(set.tables[kPlain].contains("b"));
  EXPECT_EQ(copy->tables[kPlain].at("a"), "changed");
  copy->Unref();  // the last reference frees it (LeakSanitizer checks)
}

TEST_F(MapSetTest, ApproxBytesTracksHeapKeysAndValues) {
  // ApproxBytes = footprint of the slot arrays + heap bytes of every key and
  // value string; checked against the strings' actual capacities after every
  // kind of change.
  MapSet set(schema_);
  auto check = [&](const char* step) {
    EXPECT_EQ(set.ApproxBytes(), EmptyFootprint(set) + HeapOfStrings(set)) << step;
  };
  check("empty");
  const std::string long_key(200, 'k');
  const std::string long_value(1000, 'v');

  ASSERT_TRUE(delta_.Put(schema_, kPlain, long_key, long_value).ok());
  ASSERT_TRUE(delta_.Put(schema_, kLog, "short", "s").ok());
  set.Apply(delta_);
  check("insert");
  EXPECT_GE(HeapOfStrings(set), long_key.size() + long_value.size());

  delta_.Reset();
  ASSERT_TRUE(delta_.Put(schema_, kPlain, long_key, "tiny").ok());
  set.ApplyMove(delta_);
  check("overwrite with a short value (moved)");
  delta_.Reset();
  ASSERT_TRUE(delta_.Put(schema_, kPlain, long_key, std::string(3000, 'w')).ok());
  set.Apply(delta_);
  check("overwrite with a longer value (copied)");
  delta_.Reset();
  ASSERT_TRUE(delta_.Put(schema_, kPlain, long_key, std::string(5000, 'w')).ok());
  set.ApplyMove(delta_);
  check("overwrite with a longer value (moved)");

  delta_.Reset();
  ASSERT_TRUE(delta_.Erase(schema_, kPlain, long_key).ok());
  set.Apply(delta_);
  check("erase");
  EXPECT_EQ(set.ApproxBytes(), EmptyFootprint(set));

  delta_.Reset();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(delta_.Put(schema_, kLog, std::string(20, 'a' + i % 26) + std::to_string(i),
                           long_value).ok());
  }
  set.Apply(delta_);
  check("many inserts");
  EXPECT_GT(set.ApproxBytes(), EmptyFootprint(set) + 100 * long_value.size());
  delta_.Reset();
  ASSERT_TRUE(delta_.Clear(schema_, kLog).ok());
  set.Apply(delta_);
  check("clear");
  EXPECT_EQ(set.ApproxBytes(), EmptyFootprint(set));
}

TEST_F(MapSetTest, ExpectedEntriesReserves) {
  absl::StatusOr<Schema> s = Schema::Make({{"big", nullptr, 1000}, {"small", nullptr, 0}});
  ASSERT_TRUE(s.ok());
  MapSet set(*s);
  EXPECT_GE(set.tables[0].capacity(), 1000u);
  EXPECT_LT(set.tables[1].capacity(), 1000u);
}

// A pool that kept the deltas of a bulk load (65536 changes each, the room
// Reset keeps for them) lets them go once the batches given back are small:
// it keeps the spares with the least room. Group commit gives its pools
// deltas far more often than it takes them back (a partition takes a spare
// only when a commit publishes), so without this the bulk load's room stays
// for good (what pinned snapshots then add to the process's memory).
TEST_F(DeltaTest, FullPoolKeepsTheSparesWithTheLeastRoom) {
  auto filled = [&](size_t n) {
    auto d = std::make_unique<Delta>(schema_.tables.size());
    for (size_t i = 0; i < n; ++i) {
      EXPECT_TRUE(d->Put(schema_, kPlain, "key" + std::to_string(i), "v").ok());
    }
    return d;
  };
  DeltaPool pool(schema_.tables.size(), 2);
  pool.Give(filled(65536));
  pool.Give(filled(65536));
  ASSERT_EQ(pool.size(), 2u);
  const size_t bulk_room = DeltaPool::Room(*pool.Take());
  ASSERT_GE(bulk_room, 65536u);  // Reset kept the bulk load's room
  pool.Give(filled(65536));
  for (int i = 0; i < 4; ++i) pool.Give(filled(100));
  ASSERT_EQ(pool.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    std::unique_ptr<Delta> spare = pool.Take();
    EXPECT_TRUE(spare->empty());
    EXPECT_LT(DeltaPool::Room(*spare), bulk_room / 16);
  }
  // Spares of the same order stay (no churn): a pool of small ones keeps them.
  std::unique_ptr<Delta> a = filled(100);
  const Delta* kept = a.get();
  pool.Give(std::move(a));
  pool.Give(filled(100));
  pool.Give(filled(120));
  std::unique_ptr<Delta> t1 = pool.Take(), t2 = pool.Take();
  EXPECT_TRUE(t1.get() == kept || t2.get() == kept);
}

// The delta maps' inline key equality agrees with byte equality for every
// length around its word-load boundaries and every position of a difference.
TEST(DeltaKeyEqTest, AgreesWithByteEquality) {
  DeltaKeyEq eq;
  for (size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'a');
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + i % 26);
    std::string b = a;
    // Unaligned copies: the loads must not assume alignment.
    std::string pa = "x" + a, pb = "yy" + b;
    EXPECT_TRUE(eq(std::string_view(pa).substr(1), std::string_view(pb).substr(2))) << n;
    for (size_t i = 0; i < n; ++i) {
      std::string c = a;
      c[i] = static_cast<char>(c[i] ^ 0x40);
      EXPECT_FALSE(eq(a, c)) << "length " << n << ", byte " << i;
      EXPECT_FALSE(eq(c, a)) << "length " << n << ", byte " << i;
    }
    EXPECT_FALSE(eq(a, a + "a")) << n;
    EXPECT_FALSE(eq(a + "a", a)) << n;
  }
  // Embedded zero bytes are bytes like any other.
  EXPECT_FALSE(eq(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
  EXPECT_TRUE(eq(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace rcustate::detail
