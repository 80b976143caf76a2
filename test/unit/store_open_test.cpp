// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_open_test.cpp
//
// rcustate::Store through the public API. Opening a store and looking up its schema.
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

}  // namespace
}  // namespace rcustate
