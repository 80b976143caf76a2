// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/delta_fault_test.cpp
//
// Failure atomicity of the write path: an allocation that fails while a
// thread's delta or a WriteBatch grows (the hash map's resize, the key or
// value string, a merge result) makes the call return kNoMemory with the
// delta exactly as it was, and the delta keeps working. Each step is driven
// over every allocation it makes (test/common/alloc_fault.hpp), across the
// sizes where the delta's maps resize.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/alloc_fault.hpp"
#include "rcustate/rcustate.hpp"
#include "unit/unit_util.hpp"

namespace rcustate {
namespace {

using testing::AllocFault;
using testing::CodeOf;
using testing::kLog;
using testing::kPlain;
using testing::kSum;

// Long enough that every key and value string is heap-allocated.
std::string Key(int i) { return "a-key-too-long-for-the-inline-buffer-" + std::to_string(i); }
std::string Value(int i) { return "a-value-too-long-for-the-inline-buffer-" + std::to_string(i); }

// The expected delta: table -> key -> value (nullopt: erased).
using Model = std::map<std::pair<TableId, std::string>, std::optional<std::string>>;

// Runs `step` with a failure injected at each of its allocations in turn,
// then once without: every failed run returns kNoMemory and leaves
// `check_unchanged` true; the last run succeeds. Returns the failures injected.
int SweepStep(const std::function<absl::Status()>& step, const std::function<void()>& check_unchanged) {
  int injected = 0;
  for (int64_t n = 1;; ++n) {
    AllocFault fault(n);
    absl::Status s = step();
    fault.Disarm();
    if (!fault.fired()) {
      EXPECT_TRUE(s.ok()) << s;
      return injected;
    }
    ++injected;
    EXPECT_EQ(CodeOf(s), ErrorCode::kNoMemory) << "allocation " << n << ": " << s;
    check_unchanged();
    if (::testing::Test::HasFailure()) return injected;
  }
}

class ThreadDeltaFault : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenOrDie(testing::AllKindsOfTables());
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->CreatePartition(0).ok());
  }
  void TearDown() override { EXPECT_TRUE(store_->Close().ok()); }

  // The thread's view (its uncommitted delta over an empty snapshot) equals
  // the model, for every key the model knows and one it does not.
  void ExpectModel() {
    for (const auto& [tk, v] : model_) {
      ASSERT_EQ(testing::Own(*store_, 0, tk.first, tk.second), v) << tk.second;
    }
    ASSERT_EQ(testing::Own(*store_, 0, kPlain, "never-written"), std::nullopt);
  }

  std::unique_ptr<Store> store_;
  Model model_;
};

