// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/merge_test.cpp
//
// The built-in merge operators, called directly (values, wrap-around,
// Validate) and through a store; the numeric encoding helpers; and
// user-defined operators used through Store and WriteBatch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "rcustate/rcustate.hpp"
#include "unit/unit_util.hpp"

namespace rcustate {
namespace {

using testing::CodeOf;

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();

// Runs op->Merge with an `out` that starts with garbage, which must be replaced.
std::string MergeWith(const MergeOperator& op, std::optional<std::string_view> existing,
                std::string_view operand) {
  std::string out = "garbage that must not survive";
  op.Merge(existing, operand, &out);
  return out;
}
int64_t RunI64(const MergeOperator& op, std::optional<int64_t> existing, int64_t operand) {
  std::string e = existing ? EncodeInt64(*existing) : std::string();
  std::string r = MergeWith(op, existing ? std::optional<std::string_view>(e) : std::nullopt,
                      EncodeInt64(operand));
  EXPECT_EQ(r.size(), 8u);
  return DecodeInt64(r).value_or(-12345);
}
double RunF64(const MergeOperator& op, std::optional<double> existing, double operand) {
  std::string e = existing ? EncodeDouble(*existing) : std::string();
  std::string r = MergeWith(op, existing ? std::optional<std::string_view>(e) : std::nullopt,
                      EncodeDouble(operand));
  EXPECT_EQ(r.size(), 8u);
  return DecodeDouble(r).value_or(-12345.0);
}

// ---------------------------------------------------------------- helpers

TEST(Encoding, Int64IsEightBytesLittleEndian) {
  EXPECT_EQ(EncodeInt64(0x0102030405060708), std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  EXPECT_EQ(EncodeInt64(0), std::string(8, '\0'));
  EXPECT_EQ(EncodeInt64(-1), std::string(8, '\xff'));
  EXPECT_EQ(EncodeInt64(1), std::string("\x01\0\0\0\0\0\0\0", 8));
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{42}, kI64Min, kI64Max,
                    int64_t{-123456789012345}}) {
    std::string s = EncodeInt64(v);
    ASSERT_EQ(s.size(), 8u);
    EXPECT_EQ(DecodeInt64(s), v);
  }
}

TEST(Encoding, DoubleIsEightBytesIeee754LittleEndian) {
  EXPECT_EQ(EncodeDouble(1.0), std::string("\0\0\0\0\0\0\xf0\x3f", 8));
  EXPECT_EQ(EncodeDouble(-2.0), std::string("\0\0\0\0\0\0\0\xc0", 8));
  for (double v : {0.0, -0.0, 1.5, -3.25, 1e300, std::numeric_limits<double>::denorm_min(),
                   std::numeric_limits<double>::infinity()}) {
    std::string s = EncodeDouble(v);
    ASSERT_EQ(s.size(), 8u);
    std::optional<double> d = DecodeDouble(s);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(std::memcmp(&*d, &v, 8), 0) << v;  // bit-exact, also for -0.0
  }
  std::optional<double> nan = DecodeDouble(EncodeDouble(std::nan("")));
  ASSERT_TRUE(nan.has_value());
  EXPECT_TRUE(std::isnan(*nan));
}

TEST(Encoding, DecodeRejectsWrongSizes) {
  for (size_t n : {0u, 1u, 7u, 9u, 16u}) {
    std::string s(n, '\x01');
    EXPECT_EQ(DecodeInt64(s), std::nullopt) << n;
    EXPECT_EQ(DecodeDouble(s), std::nullopt) << n;
  }
}

// ---------------------------------------------------------------- built-ins

TEST(BuiltinOperators, NamesAndSharedInstances) {
  EXPECT_EQ(AddInt64()->Name(), "add_i64");
  EXPECT_EQ(MinInt64()->Name(), "min_i64");
  EXPECT_EQ(MaxInt64()->Name(), "max_i64");
  EXPECT_EQ(AddDouble()->Name(), "add_f64");
  EXPECT_EQ(Append()->Name(), "append");
  EXPECT_EQ(AddInt64().get(), AddInt64().get());
  EXPECT_EQ(Append().get(), Append().get());
  EXPECT_NE(static_cast<const void*>(MinInt64().get()), static_cast<const void*>(MaxInt64().get()));
}

TEST(BuiltinOperators, AddInt64) {
  const MergeOperator& op = *AddInt64();
  EXPECT_EQ(RunI64(op, std::nullopt, 5), 5);
  EXPECT_EQ(RunI64(op, std::nullopt, -7), -7);
  EXPECT_EQ(RunI64(op, 3, 5), 8);
  EXPECT_EQ(RunI64(op, 3, -5), -2);
  EXPECT_EQ(RunI64(op, -1000000000000, -1), -1000000000001);
}

TEST(BuiltinOperators, AddInt64WrapsAround) {
  const MergeOperator& op = *AddInt64();
  EXPECT_EQ(RunI64(op, kI64Max, 1), kI64Min);
  EXPECT_EQ(RunI64(op, kI64Min, -1), kI64Max);
  EXPECT_EQ(RunI64(op, kI64Max, kI64Max), -2);
  EXPECT_EQ(RunI64(op, kI64Min, kI64Min), 0);
}

TEST(BuiltinOperators, MinInt64) {
  const MergeOperator& op = *MinInt64();
  EXPECT_EQ(RunI64(op, std::nullopt, 9), 9);
  EXPECT_EQ(RunI64(op, 3, 5), 3);
  EXPECT_EQ(RunI64(op, 5, 3), 3);
  EXPECT_EQ(RunI64(op, 3, -2), -2);  // signed, not unsigned, comparison
  EXPECT_EQ(RunI64(op, kI64Min, kI64Max), kI64Min);
  EXPECT_EQ(RunI64(op, 4, 4), 4);
}

TEST(BuiltinOperators, MaxInt64) {
  const MergeOperator& op = *MaxInt64();
  EXPECT_EQ(RunI64(op, std::nullopt, -9), -9);
  EXPECT_EQ(RunI64(op, 3, 5), 5);
  EXPECT_EQ(RunI64(op, 5, 3), 5);
  EXPECT_EQ(RunI64(op, -3, 2), 2);
  EXPECT_EQ(RunI64(op, -1, kI64Min), -1);  // signed comparison
  EXPECT_EQ(RunI64(op, kI64Min, kI64Max), kI64Max);
}

TEST(BuiltinOperators, AddDouble) {
  const MergeOperator& op = *AddDouble();
  EXPECT_EQ(RunF64(op, std::nullopt, 1.5), 1.5);
  EXPECT_EQ(RunF64(op, 1.5, 2.25), 3.75);
  EXPECT_EQ(RunF64(op, 1.0, -3.5), -2.5);
  EXPECT_EQ(RunF64(op, 1e308, 1e308), std::numeric_limits<double>::infinity());
}

TEST(BuiltinOperators, Append) {
  const MergeOperator& op = *Append();
  EXPECT_EQ(MergeWith(op, std::nullopt, "ab"), "ab");
  EXPECT_EQ(MergeWith(op, std::string_view("ab"), "cd"), "abcd");
  EXPECT_EQ(MergeWith(op, std::string_view(""), "cd"), "cd");
  EXPECT_EQ(MergeWith(op, std::string_view("ab"), ""), "ab");
  EXPECT_EQ(MergeWith(op, std::nullopt, ""), "");
  const std::string binary("a\0b", 3);
  EXPECT_EQ(MergeWith(op, std::string_view(binary), std::string_view("\0", 1)), std::string("a\0b\0", 4));
}

TEST(BuiltinOperators, NumericValidateWantsExactlyEightBytes) {
  for (const auto& op : {AddInt64(), MinInt64(), MaxInt64(), AddDouble()}) {
    EXPECT_TRUE(op->Validate(std::string(8, 'x')).ok()) << op->Name();
    for (size_t n : {0u, 1u, 7u, 9u, 64u}) {
      absl::Status s = op->Validate(std::string(n, 'x'));
      EXPECT_EQ(CodeOf(s), ErrorCode::kInvalidArgument) << op->Name() << " size " << n;
    }
  }
}

TEST(BuiltinOperators, AppendValidatesEverything) {
  EXPECT_TRUE(Append()->Validate("").ok());
  EXPECT_TRUE(Append()->Validate("x").ok());
  EXPECT_TRUE(Append()->Validate(std::string(100000, 'y')).ok());
}

// ---------------------------------------------------------------- user operators

// Lexicographic maximum of non-empty strings; associative and commutative.
class MaxString final : public MergeOperator {
 public:
  std::string_view Name() const override { return "max_string"; }
  absl::Status Validate(std::string_view v) const override {
    if (v.empty()) return MakeError(ErrorCode::kInvalidArgument, "max_string: empty operand");
    return absl::OkStatus();
  }
  void Merge(std::optional<std::string_view> existing, std::string_view operand,
             std::string* out) const override {
    std::string_view r = existing && *existing > operand ? *existing : operand;
    out->assign(r.data(), r.size());
  }
};

// Bitwise or of 8-byte words; the validation error is a plain absl one.
class BitOr final : public MergeOperator {
 public:
  std::string_view Name() const override { return "bit_or"; }
  absl::Status Validate(std::string_view v) const override {
    if (v.size() != 8) return absl::InvalidArgumentError("bit_or: 8 bytes please");
    return absl::OkStatus();
  }
  void Merge(std::optional<std::string_view> existing, std::string_view operand,
             std::string* out) const override {
    uint64_t a = 0, b = 0;
    if (existing) std::memcpy(&a, existing->data(), 8);
    std::memcpy(&b, operand.data(), 8);
    a |= b;
    out->assign(reinterpret_cast<const char*>(&a), 8);
  }
};

std::string Bits(uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); }

