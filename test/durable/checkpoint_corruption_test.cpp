// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/checkpoint_corruption_test.cpp
//
// Nothing damaged is ever loaded: every truncation of a small checkpoint
// file and 1000+ seeded single-bit flips (in a full file and in an
// increment) make the restore fail with kCorrupt or kIo and return nothing;
// never a crash (these also run under ASan/UBSan), never other data. Files
// of another format version, another partition or another schema are
// refused with a message naming the file and the difference.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "durable/durable_test_util.hpp"
#include "src/durable/block_stream.hpp"
#include "src/durable/byte_codec.hpp"
#include "src/durable/checkpoint_reader.hpp"
#include "src/durable/crc32c.hpp"

namespace rcustate::durable {
namespace {

using testing::CodeOf;
using testing::Names;
using testing::ReadBytes;
using testing::ScratchDir;
using testing::Schema;
using testing::Tables;
using testing::WriteBytes;
using testing::WriteFull;
using testing::WriteIncrement;

bool IsCorruptOrIo(const absl::Status& s) {
  return ErrorCodeOf(s) == ErrorCode::kCorrupt || ErrorCodeOf(s) == ErrorCode::kIo;
}

class CheckpointCorruption : public ::testing::Test {
 protected:
  void SetUp() override {
    before_.resize(3);
    before_[0]["a"] = "1";
    before_[0][std::string("n\0l", 3)] = "";
    before_[2]["counter"] = std::string(8, '\x02');
    ASSERT_TRUE(WriteFull(d_.path(), 7, 5, schema_, before_).ok());
    full_ = d_ / Names(d_.path()).at(0);
    after_ = before_;
    after_[0].erase("a");
    after_[1]["new"] = "v";
    ASSERT_TRUE(WriteIncrement(d_.path(), 7, 6, schema_, before_, after_, {2}).ok());
    for (const auto& n : Names(d_.path())) {
      if (n.rfind("incr-", 0) == 0) incr_ = d_ / n;
    }
    ASSERT_FALSE(incr_.empty());
  }

  // Restores with `path` holding `bytes`; the original is put back after.
  absl::Status RestoreWith(const std::string& path, const std::string& bytes) {
    std::string good = ReadBytes(path);
    WriteBytes(path, bytes);
    auto r = ReadNewestChain(d_.path(), 7, schema_);
    auto file = ReadCheckpointFile(path, nullptr);
    WriteBytes(path, good);
    if (r.ok() != file.ok() && !r.ok()) {
      // The chain may fail for another file's sake only if this one is fine.
      ADD_FAILURE() << "file reads but chain fails: " << r.status();
    }
    if (r.ok()) {
      // A damaged file that still reads must at least restore the same data.
      EXPECT_TRUE(testing::ToModel(r->tables) == after_) << "different data restored";
      return absl::OkStatus();
    }
    return r.status();
  }