TEST_F(ThreadDeltaFault, FailedPutEraseMergeLeaveTheDeltaAsItWas) {
  int injected = 0;
  // 0..300 crosses several resizes of the plain table's map (capacities
  // 15, 31, 63, 127, 255, 511).
  for (int i = 0; i < 300; ++i) {
    // Built before any arming: only the library's allocations may fail.
    const std::string k = Key(i), v = Value(i), half = Key(i / 2), erased = "erased-" + k;
    const std::string vv = v + v, n = EncodeInt64(i);
    injected += SweepStep([&] { return store_->Put(0, kPlain, k, v); },
                          [&] { ExpectModel(); });
    ASSERT_FALSE(HasFailure()) << "put " << i;
    model_[{kPlain, k}] = Value(i);
    if (i % 7 == 0) {  // erase an existing key and a new one
      injected += SweepStep([&] { return store_->Erase(0, kPlain, half); },
                            [&] { ExpectModel(); });
      model_[{kPlain, half}] = std::nullopt;
      injected += SweepStep([&] { return store_->Erase(0, kPlain, erased); },
                            [&] { ExpectModel(); });
      model_[{kPlain, erased}] = std::nullopt;
    }
    if (i % 5 == 0) {  // merges: a new key, then onto it (append grows the value)
      injected += SweepStep([&] { return store_->Merge(0, kLog, k, v); }, [&] { ExpectModel(); });
      model_[{kLog, k}] = v;
      injected += SweepStep([&] { return store_->Merge(0, kLog, k, v); }, [&] { ExpectModel(); });
      model_[{kLog, k}] = vv;
      injected += SweepStep([&] { return store_->Merge(0, kSum, k, n); }, [&] { ExpectModel(); });
      model_[{kSum, k}] = n;
    }
    ASSERT_FALSE(HasFailure()) << "step " << i;
  }
  // Short keys and values (std::string's inline buffer: the one-probe path):
  // only the map's growth allocates.
  const int injected_long = injected;
  for (int i = 0; i < 300; ++i) {
    const std::string k = "s" + std::to_string(i), v = "v" + std::to_string(i);
    const std::string n = EncodeInt64(i), half = "s" + std::to_string(i / 2);
    injected += SweepStep([&] { return store_->Put(0, kPlain, k, v); }, [&] { ExpectModel(); });
    model_[{kPlain, k}] = v;
    injected += SweepStep([&] { return store_->Merge(0, kSum, k, n); }, [&] { ExpectModel(); });
    model_[{kSum, k}] = n;
    if (i % 3 == 0) {
      injected += SweepStep([&] { return store_->Erase(0, kPlain, half); }, [&] { ExpectModel(); });
      model_[{kPlain, half}] = std::nullopt;
      injected += SweepStep([&] { return store_->Erase(0, kSum, "e" + k.substr(1)); },
                            [&] { ExpectModel(); });
      model_[{kSum, "e" + k.substr(1)}] = std::nullopt;
    }
    ASSERT_FALSE(HasFailure()) << "short step " << i;
  }
  EXPECT_GT(injected, injected_long);  // the maps grew under failures
  EXPECT_GT(injected, 300);
  ExpectModel();
  // The delta still commits whole.
  ASSERT_TRUE(store_->Commit(0).ok());
  for (const auto& [tk, v] : model_) {
    ASSERT_EQ(testing::Published(*store_, 0, tk.first, tk.second), v) << tk.second;
  }
}

TEST(WriteBatchFault, FailedPutEraseMergeLeaveTheBatchAsItWas) {
  std::unique_ptr<Store> store = testing::OpenOrDie(testing::AllKindsOfTables());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePartition(0).ok());
  WriteBatch batch(*store);
  Model model;
  int injected = 0;
  auto same_size = [&] { ASSERT_EQ(batch.size(), model.size()); };
  for (int i = 0; i < 300; ++i) {
    const std::string k = Key(i), v = Value(i), erased = "erased-" + k;
    injected += SweepStep([&] { return batch.Put(kPlain, k, v); }, same_size);
    model[{kPlain, k}] = v;
    if (i % 7 == 0) {
      injected += SweepStep([&] { return batch.Erase(kPlain, erased); }, same_size);
      model[{kPlain, erased}] = std::nullopt;
    }
    if (i % 5 == 0) {
      injected += SweepStep([&] { return batch.Merge(kLog, k, v); }, same_size);
      model[{kLog, k}] = v;
      injected += SweepStep([&] { return batch.Merge(kLog, k, v); }, same_size);
      model[{kLog, k}] = v + v;
    }
    ASSERT_FALSE(::testing::Test::HasFailure()) << "step " << i;
  }
  EXPECT_GT(injected, 300);
  ASSERT_TRUE(batch.Commit(0).ok());
  for (const auto& [tk, v] : model) {
    ASSERT_EQ(testing::Published(*store, 0, tk.first, tk.second), v) << tk.second;
  }
  for (TableId t : {kPlain, kLog}) {
    size_t n = 0;
    for (const auto& [tk, v] : model) n += tk.first == t && v.has_value();
    EXPECT_EQ(testing::PublishedTable(*store, 0, t).size(), n);
  }
  EXPECT_TRUE(store->Close().ok());
}

}  // namespace
}  // namespace rcustate