class UserOperatorTest : public ::testing::TestWithParam<testing::Policy> {
 protected:
  void SetUp() override {
    store_ = testing::OpenOrDie({{"best", std::make_shared<MaxString>(), 0},
                                 {"flags", std::make_shared<BitOr>(), 0}},
                                GetParam().max_publish_delay);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->CreatePartition(1).ok());
  }
  void TearDown() override {
    if (store_ != nullptr) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }
  std::unique_ptr<Store> store_;
};

TEST_P(UserOperatorTest, SpecIsKept) {
  absl::StatusOr<TableSpec> spec = store_->GetTableSpec(0);
  ASSERT_TRUE(spec.ok());
  ASSERT_NE(spec->merge, nullptr);
  EXPECT_EQ(spec->merge->Name(), "max_string");
}

TEST_P(UserOperatorTest, MergesThroughTheThreadDeltaAcrossCommits) {
  Store& s = *store_;
  // Batch 1: two merges of one absent key combine in the delta.
  ASSERT_TRUE(s.Merge(1, 0, "k", "banana").ok());
  ASSERT_TRUE(s.Merge(1, 0, "k", "apple").ok());
  ASSERT_TRUE(s.Merge(1, 1, "f", Bits(0x01)).ok());
  ASSERT_TRUE(s.Merge(1, 1, "f", Bits(0x10)).ok());
  EXPECT_EQ(testing::Own(s, 1, 0, "k"), "banana");  // read-your-writes of a pending merge
  EXPECT_EQ(testing::Own(s, 1, 1, "f"), Bits(0x11));
  ASSERT_EQ(s.Commit(1).value(), 1u);
  testing::ExpectVisible(s, GetParam(), 1, 1);
  EXPECT_EQ(testing::Published(s, 1, 0, "k"), "banana");
  EXPECT_EQ(testing::Published(s, 1, 1, "f"), Bits(0x11));

  // Batch 2: merges on top of the published value, on the other map set.
  ASSERT_TRUE(s.Merge(1, 0, "k", "apricot").ok());
  ASSERT_TRUE(s.Merge(1, 0, "k", "cherry").ok());
  ASSERT_TRUE(s.Merge(1, 1, "f", Bits(0x100)).ok());
  EXPECT_EQ(testing::Own(s, 1, 0, "k"), "cherry");
  ASSERT_EQ(s.Commit(1).value(), 2u);
  testing::ExpectVisible(s, GetParam(), 1, 2);
  EXPECT_EQ(testing::Published(s, 1, 0, "k"), "cherry");
  EXPECT_EQ(testing::Published(s, 1, 1, "f"), Bits(0x111));

  // Batch 3: a smaller string leaves the value alone; replay keeps "cherry".
  ASSERT_TRUE(s.Merge(1, 0, "k", "avocado").ok());
  ASSERT_EQ(s.Commit(1).value(), 3u);
  ASSERT_EQ(s.Commit(1).value(), 4u);
  testing::ExpectVisible(s, GetParam(), 1, 4);
  EXPECT_EQ(testing::Published(s, 1, 0, "k"), "cherry");
  EXPECT_EQ(testing::Published(s, 1, 1, "f"), Bits(0x111));
}