  ScratchDir d_;
  std::vector<TableSchema> schema_ = Schema(3);
  Tables before_, after_;
  std::string full_, incr_;
};

TEST_F(CheckpointCorruption, IntactChainRestores) {
  auto r = ReadNewestChain(d_.path(), 7, schema_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(testing::ToModel(r->tables) == after_);
}

TEST_F(CheckpointCorruption, EveryTruncationOfEitherFileIsRefused) {
  for (const std::string& path : {full_, incr_}) {
    std::string good = ReadBytes(path);
    ASSERT_GT(good.size(), 60u);
    for (size_t len = 0; len < good.size(); ++len) {
      absl::Status st = RestoreWith(path, good.substr(0, len));
      ASSERT_FALSE(st.ok()) << path << " truncated to " << len << " restored";
      ASSERT_TRUE(IsCorruptOrIo(st)) << st;
      ASSERT_NE(st.message().find(path), std::string_view::npos) << st;
    }
  }
}

TEST_F(CheckpointCorruption, AppendedBytesAreRefused) {
  std::string good = ReadBytes(full_);
  absl::Status st = RestoreWith(full_, good + std::string(1, '\0'));
  EXPECT_EQ(ErrorCodeOf(st), ErrorCode::kCorrupt) << st;
}

TEST_F(CheckpointCorruption, ThousandsOfBitFlipsAreRefused) {
  std::mt19937_64 rng(20261127);
  for (const std::string& path : {full_, incr_}) {
    std::string good = ReadBytes(path);
    for (int i = 0; i < 800; ++i) {
      std::string bad = good;
      size_t bit = rng() % (bad.size() * 8);
      bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
      absl::Status st = RestoreWith(path, bad);
      ASSERT_FALSE(st.ok()) << path << ": flip of bit " << bit << " not detected";
      ASSERT_TRUE(IsCorruptOrIo(st)) << st;
    }
  }
}

TEST_F(CheckpointCorruption, RandomGarbageIsRefused) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200; ++i) {
    std::string bad = ReadBytes(full_);
    size_t n = 1 + rng() % 16;
    for (size_t k = 0; k < n; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
    absl::Status st = RestoreWith(full_, bad);
    ASSERT_FALSE(st.ok()) << "garbage restored";
    ASSERT_TRUE(IsCorruptOrIo(st)) << st;
  }
}

// Rewrites a header field and recomputes the header CRC, as a file written
// by another format version would look.
std::string WithHeaderField(std::string bytes, size_t offset, uint32_t value) {
  StoreU32(bytes.data() + offset, value);
  uint32_t h = LoadU32(bytes.data() + 12);
  StoreU32(bytes.data() + h - 4, Crc32c(bytes.data(), h - 4));
  return bytes;
}

TEST_F(CheckpointCorruption, OtherFormatVersionIsRefusedByName) {
  absl::Status st = RestoreWith(full_, WithHeaderField(ReadBytes(full_), 8, 2));
  EXPECT_EQ(ErrorCodeOf(st), ErrorCode::kCorrupt);
  EXPECT_NE(st.message().find("format version 2 unsupported"), std::string_view::npos) << st;
  EXPECT_NE(st.message().find(full_), std::string_view::npos) << st;
}

TEST_F(CheckpointCorruption, BadMagicIsRefusedByName) {
  std::string bad = ReadBytes(full_);
  bad[0] = 'X';
  absl::Status st = RestoreWith(full_, bad);
  EXPECT_NE(st.message().find("bad magic"), std::string_view::npos) << st;
}

TEST_F(CheckpointCorruption, ChecksumMismatchesAreNamed) {
  std::string bad = ReadBytes(full_);
  bad[20] ^= 1;  // partition, under the header CRC
  EXPECT_NE(RestoreWith(full_, bad).message().find("header checksum mismatch"), std::string_view::npos);
  bad = ReadBytes(full_);
  uint32_t h = LoadU32(bad.data() + 12);
  bad[h + 12] ^= 1;  // first byte of the first block's payload
  EXPECT_NE(RestoreWith(full_, bad).message().find("block checksum mismatch"), std::string_view::npos);
  bad = ReadBytes(full_);
  bad[bad.size() - 1] ^= 1;  // inside the trailer
  EXPECT_NE(RestoreWith(full_, bad).message().find("trailer"), std::string_view::npos);
}

// A trailer whose counts disagree with the data, under valid checksums (a
// writer bug, or a crafted file): the data must agree with its trailer.
TEST_F(CheckpointCorruption, TrailerCountsMustMatchTheData) {
  std::string good = ReadBytes(full_);
  size_t n = schema_.size();
  size_t frame = good.size() - (12 + 16 * n + 24);
  for (size_t field = 0; field < 2 * n + 3; ++field) {
    std::string bad = good;
    char* p = bad.data() + frame + 12 + 8 * field;
    StoreU64(p, LoadU64(p) + 1);
    if (field < 2 * n) {  // keep the total consistent, so only the per-table count lies
      char* total = bad.data() + frame + 12 + 16 * n;
      StoreU64(total, LoadU64(total) + 1);
    }
    std::string_view payload(bad.data() + frame + 12, 16 * n + 24);
    StoreU32(bad.data() + frame + 8, BlockCrc(static_cast<uint32_t>(payload.size()), 2, payload));
    absl::Status st = RestoreWith(full_, bad);
    EXPECT_EQ(ErrorCodeOf(st), ErrorCode::kCorrupt) << "trailer field " << field << ": " << st;
  }
}

TEST_F(CheckpointCorruption, OtherPartitionIsRefused) {
  auto r = ReadNewestChain(d_.path(), 8, schema_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(CodeOf(r), ErrorCode::kCorrupt);
  EXPECT_NE(r.status().message().find("partition 7, expected 8"), std::string_view::npos)
      << r.status();
}

TEST_F(CheckpointCorruption, SchemaMismatchNamesTheDifference) {
  auto other = schema_;
  other[2].merge = "min_i64";  // Schema(3)[2] is "append"
  auto r = ReadNewestChain(d_.path(), 7, other);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(CodeOf(r), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("table 2 is 't2' (merge 'append'), the store's is 't2' (merge 'min_i64')"),
            std::string_view::npos)
      << r.status();

  other = schema_;
  other[1].name = "renamed";
  r = ReadNewestChain(d_.path(), 7, other);
  EXPECT_EQ(CodeOf(r), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'renamed'"), std::string_view::npos) << r.status();

  other = schema_;
  other.push_back({"extra", ""});
  r = ReadNewestChain(d_.path(), 7, other);
  EXPECT_EQ(CodeOf(r), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("3 tables, the store has 4"), std::string_view::npos)
      << r.status();
}

TEST_F(CheckpointCorruption, HeaderThatDisagreesWithItsNameIsRefused) {
  // A full file of version 5 renamed as version 9: the name lies.
  std::string renamed = d_ / CheckpointFileNameFor(kCheckpointFull, 0, 9, 0x1234);
  std::filesystem::rename(full_, renamed);
  auto r = ReadNewestChain(d_.path(), 7, schema_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(CodeOf(r), ErrorCode::kCorrupt);
  EXPECT_NE(r.status().message().find("does not match the file name"), std::string_view::npos);
}

TEST_F(CheckpointCorruption, NoCheckpointIsIo) {
  ScratchDir empty;
  auto r = ReadNewestChain(empty.path(), 7, schema_);
  EXPECT_EQ(CodeOf(r), ErrorCode::kIo);
  EXPECT_NE(r.status().message().find("no checkpoint in " + empty.path()), std::string_view::npos);
  EXPECT_EQ(CodeOf(ReadNewestChain(empty / "missing", 7, schema_)), ErrorCode::kIo);
}

}  // namespace
}  // namespace rcustate::durable
