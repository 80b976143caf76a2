// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/checkpoint_fault_test.cpp
//
// The failure model under allocation failure: writing a checkpoint, reading
// a chain and decoding a changelog record, with the Nth allocation of the
// call failing for every N until the call completes. Each attempt either
// succeeds or returns kNoMemory; a failed write leaves no file behind and
// the previous chain restores unchanged; a failed restore returns nothing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/alloc_fault.hpp"
#include "durable/durable_test_util.hpp"
#include "src/durable/changelog_record.hpp"

namespace rcustate::durable {
namespace {

using rcustate::testing::AllocFault;
using testing::Names;
using testing::ScratchDir;
using testing::Schema;
using testing::Tables;
using testing::ToModel;
using testing::WriteFull;
using testing::WriteIncrement;

TEST(CheckpointFault, WriteFailsCleanlyAtEveryAllocation) {
  ScratchDir d;
  Tables base(2);
  base[0]["a"] = "1";
  ASSERT_TRUE(WriteFull(d.path(), 0, 4, Schema(2), base).ok());
  const std::vector<std::string> before = Names(d.path());
  CheckpointHeader h{kCheckpointIncremental, 0, 5, 4, 0, Schema(2)};
  auto newest = NewestCheckpoint(d.path());
  ASSERT_TRUE(newest.ok() && newest->has_value());
  h.chain_id = (*newest)->chain_id;
  const std::string key = "key", value(3000, 'v');
  int64_t n = 1;
  for (;; ++n) {
    absl::Status st;
    {
      AllocFault fault(n);
      auto w = CheckpointWriter::Begin(d.path(), h);
      st = w.status();
      if (st.ok()) st = (*w)->BeginTable(1, true);
      if (st.ok()) st = (*w)->Put(key, value);
      if (st.ok()) st = (*w)->Erase(key);
      if (st.ok()) st = (*w)->Commit(nullptr, nullptr);
      fault.Disarm();
      if (!fault.fired()) {
        ASSERT_TRUE(st.ok()) << st;
        break;
      }
    }  // the writer is gone: a failed one removed its temporary
    if (st.ok()) {
      // The failure hit a path that may not fail the call (cleanup after
      // commit): the file is complete. Start over from the base chain.
      for (const auto& name : Names(d.path())) {
        if (name.rfind("incr-", 0) == 0) std::filesystem::remove(d / name);
      }
      continue;
    }
    ASSERT_EQ(ErrorCodeOf(st), ErrorCode::kNoMemory) << "allocation " << n << ": " << st;
    ASSERT_EQ(Names(d.path()), before) << "allocation " << n;
  }
  EXPECT_GT(n, 3);
  auto r = ReadNewestChain(d.path(), 0, Schema(2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->head.version, 5u);
}

TEST(CheckpointFault, RestoreFailsCleanlyAtEveryAllocation) {
  ScratchDir d;
  // Increments that grow a table well past the full's size (the builder
  // grows it), erase, and clear a table.
  Tables a(2), b(2), c(2);
  // Keys and values longer than std::string's inline buffer: copying them
  // allocates, so an allocation can fail in the middle of an insertion.
  const std::string long_prefix = "a-key-longer-than-sixteen-bytes-";
  for (int i = 0; i < 50; ++i) a[i % 2][long_prefix + std::to_string(i)] = std::string(i, 'x');
  b = a;
  b[0].erase(long_prefix + "0");
  for (int i = 0; i < 150; ++i) b[1][long_prefix + "new" + std::to_string(i)] = std::string(30, 'n');
  c = b;
  c[0].clear();
  c[0]["after-clear"] = "v";
  ASSERT_TRUE(WriteFull(d.path(), 0, 4, Schema(2), a).ok());
  ASSERT_TRUE(WriteIncrement(d.path(), 0, 5, Schema(2), a, b).ok());
  ASSERT_TRUE(WriteIncrement(d.path(), 0, 6, Schema(2), b, c, {0}).ok());
  b = c;
  const std::vector<TableSchema> schema = Schema(2);
  int64_t n = 1;
  for (;; ++n) {
    AllocFault fault(n);
    absl::StatusOr<RestoredChain> r = ReadNewestChain(d.path(), 0, schema);
    fault.Disarm();
    if (!fault.fired()) {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_TRUE(ToModel(r->tables) == b);
      break;
    }
    ASSERT_FALSE(r.ok()) << "allocation " << n << " failed yet the restore succeeded";
    ASSERT_EQ(ErrorCodeOf(r.status()), ErrorCode::kNoMemory) << r.status();
  }
  EXPECT_GT(n, 10);
}

TEST(CheckpointFault, DecodeFailsCleanlyAtEveryAllocation) {
  ChangelogEncoder e;
  e.Begin(1, 2);
  e.BeginTable(0, "t", false, 2);
  e.Put("k", "v");
  e.Erase("x");
  e.BeginTable(1, "u", true, 0);
  const std::string rec(e.Finish());
  int64_t n = 1;
  for (;; ++n) {
    AllocFault fault(n);
    absl::StatusOr<ChangeRecordView> v = DecodeChangelog(rec);
    fault.Disarm();
    if (!fault.fired()) {
      ASSERT_TRUE(v.ok()) << v.status();
      break;
    }
    ASSERT_EQ(ErrorCodeOf(v.status()), ErrorCode::kNoMemory) << v.status();
  }
  EXPECT_GT(n, 1);
}

}  // namespace
}  // namespace rcustate::durable