TEST_P(UserOperatorTest, ValidationErrorsComeFromTheOperator) {
  Store& s = *store_;
  EXPECT_EQ(CodeOf(s.Merge(1, 0, "k", "")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(s.Put(1, 0, "k", "")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(s.Merge(1, 1, "f", "short")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.Merge(1, 1, "f", "short").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(s.Commit(1).value(), 1u);
  testing::ExpectVisible(s, GetParam(), 1, 1);
  EXPECT_EQ(testing::Published(s, 1, 0, "k"), std::nullopt);
  EXPECT_EQ(testing::Published(s, 1, 1, "f"), std::nullopt);
}

TEST_P(UserOperatorTest, ConcurrentWritersCommute) {
  // Each thread ors in its own bit and maxes in its own name, one commit each.
  constexpr int kThreads = 4;
  constexpr int kRounds = 16;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        EXPECT_TRUE(store_->Merge(1, 1, "f", Bits(uint64_t{1} << (t * kRounds + r))).ok());
        EXPECT_TRUE(store_->Merge(1, 0, "k", "name" + std::to_string(t)).ok());
        EXPECT_TRUE(store_->Commit(1).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  testing::ExpectVisible(*store_, GetParam(), 1, kThreads * kRounds);
  EXPECT_EQ(testing::Published(*store_, 1, 1, "f"), Bits(~uint64_t{0}));
  EXPECT_EQ(testing::Published(*store_, 1, 0, "k"), "name3");
}

TEST_P(UserOperatorTest, WriteBatchUsesTheOperator) {
  WriteBatch b(*store_);
  ASSERT_TRUE(b.Merge(0, "k", "m").ok());
  ASSERT_TRUE(b.Merge(0, "k", "z").ok());
  ASSERT_TRUE(b.Merge(0, "k", "a").ok());
  EXPECT_EQ(CodeOf(b.Merge(0, "k", "")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.size(), 1u);
  ASSERT_EQ(b.Commit(1).value(), 1u);
  testing::ExpectVisible(*store_, GetParam(), 1, 1);
  EXPECT_EQ(testing::Published(*store_, 1, 0, "k"), "z");
}

INSTANTIATE_TEST_SUITE_P(Policies, UserOperatorTest,
                         ::testing::ValuesIn(testing::AllPolicies()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace rcustate
