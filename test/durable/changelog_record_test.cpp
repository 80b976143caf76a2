// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/changelog_record_test.cpp
//
// Changelog records: what is encoded decodes to the same ops (NUL bytes,
// empty and large values, clears, several tables); the encoder reuses its
// buffer without allocating once warm; every truncation, every single-bit
// flip and other format versions are kCorrupt, never a crash or other data.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/alloc_fault.hpp"
#include "rcustate/status.hpp"
#include "src/durable/byte_codec.hpp"
#include "src/durable/changelog_record.hpp"
#include "src/durable/crc32c.hpp"

namespace rcustate::durable {
namespace {

std::string_view Encode(ChangelogEncoder* e) {
  static const std::string kCounter(8, '\x01'), kBc("b\0c", 3), kBig(size_t{1} << 20, 'z'),
      kNul(1, '\0');
  e->Begin(3, 42);
  e->BeginTable(0, "counts", false, 2);
  e->Put("a", kCounter);
  e->Erase(kBc);
  e->BeginTable(2, "names", true, 3);
  e->Put("", "");
  e->Put("big", kBig);
  e->Put(kNul, "nul key");
  e->BeginTable(5, "untouched-but-cleared", true, 0);
  return e->Finish();
}
std::string Sample(ChangelogEncoder* e) { return std::string(Encode(e)); }

TEST(ChangelogRecord, RoundTrip) {
  ChangelogEncoder e;
  std::string rec = Sample(&e);
  auto v = DecodeChangelog(rec);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->partition, 3u);
  EXPECT_EQ(v->version, 42u);
  ASSERT_EQ(v->tables.size(), 3u);
  const auto& t0 = v->tables[0];
  EXPECT_EQ(t0.id, 0u);
  EXPECT_EQ(t0.name, "counts");
  EXPECT_FALSE(t0.cleared);
  ASSERT_EQ(t0.ops.size(), 2u);
  EXPECT_FALSE(t0.ops[0].erase);
  EXPECT_EQ(t0.ops[0].key, "a");
  EXPECT_EQ(t0.ops[0].value, std::string(8, '\x01'));
  EXPECT_TRUE(t0.ops[1].erase);
  EXPECT_EQ(t0.ops[1].key, std::string("b\0c", 3));
  const auto& t2 = v->tables[1];
  EXPECT_EQ(t2.id, 2u);
  EXPECT_TRUE(t2.cleared);
  ASSERT_EQ(t2.ops.size(), 3u);
  EXPECT_EQ(t2.ops[0].key, "");
  EXPECT_EQ(t2.ops[0].value, "");
  EXPECT_EQ(t2.ops[1].value.size(), size_t{1} << 20);
  EXPECT_EQ(t2.ops[2].key, std::string(1, '\0'));
  EXPECT_EQ(v->tables[2].id, 5u);
  EXPECT_TRUE(v->tables[2].cleared);
  EXPECT_TRUE(v->tables[2].ops.empty());
  // Views point into the record.
  EXPECT_GE(t0.name.data(), rec.data());
  EXPECT_LT(t0.name.data(), rec.data() + rec.size());
}

TEST(ChangelogRecord, EmptyCommit) {
  ChangelogEncoder e;
  e.Begin(0, 1);
  auto v = DecodeChangelog(e.Finish());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->version, 1u);
  EXPECT_TRUE(v->tables.empty());
}

TEST(ChangelogRecord, EncoderDoesNotAllocateOnceWarm) {
  ChangelogEncoder e;
  std::string first = Sample(&e);
  rcustate::testing::AllocFault fault(1);  // the next allocation would throw
  std::string_view again = Encode(&e);
  fault.Disarm();
  EXPECT_FALSE(fault.fired());
  EXPECT_EQ(again, first);
}

TEST(ChangelogRecord, EveryTruncationIsCorrupt) {
  ChangelogEncoder e;
  e.Begin(1, 9);
  e.BeginTable(1, "t", false, 2);
  e.Put("key", "value");
  e.Erase("gone");
  std::string rec(e.Finish());
  for (size_t len = 0; len < rec.size(); ++len) {
    auto v = DecodeChangelog(std::string_view(rec.data(), len));
    ASSERT_FALSE(v.ok()) << len;
    ASSERT_EQ(ErrorCodeOf(v.status()), ErrorCode::kCorrupt) << v.status();
  }
  EXPECT_FALSE(DecodeChangelog(rec + "x").ok());
}

TEST(ChangelogRecord, EveryBitFlipIsCorrupt) {
  ChangelogEncoder e;
  e.Begin(1, 9);
  e.BeginTable(1, "t", true, 3);
  e.Put("key", "value");
  e.Put(std::string(1, '\0'), "");
  e.Erase("gone");
  std::string rec(e.Finish());
  for (size_t bit = 0; bit < rec.size() * 8; ++bit) {
    std::string bad = rec;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    auto v = DecodeChangelog(bad);
    ASSERT_FALSE(v.ok()) << "bit " << bit;
    ASSERT_EQ(ErrorCodeOf(v.status()), ErrorCode::kCorrupt) << v.status();
  }
}

TEST(ChangelogRecord, RandomGarbageNeverCrashes) {
  std::mt19937_64 rng(5);
  ChangelogEncoder e;
  std::string rec = Sample(&e).substr(0, 4000);
  for (int i = 0; i < 2000; ++i) {
    std::string bad(rng() % 200, '\0');
    for (char& c : bad) c = static_cast<char>(rng());
    if (i % 2) bad = std::string(rec.data(), std::min<size_t>(rec.size(), 36)) + bad;
    EXPECT_FALSE(DecodeChangelog(bad).ok());
  }
}

// Well-formed bytes under a valid CRC that break a rule: the decoder checks
// each rule, not only the checksum.
std::string Reseal(std::string r) {
  StoreU32(r.data() + 16, Crc32cExtend(Crc32c(r.data(), 16), r.data() + 20, r.size() - 20));
  return r;
}

TEST(ChangelogRecord, RuleViolationsUnderAValidChecksum) {
  ChangelogEncoder e;
  e.Begin(1, 9);
  e.BeginTable(1, "t", false, 1);
  e.Put("k", "v");
  std::string rec(e.Finish());
  std::string bad = rec;
  StoreU32(bad.data() + 4, 2);
  auto v = DecodeChangelog(Reseal(bad));
  EXPECT_NE(v.status().message().find("format version 2 unsupported"), std::string_view::npos)
      << v.status();
  bad = rec;
  StoreU32(bad.data() + 32, 2);  // two tables announced, one present
  EXPECT_EQ(ErrorCodeOf(DecodeChangelog(Reseal(bad)).status()), ErrorCode::kCorrupt);
  bad = rec;
  bad[36 + 4 + 4 + 1] = 2;  // cleared = 2
  EXPECT_NE(DecodeChangelog(Reseal(bad)).status().message().find("cleared"), std::string_view::npos);
  bad = rec;
  bad[36 + 4 + 4 + 1 + 1 + 4] = 7;  // op kind 7
  EXPECT_NE(DecodeChangelog(Reseal(bad)).status().message().find("unknown op"), std::string_view::npos);
  // Tables out of order.
  e.Begin(1, 9);
  e.BeginTable(3, "a", false, 0);
  e.BeginTable(2, "b", false, 0);
  EXPECT_NE(DecodeChangelog(e.Finish()).status().message().find("out of order"), std::string_view::npos);
}

}  // namespace
}  // namespace rcustate::durable
