// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_merge_test.cpp
//
// rcustate::Store through the public API. Every merge operator across commits (so that replay onto
// the standby map set is exercised) and merge errors.
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

}  // namespace
}  // namespace rcustate
