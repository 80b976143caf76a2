// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_read_test.cpp
//
// rcustate::Store through the public API. Reads: GetCopy, Contains, table views, views inside a
// section while writers commit, nested sections.
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

}  // namespace
}  // namespace rcustate
