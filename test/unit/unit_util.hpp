// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/unit_util.hpp
//
// Helpers shared by the unit tests: status matchers by rcustate error code,
// opening a store under a publication policy, the StoreTest policy fixture of
// the store_*_test.cpp files, and making a commit visible to
// other threads in a way that keeps the default policy's promise checked
// (a commit is visible when it returns) while letting group commit publish
// through Flush().
#ifndef RCUSTATE_TEST_UNIT_UNIT_UTIL_HPP_
#define RCUSTATE_TEST_UNIT_UNIT_UTIL_HPP_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/test_env.hpp"
#include "rcustate/rcustate.hpp"

namespace rcustate {

inline std::ostream& operator<<(std::ostream& os, ErrorCode code) {
  return os << "ErrorCode(" << static_cast<int>(code) << ")";
}

namespace testing {

inline void PrintTo(const Policy& p, std::ostream* os) { *os << p.name; }

inline bool IsGroupCommit(const Policy& p) { return p.max_publish_delay > absl::ZeroDuration(); }

// The rcustate code of a Status or StatusOr.
inline ErrorCode CodeOf(const absl::Status& s) { return ErrorCodeOf(s); }
template <typename T>
ErrorCode CodeOf(const absl::StatusOr<T>& s) {
  return ErrorCodeOf(s.status());
}

// Six tables, one per kind of merge operator plus one without.
inline constexpr TableId kPlain = 0;  // no operator
inline constexpr TableId kSum = 1;    // AddInt64
inline constexpr TableId kMin = 2;    // MinInt64
inline constexpr TableId kMax = 3;    // MaxInt64
inline constexpr TableId kFsum = 4;   // AddDouble
inline constexpr TableId kLog = 5;    // Append
inline constexpr TableId kNumTables = 6;

inline std::vector<TableSpec> AllKindsOfTables() {
  return {{"plain", nullptr, 0}, {"sum", AddInt64(), 0},  {"min", MinInt64(), 0},
          {"max", MaxInt64(), 0}, {"fsum", AddDouble(), 0}, {"log", Append(), 0}};
}

inline std::unique_ptr<Store> OpenOrDie(std::vector<TableSpec> tables,
                                        absl::Duration max_publish_delay = absl::ZeroDuration()) {
  StoreOptions o;
  o.tables = std::move(tables);
  o.max_publish_delay = max_publish_delay;
  absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(std::move(o));
  if (!s.ok()) {
    ADD_FAILURE() << "Store::Open: " << s.status();
    return nullptr;
  }
  return *std::move(s);
}

// The value as the calling thread sees it (its own writes first).
inline std::optional<std::string> Own(const Store& store, uint32_t p, TableId t,
                                      std::string_view key) {
  std::string out;
  absl::StatusOr<bool> found = store.GetCopy(p, t, key, &out);
  EXPECT_TRUE(found.ok()) << found.status();
  if (!found.ok() || !*found) return std::nullopt;
  return out;
}

// The value in the published snapshot (what every other thread sees).
inline std::optional<std::string> Published(const Store& store, uint32_t p, TableId t,
                                            std::string_view key) {
  ReadSection rs;
  absl::StatusOr<SnapshotView> snap = store.Snapshot(p);
  EXPECT_TRUE(snap.ok()) << snap.status();
  if (!snap.ok()) return std::nullopt;
  absl::StatusOr<TableView> table = snap->Table(t);
  EXPECT_TRUE(table.ok()) << table.status();
  if (!table.ok()) return std::nullopt;
  std::optional<std::string_view> v = table->Find(key);
  if (!v) return std::nullopt;
  return std::string(*v);
}

inline std::optional<int64_t> AsInt(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  return DecodeInt64(*v);
}
inline std::optional<double> AsDouble(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  return DecodeDouble(*v);
}

// Every entry of one published table, copied.
inline std::vector<std::pair<std::string, std::string>> PublishedTable(const Store& store,
                                                                       uint32_t p, TableId t) {
  std::vector<std::pair<std::string, std::string>> out;
  ReadSection rs;
  absl::StatusOr<SnapshotView> snap = store.Snapshot(p);
  EXPECT_TRUE(snap.ok()) << snap.status();
  if (!snap.ok()) return out;
  absl::StatusOr<TableView> table = snap->Table(t);
  EXPECT_TRUE(table.ok()) << table.status();
  if (!table.ok()) return out;
  table->ForEach([&](std::string_view k, std::string_view v) { out.emplace_back(k, v); });
  std::sort(out.begin(), out.end());
  return out;
}

// Makes what was committed to `p` visible to every thread and checks that
// the published version is `committed`. Under the default policy it does not
// flush: Commit itself must have published. Under group commit it flushes.
inline void ExpectVisible(Store& store, const Policy& policy, uint32_t p, uint64_t committed) {
  if (IsGroupCommit(policy)) {
    absl::StatusOr<uint64_t> v = store.Flush(p);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(*v, committed);
  }
  absl::StatusOr<uint64_t> v = store.Version(p);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, committed) << "policy " << policy.name;
}

// Encoded operands and values of the numeric tables.
inline std::string I(int64_t v) { return EncodeInt64(v); }
inline std::string D(double v) { return EncodeDouble(v); }

// Runs `fn` on a new thread and waits for it: "what does another thread see".
template <typename Fn>
void OnOtherThread(Fn&& fn) {
  std::thread t(std::forward<Fn>(fn));
  t.join();
}

// The fixture of the store_*_test.cpp cases that run once per publication
// policy (instantiated once, in store_partition_test.cpp): a store with
// AllKindsOfTables() under the policy, closed at the end.
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

}  // namespace testing
}  // namespace rcustate

#endif  // RCUSTATE_TEST_UNIT_UNIT_UTIL_HPP_
